// Who the local process is: the one answer for events, the local principal and lock records.
#ifndef CAIRN_REPO_OS_USER_H_
#define CAIRN_REPO_OS_USER_H_

#include <string>

namespace cairn::repo {

// The name of the effective uid in the password database (getpwuid_r: several threads may
// ask at once), or "uid-N" when it has none. Never $USER, which any process may set or unset.
std::string OsUserName();

// The name a local verb (no token, on the repository's host) acts and is recorded under:
// "local:" + OsUserName(). No principal may be named so (repo/access/principals.cc).
std::string LocalUserName();

}  // namespace cairn::repo

#endif  // CAIRN_REPO_OS_USER_H_
