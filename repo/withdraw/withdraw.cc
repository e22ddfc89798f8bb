// Requests, approvals, cancellations and holds: the two-person rule and the refusals.
#include "repo/withdraw/withdraw.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "bagit/time_text.h"
#include "policies/policy.h"
#include "repo/access/authorize.h"
#include "repo/crash_point.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"
#include "repo/site/tombstone.h"
#include "repo/site/withdrawal_setting.h"
#include "repo/withdraw/purge.h"

namespace cairn::repo {
Status CheckReason(const std::string& reason) {
  if (reason.empty()) return Status::InvalidArgument("a withdrawal or hold needs --reason TEXT");
  for (char c : reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("--reason: one line of text, without control characters");
    }
  }
  return Status::OK();
}

namespace {

std::string Who(const std::string& name, const std::string& role) {
  return name + " (" + role + ")";
}

std::string WithdrawalId(int64_t id) { return "withdrawal " + std::to_string(id); }

// The retention a policy demands of a version deposited at `created`: the first moment it may
// be purged (INT64_MAX: never).
int64_t EligibleFrom(const proto::Policy& policy, int64_t created) {
  if (policy.retention().forever()) return std::numeric_limits<int64_t>::max();
  return created + static_cast<int64_t>(policy.retention().min_days()) * kMicrosPerDay;
}

// The holds on partner/object (every object of partner when `object` is empty; every partner's
// when `partner` is too) that a site of `sites` records on and the catalog does not know at all
// (a catalog put back from a backup older than the hold), each once (the first site naming it),
// with the words that say so: "site a records legal hold 1 on acme/maps (since ... by ...:
// reason), which this catalog does not know: ...; `cairn catalog rebuild --from a --force` ...".
// Known: the same number on the same object (a catalog put back from a backup may have given a
// hold's number to another hold since).
Result<std::vector<std::string>> HoldsTheCatalogLacks(Catalog& catalog,
                                                      const std::vector<SiteSettings>& sites,
                                                      const std::string& partner,
                                                      const std::string& object) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<HoldRecord> known, catalog.ListHolds(partner));
  std::set<std::pair<int64_t, std::string>> known_ids;
  for (const HoldRecord& h : known) known_ids.insert({h.id, h.partner + "/" + h.object});
  std::vector<std::string> out;
  for (const auto& [site_name, settings] : sites) {
    for (const auto& [setting, r] : settings) {
      if (r.removed() || !r.has_hold()) continue;
      const proto::HoldSetting& h = r.hold();
      const std::string held = h.partner() + "/" + h.object();
      if ((!partner.empty() && h.partner() != partner) ||
          (!object.empty() && h.object() != object) || h.removed_unix_micros() != 0 ||
          !known_ids.insert({h.id(), held}).second) {
        continue;
      }
      out.push_back("site " + site_name + " records legal hold " + std::to_string(h.id()) + " on " +
                    held + " (since " + FormatUtc(h.added_unix_micros()) + " by " + h.added_by() +
                    ": " + h.reason() +
                    "), which this catalog does not know: the catalog is older than the site "
                    "(put back from a backup?); `cairn catalog rebuild --from " +
                    site_name + " --force` brings it up to date");
    }
  }
  return out;
}

