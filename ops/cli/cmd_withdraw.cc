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

#include "bagit/time_text.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/access/tokens.h"
#include "repo/restore/restore.h"
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

// Refusals by a rule (two people, roles, retention, holds, states) are "problems found" (1);
// what kept the verb from running is 2.
// Exit 1 for a refusal by a rule (who may, the two-person rule, retention, a hold, one request
// at a time); a wrong id (no such object, withdrawal or hold) is a bad argument: exit 2, as
// `show` and `restore` give for it.
int Refused(const Status& s) {
  int code = ReportError(s);
  if (s.code() == Code::kPermissionDenied || s.code() == Code::kInvalidArgument ||
      s.code() == Code::kAlreadyExists) {
    return kExitProblems;
  }
  return code;
}

// The principal acting: the host's operator, or --as NAME proven by NAME's token.
Result<repo::Principal> Acting(repo::Repository& r, const Globals& g, const std::string& as) {
  if (as.empty()) return repo::access::LocalPrincipal();
  Result<std::string> token = Token(g);
  if (!token.ok()) {
    return Status::InvalidArgument("--as " + as +
                                   " needs that principal's token: set CAIRN_TOKEN or pass "
                                   "--token-file FILE");
  }
  CAIRN_ASSIGN_OR_RETURN(repo::Principal who, repo::access::AuthenticateToken(
                                                  r.catalog(), *token, r.clock().NowMicros()));
  if (who.name != as) {
    return Status::PermissionDenied("--as " + as + ": the token given is not " + as + "'s");
  }
  return who;
}

std::string When(int64_t micros) { return micros ? FormatUtc(micros) : "-"; }

void PrintPurge(const repo::PurgeReport& p) {
  const repo::WithdrawalRecord& w = p.withdrawal;
  std::cout << "withdrawal " << w.id << " of " << w.VersionName() << ": "
            << repo::WithdrawalStateName(w.state) << "; " << p.keys_removed << " keys, "
            << p.bytes_removed << " bytes removed from the sites";
  if (p.blobs_kept) std::cout << "; " << p.blobs_kept << " blobs kept (needed again)";
  std::cout << "\n";
  for (const std::string& why : p.waiting) std::cout << "  waits: " << why << "\n";
}

// Against `cairn serve` (--server): the same verbs through /v1/withdrawals and /v1/holds; the
// server knows the caller by its token, so --as is refused there. Prints the server's answer.
int Remote(const Globals& g, const WithdrawFlags& f, const std::string& method,
           const std::string& path, const nlohmann::json& body = nullptr) {
  if (!f.as.empty()) {
    return Refused(Status::InvalidArgument(
        "--as is for the CLI on the server host; against a server the token says who you are"));
  }
  auto api = ConnectServer(g);
  if (!api.ok()) return ReportError(api.status());
  Result<nlohmann::json> answer =
      method == "GET" ? (*api)->GetJson(path) : (*api)->PostJson(path, body);
  if (!answer.ok()) return Refused(answer.status());
  PrintJson(*answer);
  return kExitOk;
}

// Opens the repository with the auditor verbs' clock ($CAIRN_FAKE_NOW in test builds).
int WithRepo(const Globals& g, const std::function<int(repo::Repository&)>& fn) {
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  return fn(**repository);
}

int RunRequest(const WithdrawFlags& f, const Globals& g) {
  repo::WithdrawRequest req;
  uint32_t version = 0;
  Status parsed = repo::ParseObjectRef(f.ref, &req.partner, &req.object, &version);
  if (!parsed.ok()) return Refused(parsed);
  if (version) req.version = version;
  req.reason = f.reason;
  req.purge = f.purge;
  if (IsRemote(g)) {
    nlohmann::json body = {{"partner", req.partner},
                           {"object", req.object},
                           {"reason", req.reason},
                           {"purge", req.purge}};
    if (version) body["version"] = version;
    return Remote(g, f, "POST", "/v1/withdrawals", body);
  }
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    Result<repo::WithdrawalRecord> w = repo::RequestWithdrawal(r, *who, req);
    if (!w.ok()) return Refused(w.status());
    if (f.json) {
      PrintJson(views::WithdrawalJson(*w));
    } else if (!g.quiet) {
      std::cout << "withdrawal " << w->id << " requested: " << w->VersionName()
                << (w->purge ? " (purge)" : "") << " by " << w->requested_by << " ("
                << w->requested_role << "); another person approves it: cairn withdraw approve "
                << w->id << "\n";
    }
    return static_cast<int>(kExitOk);
  });
}

