// The changes of a setting (partner, policy, site, witness key) and of a new repository, each
// finished by the library: the catalog, then every site's settings records (repo/site/settings.h),
// then the copies the change makes owed (repo/replicate/copies_queue.h). In replicate/ because
// that last step queues copies.
#ifndef CAIRN_REPO_REPLICATE_SETTINGS_CHANGE_H_
#define CAIRN_REPO_REPLICATE_SETTINGS_CHANGE_H_

#include <memory>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_types.h"
#include "repo/events/segments.h"
#include "repo/replicate/copies_queue.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo {

// What a change of a setting came to besides itself: the sites that did not
// take the settings records (SyncSettingsAfterChange), and for a change that
// can make copies owed (a policy, a site) what ReconcileCopies queued, or in
// `queue_status` why it could not run.
struct SettingsChange {
  std::vector<std::string> warnings;
  ReconcileSummary queued;
  Status queue_status;
};

// The changes of settings, each finished: made in the catalog (its error
// returned: nothing else done), then written to every site, then (policy,
// site) the copies it makes owed queued for `cairn replicate` or the daemon.
Result<SettingsChange> AddPartner(Repository& repo, const std::string& id, const std::string& name,
                                  PartnerRecord* added = nullptr);
// InvalidArgument (the policy is refused) as Catalog::SetPolicy.
Result<SettingsChange> SetPolicy(Repository& repo, const PolicyRecord& policy);
// Repository::AddSite; every setting is then written on the new site too.
Result<SettingsChange> AddSite(Repository& repo, const std::string& name, const std::string& url,
                               const std::string& region, bool adopt = false,
                               SiteRecord* added = nullptr);
// Repository::MoveSite under the writers' lock (no deposit writes to the old place meanwhile);
// every site's settings record of the site then names the new place (a catalog rebuilt from
// any of them does too). `before`: the record before the move.
Result<SettingsChange> MoveSite(Repository& repo, const std::string& name, const std::string& url,
                                bool empty, SiteRecord* before = nullptr);
// What `cairn site remove` found about the site, and (unless a dry run) did.
struct SiteRemoval {
  Catalog::SiteRemovalFacts facts;  // copies, jobs, purge keys the catalog holds for it
  Status opened;                    // why the site could not be opened; OK: it could
  // The approved purges not finished ("withdrawal 7 of acme/maps@v1 (purging)"): let go with
  // `force` only.
  std::vector<std::string> unfinished_purges;
  bool removed = false;   // false: a dry run, nothing changed
  SettingsChange change;  // the sites' settings records; copies queued after it
  EventsFlushed events;   // its event copied to the remaining sites' logs
};
// Takes site `name` out of the repository, its files left as they are (nothing on it is written
// or removed): its queued jobs are cancelled, the catalog no longer counts its copies, a
// `deletion` event names it and who removed it (`user`: EventUser), the remaining sites get its
// settings record's removal (a catalog rebuilt from one of them does not bring it back) and the
// event; then the copies the policies owe are queued. Refused, nothing changed (InvalidArgument
// naming the rule and what to do first), when a policy (the default or a partner's) names the
// site or needs more sites than would remain; when an audit schedule checks the site; when a
// version's blob or tag file the site holds has no verified copy on another site (counted, a
// few named: `cairn replicate`, `cairn site resync OTHER` or `cairn audit run --site OTHER`
// first; `force` never overrides it); and,
// unless `force` (its files then keep those bytes), while an approved purge has not finished
// (`cairn withdraw run` first: a purge never reaches a site taken out). A site that cannot be
// opened is removed as any other. `dry_run`: the same checks, nothing changed. Takes the
// writers' lock exclusively. NotFound names an unknown site.
Result<SiteRemoval> RemoveSite(Repository& repo, const std::string& name, bool dry_run, bool force,
                               const std::string& user = "");
Result<SettingsChange> TrustWitnessKey(Repository& repo, const std::string& public_key_hex,
                                       const std::string& label);
Result<SettingsChange> DistrustWitnessKey(Repository& repo, const std::string& prefix,
                                          WitnessKeyRecord* removed = nullptr);

// Repository::Init, then its sites and the default policy written on both
// sites from the start (a catalog rebuilt from either gets them back); the
// sites that did not take them are named in *warnings (when not null).
Result<std::unique_ptr<Repository>> InitRepository(const std::string& root,
                                                   const RepositoryOptions& options,
                                                   std::vector<std::string>* warnings = nullptr);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REPLICATE_SETTINGS_CHANGE_H_
