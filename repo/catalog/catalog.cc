// Catalog: opening and migrating the file; sites, partners and policies.
#include "repo/catalog/catalog.h"

#include <algorithm>
#include <cstdint>

#include "policies/policy.h"
#include "repo/catalog/migrations.h"
#include "repo/lock_wait.h"
#include "repo/site_layout.h"

namespace cairn::repo {

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::string_view ReplicaStateName(ReplicaState state) {
  switch (state) {
    case ReplicaState::kOk:
      return "ok";
    case ReplicaState::kPending:
      return "pending";
    case ReplicaState::kCorrupt:
      return "corrupt";
    case ReplicaState::kMissing:
      return "missing";
    case ReplicaState::kUnavailable:
      return "unavailable";
    case ReplicaState::kUnreadable:
      return "unreadable";
  }
  return "pending";
}

std::optional<ReplicaState> ParseReplicaState(std::string_view name) {
  for (ReplicaState s :
       {ReplicaState::kOk, ReplicaState::kPending, ReplicaState::kCorrupt, ReplicaState::kMissing,
        ReplicaState::kUnavailable, ReplicaState::kUnreadable}) {
    if (ReplicaStateName(s) == name) return s;
  }
  return std::nullopt;
}

Status Catalog::UseMemoryMappedReads() {
  std::lock_guard lock(mu_);
  return db_.Exec("PRAGMA mmap_size = 268435456");
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path,
                                               const CatalogOptions& options) {
  const int busy_ms = options.busy_timeout_ms >= 0
                          ? options.busy_timeout_ms
                          : static_cast<int>(std::min<int64_t>(LockTimeoutMs(), INT32_MAX));
  CAIRN_ASSIGN_OR_RETURN(sql::Db db, sql::Db::Open(path, options.create_if_missing, busy_ms));
  // WAL: readers never block the writer; the mode is stored in the file.
  {
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt wal, db.Prepare("PRAGMA journal_mode = WAL"));
    CAIRN_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return Status::IOError("catalog " + path + ": could not switch to WAL mode");
    }
  }  // the statement must be finished before any transaction commits
  // FULL: see "Durability" in catalog.h.
  CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  CAIRN_RETURN_IF_ERROR(Migrate(db));
  Clock* clock = options.clock ? options.clock : SystemClock::Default();
  return std::unique_ptr<Catalog>(new Catalog(std::move(db), clock, options.backoff));
}

Catalog::~Catalog() = default;

Result<int> Catalog::SchemaVersion() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t v, db_.QueryInt("PRAGMA user_version"));
  return static_cast<int>(v);
}

Result<SiteRecord> Catalog::AddSite(const std::string& name, const std::string& url,
                                    const std::string& region) {
  CAIRN_RETURN_IF_ERROR(layout::ValidateSiteId(name));  // the one id rule
  if (url.empty()) return Status::InvalidArgument("site " + name + ": empty URL");
  std::lock_guard lock(mu_);
  SiteRecord site{0, name, url, region, clock_->NowMicros()};
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO sites (name, url, region, created) VALUES (?, ?, ?, ?)"));
  stmt.Bind(1, name).Bind(2, url).Bind(3, region).Bind(4, site.created_micros);
  Status s = stmt.Run();
  if (s.IsAlreadyExists()) return Status::AlreadyExists("site " + name + " already exists");
  CAIRN_RETURN_IF_ERROR(s);
  site.id = db_.LastInsertRowId();
  return site;
}

namespace {
SiteRecord SiteFromRow(const sql::Stmt& s) {
  return SiteRecord{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Text(5)};
}
}  // namespace

Result<std::vector<SiteRecord>> Catalog::ListSites() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT id, name, url, region, created, adopted_from FROM sites ORDER BY name"));
  std::vector<SiteRecord> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(SiteFromRow(stmt));
  }
  return out;
}

Result<SiteRecord> Catalog::GetSite(const std::string& name) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT id, name, url, region, created, adopted_from FROM sites WHERE name = ?"));
  stmt.Bind(1, name);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no site named " + name + " (see `cairn site list`)");
  return SiteFromRow(stmt);
}

Status Catalog::SetSiteUrl(const std::string& name, const std::string& url) {
  if (url.empty()) return Status::InvalidArgument("site " + name + ": empty URL");
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("UPDATE sites SET url = ? WHERE name = ?"));
  stmt.Bind(1, url).Bind(2, name);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no site named " + name);
  return Status::OK();
}

Status Catalog::SetSiteAdoptedFrom(const std::string& name, const std::string& from) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("UPDATE sites SET adopted_from = ? WHERE name = ?"));
  stmt.Bind(1, from).Bind(2, name);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no site named " + name);
  return Status::OK();
}

Result<std::string> Catalog::RepositoryId() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT repository_id FROM repository WHERE id = 1"));
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("catalog " + path() + " has no repository id");
  return stmt.Text(0);
}

Status Catalog::SetRepositoryId(const std::string& id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO repository (id, repository_id) VALUES (1, ?) "
                  "ON CONFLICT (id) DO UPDATE SET repository_id = excluded.repository_id"));
  stmt.Bind(1, id);
  return stmt.Run();
}

Result<int64_t> Catalog::SiteId(const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(SiteRecord site, GetSite(name));
  return site.id;
}

