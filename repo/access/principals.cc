#include "repo/access/principals.h"

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo::access {
namespace {

constexpr size_t kMaxPrincipalName = 64;

bool IsPrincipalNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '@';
}

// The end of every change: the principal as it now is, written to every site.
Result<PrincipalChange> Synced(Repository& repo, const std::string& name) {
  PrincipalChange change;
  CAIRN_ASSIGN_OR_RETURN(change.principal, repo.catalog().GetPrincipal(name));
  change.warnings = SyncSettingsAfterChange(repo);
  return change;
}

}  // namespace

Status ValidatePrincipalName(std::string_view name) {
  auto bad = [&](std::string_view rule) {
    return Status::InvalidArgument("principal name '" + std::string(name) +
                                   "': " + std::string(rule));
  };
  if (name.empty()) return bad("empty");
  if (name.starts_with("local:")) {
    return bad("'local:' names the host's own CLI user and is never a stored principal");
  }
  if (name.size() > kMaxPrincipalName) return bad("longer than 64 characters");
  if (name.front() == '.') return bad("starts with '.'");
  for (char c : name) {
    if (!IsPrincipalNameChar(c)) return bad("only letters, digits, '.', '-', '_' and '@' allowed");
  }
  return Status::OK();
}

Result<PrincipalRecord> AddPrincipal(Catalog& catalog, const std::string& name, Role role,
                                     const std::string& partner) {
  CAIRN_RETURN_IF_ERROR(ValidatePrincipalName(name));
  PrincipalRecord record;
  record.name = name;
  record.role = role;
  record.partner = partner;
  record.created_micros = catalog.clock().NowMicros();
  CAIRN_RETURN_IF_ERROR(catalog.AddPrincipal(record));
  return record;
}

Result<PrincipalChange> AddPrincipal(Repository& repo, const std::string& name, Role role,
                                     const std::string& partner) {
  CAIRN_RETURN_IF_ERROR(AddPrincipal(repo.catalog(), name, role, partner).status());
  return Synced(repo, name);
}

Result<std::vector<PrincipalRecord>> ListPrincipals(Catalog& catalog) {
  return catalog.ListPrincipals();
}

Status DisablePrincipal(Catalog& catalog, const std::string& name, int64_t now_micros) {
  return catalog.DisablePrincipal(name, now_micros);
}

Result<PrincipalChange> DisablePrincipal(Repository& repo, const std::string& name) {
  CAIRN_RETURN_IF_ERROR(DisablePrincipal(repo.catalog(), name, repo.catalog().clock().NowMicros()));
  return Synced(repo, name);
}

Result<PrincipalChange> EnablePrincipal(Repository& repo, const std::string& name,
                                        bool* was_disabled) {
  CAIRN_ASSIGN_OR_RETURN(*was_disabled, repo.catalog().EnablePrincipal(name));
  if (!*was_disabled) {
    PrincipalChange unchanged;
    CAIRN_ASSIGN_OR_RETURN(unchanged.principal, repo.catalog().GetPrincipal(name));
    return unchanged;
  }
  return Synced(repo, name);
}

}  // namespace cairn::repo::access
