// Catalog: principals and their API tokens (tables principals and api_tokens,
// migration 7; issue 17).
#include <string>

#include "repo/catalog/catalog.h"

namespace cairn::repo {
namespace {

constexpr int64_t kTokenUseWriteInterval = 60'000'000;  // RecordApiTokenUse: once a minute

bool RoleHasPartner(Role role) { return role == Role::kDepositor || role == Role::kPartnerAdmin; }

// The role stored in a row; Corruption for text no migration allows.
Result<Role> StoredRole(const std::string& text, const std::string& principal) {
  std::optional<Role> role = ParseRole(text);
  if (!role)
    return Status::Corruption("principal " + principal + " has unknown role '" + text + "'");
  return *role;
}

// The columns of principals as selected by kPrincipalColumns, from column `first` on.
constexpr std::string_view kPrincipalColumns =
    "p.name, p.role, COALESCE(p.partner, ''), p.created, p.disabled";

Result<PrincipalRecord> PrincipalFromRow(const sql::Stmt& stmt, int first) {
  PrincipalRecord p;
  p.name = stmt.Text(first);
  CAIRN_ASSIGN_OR_RETURN(p.role, StoredRole(stmt.Text(first + 1), p.name));
  p.partner = stmt.Text(first + 2);
  p.created_micros = stmt.Int(first + 3);
  p.disabled_micros = stmt.Int(first + 4);
  return p;
}

constexpr std::string_view kTokenColumns =
    "t.id, p.name, t.created, t.expires, t.revoked, t.last_used";

ApiTokenRecord TokenFromRow(const sql::Stmt& stmt) {
  ApiTokenRecord t;
  t.id = stmt.Text(0);
  t.principal = stmt.Text(1);
  t.created_micros = stmt.Int(2);
  t.expires_micros = stmt.Int(3);
  t.revoked_micros = stmt.Int(4);
  if (!stmt.IsNull(5)) t.last_used_micros = stmt.Int(5);
  return t;
}

}  // namespace

Status Catalog::AddPrincipal(const PrincipalRecord& principal) {
  const std::string& name = principal.name;
  if (RoleHasPartner(principal.role) && principal.partner.empty()) {
    return Status::InvalidArgument("principal " + name + ": a " +
                                   std::string(RoleName(principal.role)) +
                                   " needs a partner (--partner ID)");
  }
  if (!RoleHasPartner(principal.role) && !principal.partner.empty()) {
    return Status::InvalidArgument("principal " + name + ": an " +
                                   std::string(RoleName(principal.role)) +
                                   " spans every partner and takes none");
  }
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(RefuseCaseTwin("principals", "name", "principal", name));
  if (!principal.partner.empty()) {
    Result<PartnerRecord> partner = GetPartner(principal.partner);
    if (!partner.ok()) return partner.status().WithContext("principal " + name);
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("INSERT INTO principals (name, role, partner, created, disabled) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.Bind(1, name).Bind(2, RoleName(principal.role));
  if (principal.partner.empty()) {
    stmt.BindNull(3);
  } else {
    stmt.Bind(3, principal.partner);
  }
  stmt.Bind(4, principal.created_micros ? principal.created_micros : clock_->NowMicros())
      .Bind(5, principal.disabled_micros);
  Status added = stmt.Run();
  if (added.IsAlreadyExists()) return Status::AlreadyExists("principal " + name + " exists");
  return added;
}

Result<PrincipalRecord> Catalog::GetPrincipal(const std::string& name) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT " + std::string(kPrincipalColumns) +
                                                     " FROM principals p WHERE p.name = ?1"));
  stmt.Bind(1, name);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no principal named " + name);
  return PrincipalFromRow(stmt, 0);
}

Result<std::vector<PrincipalRecord>> Catalog::ListPrincipals() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT " + std::string(kPrincipalColumns) +
                                                     " FROM principals p ORDER BY p.name"));
  std::vector<PrincipalRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    CAIRN_ASSIGN_OR_RETURN(PrincipalRecord p, PrincipalFromRow(stmt, 0));
    out.push_back(std::move(p));
  }
  return out;
}

Status Catalog::DisablePrincipal(const std::string& name, int64_t when_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE principals SET disabled = CASE WHEN disabled = 0 THEN ?2 ELSE disabled "
                  "END WHERE name = ?1"));
  stmt.Bind(1, name).Bind(2, when_micros);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no principal named " + name);
  return Status::OK();
}

