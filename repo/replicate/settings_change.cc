// The changes of a setting, each finished: catalog, then every site's
// settings records, then the copies the change makes owed.
#include "repo/replicate/settings_change.h"

#include "repo/catalog/catalog.h"
#include "repo/replicate/copies_queue.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo {
namespace {

// After a change that can make copies owed: queue them (only `partner`'s
// versions when not empty).
void QueueOwedCopies(Repository& repo, const std::string& partner, SettingsChange* change) {
  ReconcileOptions reconcile;
  reconcile.partner = partner;
  Result<ReconcileSummary> queued = ReconcileCopies(repo.catalog(), reconcile);
  if (queued.ok()) {
    change->queued = std::move(*queued);
  } else {
    change->queue_status = queued.status();
  }
}

SettingsChange Synced(Repository& repo) {
  SettingsChange change;
  change.warnings = SyncSettingsAfterChange(repo);
  return change;
}

}  // namespace

Result<SettingsChange> AddPartner(Repository& repo, const std::string& id, const std::string& name,
                                  PartnerRecord* added) {
  CAIRN_ASSIGN_OR_RETURN(PartnerRecord partner, repo.catalog().AddPartner(id, name));
  if (added) *added = std::move(partner);
  return Synced(repo);
}

Result<SettingsChange> SetPolicy(Repository& repo, const PolicyRecord& policy) {
  CAIRN_RETURN_IF_ERROR(repo.catalog().SetPolicy(policy));
  SettingsChange change = Synced(repo);
  // More copies or other sites: queue what the stored versions now lack.
  QueueOwedCopies(repo, policy.scope == kDefaultPolicyScope ? "" : policy.scope, &change);
  return change;
}

Result<SettingsChange> AddSite(Repository& repo, const std::string& name, const std::string& url,
                               const std::string& region, bool adopt, SiteRecord* added) {
  CAIRN_ASSIGN_OR_RETURN(SiteRecord site, repo.AddSite(name, url, region, adopt));
  if (added) *added = std::move(site);
  SettingsChange change = Synced(repo);  // the new site everywhere, every setting on it
  // The copies policies now put on the new site (a lost site added back empty).
  QueueOwedCopies(repo, "", &change);
  return change;
}

Result<SettingsChange> TrustWitnessKey(Repository& repo, const std::string& public_key_hex,
                                       const std::string& label) {
  CAIRN_RETURN_IF_ERROR(repo.catalog().AddWitnessKey(public_key_hex, label));
  return Synced(repo);  // kept on every site: a rebuilt catalog trusts it too
}

Result<SettingsChange> DistrustWitnessKey(Repository& repo, const std::string& prefix,
                                          WitnessKeyRecord* removed) {
  CAIRN_ASSIGN_OR_RETURN(WitnessKeyRecord key, repo.catalog().RemoveWitnessKey(prefix));
  if (removed) *removed = std::move(key);
  return Synced(repo);
}

Result<std::unique_ptr<Repository>> InitRepository(const std::string& root,
                                                   const RepositoryOptions& options,
                                                   std::vector<std::string>* warnings) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository> made, Repository::Init(root, options));
  std::vector<std::string> unsynced = SyncSettingsAfterChange(*made);
  if (warnings) *warnings = std::move(unsynced);
  return made;
}

}  // namespace cairn::repo
