// The end of every verb that appended events: copy them to every site's log
// (repo::FlushEventSegments) and make what went wrong reach the exit code.
#ifndef CAIRN_OPS_CLI_FLUSH_EVENTS_H_
#define CAIRN_OPS_CLI_FLUSH_EVENTS_H_

#include <algorithm>
#include <iostream>

#include "ops/cli/cli.h"
#include "repo/events/segments.h"
#include "repo/repository.h"

namespace cairn::cli {

// Flushes the repository's new events to every site's segments. A site that
// is down is skipped silently (the next flush catches it up); a site whose
// log diverged from the catalog's (it holds later or different events) or
// that refused the write is printed on stderr, naming the site. Returns
// kExitOk, or kExitProblems when some site's copy of the log is a problem:
// callers return ExitWorst(their code, this).
inline int FlushEventsToSites(repo::Repository& repo) {
  Result<repo::FlushSummary> flushed = repo::FlushEventSegments(repo);
  if (!flushed.ok()) {
    std::cerr << "cairn: the new events were not copied to the sites' logs: "
              << flushed.status().ToString() << "\n";
    return kExitProblems;
  }
  const std::vector<std::string> problems = flushed->Problems();
  for (const std::string& p : problems) {
    std::cerr << "cairn: the new events were not copied: " << p << " (see `cairn events verify`)\n";
  }
  return problems.empty() ? kExitOk : kExitProblems;
}

// The worse of two exit codes (0 ok < 1 problems < 2 could not run).
inline int ExitWorst(int a, int b) { return std::max(a, b); }

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_FLUSH_EVENTS_H_