Result<bool> Catalog::EnablePrincipal(const std::string& name) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt find,
                         db_.Prepare("SELECT disabled FROM principals WHERE name = ?"));
  find.Bind(1, name);
  CAIRN_ASSIGN_OR_RETURN(bool row, find.Step());
  if (!row) return Status::NotFound("no principal named " + name);
  if (find.Int(0) == 0) return false;
  find.Reset();
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("UPDATE principals SET disabled = 0 WHERE name = ?"));
  stmt.Bind(1, name);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return true;
}

Status Catalog::RestorePrincipal(const proto::PrincipalSetting& setting) {
  std::optional<Role> role = ParseRole(setting.role());
  if (!role) return Status::InvalidArgument("unknown role '" + setting.role() + "'");
  PrincipalRecord p{setting.name(), *role, setting.partner(), setting.created_unix_micros(),
                    setting.disabled_unix_micros()};
  std::lock_guard lock(mu_);
  Result<PrincipalRecord> existing = GetPrincipal(p.name);
  if (existing.status().IsNotFound()) return AddPrincipal(p);
  CAIRN_RETURN_IF_ERROR(existing.status());
  if (!p.partner.empty()) CAIRN_RETURN_IF_ERROR(GetPartner(p.partner).status());
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE principals SET role = ?2, partner = ?3, disabled = ?4 WHERE name = ?1"));
  stmt.Bind(1, p.name).Bind(2, RoleName(p.role));
  if (p.partner.empty()) {
    stmt.BindNull(3);
  } else {
    stmt.Bind(3, p.partner);
  }
  stmt.Bind(4, p.disabled_micros);
  return stmt.Run();
}

Status Catalog::AddApiToken(const ApiTokenRecord& token, std::string_view secret_sha256) {
  if (secret_sha256.size() != 32) {
    return Status::InvalidArgument("token " + token.id + ": the secret's hash is not 32 bytes");
  }
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO api_tokens (id, principal_id, secret_sha256, created, expires) "
                  "SELECT ?1, id, ?3, ?4, ?5 FROM principals WHERE name = ?2"));
  stmt.Bind(1, token.id)
      .Bind(2, token.principal)
      .BindBlob(3, secret_sha256)
      .Bind(4, token.created_micros ? token.created_micros : clock_->NowMicros())
      .Bind(5, token.expires_micros);
  Status added = stmt.Run();
  if (added.IsAlreadyExists()) return Status::AlreadyExists("token " + token.id + " exists");
  CAIRN_RETURN_IF_ERROR(added);
  if (db_.Changes() == 0) return Status::NotFound("no principal named " + token.principal);
  return Status::OK();
}

Result<std::vector<ApiTokenRecord>> Catalog::ListApiTokens() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("SELECT " + std::string(kTokenColumns) +
                                  " FROM api_tokens t JOIN principals p ON p.id = t.principal_id "
                                  "ORDER BY p.name, t.created, t.id"));
  std::vector<ApiTokenRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(TokenFromRow(stmt));
  }
  return out;
}

Result<ApiTokenCredential> Catalog::GetApiTokenCredential(const std::string& id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("SELECT " + std::string(kTokenColumns) + ", t.secret_sha256, " +
                                  std::string(kPrincipalColumns) +
                                  " FROM api_tokens t JOIN principals p ON p.id = t.principal_id "
                                  "WHERE t.id = ?1"));
  stmt.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no token with id " + id);
  ApiTokenCredential out;
  out.token = TokenFromRow(stmt);
  out.secret_sha256 = stmt.Blob(6);
  CAIRN_ASSIGN_OR_RETURN(out.principal, PrincipalFromRow(stmt, 7));
  return out;
}

Status Catalog::RevokeApiToken(const std::string& id, int64_t when_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE api_tokens SET revoked = CASE WHEN revoked = 0 THEN ?2 ELSE revoked "
                  "END WHERE id = ?1"));
  stmt.Bind(1, id).Bind(2, when_micros);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no token with id " + id);
  return Status::OK();
}

Status Catalog::RecordApiTokenUse(const std::string& id, int64_t when_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("UPDATE api_tokens SET last_used = ?2 WHERE id = ?1 AND "
                                     "(last_used IS NULL OR last_used <= ?2 - ?3)"));
  stmt.Bind(1, id).Bind(2, when_micros).Bind(3, kTokenUseWriteInterval);
  return stmt.Run();
}

}  // namespace cairn::repo
