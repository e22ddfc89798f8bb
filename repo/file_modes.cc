// ModesInside, MakeDirWithModes, ShareWithGroup (see file_modes.h).
#include "repo/file_modes.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace cairn::repo {

AccessModes ModesInside(const std::string& dir) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return kPrivateModes;
  if ((st.st_mode & S_ISGID) && (st.st_mode & S_IWGRP) && (st.st_mode & S_IXGRP)) {
    return kGroupModes;
  }
  return kPrivateModes;
}

Status MakeDirWithModes(const std::string& path, const AccessModes& modes) {
  if (mkdir(path.c_str(), modes.dir & 0777) != 0) {
    if (errno == EEXIST) return Status::OK();
    return Status::FromErrno(errno, "create folder", path);
  }
  if (chmod(path.c_str(), modes.dir) != 0) return Status::FromErrno(errno, "chmod", path);
  return Status::OK();
}

bool FixFileMode(int fd, unsigned mode) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  if ((st.st_mode & 07777) == mode) return true;
  if (st.st_uid == geteuid()) (void)fchmod(fd, mode);
  return false;
}

Status ShareWithGroup(const std::string& dir, const std::string& group) {
  std::vector<char> buf(16384);
  struct group entry {};
  struct group* found = nullptr;
  int err = 0;
  while ((err = getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 4);
  }
  if (err != 0 || !found) return Status::NotFound("no group " + group + " on this host");
  if (chown(dir.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
    return Status::FromErrno(errno, "chgrp " + group, dir);
  }
  if (chmod(dir.c_str(), kGroupModes.dir) != 0) return Status::FromErrno(errno, "chmod", dir);
  return Status::OK();
}

}  // namespace cairn::repo
