// `cairn withdraw request|approve|cancel|list|run` and `cairn hold add|remove|list`: governed
// withdrawal (issue 18; logic in repo/withdraw/). The local CLI acts as the host's operator
// ("local:<user>"); `--as NAME` acts as principal NAME, and only with NAME's own token
// ($CAIRN_TOKEN or --token-file), authenticated against the catalog like the server does:
// that is how a second person approves on the server host.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bagit/time_text.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/access/tokens.h"
#include "repo/restore/restore.h"
#include "repo/site/settings.h"
#include "repo/withdraw/purge.h"
#include "repo/withdraw/withdraw.h"

namespace cairn::cli {
namespace {

struct WithdrawFlags {
  std::string ref;  // PARTNER/OBJECT[@vN]
  std::string reason;
  bool purge = false;
  int64_t id = 0;
  std::string as;
  bool json = false;
};

// Exit 1 for a refusal by a rule (the two-person rule, retention, a hold, one request at a
// time, a catalog behind the sites, a withdrawn version); a wrong id (no such object,
// withdrawal or hold) is a bad argument and a role that may not is refused as by every verb:
// exit 2. The verbs' own bad arguments are refused before anything is asked (BadArguments,
// ObjectOf), so that an InvalidArgument here, the library's or the server's, is a rule's.
int Refused(const Status& s) {
  const bool rule =
      s.IsWithdrawn() || (!repo::access::IsRoleRefusal(s) &&
                          (s.code() == Code::kPermissionDenied ||
                           s.code() == Code::kInvalidArgument || s.code() == Code::kAlreadyExists));
  return ReportError(s, rule ? kExitProblems : kExitCannotRun);
}

// What is wrong in the command line itself, refused with exit 2 (as every verb's bad arguments)
// before the repository or the server is asked: --as against a server (the token says who is
// asking there) and, for a verb that takes one, --reason. kExitOk when nothing is.
int BadArguments(const WithdrawFlags& f, const Globals& g, bool takes_reason) {
  if (IsRemote(g) && !f.as.empty()) {
    return ReportError(Status::InvalidArgument(
        "--as is for the CLI on the server host; against a server the token says who you are"));
  }
  if (takes_reason) {
    if (Status reason = repo::CheckReason(f.reason); !reason.ok()) return ReportError(reason);
  }
  return kExitOk;
}

// Parses OBJECT (PARTNER/OBJECT, and @vN only when `version` is not null: a hold is on a whole
// object). InvalidArgument naming it otherwise, for ReportError (exit 2).
Status ObjectOf(const WithdrawFlags& f, std::string* partner, std::string* object,
                uint32_t* version) {
  uint32_t v = 0;
  CAIRN_RETURN_IF_ERROR(repo::ParseObjectRef(f.ref, partner, object, &v));
  if (version != nullptr) {
    *version = v;
  } else if (v != 0) {
    return Status::InvalidArgument("a hold is on a whole object: " + f.ref +
                                   " (name it without @v" + std::to_string(v) + ")");
  }
  return Status::OK();
}

// The principal acting: the host's operator, or --as NAME proven by NAME's token.
Result<repo::Principal> Acting(repo::Repository& r, const Globals& g, const std::string& as) {
  if (as.empty()) return repo::access::LocalPrincipal();
  Result<std::string> token = Token(g);
  // Credentials missing or not NAME's: Unauthenticated (exit 2), as a wrong, expired or revoked
  // token is; not a refusal by a rule (exit 1).
  if (!token.ok()) {
    return Status::Unauthenticated("--as " + as +
                                   " needs that principal's token: set CAIRN_TOKEN or pass "
                                   "--token-file FILE");
  }
  CAIRN_ASSIGN_OR_RETURN(repo::Principal who, repo::access::AuthenticateToken(
                                                  r.catalog(), *token, r.clock().NowMicros()));
  if (who.name != as) {
    return Status::Unauthenticated("--as " + as + ": the token given is not " + as + "'s");
  }
  // A principal some site records a change of that this catalog never saw (a catalog put back
  // from a backup older than its disabling, a new role, a revoked token) is refused, as `cairn
  // serve` refuses it: the old catalog would let it approve a purge or lift a hold.
  CAIRN_ASSIGN_OR_RETURN(auto changed, repo::SettingsChangedPastCatalog(r, "principals"));
  if (auto it = changed.find(who.name); it != changed.end()) {
    return Status::Unauthenticated(
        "principal " + who.name +
        " is refused until the catalog is brought up to date: " + it->second);
  }
  return who;
}

// The text each verb prints, from the JSON document it prints with --json (views::WithdrawalJson,
// views::HoldJson, or the server's answer: the same documents), so that a verb run against a
// server prints what it prints on the server host.
std::string Text(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.contains(key) ? j.at(key) : nlohmann::json();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.is_null() ? "-" : v.dump();
}
std::string VersionOf(const nlohmann::json& w) {
  return Text(w, "partner") + "/" + Text(w, "object") + "@v" + Text(w, "version");
}

void PrintRequested(const nlohmann::json& w) {
  std::cout << "withdrawal " << Text(w, "id") << " requested: " << VersionOf(w)
            << (w.value("purge", false) ? " (purge)" : "") << " by " << Text(w, "requested_by")
            << " (" << Text(w, "requested_role")
            << "); another person approves it: cairn withdraw approve " << Text(w, "id") << "\n";
}

// A purge's outcome: `w` the withdrawal, `p` {"keys_removed", "bytes_removed", "blobs_kept",
// "waiting"}.
void PrintPurge(const nlohmann::json& w, const nlohmann::json& p) {
  std::cout << "withdrawal " << Text(w, "id") << " of " << VersionOf(w) << ": " << Text(w, "state");
  if (p.contains("keys_removed")) {  // only for who sees every partner (views::PurgeJson)
    std::cout << "; " << Text(p, "keys_removed") << " keys, " << Text(p, "bytes_removed")
              << " bytes removed from the sites";
  }
  if (p.value("blobs_kept", 0) > 0) {
    std::cout << "; " << Text(p, "blobs_kept") << " blobs kept (needed again)";
  }
  std::cout << "\n";
  for (const nlohmann::json& why : p.value("waiting", nlohmann::json::array())) {
    std::cout << "  waits: " << why.get<std::string>() << "\n";
  }
}

// {"withdrawal", "tombstones_pending", "purge": {"keys_removed", "bytes_removed", "waiting"} or
// {"error"}}: the approval, then its purge when it asks for one. Returns the exit code.
int PrintApproved(const nlohmann::json& a, const Globals& g) {
  const nlohmann::json& w = a.at("withdrawal");
  if (!g.quiet) {
    std::cout << "withdrawal " << Text(w, "id") << " approved by " << Text(w, "approved_by") << " ("
              << Text(w, "approved_role") << "): " << VersionOf(w) << " is withdrawn\n";
  }
  for (const nlohmann::json& site : a.value("tombstones_pending", nlohmann::json::array())) {
    std::cerr << "cairn: warning: tombstone not written yet on " << site.get<std::string>()
              << " (written there once it can be, by `cairn withdraw run` or the daemon on the "
                 "repository's host)\n";
  }
  if (!a.contains("purge")) return kExitOk;
  const nlohmann::json& p = a.at("purge");
  if (p.contains("error")) {
    std::cerr << "cairn: approved; the purge did not run: " << Text(p, "error")
              << " (`cairn withdraw run` or the daemon finishes it)\n";
    return kExitProblems;
  }
  if (!g.quiet) PrintPurge(w, p);
  return p.value("waiting", nlohmann::json::array()).empty() ? kExitOk : kExitProblems;
}

void PrintWithdrawals(const nlohmann::json& all) {
  std::printf("%-5s %-32s %-17s %-5s %-24s %-24s %s\n", "ID", "VERSION", "STATE", "PURGE",
              "REQUESTED BY", "APPROVED BY", "REASON");
  for (const nlohmann::json& w : all) {
    const std::string approved = w.value("approved_by", "");
    std::printf("%-5s %-32s %-17s %-5s %-24s %-24s %s\n", Text(w, "id").c_str(),
                VersionOf(w).c_str(), Text(w, "state").c_str(),
                w.value("purge", false) ? "yes" : "no", Text(w, "requested_by").c_str(),
                approved.empty() ? "-" : approved.c_str(), Text(w, "reason").c_str());
    if (!w.value("detail", "").empty()) std::printf("      %s\n", Text(w, "detail").c_str());
  }
}

void PrintHolds(const nlohmann::json& all) {
  std::printf("%-5s %-32s %-8s %-24s %-20s %s\n", "ID", "OBJECT", "STATE", "ADDED BY", "ADDED",
              "REASON");
  for (const nlohmann::json& h : all) {
    std::string state = !h.value("on", true)                          ? "removed"
                        : h.value("removal_requested_by", "").empty() ? "on"
                                                                      : "on*";
    std::printf("%-5s %-32s %-8s %-24s %-20s %s\n", Text(h, "id").c_str(),
                (Text(h, "partner") + "/" + Text(h, "object")).c_str(), state.c_str(),
                Text(h, "added_by").c_str(), Text(h, "added").c_str(), Text(h, "reason").c_str());
  }
}

// {"hold", "removed"}: a removal asked for, or done by the second person.
void PrintHoldRemoval(const nlohmann::json& r) {
  const nlohmann::json& h = r.at("hold");
  const std::string object = Text(h, "partner") + "/" + Text(h, "object");
  if (r.value("removed", false)) {
    std::cout << "hold " << Text(h, "id") << " on " << object << " removed by "
              << Text(h, "removed_by") << " (asked by " << Text(h, "removal_requested_by") << ")\n";
  } else {
    std::cout << "removal of hold " << Text(h, "id") << " on " << object << " asked by "
              << Text(h, "removal_requested_by")
              << "; another person removes it: cairn hold remove " << object << "\n";
  }
}

// Prints `doc` as JSON with --json, else with `text` unless --quiet.
void Print(const nlohmann::json& doc, const WithdrawFlags& f, const Globals& g,
           const std::function<void(const nlohmann::json&)>& text) {
  if (f.json) {
    PrintJson(doc);
  } else if (!g.quiet) {
    text(doc);
  }
}

// Against `cairn serve` (--server): the same verbs through /v1/withdrawals and /v1/holds; the
// server knows the caller by its token, so --as is refused there (BadArguments). The server's
// answer is the document the verb prints locally; its `warnings` (a listing's catalog behind
// the sites, a change's sites that did not take it) come beside it.
Result<nlohmann::json> Remote(const Globals& g, const std::string& method, const std::string& path,
                              const nlohmann::json& body, std::vector<std::string>* warnings) {
  std::vector<std::string> ignored;
  return RemoteCall(g, method, path, body, warnings ? warnings : &ignored);
}

// Opens the repository with the auditor verbs' clock ($CAIRN_FAKE_NOW in test builds).
int WithRepo(const Globals& g, const std::function<int(repo::Repository&)>& fn) {
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  return fn(**repository);
}

// The document of a verb: from the server (--server), else made here by `local` as the principal
// acting (the host's operator, or --as). The `warnings` (what the sites record past the catalog,
// the sites that did not take a change) are the server's, or those `local` gives.
Result<nlohmann::json> Document(
    const WithdrawFlags& f, const Globals& g, const std::string& method, const std::string& path,
    const nlohmann::json& body,
    const std::function<Result<nlohmann::json>(repo::Repository&, const repo::Principal&)>& local,
    std::vector<std::string>* warnings = nullptr) {
  if (IsRemote(g)) return Remote(g, method, path, body, warnings);
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return repository.status();
  CAIRN_ASSIGN_OR_RETURN(repo::Principal who, Acting(**repository, g, f.as));
  return local(**repository, who);
}

int RunRequest(const WithdrawFlags& f, const Globals& g) {
  repo::WithdrawRequest req;
  uint32_t version = 0;
  Status parsed = ObjectOf(f, &req.partner, &req.object, &version);
  if (!parsed.ok()) return ReportError(parsed);
  if (int bad = BadArguments(f, g, /*takes_reason=*/true)) return bad;
  if (version) req.version = version;
  req.reason = f.reason;
  req.purge = f.purge;
  nlohmann::json body = {{"partner", req.partner},
                         {"object", req.object},
                         {"reason", req.reason},
                         {"purge", req.purge}};
  if (version) body["version"] = version;
  std::vector<std::string> warnings;  // the sites that did not take the change
  Result<nlohmann::json> w = Document(
      f, g, "POST", "/v1/withdrawals", body,
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(repo::WithdrawalRecord made,
                               repo::RequestWithdrawal(r, who, req, &warnings));
        return views::WithdrawalJson(made);
      },
      &warnings);
  if (!w.ok()) return Refused(w.status());
  PrintSettingsWarnings(warnings);
  Print(*w, f, g, PrintRequested);
  return kExitOk;
}

int RunApprove(const WithdrawFlags& f, const Globals& g) {
  if (int bad = BadArguments(f, g, /*takes_reason=*/false)) return bad;
  std::vector<std::string> warnings;
  Result<nlohmann::json> a = Document(
      f, g, "POST", "/v1/withdrawals/" + std::to_string(f.id) + "/approve",
      nlohmann::json::object(),
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(repo::ApproveResult approved, repo::ApproveWithdrawal(r, who, f.id));
        warnings = approved.settings_warnings;
        nlohmann::json out = {{"withdrawal", views::WithdrawalJson(approved.withdrawal)},
                              {"tombstones_pending", approved.tombstones_pending}};
        if (!approved.withdrawal.purge) return out;
        Result<repo::PurgeReport> purged = repo::RunPurge(r, f.id);
        if (!purged.ok()) {
          // Approved all the same (as the server answers): the daemon finishes the purge.
          out["purge"] = {{"error", purged.status().message()}};
          return out;
        }
        out["withdrawal"] = views::WithdrawalJson(purged->withdrawal);
        out["purge"] = views::PurgeJson(*purged, who.partner.empty());
        return out;
      },
      &warnings);
  if (!a.ok()) return Refused(a.status());
  PrintSettingsWarnings(warnings);
  if (f.json) {
    PrintJson(*a);
    const nlohmann::json p = a->value("purge", nlohmann::json::object());
    return p.contains("error") || !p.value("waiting", nlohmann::json::array()).empty()
               ? kExitProblems
               : kExitOk;
  }
  return PrintApproved(*a, g);
}