// What the sites' settings say beyond the catalog: a catalog put back from a backup older than
// a `hold add` or a stricter `policy set` knows neither, and a purge it approves would remove
// for good what every site records as kept. So a purge also obeys each reachable site's holds
// and policies: a hold on partner/object that the catalog does not know at all, and a
// retention that keeps the version now (the catalog's policy let it go), refuse it. (A site
// that is down is not read here; the purge waits for it anyway, and is checked again then.)
Status RefuseIfSitesKeep(Repository& repo, const std::string& partner, const std::string& object,
                         const std::string& name, int64_t created) {
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> held,
                         HoldsTheCatalogLacks(catalog, sites, partner, object));
  if (!held.empty()) {
    return Status::InvalidArgument("refused: " + held.front() + "; nothing is purged");
  }
  for (const auto& [site_name, settings] : sites) {
    std::optional<policies::StoredPolicy> own, def;
    for (const auto& [setting, r] : settings) {
      if (r.removed()) continue;
      if (r.has_policy()) {
        const proto::PolicySetting& p = r.policy();
        policies::StoredPolicy stored{p.text(), p.source(), p.base_dir()};
        if (p.scope() == partner) own = stored;
        if (p.scope() == kDefaultPolicyScope) def = stored;
      }
    }
    Result<proto::Policy> site_policy = policies::EffectivePolicy(own, def);
    if (!site_policy.ok()) continue;
    const int64_t site_eligible = EligibleFrom(*site_policy, created);
    if (catalog.clock().NowMicros() >= site_eligible) continue;
    const std::string keeps =
        site_policy->retention().forever()
            ? std::string("retention `forever`, which keeps ") + name + " for ever"
            : "retention.min_days " + std::to_string(site_policy->retention().min_days()) +
                  ", which keeps " + name + " until " + FormatUtc(site_eligible);
    return Status::InvalidArgument(
        "refused: site " + site_name + " records a policy of partner " + partner + " with " +
        keeps +
        ", beyond this catalog's policy: either the catalog is older than the site (put "
        "back from a backup? `cairn catalog rebuild --from " +
        site_name +
        " --force` brings it up to date) or the site missed a change of the policy (`cairn site "
        "resync " +
        site_name + "` writes it); nothing is purged");
  }
  return Status::OK();
}

// The numbers of holds the reachable sites record: a new hold takes none of them (nor one the
// catalog has; Catalog::AddHold draws it). A catalog put back from a backup older than a hold
// would otherwise give another hold that one's number, and its record would take the other's
// place on the sites (a site that is down is passed over: SyncSettings then leaves a record it
// holds of that number alone, and names it).
Result<std::set<int64_t>> SitesHoldNumbers(Repository& repo) {
  std::set<int64_t> out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  for (const auto& [site_name, settings] : sites) {
    for (const auto& [setting, r] : settings) {
      if (r.has_hold()) out.insert(r.hold().id());
    }
  }
  return out;
}

}  // namespace

Status PurgeAllowedNow(Repository& repo, const std::string& partner, const std::string& object,
                       uint32_t version) {
  Catalog& catalog = repo.catalog();
  const std::string name = partner + "/" + object + "@v" + std::to_string(version);
  CAIRN_ASSIGN_OR_RETURN(std::optional<HoldRecord> hold, catalog.HoldOn(partner, object));
  if (hold) {
    return Status::InvalidArgument(
        "refused: legal hold " + std::to_string(hold->id) + " on " + partner + "/" + object +
        " (since " + FormatUtc(hold->added_micros) + ": " + hold->reason +
        "): nothing of it is purged until the hold is removed (`cairn hold remove`, two people)");
  }
  CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(partner));
  if (policy.retention().forever()) {
    return Status::InvalidArgument(
        "refused: policy retention `forever` of partner " + partner + " keeps " + name +
        " for ever: it may be withdrawn (without --purge), never purged");
  }
  Result<VersionInfo> info = catalog.GetVersion(partner, object, version, false);
  if (!info.ok()) {
    // Already purged (its rows are gone): nothing to keep.
    if (info.status().IsNotFound()) return Status::OK();
    return info.status();
  }
  const int64_t eligible = EligibleFrom(policy, info->created_micros);
  if (catalog.clock().NowMicros() < eligible) {
    return Status::InvalidArgument(
        "refused: policy retention.min_days " + std::to_string(policy.retention().min_days()) +
        " keeps " + name + " (deposited " + FormatUtc(info->created_micros) + ") until " +
        FormatUtc(eligible) +
        ": it may be purged from then on (withdraw it without --purge now, and ask for the "
        "purge then)");
  }
  return RefuseIfSitesKeep(repo, partner, object, name, info->created_micros);
}

