#include "tests/util/deep_folders.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace cairn::testing {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

// Removes the chain under the folder `fd` (taken), deepest first.
void RemoveChain(int fd, const std::string& name) {
  int child = openat(fd, name.c_str(), kDirFlags);
  if (child >= 0) {
    unlinkat(child, "deep.txt", 0);
    RemoveChain(child, name);
  }
  unlinkat(fd, name.c_str(), AT_REMOVEDIR);
  close(fd);
}

}  // namespace

void MakeDeepFolders(const boost::filesystem::path& top, const std::string& name, int depth) {
  int fd = open(top.c_str(), kDirFlags);
  if (fd < 0) {
    ADD_FAILURE() << "cannot open " << top << ": errno " << errno;
    return;
  }
  for (int i = 0; i < depth; ++i) {
    int next = -1;
    if (mkdirat(fd, name.c_str(), 0755) != 0 || (next = openat(fd, name.c_str(), kDirFlags)) < 0) {
      ADD_FAILURE() << "cannot make level " << i << " under " << top << ": errno " << errno;
      close(fd);
      return;
    }
    close(fd);
    fd = next;
  }
  int file = openat(fd, "deep.txt", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (file < 0 || write(file, "deep\n", 5) != 5) {
    ADD_FAILURE() << "cannot write deep.txt under " << top << ": errno " << errno;
  }
  if (file >= 0) close(file);
  close(fd);
}

void RemoveDeepFolders(const boost::filesystem::path& top, const std::string& name) {
  int fd = open(top.c_str(), kDirFlags);
  if (fd >= 0) RemoveChain(fd, name);
}

std::string FirstPathPastPathMax(const boost::filesystem::path& root, std::string rel,
                                 const std::string& name) {
  while ((root / rel).string().size() < PATH_MAX) rel += "/" + name;
  return rel;
}

}  // namespace cairn::testing
