// ListDirSorted and SpecialFileKind: see dir_list.h.
#include "bagit/dir_list.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

namespace cairn::bagit {

Result<std::vector<std::string>> ListDirSorted(const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ListDirSortedTyped(dir));
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (DirEntry& e : entries) names.push_back(std::move(e.name));
  return names;
}

bool PathTooLong(size_t bytes) { return bytes >= PATH_MAX; }

std::string PathTooLongMessage(size_t bytes) {
  return "this path is " + std::to_string(bytes) +
         " bytes long as given (the folder named and the folders below it), past PATH_MAX (" +
         std::to_string(PATH_MAX) +
         " bytes, the terminating NUL included), the longest path this system opens by name: " +
         "it cannot be read, nor made again by a restore into a folder; move the folder nearer " +
         "to / or shorten the names of its folders";
}

Result<std::vector<DirEntry>> ListDirSortedTyped(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno(errno, "open directory", dir);
  std::vector<DirEntry> entries;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") entries.push_back(DirEntry{std::string(name), e->d_type});
  }
  closedir(d);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

std::string SpecialFileKind(mode_t mode) {
  if (S_ISLNK(mode)) return "symbolic link";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "device";
  return "special file";
}

}  // namespace cairn::bagit