namespace {

// A catalog put back from a backup: a site's event log runs past it. The withdrawal's events
// (the deaccession naming who asked and who approved, the purge's deletions) would take numbers
// the sites' logs hold for others, and the rebuild that catches the catalog up would drop them,
// and its ids would be given again: refused before anything is done, as a deposit and an audit
// are (FirstSiteLogAheadOfCatalog names the site and the rebuild).
Status RefuseIfASiteLogRunsPast(Repository& repo, const std::string& what) {
  Status ahead = FirstSiteLogAheadOfCatalog(repo, "", /*runs_past_only=*/true);
  if (ahead.ok()) return ahead;
  return Status::InvalidArgument(what + " refused, nothing done: " + ahead.message());
}

// The same for the withdrawal records on the sites, which no event marks: a catalog put back
// from a backup older than a request of `partner`, its cancellation or its approval (or rebuilt
// from a site that missed one) would give the request's number to another, approve what its
// requester cancelled, or a second request of the same version. Refused, nothing done, naming
// the site's record (withdrawal `id`'s first, when a site records it) and the rebuild. Another
// partner's records are not named (an admin learns nothing of them): a new request's number is
// none of them anyway (Catalog::AddWithdrawal).
Status RefuseIfSitesRecordMore(const SitesWithdrawals& sites, const std::string& partner,
                               int64_t id, const std::string& what) {
  const SitesWithdrawals::Ahead* named = nullptr;
  for (const SitesWithdrawals::Ahead& a : sites.ahead) {
    if (a.partner != partner) continue;
    if (!named || (a.id == id && named->id != id)) named = &a;
  }
  if (!named) return Status::OK();
  return Status::InvalidArgument(what + " refused, nothing done: " + named->text);
}

}  // namespace

Result<WithdrawalRecord> RequestWithdrawal(Repository& repo, const Principal& who,
                                           const WithdrawRequest& request,
                                           std::vector<std::string>* warnings) {
  CAIRN_RETURN_IF_ERROR(access::Authorize(who, access::Action::kWithdrawRequest, request.partner));
  CAIRN_RETURN_IF_ERROR(CheckReason(request.reason));
  const std::string what = "the withdrawal of " + request.partner + "/" + request.object;
  CAIRN_RETURN_IF_ERROR(RefuseIfASiteLogRunsPast(repo, what));
  CAIRN_ASSIGN_OR_RETURN(SitesWithdrawals sites, ReadSitesWithdrawals(repo));
  CAIRN_RETURN_IF_ERROR(RefuseIfSitesRecordMore(sites, request.partner, 0, what));
  Catalog& catalog = repo.catalog();
  Result<VersionInfo> found =
      catalog.GetVersion(request.partner, request.object, request.version, false);
  if (found.status().IsNotFound() && request.version) {
    // Purged (its rows are gone): said as such, not as a version that never was.
    CAIRN_RETURN_IF_ERROR(
        catalog.RefuseIfWithdrawn(request.partner, request.object, *request.version));
  }
  CAIRN_ASSIGN_OR_RETURN(VersionInfo info, std::move(found));
  if (request.purge) {
    CAIRN_RETURN_IF_ERROR(PurgeAllowedNow(repo, info.partner, info.object, info.version));
  }
  WithdrawalRecord w;
  w.partner = info.partner;
  w.object = info.object;
  w.version = info.version;
  w.reason = request.reason;
  w.purge = request.purge;
  w.requested_by = who.name;
  w.requested_role = std::string(RoleName(who.role));
  w.requested_micros = catalog.clock().NowMicros();
  // A number no request of the catalog or of a reachable site has, so that a number, once
  // given, names one request for ever (a catalog put back from a backup or rebuilt from a site
  // would otherwise give a request's number again, and an approver told "approve withdrawal 3"
  // approve another one); drawn at random, so that it tells nothing of others' requests.
  CAIRN_ASSIGN_OR_RETURN(w.id, catalog.AddWithdrawal(w, sites.ids));
  CrashPoint("withdraw.requested");
  // On every site, so that a catalog rebuilt from one keeps the request (and its number).
  std::vector<std::string> unsynced = SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return w;
}

