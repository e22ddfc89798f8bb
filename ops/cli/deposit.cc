// `cairn deposit PARTNER SOURCE [--id OBJECT] [--info "Label: value"]...
// [--no-replicate] [--json]`: stores a folder, a bag folder or a serialized bag
// as the next version of an object and prints the receipt.
#include "repo/deposit.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"
#include "repo/events/segments.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

struct DepositFlags {
  std::string partner;
  std::string source;
  std::string id;
  std::vector<std::string> info;
  bool no_replicate = false;
  bool json = false;
  unsigned threads = 0;
};

int RunDeposit(const DepositFlags& f, const Globals& g) {
  Result<std::string> root = RepoPath(g);
  if (!root.ok()) return ReportError(root.status());
  auto repository = repo::Repository::Open(*root);
  if (!repository.ok()) return ReportError(repository.status());
  repo::DepositRequest request;
  request.partner = f.partner;
  request.source = f.source;
  request.object_id = f.id;
  request.info = f.info;
  request.replicate = !f.no_replicate;
  request.threads = f.threads;
  request.agent_version = CAIRN_VERSION;
  Result<repo::DepositOutcome> outcome = repo::Deposit(**repository, request);
  if (!outcome.ok()) return ReportError(outcome.status().WithContext("deposit " + f.source));
  // The new events go to every site's log now; a site that is down catches up later.
  (void)repo::FlushEventSegments(**repository);
  const bagit::Report& report = outcome->report;
  if (f.json) {
    nlohmann::json out;
    out["stored"] = !outcome->refused;
    out["report"] = report.ToJson();
    if (outcome->receipt) out["receipt"] = outcome->receipt->ToJson();
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return outcome->refused ? kExitProblems : kExitOk;
  }
  for (const bagit::Finding& finding : report.findings()) {
    if (finding.severity == bagit::Severity::kError) {
      std::cerr << "error: " << finding.ToString() << "\n";
    } else if (!g.quiet) {
      std::cerr << "warning: " << finding.ToString() << "\n";
    }
  }
  if (outcome->refused) {
    std::cerr << "cairn: deposit of " << f.source << " refused: " << report.error_count()
              << " errors; nothing was stored\n";
    return kExitProblems;
  }
  if (!g.quiet) std::cout << outcome->receipt->ToText();
  return kExitOk;
}

}  // namespace

void RegisterDeposit(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<DepositFlags>();
  CLI::App* cmd = app.add_subcommand(
      "deposit",
      "store a folder, a bag folder or a serialized bag (.tar, .tar.gz, .tgz, .zip) "
      "as the next version of a partner's object");
  cmd->add_option("PARTNER", flags->partner, "the depositing partner's id")->required();
  cmd->add_option("SOURCE", flags->source, "folder, bag folder or serialized bag")->required();
  cmd->add_option("--id", flags->id, "object id (default: the source's name)");
  cmd->add_option("--info", flags->info,
                  "\"Label: value\" for bag-info.txt (folder sources; repeatable)");
  cmd->add_flag("--no-replicate", flags->no_replicate,
                "leave the copies to other sites queued (cairn replicate)");
  cmd->add_flag("--json", flags->json, "print the receipt (or the refusal) as JSON");
  cmd->add_option("--threads", flags->threads, "payload workers (default: one per core)");
  cmd->footer(
      "Exit codes: 0 stored; 1 refused (invalid bag, policy or profile violation, unknown\n"
      "partner, unreadable or special file, hostile archive: nothing stored); 2 could not run\n"
      "(no repository, source missing, a site unreachable or refusing writes).\n");
  cmd->callback([flags, &g] { g.exit_code = RunDeposit(*flags, g); });
}

}  // namespace cairn::cli
