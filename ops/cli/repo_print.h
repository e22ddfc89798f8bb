// Small helpers shared by the repository verbs (list, show, restore, usage):
// open the repository named by --repo/$CAIRN_REPO, and format bytes and times.
#ifndef CAIRN_OPS_CLI_REPO_PRINT_H_
#define CAIRN_OPS_CLI_REPO_PRINT_H_

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/server/unreachable_sites.h"
#include "repo/access/authorize.h"
#include "repo/site/repository.h"

namespace cairn::cli {

// The repository of --repo or $CAIRN_REPO.
inline Result<std::unique_ptr<repo::Repository>> OpenRepository(const Globals& g) {
  CAIRN_ASSIGN_OR_RETURN(std::string root, RepoPath(g));
  return repo::Repository::Open(root);
}

// "1.5 MiB", "312 B".
inline std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

// "2026-11-21T12:44:04Z" from microseconds since the epoch.

// Names on stderr each site of `only` (empty: every site) that cannot be opened now, saying that
// `what` (its copies, as the catalog records them) was not checked there, with the way forward
// for a site without its marker (views::UnreachableSiteLines, as the host's operator is told);
// kExitProblems if there is one (a site problem, as for `audit run`), kExitOk if none,
// kExitCannotRun if the catalog cannot say which sites there are.
inline int ReportUnreachableSites(repo::Repository& repository, const std::string& what,
                                  const std::vector<std::string>& only = {}) {
  auto lines = views::UnreachableSiteLines(repository, what, repo::access::LocalPrincipal(), only);
  if (!lines.ok()) return ReportError(lines.status());
  for (const std::string& line : *lines) std::cerr << "cairn: " << line << "\n";
  return lines->empty() ? kExitOk : kExitProblems;
}

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_REPO_PRINT_H_