namespace {

// Withdrawal `id` as `who` may learn of it: another partner's is "no withdrawal N", word for
// word what an id no one used gets, so that its ids tell nothing of what others withdraw.
// A number the catalog does not know but a reachable site records (of a partner `who` may see)
// is the catalog's lag, not a wrong id: refused, naming the site's record and the rebuild.
Result<WithdrawalRecord> WithdrawalSeenBy(Repository& repo, const Principal& who, int64_t id,
                                          const std::string& verb) {
  Result<WithdrawalRecord> found = repo.catalog().GetWithdrawal(id);
  if (found.ok() && !who.partner.empty() && found->partner != who.partner) {
    found = Status::NotFound("no withdrawal " + std::to_string(id));
  }
  if (!found.status().IsNotFound()) return found;
  CAIRN_ASSIGN_OR_RETURN(SitesWithdrawals sites, ReadSitesWithdrawals(repo));
  for (const SitesWithdrawals::Ahead& a : sites.ahead) {
    if (a.id != id || (!who.partner.empty() && a.partner != who.partner)) continue;
    return Status::InvalidArgument(verb + " of " + WithdrawalId(id) +
                                   " refused, nothing done: " + a.text);
  }
  return found;
}

}  // namespace

Result<ApproveResult> ApproveWithdrawal(Repository& repo, const Principal& who, int64_t id) {
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord w, WithdrawalSeenBy(repo, who, id, "the approval"));
  CAIRN_RETURN_IF_ERROR(access::Authorize(who, access::Action::kWithdrawApprove, w.partner));
  const std::string what = "the approval of " + WithdrawalId(id) + " of " + w.VersionName();
  CAIRN_RETURN_IF_ERROR(RefuseIfASiteLogRunsPast(repo, what));
  CAIRN_ASSIGN_OR_RETURN(SitesWithdrawals sites, ReadSitesWithdrawals(repo));
  CAIRN_RETURN_IF_ERROR(RefuseIfSitesRecordMore(sites, w.partner, id, what));
  if (w.requested_by == who.name) {
    return Status::PermissionDenied("refused: " + WithdrawalId(id) + " of " + w.VersionName() +
                                    " was requested by " + who.name +
                                    ": a second person approves (another admin of partner " +
                                    w.partner + ", or an operator)");
  }
  if (w.state != WithdrawalState::kRequested) {
    return Status::InvalidArgument(
        WithdrawalId(id) + " of " + w.VersionName() + " is " +
        std::string(WithdrawalStateName(w.state)) +
        ": only a requested withdrawal is approved (`cairn withdraw run` "
        "finishes an approved one)");
  }
  if (w.purge) CAIRN_RETURN_IF_ERROR(PurgeAllowedNow(repo, w.partner, w.object, w.version));
  WithdrawalRecord approved = w;
  approved.state = WithdrawalState::kWithdrawn;
  approved.approved_by = who.name;
  approved.approved_role = std::string(RoleName(who.role));
  approved.approved_micros = catalog.clock().NowMicros();
  // The approval and its deaccession event (naming both people) commit together.
  EventFields fields;
  fields.user = who.name;
  fields.role = approved.approved_role;
  fields.partner = w.partner;
  fields.object = w.object;
  fields.version = w.version;
  fields.outcome = "success";
  fields.detail = WithdrawalId(id) + ": requested by " + Who(w.requested_by, w.requested_role) +
                  " at " + FormatUtc(w.requested_micros) + ", approved by " +
                  Who(approved.approved_by, approved.approved_role) +
                  "; purge: " + (w.purge ? "yes" : "no") + "; reason: " + w.reason;
  CAIRN_RETURN_IF_ERROR(catalog.UpdateWithdrawal(approved, WithdrawalState::kRequested,
                                                 {NewEvent(kDeaccession, fields)}));
  CrashPoint("withdraw.approved");
  ApproveResult result;
  result.withdrawal = approved;
  // A new approval: its tombstone was never written before, so a site that did not answer
  // lacks it as surely as one that refused it.
  CAIRN_ASSIGN_OR_RETURN(TombstonesLeft left, WriteTombstones(repo, approved));
  result.tombstones_pending = left.All();
  FlushNewEvents(repo);
  result.settings_warnings = SyncSettingsAfterChange(repo);
  return result;
}