int RunApprove(const WithdrawFlags& f, const Globals& g) {
  if (IsRemote(g))
    return Remote(g, f, "POST", "/v1/withdrawals/" + std::to_string(f.id) + "/approve",
                  nlohmann::json::object());
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    Result<repo::ApproveResult> approved = repo::ApproveWithdrawal(r, *who, f.id);
    if (!approved.ok()) return Refused(approved.status());
    const repo::WithdrawalRecord& w = approved->withdrawal;
    if (!g.quiet) {
      std::cout << "withdrawal " << w.id << " approved by " << w.approved_by << " ("
                << w.approved_role << "): " << w.VersionName() << " is withdrawn\n";
    }
    for (const std::string& site : approved->tombstones_pending) {
      std::cerr << "cairn: warning: tombstone not written yet on " << site
                << " (written by `cairn withdraw run` or the daemon)\n";
    }
    if (!w.purge) return static_cast<int>(kExitOk);
    Result<repo::PurgeReport> purged = repo::RunPurge(r, w.id);
    if (!purged.ok()) return Refused(purged.status());
    if (!g.quiet) PrintPurge(*purged);
    return purged->waiting.empty() ? static_cast<int>(kExitOk) : static_cast<int>(kExitProblems);
  });
}

int RunCancel(const WithdrawFlags& f, const Globals& g) {
  if (IsRemote(g))
    return Remote(g, f, "POST", "/v1/withdrawals/" + std::to_string(f.id) + "/cancel",
                  nlohmann::json::object());
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    Result<repo::WithdrawalRecord> w = repo::CancelWithdrawal(r, *who, f.id);
    if (!w.ok()) return Refused(w.status());
    if (!g.quiet)
      std::cout << "withdrawal " << w->id << " of " << w->VersionName() << " cancelled\n";
    return static_cast<int>(kExitOk);
  });
}

int RunList(const WithdrawFlags& f, const Globals& g) {
  if (IsRemote(g)) return Remote(g, f, "GET", "/v1/withdrawals");
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    auto all = repo::ListWithdrawals(r, *who);
    if (!all.ok()) return Refused(all.status());
    if (f.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const repo::WithdrawalRecord& w : *all) out.push_back(views::WithdrawalJson(w));
      PrintJson(out);
      return static_cast<int>(kExitOk);
    }
    std::printf("%-5s %-32s %-17s %-5s %-24s %-24s %s\n", "ID", "VERSION", "STATE", "PURGE",
                "REQUESTED BY", "APPROVED BY", "REASON");
    for (const repo::WithdrawalRecord& w : *all) {
      std::printf("%-5lld %-32s %-17s %-5s %-24s %-24s %s\n", static_cast<long long>(w.id),
                  w.VersionName().c_str(), std::string(repo::WithdrawalStateName(w.state)).c_str(),
                  w.purge ? "yes" : "no", w.requested_by.c_str(),
                  w.approved_by.empty() ? "-" : w.approved_by.c_str(), w.reason.c_str());
      if (!w.detail.empty()) std::printf("      %s\n", w.detail.c_str());
    }
    return static_cast<int>(kExitOk);
  });
}

int RunPending(const WithdrawFlags& f, const Globals& g) {
  return WithRepo(g, [&](repo::Repository& r) {
    auto report = repo::RunPendingWithdrawals(r);
    if (!report.ok()) return ReportError(report.status());
    if (f.json) {
      nlohmann::json purges = nlohmann::json::array();
      for (const repo::PurgeReport& p : report->purges) {
        purges.push_back({{"withdrawal", views::WithdrawalJson(p.withdrawal)},
                          {"keys_removed", p.keys_removed},
                          {"bytes_removed", p.bytes_removed},
                          {"waiting", p.waiting}});
      }
      PrintJson({{"purges", purges}, {"problems", report->problems}});
    } else if (!g.quiet) {
      for (const repo::PurgeReport& p : report->purges) PrintPurge(p);
    }
    for (const std::string& p : report->problems) std::cerr << "cairn: " << p << "\n";
    return report->problems.empty() ? static_cast<int>(kExitOk) : static_cast<int>(kExitProblems);
  });
}

// --- holds ---

int RunHoldAdd(const WithdrawFlags& f, const Globals& g) {
  std::string partner, object;
  uint32_t version = 0;
  Status parsed = repo::ParseObjectRef(f.ref, &partner, &object, &version);
  if (parsed.ok() && version)
    parsed = Status::InvalidArgument("a hold is on a whole object: " + f.ref);
  if (!parsed.ok()) return Refused(parsed);
  if (IsRemote(g)) {
    return Remote(g, f, "POST", "/v1/holds",
                  {{"partner", partner}, {"object", object}, {"reason", f.reason}});
  }
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    std::vector<std::string> warnings;
    auto hold = repo::AddHold(r, *who, partner, object, f.reason, &warnings);
    if (!hold.ok()) return Refused(hold.status());
    for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
    if (!g.quiet) {
      std::cout << "hold " << hold->id << " on " << partner << "/" << object << " by "
                << hold->added_by << ": nothing of it is purged until it is removed\n";
    }
    return static_cast<int>(kExitOk);
  });
}

