// What every verb whose library operation appended events says about copying
// them to the sites' logs (the operation did it: repo::FlushNewEvents), and
// how that reaches the exit code.
#ifndef CAIRN_OPS_CLI_FLUSH_EVENTS_H_
#define CAIRN_OPS_CLI_FLUSH_EVENTS_H_

#include <algorithm>
#include <iostream>

#include "ops/cli/cli.h"
#include "ops/server/json_views.h"
#include "repo/events/segments.h"

namespace cairn::cli {

// Prints on stderr, each after "cairn: ", what the verb says of copying the new events to the
// sites' logs (views::EventsFlushedLines, the lines a route sends too): why they did not reach
// them (the catalog could not be read, or a site's log diverged from the catalog's or refused
// the write, each named; a site that is down is not printed: the next flush catches it up), then
// what the flush did besides (a site's README.txt brought up to date) and each site the catalog
// is behind (a warning), which are no problem. Returns kExitOk, or kExitProblems when some
// site's copy of the log is a problem: callers return ExitWorst(their code, this).
inline int ReportEventsFlushed(const repo::EventsFlushed& flushed) {
  for (const std::string& line : views::EventsFlushedLines(flushed)) {
    std::cerr << "cairn: " << line << "\n";
  }
  return flushed.ok() ? kExitOk : kExitProblems;
}

// The worse of two exit codes (0 ok < 1 problems < 2 could not run).
inline int ExitWorst(int a, int b) { return std::max(a, b); }

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_FLUSH_EVENTS_H_
