// The changes of a setting, each finished: catalog, then every site's
// settings records, then the copies the change makes owed.
#include "repo/replicate/settings_change.h"

#include <string>
#include <vector>

#include "policies/policy.h"
#include "repo/catalog/catalog.h"
#include "repo/crash_point.h"
#include "repo/events/event_types.h"
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

// How many files a refusal names by their version and path.
constexpr size_t kExamplesNamed = 5;

// The scopes whose policy applies to some version: the default (stored or built in) and each
// partner's own.
Result<std::vector<std::string>> PolicyScopes(Catalog& catalog) {
  std::vector<std::string> scopes = {""};
  CAIRN_ASSIGN_OR_RETURN(std::vector<PartnerRecord> partners, catalog.ListPartners());
  for (const PartnerRecord& p : partners) {
    Result<PolicyRecord> own = catalog.GetPolicy(p.id);
    if (own.status().IsNotFound()) continue;
    CAIRN_RETURN_IF_ERROR(own.status());
    scopes.push_back(p.id);
  }
  return scopes;
}

// OK when no policy names site `name` or needs more sites than the others; else why not.
Status RefuseIfPoliciesNeedSite(Catalog& catalog, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  std::vector<policies::SiteFacts> remaining;
  for (const SiteRecord& s : sites) {
    if (s.name != name) remaining.push_back({s.name, s.region});
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> scopes, PolicyScopes(catalog));
  for (const std::string& scope : scopes) {
    const std::string which =
        scope.empty() ? "the default policy" : "the policy of partner " + scope;
    const std::string set =
        "`cairn policy set FILE" + (scope.empty() ? "" : " --partner " + scope) + "`";
    CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(scope));
    for (const std::string& listed : policy.sites()) {
      if (listed == name) {
        return Status::InvalidArgument(which + " names site " + name +
                                       " (sites:): set one without it first, " + set + "; site " +
                                       name + " was not removed");
      }
    }
    Status enough = policies::CheckPolicyAgainstSites(policy, remaining, which);
    if (!enough.ok()) {
      return Status::InvalidArgument(
          "without site " + name + ", " + enough.message() + ": set fewer copies first, " + set +
          ", or add another site (`cairn site add`); site " + name + " was not removed");
    }
  }
  return Status::OK();
}

// OK when no audit schedule checks site `name` alone (it would fail at every daemon round once
// the site is out); else which, and its removal first.
Status RefuseIfSchedulesNameSite(Catalog& catalog, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<ScheduleRecord> schedules, catalog.ListSchedules());
  for (const ScheduleRecord& schedule : schedules) {
    if (schedule.site != name) continue;
    return Status::InvalidArgument("audit schedule " + schedule.name + " checks site " + name +
                                   ": `cairn audit schedule remove " + schedule.name +
                                   "` first (and add it again for another site if needed); site " +
                                   name + " was not removed");
  }
  return Status::OK();
}

// The purges not finished yet, requested (not approved yet) or approved ("withdrawal 7 of
// acme/maps@v1 (purging)"): each removes its version's bytes from the repository's sites, never
// from one taken out before it finishes. `requested` gets the numbers of those not approved yet.
Result<std::vector<std::string>> UnfinishedPurges(Catalog& catalog,
                                                  std::vector<int64_t>* requested) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> withdrawals, catalog.ListWithdrawals(""));
  std::vector<std::string> out;
  for (const WithdrawalRecord& w : withdrawals) {
    if (w.purge &&
        (w.state == WithdrawalState::kRequested || w.state == WithdrawalState::kWithdrawn ||
         w.state == WithdrawalState::kPurging || w.state == WithdrawalState::kWaitingRetention)) {
      out.push_back("withdrawal " + std::to_string(w.id) + " of " + w.VersionName() + " (" +
                    std::string(WithdrawalStateName(w.state)) + ")");
      if (w.state == WithdrawalState::kRequested) requested->push_back(w.id);
    }
  }
  return out;
}

// What to do first about the unfinished purges: `cairn withdraw run` for the approved, and for
// each request not approved yet its approval (then `withdraw run`) or its cancellation. `back`:
// the site cannot be opened now, so a `withdraw run` waits for it.
std::string UnfinishedPurgesNextStep(const std::vector<int64_t>& requested, size_t unfinished,
                                     bool back) {
  const std::string run = back ? "`cairn withdraw run` once it is back" : "`cairn withdraw run`";
  std::string out;
  for (int64_t id : requested) {
    const std::string n = std::to_string(id);
    out += (out.empty() ? "" : "; ") + std::string("`cairn withdraw approve ") + n + "` then " +
           run + ", or `cairn withdraw cancel " + n + "`";
  }
  if (requested.empty())
    return "`cairn withdraw run` first" + std::string(back ? " once it is back" : "");
  if (requested.size() < unfinished) out += "; " + run;
  return out + ", first";
}