int RunCancel(const WithdrawFlags& f, const Globals& g) {
  if (int bad = BadArguments(f, g, /*takes_reason=*/false)) return bad;
  std::vector<std::string> warnings;
  Result<nlohmann::json> w = Document(
      f, g, "POST", "/v1/withdrawals/" + std::to_string(f.id) + "/cancel", nlohmann::json::object(),
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(repo::WithdrawalRecord cancelled,
                               repo::CancelWithdrawal(r, who, f.id, &warnings));
        return views::WithdrawalJson(cancelled);
      },
      &warnings);
  if (!w.ok()) return Refused(w.status());
  PrintSettingsWarnings(warnings);
  Print(*w, f, g, [](const nlohmann::json& c) {
    std::cout << "withdrawal " << Text(c, "id") << " of " << VersionOf(c) << " cancelled\n";
  });
  return kExitOk;
}

int RunList(const WithdrawFlags& f, const Globals& g) {
  if (int bad = BadArguments(f, g, /*takes_reason=*/false)) return bad;
  // What the sites record that this catalog lacks (put back from a backup): said, with the
  // rebuild, so that no one approves by a number it lacks.
  std::vector<std::string> behind;
  Result<nlohmann::json> all = Document(
      f, g, "GET", "/v1/withdrawals", nullptr,
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(auto listed, repo::ListWithdrawals(r, who, &behind));
        nlohmann::json out = nlohmann::json::array();
        for (const repo::WithdrawalRecord& w : listed) out.push_back(views::WithdrawalJson(w));
        return out;
      },
      &behind);
  if (!all.ok()) return Refused(all.status());
  if (f.json) {
    PrintJson(*all);
  } else {
    PrintWithdrawals(*all);
  }
  // As `cairn list` and `hold list`: the listing, then what the sites record past it (exit 1).
  for (const std::string& b : behind) std::cerr << "cairn: " << b << "\n";
  return behind.empty() ? kExitOk : kExitProblems;
}

