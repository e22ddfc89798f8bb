// Listing one folder the same way everywhere a bag or a source folder is
// walked (the validator, deposit of a bag folder or of a plain folder).
#ifndef CAIRN_BAGIT_DIR_LIST_H_
#define CAIRN_BAGIT_DIR_LIST_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"

namespace cairn::bagit {

// The names in folder `dir` (without "." and ".."), sorted bytewise, so a walk
// is the same on every filesystem. An errno-based Status naming `dir` when it
// cannot be opened.
Result<std::vector<std::string>> ListDirSorted(const std::string& dir);

// One name of a folder's listing with the type the folder itself records
// (readdir's d_type: DT_REG, DT_DIR, DT_LNK, ... or DT_UNKNOWN when the file
// system does not say, and the caller must lstat).
struct DirEntry {
  std::string name;
  unsigned char type = 0;
};
// ListDirSorted with each name's type: a walk that needs only the types asks
// no lstat per name.
Result<std::vector<DirEntry>> ListDirSortedTyped(const std::string& dir);

// Rule of a path longer than the system opens by name (a deposit's SOURCE, or a file or folder
// below it or below a bag folder: bag validate and deposit name it alike).
inline constexpr std::string_view kPathTooLongRule = "source.path-too-long";
// True when a path of `bytes` bytes, as it is handed to the system (the folder given, or
// FOLDER/rel for a file below it), is past what the system opens by name (ENAMETOOLONG: PATH_MAX
// counts the NUL).
bool PathTooLong(size_t bytes);
// The message of rule source.path-too-long for a path of `bytes` bytes.
std::string PathTooLongMessage(size_t bytes);

// What a non-regular, non-folder entry is, for messages: "symbolic link",
// "fifo", "socket", "device" or "special file".
std::string SpecialFileKind(mode_t mode);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_DIR_LIST_H_