Result<WithdrawalRecord> CancelWithdrawal(Repository& repo, const Principal& who, int64_t id,
                                          std::vector<std::string>* warnings) {
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord w, WithdrawalSeenBy(repo, who, id, "the cancellation"));
  if (w.requested_by != who.name &&
      !access::Authorize(who, access::Action::kWithdrawApprove, w.partner).ok()) {
    return Status::PermissionDenied("refused: " + who.name + " may not cancel " + WithdrawalId(id) +
                                    ": its requester, another admin of partner " + w.partner +
                                    " or an operator cancels it");
  }
  if (w.state != WithdrawalState::kRequested) {
    return Status::InvalidArgument(WithdrawalId(id) + " of " + w.VersionName() + " is " +
                                   std::string(WithdrawalStateName(w.state)) +
                                   ": only a requested withdrawal is cancelled");
  }
  CAIRN_ASSIGN_OR_RETURN(SitesWithdrawals sites, ReadSitesWithdrawals(repo));
  CAIRN_RETURN_IF_ERROR(RefuseIfSitesRecordMore(
      sites, w.partner, id, "the cancellation of " + WithdrawalId(id) + " of " + w.VersionName()));
  WithdrawalRecord cancelled = w;
  cancelled.state = WithdrawalState::kCancelled;
  cancelled.cancelled_by = who.name;
  cancelled.cancelled_micros = catalog.clock().NowMicros();
  CAIRN_RETURN_IF_ERROR(catalog.UpdateWithdrawal(cancelled, WithdrawalState::kRequested));
  std::vector<std::string> unsynced = SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return cancelled;
}

Result<std::vector<WithdrawalRecord>> ListWithdrawals(Repository& repo, const Principal& who,
                                                      std::vector<std::string>* behind) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         access::ScopePartner(who, access::Action::kReadMetadata, ""));
  if (behind) {
    CAIRN_ASSIGN_OR_RETURN(SitesWithdrawals sites, ReadSitesWithdrawals(repo));
    std::set<int64_t> named;  // each number once, from the first site that records it
    for (const SitesWithdrawals::Ahead& a : sites.ahead) {
      if ((partner.empty() || a.partner == partner) && named.insert(a.id).second) {
        behind->push_back(a.text);
      }
    }
  }
  return repo.catalog().ListWithdrawals(partner);
}

Result<HoldRecord> AddHold(Repository& repo, const Principal& who, const std::string& partner,
                           const std::string& object, const std::string& reason,
                           std::vector<std::string>* warnings) {
  CAIRN_RETURN_IF_ERROR(access::Authorize(who, access::Action::kHold, partner));
  CAIRN_RETURN_IF_ERROR(CheckReason(reason));
  // A wrong id is exit 2 as for every verb, not a hold on nothing (a typo would leave the real
  // object unheld, and say it was held). An object whose versions were all purged is known.
  Result<VersionInfo> known = repo.catalog().GetVersion(partner, object, std::nullopt, false);
  if (known.status().IsNotFound() && repo.catalog().RefuseIfWithdrawn(partner, object, 0).ok()) {
    return WithCatalogBehindHint(repo,
                                 Status::NotFound("no object " + partner + "/" + object +
                                                  " to hold (see `cairn list " + partner + "`)"),
                                 partner, object, 0);
  }
  if (!known.ok() && !known.status().IsNotFound()) return known.status();
  HoldRecord h;
  h.partner = partner;
  h.object = object;
  h.reason = reason;
  h.added_by = who.name;
  h.added_role = std::string(RoleName(who.role));
  h.added_micros = repo.catalog().clock().NowMicros();
  CAIRN_ASSIGN_OR_RETURN(std::set<int64_t> taken, SitesHoldNumbers(repo));
  CAIRN_ASSIGN_OR_RETURN(h.id, repo.catalog().AddHold(h, taken));
  std::vector<std::string> unsynced = SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return h;
}