int RunPending(const WithdrawFlags& f, const Globals& g) {
  return WithRepo(g, [&](repo::Repository& r) {
    auto report = repo::RunPendingWithdrawals(r);
    if (!report.ok()) return ReportError(report.status());
    nlohmann::json purges = nlohmann::json::array();
    for (const repo::PurgeReport& p : report->purges) {
      purges.push_back({{"withdrawal", views::WithdrawalJson(p.withdrawal)},
                        {"tombstones_pending", nlohmann::json::array()},
                        {"purge", views::PurgeJson(p, /*site_counts=*/true)}});
    }
    if (f.json) {
      PrintJson({{"purges", purges},
                 {"leftovers_removed", report->leftovers.removed},
                 {"waiting", report->waiting},
                 {"problems", report->problems}});
    } else if (!g.quiet) {
      for (const nlohmann::json& p : purges) PrintPurge(p.at("withdrawal"), p.at("purge"));
      for (const std::string& r : report->leftovers.removed) {
        std::cout << "leftover of a purge removed: " << r << "\n";
      }
      for (const std::string& w : report->waiting) std::cout << w << "\n";
      if (purges.empty() && report->leftovers.removed.empty() && report->waiting.empty()) {
        std::cout << "no withdrawal to finish\n";
      }
    }
    PrintSettingsWarnings(report->settings_warnings);
    for (const std::string& p : report->problems) std::cerr << "cairn: " << p << "\n";
    return report->problems.empty() ? static_cast<int>(kExitOk) : static_cast<int>(kExitProblems);
  });
}

