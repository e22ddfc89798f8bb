#include "ops/server/unreachable_sites.h"

namespace cairn::views {

Result<std::vector<std::string>> UnreachableSiteLines(repo::Repository& repository,
                                                      const std::string& what,
                                                      const repo::Principal& who,
                                                      const std::vector<std::string>& only) {
  CAIRN_ASSIGN_OR_RETURN(auto down, repository.UnreachableSites(only));
  std::vector<std::string> lines;
  for (const auto& [name, why] : down) {
    std::string line =
        "site " + name + " could not be read, so " + what + " were not checked there";
    // Why names where the site is (a folder of the server, an S3 endpoint) and what the
    // operator runs on the server's host: the operator's alone.
    line += who.role == repo::Role::kOperator
                ? ": " + why.message()
                : ": it cannot be opened now (the consortium's operator sees to the sites)";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace cairn::views
