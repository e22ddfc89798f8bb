// What every verb whose library operation appended events says about copying
// them to the sites' logs (the operation did it: repo::FlushNewEvents), and
// how that reaches the exit code.
#ifndef CAIRN_OPS_CLI_FLUSH_EVENTS_H_
#define CAIRN_OPS_CLI_FLUSH_EVENTS_H_

#include <algorithm>
#include <iostream>

#include "ops/cli/cli.h"
#include "repo/events/segments.h"

namespace cairn::cli {

// Prints on stderr why the new events did not reach the sites' logs: the
// catalog could not be read, or a site's log diverged from the catalog's (it
// holds later or different events) or refused the write (each named). A site
// that is down is not printed (the next flush catches it up). Then what the flush
// did besides (a site's README.txt brought up to date) and each site the catalog is
// behind (EventsFlushed::behind: a warning), which are no problem. Returns
// kExitOk, or kExitProblems when some site's copy of the log is a problem:
// callers return ExitWorst(their code, this).
inline int ReportEventsFlushed(const repo::EventsFlushed& flushed) {
  // What was not done: the operation's own events not copied, or, when it recorded none, the
  // sites' logs not brought up to the catalog's (never "new events" it did not make).
  const char* what = flushed.new_events
                         ? "the new events were not copied"
                         : "this run recorded no events, but the sites' logs were not brought "
                           "up to the catalog's";
  if (!flushed.status.ok()) {
    std::cerr << "cairn: " << what << ": " << flushed.status.ToString() << "\n";
    return kExitProblems;
  }
  for (const std::string& n : flushed.notes) std::cerr << "cairn: " << n << "\n";
  // A catalog behind a site: said, no problem of this run (its events are kept in the catalog,
  // and the rebuild named carries them over).
  for (const std::string& b : flushed.behind) std::cerr << "cairn: warning: " << b << "\n";
  for (const std::string& p : flushed.problems) {
    std::cerr << "cairn: " << what << ": " << p << " (see `cairn events verify`)\n";
  }
  return flushed.problems.empty() ? kExitOk : kExitProblems;
}

// The worse of two exit codes (0 ok < 1 problems < 2 could not run).
inline int ExitWorst(int a, int b) { return std::max(a, b); }

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_FLUSH_EVENTS_H_