Result<HoldRemoval> RemoveHold(Repository& repo, const Principal& who, const std::string& partner,
                               const std::string& object, std::vector<std::string>* warnings) {
  CAIRN_RETURN_IF_ERROR(access::Authorize(who, access::Action::kHold, partner));
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(std::optional<HoldRecord> on, catalog.HoldOn(partner, object));
  if (!on) {
    // A catalog put back from a backup older than the hold: not "none", not a wrong id.
    CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> held,
                           HoldsTheCatalogLacks(catalog, sites, partner, object));
    if (!held.empty()) {
      return Status::InvalidArgument(
          "refused, nothing changed: this catalog records no legal "
          "hold on " +
          partner + "/" + object + ", but " + held.front());
    }
    return Status::NotFound("no legal hold is on " + partner + "/" + object);
  }
  // Its removal asked or done since the catalog's backup: asking again, or removing it on the
  // strength of a request the catalog never saw, would record what did not happen.
  CAIRN_ASSIGN_OR_RETURN(auto changed, SettingsChangedPastCatalog(repo, "holds"));
  if (auto it = changed.find(std::to_string(on->id)); it != changed.end()) {
    return Status::InvalidArgument("refused, nothing changed: the sites record a change of hold " +
                                   std::to_string(on->id) + " on " + partner + "/" + object +
                                   " that this catalog never saw: " + it->second);
  }
  HoldRemoval out;
  out.hold = *on;
  const int64_t now = catalog.clock().NowMicros();
  if (on->removal_requested_by.empty()) {
    out.hold.removal_requested_by = who.name;
    out.hold.removal_requested_role = std::string(RoleName(who.role));
    out.hold.removal_requested_micros = now;
  } else if (on->removal_requested_by == who.name) {
    return Status::PermissionDenied("refused: the removal of hold " + std::to_string(on->id) +
                                    " on " + partner + "/" + object + " was asked by " + who.name +
                                    ": a second person removes it");
  } else {
    out.hold.removed_by = who.name;
    out.hold.removed_role = std::string(RoleName(who.role));
    out.hold.removed_micros = now;
    out.removed = true;
  }
  CAIRN_RETURN_IF_ERROR(catalog.UpdateHold(out.hold));
  std::vector<std::string> unsynced = SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return out;
}

Result<std::vector<HoldRecord>> ListHolds(Repository& repo, const Principal& who) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         access::ScopePartner(who, access::Action::kReadMetadata, ""));
  return repo.catalog().ListHolds(partner);
}

Result<std::vector<std::string>> HoldsTheSitesRecordPastCatalog(Repository& repo,
                                                                const Principal& who) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         access::ScopePartner(who, access::Action::kReadMetadata, ""));
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> out,
                         HoldsTheCatalogLacks(catalog, sites, partner, ""));
  CAIRN_ASSIGN_OR_RETURN(std::vector<HoldRecord> known, catalog.ListHolds(partner));
  CAIRN_ASSIGN_OR_RETURN(auto changed, SettingsChangedPastCatalog(repo, "holds"));
  for (const HoldRecord& h : known) {
    if (auto it = changed.find(std::to_string(h.id)); it != changed.end()) {
      out.push_back("this catalog's hold " + std::to_string(h.id) + " on " + h.partner + "/" +
                    h.object + " is not the sites': " + it->second);
    }
  }
  return out;
}

}  // namespace cairn::repo
