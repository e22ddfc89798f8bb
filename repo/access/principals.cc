#include "repo/access/principals.h"

#include <algorithm>

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

Result<PrincipalChange> DisablePrincipal(Repository& repo, const std::string& name,
                                         const Principal& by, bool force) {
  if (!by.local && by.name == name && !force) {
    return Status::InvalidArgument(
        "principal " + name +
        " is the one making this request: disabling it stops its own tokens, this one too, "
        "and only another operator or the cairn CLI on the repository's host can enable it "
        "again; to disable it anyway, add --force");
  }
  CAIRN_RETURN_IF_ERROR(DisablePrincipal(repo.catalog(), name, repo.catalog().clock().NowMicros()));
  CAIRN_ASSIGN_OR_RETURN(PrincipalChange change, Synced(repo, name));
  if (change.principal.role != Role::kOperator) return change;
  CAIRN_ASSIGN_OR_RETURN(std::vector<PrincipalRecord> all, repo.catalog().ListPrincipals());
  const bool operator_left = std::any_of(all.begin(), all.end(), [](const PrincipalRecord& p) {
    return p.role == Role::kOperator && p.disabled_micros == 0;
  });
  if (!operator_left) {
    change.warnings.push_back(
        "no enabled operator principal is left: only the cairn CLI on the repository's host "
        "can administer the service now (cairn principal enable " +
        name + " there undoes this)");
  }
  return change;
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
