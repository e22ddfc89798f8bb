// Principals (issue 17): the named accounts that act through `cairn serve`, each with a role and,
// for a depositor or partner-admin, its partner. The catalog holds them; every site keeps them
// as settings records (repo/settings.h), so `cairn catalog rebuild` brings them back (their API
// tokens are not kept on sites: repo/access/tokens.h).
#ifndef CAIRN_REPO_ACCESS_PRINCIPALS_H_
#define CAIRN_REPO_ACCESS_PRINCIPALS_H_

#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_principal_types.h"
#include "repo/principal.h"

namespace cairn::repo {
class Catalog;
class Repository;
}  // namespace cairn::repo

namespace cairn::repo::access {

// A change of principals, finished: made in the catalog, then written to every site as a
// settings record. `warnings` names the sites that did not take it ("site b: settings not
// written: <why>"; repo::SyncSettingsAfterChange): the next change or `cairn site resync`
// writes it there.
struct PrincipalChange {
  PrincipalRecord principal;
  std::vector<std::string> warnings;
};

// OK when `name` may name a principal: 1 to 64 letters, digits, '.', '-', '_' or '@', not
// starting with '.', and never "local:..." (the name of the host's own CLI user,
// LocalPrincipal). InvalidArgument naming the name and the rule otherwise.
Status ValidatePrincipalName(std::string_view name);

// Adds principal `name` with `role` to the catalog. A depositor or partner-admin needs
// `partner`, an existing partner (NotFound naming it); an auditor or operator takes none
// (InvalidArgument). InvalidArgument for a bad name; AlreadyExists when the name is taken.
Result<PrincipalRecord> AddPrincipal(Catalog& catalog, const std::string& name, Role role,
                                     const std::string& partner);
// The same, finished: then written as a settings record to every site.
Result<PrincipalChange> AddPrincipal(Repository& repo, const std::string& name, Role role,
                                     const std::string& partner);

// Every principal, by name.
Result<std::vector<PrincipalRecord>> ListPrincipals(Catalog& catalog);

// Disables principal `name` from `now_micros` on: its tokens no longer authenticate
// (AuthenticateToken). Disabling a disabled principal keeps the earlier time. NotFound naming
// it when there is none.
Status DisablePrincipal(Catalog& catalog, const std::string& name, int64_t now_micros);
// The same at the catalog clock's now, asked by principal `by` (the one making the request;
// LocalPrincipal() for the host's own CLI), then written to every site as AddPrincipal does.
// `by` disabling itself is refused unless `force` (InvalidArgument naming the rule and
// --force): its own tokens, the one asking included, would stop working, and only another
// operator or the CLI on the repository's host could enable it again. Disabling the last
// enabled operator principal is not refused (the host's CLI is always an operator, so it can be
// undone there) but its warnings say so.
Result<PrincipalChange> DisablePrincipal(Repository& repo, const std::string& name,
                                         const Principal& by, bool force);

// Enables a disabled principal again (a disable undone): its tokens that are neither revoked
// nor expired authenticate again. `was_disabled` false: it was not disabled, nothing changed.
// NotFound naming it when there is none. Written to every site as AddPrincipal does.
Result<PrincipalChange> EnablePrincipal(Repository& repo, const std::string& name,
                                        bool* was_disabled);

}  // namespace cairn::repo::access

#endif  // CAIRN_REPO_ACCESS_PRINCIPALS_H_