Result<std::optional<std::string>> Catalog::CaseTwin(const std::string& table,
                                                     const std::string& column,
                                                     const std::string& id,
                                                     const std::string& partner) {
  // lower() folds ASCII only, which is all an id may hold (layout::kIdRule). An object's twin
  // is looked for among its partner's objects (index objects_case_blind, migration 18).
  const std::string of_partner = partner.empty() ? "" : "partner = ?2 AND ";
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT " + column + " FROM " + table + " WHERE " + of_partner + "lower(" +
                  column + ") = lower(?1) AND " + column + " <> ?1 LIMIT 1"));
  stmt.Bind(1, id);
  if (!partner.empty()) stmt.Bind(2, partner);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.Text(0));
}

Status Catalog::RefuseCaseTwin(const std::string& table, const std::string& column,
                               const std::string& what, const std::string& id,
                               const std::string& partner) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> twin, CaseTwin(table, column, id, partner));
  if (!twin) return Status::OK();
  const std::string prefix = partner.empty() ? "" : partner + "/";
  return Status::AlreadyExists(
      what + " " + prefix + id + " differs from " + what + " " + prefix + *twin +
      " only in case: its folders on a site would be the same folder where names are compared "
      "without case (SMB shares, macOS, Windows), so such ids are refused");
}

Result<PartnerRecord> Catalog::AddPartner(const std::string& id, const std::string& name) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(id));  // the one id rule
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(RefuseCaseTwin("partners", "id", "partner", id));
  PartnerRecord partner{id, name, clock_->NowMicros()};
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("INSERT INTO partners (id, name, created) VALUES (?, ?, ?)"));
  stmt.Bind(1, id).Bind(2, name).Bind(3, partner.created_micros);
  Status s = stmt.Run();
  if (s.IsAlreadyExists()) return Status::AlreadyExists("partner " + id + " already exists");
  CAIRN_RETURN_IF_ERROR(s);
  return partner;
}

Result<std::vector<PartnerRecord>> Catalog::ListPartners() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT id, name, created FROM partners ORDER BY id"));
  std::vector<PartnerRecord> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(PartnerRecord{stmt.Text(0), stmt.Text(1), stmt.Int(2)});
  }
  return out;
}

Result<PartnerRecord> Catalog::GetPartner(const std::string& id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT id, name, created FROM partners WHERE id = ?"));
  stmt.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no partner " + id + " (see `cairn partner list`)");
  return PartnerRecord{stmt.Text(0), stmt.Text(1), stmt.Int(2)};
}

Status Catalog::SetPolicy(const PolicyRecord& policy) {
  std::lock_guard lock(mu_);
  if (policy.scope != kDefaultPolicyScope) CAIRN_RETURN_IF_ERROR(GetPartner(policy.scope).status());
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, ListSites());
  policies::StoreContext context;
  for (const SiteRecord& s : sites) context.sites.push_back({s.name, s.region});
  context.profile_inside_base_dir = policy.profile_inside_base_dir;
  CAIRN_RETURN_IF_ERROR(
      policies::ParsePolicyToStore(policy.text, policy.source, policy.base_dir, context).status());
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO policies (scope, text, source, base_dir, updated) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT(scope) DO UPDATE SET text = excluded.text, "
                  "source = excluded.source, base_dir = excluded.base_dir, "
                  "updated = excluded.updated"));
  stmt.Bind(1, policy.scope)
      .Bind(2, policy.text)
      .Bind(3, policy.source)
      .Bind(4, policy.base_dir)
      .Bind(5, policy.updated_micros ? policy.updated_micros : clock_->NowMicros());
  return stmt.Run();
}

Result<PolicyRecord> Catalog::GetPolicy(const std::string& scope) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT scope, text, source, base_dir, updated FROM policies WHERE scope = ?"));
  stmt.Bind(1, scope);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Status::NotFound(scope == kDefaultPolicyScope ? "no default policy is set"
                                                         : "partner " + scope + " has no policy");
  }
  return PolicyRecord{stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Int(4)};
}

Result<proto::Policy> Catalog::EffectivePolicy(const std::string& partner) {
  std::lock_guard lock(mu_);
  const auto stored =
      [this](const std::string& scope) -> Result<std::optional<policies::StoredPolicy>> {
    Result<PolicyRecord> r = GetPolicy(scope);
    if (r.status().IsNotFound()) return std::optional<policies::StoredPolicy>();
    if (!r.ok()) return r.status();
    return std::optional<policies::StoredPolicy>(
        policies::StoredPolicy{r->text, r->source, r->base_dir});
  };
  std::optional<policies::StoredPolicy> own;
  if (!partner.empty()) {
    CAIRN_RETURN_IF_ERROR(GetPartner(partner).status());
    CAIRN_ASSIGN_OR_RETURN(own, stored(partner));
  }
  CAIRN_ASSIGN_OR_RETURN(std::optional<policies::StoredPolicy> def,
                         stored(std::string(kDefaultPolicyScope)));
  return policies::EffectivePolicy(own, def);
}

uint32_t Catalog::FixityIntervalDays(const std::string& partner) {
  Result<proto::Policy> policy = EffectivePolicy(partner);
  return policy.ok() ? policies::FixityIntervalDays(*policy) : policies::kDefaultFixityIntervalDays;
}

}  // namespace cairn::repo