// --- holds ---

int RunHoldAdd(const WithdrawFlags& f, const Globals& g) {
  std::string partner, object;
  Status parsed = ObjectOf(f, &partner, &object, nullptr);
  if (!parsed.ok()) return ReportError(parsed);
  if (int bad = BadArguments(f, g, /*takes_reason=*/true)) return bad;
  std::vector<std::string> warnings;
  Result<nlohmann::json> h = Document(
      f, g, "POST", "/v1/holds", {{"partner", partner}, {"object", object}, {"reason", f.reason}},
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(repo::HoldRecord added,
                               repo::AddHold(r, who, partner, object, f.reason, &warnings));
        return views::HoldJson(added);
      },
      &warnings);
  if (!h.ok()) return Refused(h.status());
  PrintSettingsWarnings(warnings);
  Print(*h, f, g, [](const nlohmann::json& added) {
    std::cout << "hold " << Text(added, "id") << " on " << Text(added, "partner") << "/"
              << Text(added, "object") << " by " << Text(added, "added_by")
              << ": nothing of it is purged until it is removed\n";
  });
  return kExitOk;
}

int RunHoldRemove(const WithdrawFlags& f, const Globals& g) {
  std::string partner, object;
  Status parsed = ObjectOf(f, &partner, &object, nullptr);
  if (!parsed.ok()) return ReportError(parsed);
  if (int bad = BadArguments(f, g, /*takes_reason=*/false)) return bad;
  std::vector<std::string> warnings;
  Result<nlohmann::json> removal = Document(
      f, g, "POST", "/v1/holds/" + partner + "/" + object + "/remove", nlohmann::json::object(),
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(repo::HoldRemoval done,
                               repo::RemoveHold(r, who, partner, object, &warnings));
        return nlohmann::json{{"hold", views::HoldJson(done.hold)}, {"removed", done.removed}};
      },
      &warnings);
  if (!removal.ok()) return Refused(removal.status());
  PrintSettingsWarnings(warnings);
  Print(*removal, f, g, PrintHoldRemoval);
  return kExitOk;
}

