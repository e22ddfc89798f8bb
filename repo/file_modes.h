// The permissions of what Cairn creates on local disk: the repository folder
// and its files (catalog and its -wal/-shm, locks, scratch, holder records),
// and the folders and files of a posix site. Nothing is world-accessible: a
// site holds the only copy of a partner's content, the catalog its index.
//
// The rule, umask-independent (every mode is set explicitly, never left to
// the umask): a folder is private (0700, files 0600) unless the folder it is
// made in is a setgid, group-writable folder (what `cairn init --group NAME`
// makes: 2770): then it is shared with that folder's group (2770, files
// 0660, the group inherited through setgid). So the repository folder's mode
// is the record of how it is shared, and every later file follows it.
#ifndef CAIRN_REPO_FILE_MODES_H_
#define CAIRN_REPO_FILE_MODES_H_

#include <sys/types.h>

#include <string>

#include "bagit/status.h"

namespace cairn::repo {

struct AccessModes {
  unsigned dir = 0700;
  unsigned file = 0600;
  bool shared = false;  // group-shared (setgid folders)
};

inline constexpr AccessModes kPrivateModes{0700, 0600, false};
inline constexpr AccessModes kGroupModes{02770, 0660, true};

// The modes that things made inside folder `dir` get: kGroupModes when `dir`
// is setgid and group-writable, else kPrivateModes (also when `dir` cannot
// be read).
AccessModes ModesInside(const std::string& dir);

// mkdir `path` with `modes.dir` whatever the umask (chmod after mkdir). OK if
// it exists already (its mode is left alone). IOError/PermissionDenied naming
// the folder otherwise.
Status MakeDirWithModes(const std::string& path, const AccessModes& modes);

// Sets `fd`'s mode to `mode` when this process owns it (best effort).
// Returns true when the mode was `mode` already.
bool FixFileMode(int fd, unsigned mode);

// Makes `dir` the shared folder of group `group`: chgrp, then 2770.
// NotFound "no group NAME" when the group does not exist.
Status ShareWithGroup(const std::string& dir, const std::string& group);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_FILE_MODES_H_
