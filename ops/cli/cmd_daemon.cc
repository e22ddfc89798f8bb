// `cairn daemon [--once] [--interval 60s]`: every interval, runs the audit
// schedules that are due and drains the replication and repair queues (logic
// in audit/daemon.h). SIGTERM or SIGINT: the sweep in progress stops after
// the checks in flight (the rest stays due and the next start resumes it), no
// new job is taken, and the daemon exits 0. A second signal exits at once
// (leased jobs come back when their lease expires). A site that is down is
// logged and retried next round, never fatal.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "audit/daemon.h"
#include "audit/report_json.h"
#include "audit/schedule.h"
#include "bagit/time_text.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/pending_jobs.h"
#include "ops/cli/stop_signals.h"
#include "ops/cli/verbs.h"
#include "repo/withdraw/purge.h"

namespace cairn::cli {
namespace {

struct DaemonFlags {
  bool once = false;
  std::string interval = "60s";
  std::string gc_interval = "24h";  // "0": the daemon never runs gc
  std::string gc_grace = "24h";
};

void Log(const std::string& line) { std::cout << NowUtc() << " " << line << std::endl; }

int RunDaemon(const DaemonFlags& f, const Globals& g) {
  Result<int64_t> interval = audit::ParseDuration(f.interval);
  if (!interval.ok()) return ReportError(interval.status().WithContext("--interval"));
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Repository& r = **repository;
  std::atomic<bool>* stop = StopOnSignals();
  audit::DaemonOptions options;
  options.agent_version = CAIRN_VERSION;
  options.cancel = stop;
  if (!f.once) Log("cairn daemon started on " + r.root() + ", a round every " + f.interval);
  if (f.gc_interval != "0") {
    Result<int64_t> gc_interval = audit::ParseDuration(f.gc_interval);
    if (!gc_interval.ok()) return ReportError(gc_interval.status().WithContext("--gc-interval"));
    options.gc_interval_micros = *gc_interval;
  } else {
    options.gc_interval_micros = 0;
  }
  Result<int64_t> grace = audit::ParseDuration(f.gc_grace);
  if (!grace.ok()) return ReportError(grace.status().WithContext("--gc-grace"));
  options.gc_grace_micros = *grace;
  int64_t last_gc = 0;
  int exit_code = kExitOk;
  while (!stop->load()) {
    Result<audit::DaemonRound> round = audit::RunDaemonRound(r, options);
    if (round.ok()) {  // gc after the round, whose writers' lock is released (gc wants it alone)
      std::string gc = audit::MaybeCollectGarbage(r, options, &last_gc, &round->problems);
      if (!gc.empty() && !g.quiet) Log(gc);
      // Withdrawals (issue 18): tombstones of sites that were down, purges due or waiting.
      auto withdrawals = repo::RunPendingWithdrawals(r, 0);
      if (!withdrawals.ok()) {
        round->problems.push_back("withdrawals: " + withdrawals.status().ToString());
      } else {
        for (const std::string& p : withdrawals->problems) round->problems.push_back(p);
        for (const std::string& w : withdrawals->settings_warnings) {
          round->problems.push_back(w);  // a site still lacks a setting (a hold...)
        }
      }
    }
    if (!round.ok()) {
      // The catalog failed (locked too long, disk full): log, retry next round.
      std::cerr << "cairn daemon: round failed: " << round.status().ToString() << std::endl;
      if (f.once) return ReportError(round.status());
    } else {
      if (!g.quiet || !round->problems.empty()) Log("round: " + round->Summary());
      for (const std::string& p : round->problems) Log("  problem: " + p);
      for (const std::string& n : round->notes) Log("  " + n);
      if (!round->problems.empty()) exit_code = kExitProblems;
      // Jobs that failed before and wait out their backoff were not tried
      // this round, yet their copies are still owed: say so, per site.
      Result<std::vector<repo::RetryingSite>> retrying = repo::RetryingSites(r.catalog(), {});
      if (!retrying.ok()) {
        Log("  problem: the job queue could not be read: " + retrying.status().ToString());
        exit_code = kExitProblems;
      } else {
        for (const repo::RetryingSite& site : *retrying) {
          Log("  copies owed: " + RetryingText(site));
        }
        if (!retrying->empty()) exit_code = kExitProblems;
      }
    }
    if (f.once) break;
    // Sleep in small steps so a signal is noticed at once.
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(*interval);
    while (!stop->load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!f.once) {
    Log("cairn daemon stopped");
    return kExitOk;
  }
  return stop->load() ? kExitCannotRun : exit_code;
}

}  // namespace

void RegisterDaemon(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<DaemonFlags>();
  CLI::App* cmd = app.add_subcommand(
      "daemon", "run due audit schedules and drain replication and repair jobs, every interval");
  cmd->add_flag("--once", flags->once, "run one round and exit");
  cmd->add_option("--interval", flags->interval, "time between rounds (default 60s; 5m, 1h)");
  cmd->add_option("--gc-interval", flags->gc_interval,
                  "run `cairn gc` after a round this often (default 24h, the first round "
                  "included; 0: never); skipped while a writer holds the lock, retried next round");
  cmd->add_option("--gc-grace", flags->gc_grace,
                  "gc's grace period: an unreferenced blob is removed once seen for this long "
                  "(default 24h)");
  cmd->footer(
      "SIGTERM/SIGINT stop it cleanly: a sweep stops after the checks in flight (the rest\n"
      "stays due), no new job is taken; exit 0. A second signal exits at once.\n"
      "A site that is down is logged and retried next round, never fatal.\n"
      "Exit codes with --once: 0 nothing wrong; 1 problems found (findings, a site down,\n"
      "jobs left for later: each site named with its last error and next retry); 2 could\n"
      "not run (or interrupted).\n"
      "Deployment: ops/deploy/cairn-daemon.service (systemd).\n");
  cmd->callback([flags, &g] { g.exit_code = RunDaemon(*flags, g); });
}

}  // namespace cairn::cli