int RunHoldList(const WithdrawFlags& f, const Globals& g) {
  if (int bad = BadArguments(f, g, /*takes_reason=*/false)) return bad;
  // Holds the sites record that the catalog does not show (a catalog put back from a backup):
  // the listing is not the truth then, so it says so (exit 1).
  std::vector<std::string> past_catalog;
  Result<nlohmann::json> all = Document(
      f, g, "GET", "/v1/holds", nullptr,
      [&](repo::Repository& r, const repo::Principal& who) -> Result<nlohmann::json> {
        CAIRN_ASSIGN_OR_RETURN(auto listed, repo::ListHolds(r, who));
        CAIRN_ASSIGN_OR_RETURN(past_catalog, repo::HoldsTheSitesRecordPastCatalog(r, who));
        nlohmann::json out = nlohmann::json::array();
        for (const repo::HoldRecord& h : listed) out.push_back(views::HoldJson(h));
        return out;
      },
      &past_catalog);
  if (!all.ok()) return Refused(all.status());
  if (f.json) {
    PrintJson(*all);
  } else {
    PrintHolds(*all);
  }
  for (const std::string& p : past_catalog) std::cerr << "cairn: " << p << "\n";
  return past_catalog.empty() ? kExitOk : kExitProblems;
}

void AddAs(CLI::App* cmd, WithdrawFlags& f) {
  cmd->add_option("--as", f.as,
                  "act as this principal; needs its token ($CAIRN_TOKEN or --token-file)");
}

}  // namespace

