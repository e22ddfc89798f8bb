// RestoreRebuildSettings: a rebuilt catalog gets the settings the site keeps,
// then the copies its policies want are queued.
#include "policies/policy.h"
#include "repo/catalog/catalog.h"
#include "repo/recovery/rebuild.h"
#include "repo/replicate/copies_queue.h"
#include "repo/site/settings.h"

namespace cairn::repo {
namespace {

// A one-line policy text without its newline, for a message.
std::string Trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

Status RestoreRebuildSettings(Site& site, Catalog& catalog, RebuildReport* report,
                              const std::function<Status()>& before_queueing) {
  CAIRN_ASSIGN_OR_RETURN(SettingsRestore restored, RestoreSettings(site, catalog, report->site));
  report->settings_restored = std::move(restored.restored);
  report->other_sites = std::move(restored.other_sites);
  // What no site keeps, said here rather than found at the next request: every principal's
  // tokens (never written to a site) and the audit history.
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
  report->notes.push_back(
      "the audit history (runs, findings, schedules' last runs) is not kept on the sites: it "
      "starts again with the next `cairn audit run`; the event log keeps every check");
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
