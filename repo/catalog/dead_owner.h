// Internal to repo/catalog/: whether the process that recorded itself as the owner of a row
// (a leased job, a running audit) is gone.
#ifndef CAIRN_REPO_CATALOG_DEAD_OWNER_H_
#define CAIRN_REPO_CATALOG_DEAD_OWNER_H_

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <string>

namespace cairn::repo::catalog_internal {

// True when `owner` ends in a process id ("cairn 1234", "cairn-daemon 99")
// and no process has that id on this machine (the catalog is a local file, so
// every owner ran here): it was killed. A reused pid only delays this.
inline bool OwnerIsDead(const std::string& owner) {
  size_t space = owner.rfind(' ');
  std::string digits = owner.substr(space == std::string::npos ? 0 : space + 1);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  pid_t pid = static_cast<pid_t>(std::stol(digits));
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace cairn::repo::catalog_internal

#endif  // CAIRN_REPO_CATALOG_DEAD_OWNER_H_