void RegisterWithdraw(CLI::App& app, Globals& g) {
  auto f = std::make_shared<WithdrawFlags>();
  CLI::App* group = Group(app, "withdraw",
                          "governed withdrawal: one person asks, another approves; withdrawn "
                          "versions are refused to restore and show; --purge removes the bytes");
  group->footer(
      "Exit codes: 0 done; 1 refused by a rule (named: two people, retention, hold, a catalog\n"
      "behind the sites; withdraw list: listed, and the catalog is behind the sites) or a purge\n"
      "still unfinished; 2 could not run (bad arguments: a malformed OBJECT, an empty\n"
      "--reason, --as against a server; a role that may not, a wrong token, an unknown id).\n");
  CLI::App* request = group->add_subcommand("request", "ask for a version to be withdrawn");
  request->add_option("OBJECT", f->ref, "PARTNER/OBJECT or PARTNER/OBJECT@vN (default: latest)")
      ->required();
  request->add_option("--reason", f->reason, "why (one line; kept in the tombstone)")->required();
  request->add_flag("--purge", f->purge,
                    "once approved, remove its bytes from every site (after the policy's "
                    "retention.min_days, never under a hold); also for a version withdrawn "
                    "before without --purge");
  request->add_flag("--json", f->json, "print the withdrawal as JSON");
  AddAs(request, *f);
  request->callback([f, &g] { g.exit_code = RunRequest(*f, g); });

  CLI::App* approve =
      group->add_subcommand("approve", "approve a withdrawal someone else requested");
  approve->add_option("ID", f->id, "withdrawal id (withdraw list)")->required();
  approve->add_flag("--json", f->json, "print the server's or this command's answer as JSON");
  AddAs(approve, *f);
  approve->callback([f, &g] { g.exit_code = RunApprove(*f, g); });

  CLI::App* cancel = group->add_subcommand("cancel", "cancel a withdrawal not yet approved");
  cancel->add_option("ID", f->id, "withdrawal id")->required();
  cancel->add_flag("--json", f->json, "print the server's or this command's answer as JSON");
  AddAs(cancel, *f);
  cancel->callback([f, &g] { g.exit_code = RunCancel(*f, g); });

  CLI::App* list = group->add_subcommand("list", "withdrawals and their states");
  list->add_flag("--json", f->json, "print JSON");
  list->footer(
      "Exit codes: 0 listed; 1 listed, but the catalog is behind the sites (a site records a\n"
      "withdrawal, or a change of one, that this catalog never saw: named after the listing,\n"
      "with the `cairn catalog rebuild` that catches it up; as `cairn list` and `cairn hold\n"
      "list`); 2 could not run (a role that may not, a wrong token).\n");
  AddAs(list, *f);
  list->callback([f, &g] { g.exit_code = RunList(*f, g); });

  CLI::App* run = group->add_subcommand(
      "run", "finish what waits: tombstones on sites that were down, purges that are due");
  run->add_flag("--json", f->json, "print JSON");
  run->callback([f, &g] { g.exit_code = RunPending(*f, g); });

  CLI::App* hold = Group(app, "hold", "legal holds: no purge of an object while one is on");
  hold->footer(
      "Exit codes: 0 done; 1 refused by a rule (two people) or a catalog behind the sites (a\n"
      "site records a hold, or a change of one, this catalog never saw: named, with the\n"
      "`cairn catalog rebuild`; hold list lists what the catalog holds and names them); 2 could\n"
      "not run (a role that may not, a wrong token, no hold on the object anywhere).\n");
  CLI::App* add = hold->add_subcommand("add", "put a hold on an object");
  add->add_option("OBJECT", f->ref, "PARTNER/OBJECT")->required();
  add->add_option("--reason", f->reason, "why (one line)")->required();
  add->add_flag("--json", f->json, "print the hold as JSON");
  AddAs(add, *f);
  add->callback([f, &g] { g.exit_code = RunHoldAdd(*f, g); });
  CLI::App* remove =
      hold->add_subcommand("remove", "ask for a hold's removal; a second person's call removes it");
  remove->add_option("OBJECT", f->ref, "PARTNER/OBJECT")->required();
  remove->add_flag("--json", f->json, "print the hold as JSON");
  AddAs(remove, *f);
  remove->callback([f, &g] { g.exit_code = RunHoldRemove(*f, g); });
  CLI::App* hlist = hold->add_subcommand("list", "holds, on and removed");
  hlist->add_flag("--json", f->json, "print JSON");
  hlist->footer(
      "Exit codes: 0 listed; 1 listed, but the catalog is behind the sites (a site records a\n"
      "hold, or a change of one, that this catalog never saw: named after the listing, with the\n"
      "`cairn catalog rebuild` that catches it up; as `cairn list` and `cairn withdraw list`);\n"
      "2 could not run (a role that may not, a wrong token).\n");
  AddAs(hlist, *f);
  hlist->callback([f, &g] { g.exit_code = RunHoldList(*f, g); });
}

}  // namespace cairn::cli
