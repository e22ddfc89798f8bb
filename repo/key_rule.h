// The key rule: which names a site's storage accepts, the same on every backend and for every
// layer that makes keys (repo/site_layout.h names them; repo/storage/ checks them).
//
// Key rules, the same on every backend (checked by ValidateKey): a key is
// 1..1024 bytes, '/'-separated, with no empty, "." or ".." segment, no leading
// or trailing '/', no backslash or NUL, and its first segment is not "tmp"
// (reserved for the temp files of unfinished writers). A bad key is
// InvalidArgument naming the key.
#ifndef CAIRN_REPO_KEY_RULE_H_
#define CAIRN_REPO_KEY_RULE_H_

#include <string_view>

#include "bagit/status.h"

namespace cairn::repo {

// OK if `key` follows the key rules above, else InvalidArgument naming it.
Status ValidateKey(std::string_view key);
// OK if `prefix` is empty, or follows the key rules once one trailing '/' is dropped.
Status ValidatePrefix(std::string_view prefix);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_KEY_RULE_H_