// InvalidArgument naming the files only site `facts.site` holds good, and what to do first.
Status LastCopiesRefusal(const Catalog::SiteRemovalFacts& facts) {
  const std::string& name = facts.site.name;
  std::string examples;
  for (const std::string& e : facts.last_good_examples)
    examples += (examples.empty() ? "" : ", ") + e;
  if (facts.last_good > facts.last_good_examples.size()) examples += ", ...";
  return Status::InvalidArgument(
      "site " + name + " holds the last good copy of " + std::to_string(facts.last_good) +
      " file(s) (" + examples + "): no other site holds a verified copy of them, and removing " +
      name +
      " would lose them (--force does not override this). Copy them first: `cairn replicate "
      "--wait` makes the copies the policies owe, `cairn site resync OTHER` refills another "
      "site, `cairn audit run --site OTHER` verifies copies no one has checked yet (a rebuilt "
      "catalog's); site " +
      name + " was not removed");
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

Result<SettingsChange> MoveSite(Repository& repo, const std::string& name, const std::string& url,
                                bool empty, SiteRecord* before) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock, repo.LockExclusively(-1));
  CAIRN_ASSIGN_OR_RETURN(SiteRecord was, repo.MoveSite(name, url, empty));
  if (before) *before = std::move(was);
  return Synced(repo);
}

Result<SiteRemoval> RemoveSite(Repository& repo, const std::string& name, bool dry_run, bool force,
                               const std::string& user) {
  std::unique_ptr<Repository::WriterLock> lock;
  if (!dry_run) {
    // No deposit, replication or audit writes a copy of the site while it goes.
    CAIRN_ASSIGN_OR_RETURN(lock, repo.LockExclusively(-1));
  }
  SiteRemoval out;
  Result<Catalog::SiteRemovalFacts> facts = repo.catalog().FactsOfSiteRemoval(name, kExamplesNamed);
  if (facts.status().IsNotFound() && !dry_run) {
    // A removal killed after its commit left the remaining sites without its settings record's
    // removal or its event (a catalog rebuilt from one would bring the site back): the rerun
    // writes what they lack before it says the site is not there.
    Result<SettingsSync> synced = SyncSettings(repo);
    FlushNewEvents(repo);
    if (synced.ok() && synced->records_written > 0) {
      return Status::NotFound(facts.status().message() +
                              "; the sites' settings records were behind the catalog (an "
                              "earlier `site remove " +
                              name + "` interrupted?): " + std::to_string(synced->records_written) +
                              " written now");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(out.facts, std::move(facts));
  // A catalog put back from a backup judges the copies by a record that lacks what happened
  // since, and its event would take a number the sites' logs hold for another: refused, as gc
  // and the audit are (a dry run too: its answer would be as wrong).
  if (Status ahead = FirstSiteLogAheadOfCatalog(repo, "", /*runs_past_only=*/true); !ahead.ok()) {
    return Status::InvalidArgument(ahead.message() + "; site " + name + " was not removed");
  }
  CAIRN_RETURN_IF_ERROR(RefuseIfPoliciesNeedSite(repo.catalog(), name));
  CAIRN_RETURN_IF_ERROR(RefuseIfSchedulesNameSite(repo.catalog(), name));
  if (out.facts.last_good > 0) return LastCopiesRefusal(out.facts);
  out.opened = repo.OpenSite(name).status();
  std::vector<int64_t> requested;
  CAIRN_ASSIGN_OR_RETURN(out.unfinished_purges, UnfinishedPurges(repo.catalog(), &requested));
  if ((out.facts.purge_keys > 0 || !out.unfinished_purges.empty()) && !force) {
    std::string which;
    for (const std::string& w : out.unfinished_purges) which += (which.empty() ? "" : ", ") + w;
    return Status::InvalidArgument(
        "site " + name + " may still hold bytes of a purge that has not finished (" +
        (which.empty() ? std::to_string(out.facts.purge_keys) + " keys left there" : which) +
        "), and a purge never reaches a site once it is out: " +
        UnfinishedPurgesNextStep(requested, out.unfinished_purges.size(), !out.opened.ok()) +
        (out.opened.ok() ? std::string()
                         : " (it cannot be opened: " + out.opened.ToString() + ")") +
        "; to take it out anyway (gone for good, or a retention holds the purge), `cairn site "
        "remove " +
        name +
        " --force`: whatever of the purged versions its files hold stays there; "
        "site " +
        name + " was not removed");
  }
  if (dry_run) return out;
  const Catalog::SiteRemovalFacts& f = out.facts;
  EventFields fields;
  fields.user = user;
  fields.site = name;
  fields.outcome = "success";
  fields.detail =
      "site " + name + " (" + f.site.url +
      ") removed from the repository: " + std::to_string(f.copies) + " copies no longer counted, " +
      std::to_string(f.jobs) + " queued jobs cancelled" +
      (f.open_findings ? ", " + std::to_string(f.open_findings) + " open audit findings closed"
                       : std::string()) +
      (out.unfinished_purges.empty() && f.purge_keys == 0
           ? std::string()
           : ", with a purge not finished there (--force)") +
      "; the files on " + name + " were left as they are";
  std::vector<proto::Event> events = {NewEvent(kDeletion, std::move(fields))};
  CAIRN_RETURN_IF_ERROR(repo.catalog().RemoveSite(name, events));
  CrashPoint("site.remove.committed");
  out.removed = true;
  out.change = Synced(repo);  // its record's removal on every remaining site
  CrashPoint("site.remove.settings-written");
  QueueOwedCopies(repo, "", &out.change);
  out.events = FlushNewEvents(repo);
  return out;
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