int RunHoldRemove(const WithdrawFlags& f, const Globals& g) {
  std::string partner, object;
  uint32_t version = 0;
  Status parsed = repo::ParseObjectRef(f.ref, &partner, &object, &version);
  if (!parsed.ok()) return Refused(parsed);
  if (IsRemote(g)) {
    return Remote(g, f, "POST", "/v1/holds/" + partner + "/" + object + "/remove",
                  nlohmann::json::object());
  }
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    std::vector<std::string> warnings;
    auto removal = repo::RemoveHold(r, *who, partner, object, &warnings);
    if (!removal.ok()) return Refused(removal.status());
    for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
    if (!g.quiet) {
      if (removal->removed) {
        std::cout << "hold " << removal->hold.id << " on " << partner << "/" << object
                  << " removed by " << removal->hold.removed_by << " (asked by "
                  << removal->hold.removal_requested_by << ")\n";
      } else {
        std::cout << "removal of hold " << removal->hold.id << " on " << partner << "/" << object
                  << " asked by " << removal->hold.removal_requested_by
                  << "; another person removes it: cairn hold remove " << partner << "/" << object
                  << "\n";
      }
    }
    return static_cast<int>(kExitOk);
  });
}

int RunHoldList(const WithdrawFlags& f, const Globals& g) {
  if (IsRemote(g)) return Remote(g, f, "GET", "/v1/holds");
  return WithRepo(g, [&](repo::Repository& r) {
    Result<repo::Principal> who = Acting(r, g, f.as);
    if (!who.ok()) return Refused(who.status());
    auto holds = repo::ListHolds(r, *who);
    if (!holds.ok()) return Refused(holds.status());
    if (f.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const repo::HoldRecord& h : *holds) out.push_back(views::HoldJson(h));
      PrintJson(out);
      return static_cast<int>(kExitOk);
    }
    std::printf("%-5s %-32s %-8s %-24s %-20s %s\n", "ID", "OBJECT", "STATE", "ADDED BY", "ADDED",
                "REASON");
    for (const repo::HoldRecord& h : *holds) {
      std::string state = h.removed_micros                 ? "removed"
                          : h.removal_requested_by.empty() ? "on"
                                                           : "on*";
      std::printf("%-5lld %-32s %-8s %-24s %-20s %s\n", static_cast<long long>(h.id),
                  (h.partner + "/" + h.object).c_str(), state.c_str(), h.added_by.c_str(),
                  When(h.added_micros).c_str(), h.reason.c_str());
    }
    return static_cast<int>(kExitOk);
  });
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
      "Exit codes: 0 done; 1 refused (the rule is named: two people, role, retention, hold)\n"
      "or a purge still waits; 2 could not run.\n");
  CLI::App* request = group->add_subcommand("request", "ask for a version to be withdrawn");
  request->add_option("OBJECT", f->ref, "PARTNER/OBJECT or PARTNER/OBJECT@vN (default: latest)")
      ->required();
  request->add_option("--reason", f->reason, "why (one line; kept in the tombstone)")->required();
  request->add_flag("--purge", f->purge,
                    "once approved, remove its bytes from every site (after the policy's "
                    "retention.min_days, never under a hold)");
  request->add_flag("--json", f->json, "print the withdrawal as JSON");
  AddAs(request, *f);
  request->callback([f, &g] { g.exit_code = RunRequest(*f, g); });

  CLI::App* approve =
      group->add_subcommand("approve", "approve a withdrawal someone else requested");
  approve->add_option("ID", f->id, "withdrawal id (withdraw list)")->required();
  AddAs(approve, *f);
  approve->callback([f, &g] { g.exit_code = RunApprove(*f, g); });

  CLI::App* cancel = group->add_subcommand("cancel", "cancel a withdrawal not yet approved");
  cancel->add_option("ID", f->id, "withdrawal id")->required();
  AddAs(cancel, *f);
  cancel->callback([f, &g] { g.exit_code = RunCancel(*f, g); });

  CLI::App* list = group->add_subcommand("list", "withdrawals and their states");
  list->add_flag("--json", f->json, "print JSON");
  AddAs(list, *f);
  list->callback([f, &g] { g.exit_code = RunList(*f, g); });

  CLI::App* run = group->add_subcommand(
      "run", "finish what waits: tombstones on sites that were down, purges that are due");
  run->add_flag("--json", f->json, "print JSON");
  run->callback([f, &g] { g.exit_code = RunPending(*f, g); });

  CLI::App* hold = Group(app, "hold", "legal holds: no purge of an object while one is on");
  CLI::App* add = hold->add_subcommand("add", "put a hold on an object");
  add->add_option("OBJECT", f->ref, "PARTNER/OBJECT")->required();
  add->add_option("--reason", f->reason, "why (one line)")->required();
  AddAs(add, *f);
  add->callback([f, &g] { g.exit_code = RunHoldAdd(*f, g); });
  CLI::App* remove =
      hold->add_subcommand("remove", "ask for a hold's removal; a second person's call removes it");
  remove->add_option("OBJECT", f->ref, "PARTNER/OBJECT")->required();
  AddAs(remove, *f);
  remove->callback([f, &g] { g.exit_code = RunHoldRemove(*f, g); });
  CLI::App* hlist = hold->add_subcommand("list", "holds, on and removed");
  hlist->add_flag("--json", f->json, "print JSON");
  AddAs(hlist, *f);
  hlist->callback([f, &g] { g.exit_code = RunHoldList(*f, g); });
}

}  // namespace cairn::cli
