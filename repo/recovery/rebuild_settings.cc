// RestoreRebuildSettings: a rebuilt catalog gets the settings the site keeps (with what the other
// reachable sites record of withdrawals past them), then the copies its policies want are queued.
#include <algorithm>

#include "policies/policy.h"
#include "repo/catalog/catalog.h"
#include "repo/recovery/rebuild.h"
#include "repo/recovery/rebuild_steps.h"
#include "repo/replicate/copies_queue.h"
#include "repo/site/settings.h"
#include "repo/site/withdrawal_setting.h"

namespace cairn::repo {
namespace {

// A one-line policy text without its newline, for a message.
std::string Trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The site read may have missed what became of a request (it was away while the request was
// cancelled or approved, or made): the other reachable sites' withdrawal records are read too and
// what they record past the rebuilt catalog is taken from them (TakeWithdrawalFromSite), each
// named. A site that cannot be read may record the end of a request the catalog has waiting:
// named with those requests, as a problem (the rebuild cannot know).
Status TakeWithdrawalsFromOtherSites(Site& site, Catalog& catalog, RebuildReport* report) {
  std::vector<std::pair<std::string, std::string>> unread;
  for (auto& [name, other] : OpenOtherSites(site, catalog, &unread)) {
    Result<std::map<SettingName, proto::SettingsRecord>> records = ReadSiteSettings(*other);
    if (!records.ok()) {
      unread.emplace_back(name, records.status().message());
      continue;
    }
    for (const auto& [setting, record] : *records) {
      if (setting.first != kWithdrawalsKind || !record.has_withdrawal() || record.removed()) {
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalTaken> taken,
                             TakeWithdrawalFromSite(catalog, site.id(), name, record.withdrawal()));
      if (!taken) continue;
      (taken->problem ? report->problems : report->notes).push_back(taken->text);
      if (taken->label.empty()) continue;
      const std::string number = DescribeSetting(setting) + " ";
      auto listed = std::find_if(
          report->settings_restored.begin(), report->settings_restored.end(),
          [&](const std::string& s) { return taken->replaces && s.starts_with(number); });
      if (listed == report->settings_restored.end()) {
        report->settings_restored.push_back(taken->label);
      } else {
        *listed = taken->label;
      }
    }
  }
  if (unread.empty()) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> all, catalog.ListWithdrawals(""));
  std::string waiting;
  for (const WithdrawalRecord& w : all) {
    if (w.state != WithdrawalState::kRequested) continue;
    waiting += (waiting.empty() ? "" : ", ") + std::to_string(w.id) + " of " + w.VersionName();
  }
  if (waiting.empty()) return Status::OK();
  for (const auto& [name, why] : unread) {
    report->problems.push_back(
        "site " + name + " could not be read (" + why +
        "): the rebuild cannot know whether it records the cancellation or approval of a request "
        "site " +
        site.id() + " has waiting (withdrawal " + waiting + ", rebuilt as requested); once site " +
        name +
        " can be read, `cairn catalog rebuild "
        "--from " +
        site.id() + " --force` takes what it records");
  }
  return Status::OK();
}

}  // namespace

Status RestoreRebuildSettings(Site& site, Catalog& catalog, RebuildReport* report,
                              const std::function<Status()>& before_queueing) {
  CAIRN_ASSIGN_OR_RETURN(SettingsRestore restored, RestoreSettings(site, catalog, report->site));
  report->settings_restored = std::move(restored.restored);
  report->other_sites = std::move(restored.other_sites);
  CAIRN_RETURN_IF_ERROR(TakeWithdrawalsFromOtherSites(site, catalog, report));
  // What no site keeps, said here rather than found at the next request: every principal's
  // tokens (never written to a site). The audit history: RebuildAuditHistory.
  size_t principals = 0;
  for (const std::string& s : report->settings_restored) principals += s.starts_with("principal ");
  if (principals > 0) {
    report->notes.push_back(
        std::to_string(principals) +
        " principals restored without their API tokens (no site keeps a token): issue each "
        "one again with `cairn token create NAME`; until then none of them can use the server");
  }
  // Requests restored from the settings wait as they did: said, so the approvers are told.
  size_t requests = 0;
  for (const std::string& s : report->settings_restored) {
    requests += s.starts_with("withdrawal ") && s.find(" (requested by ") != std::string::npos;
  }
  if (requests > 0) {
    report->notes.push_back(std::to_string(requests) +
                            " withdrawal requests restored under their numbers wait for their "
                            "second person again: `cairn withdraw list`");
  }
  for (const std::string& n : restored.not_restored)
    report->problems.push_back("setting not restored: " + n);
  if (!restored.default_policy) {
    PolicyRecord policy;
    policy.scope = std::string(kDefaultPolicyScope);
    policy.text = policies::BuiltinDefaultPolicyText();
    policy.source = "cairn catalog rebuild";
    if (Status s = catalog.SetPolicy(policy); !s.ok()) {
      report->notes.push_back("default policy not stored (" + s.message() +
                              "); the built-in default, " + Trimmed(policy.text) + ", applies");
    } else {
      report->notes.push_back("the site keeps no default policy: " + Trimmed(policy.text) + " set");
    }
  }
  CAIRN_RETURN_IF_ERROR(before_queueing());
  // What the policies want against what the sites hold: jobs for the
  // other sites now, so that `cairn replicate` alone brings the copies back.
  Result<ReconcileSummary> copies = ReconcileCopies(catalog);
  if (!copies.ok()) {
    report->notes.push_back("copies not queued (" + copies.status().message() +
                            "): cairn replicate queues them");
    return Status::OK();
  }
  report->copies_lacking = copies->copies_short;
  for (const std::string& p : copies->problems) report->notes.push_back(p);
  return Status::OK();
}

}  // namespace cairn::repo
