// What kind of source a deposit reads, and the object id its name gives.
#include "repo/deposit/deposit_source.h"

#include <sys/stat.h>

#include <cerrno>

#include "bagit/archive.h"
#include "bagit/dir_list.h"
#include "repo/deposit/deposit.h"
#include "repo/site_layout.h"

namespace cairn::repo {

Result<std::string> ObjectIdFromSource(const std::string& source) {
  std::string name = source;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (bagit::FormatFromName(name)) {
    for (std::string_view ext : {".tar.gz", ".tgz", ".tar", ".zip"}) {
      if (name.size() > ext.size()) {
        std::string tail = name.substr(name.size() - ext.size());
        for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (tail == ext) {
          name.resize(name.size() - ext.size());
          break;
        }
      }
    }
  }
  Status valid = layout::ValidateObjectId(name);
  if (!valid.ok()) {
    return Status::InvalidArgument("cannot make an object id from the name of " + source + ": " +
                                   valid.message() + "; give one with --id");
  }
  return name;
}

namespace deposit_internal {

Result<SourceKind> DetectSource(const std::string& source) {
  if (bagit::PathTooLong(source.size())) {
    return Status::InvalidArgument(source + ": " + bagit::PathTooLongMessage(source.size()) +
                                   " (rule " + std::string(bagit::kPathTooLongRule) + ")");
  }
  struct stat st;
  if (stat(source.c_str(), &st) != 0) return Status::FromErrno(errno, "open source", source);
  if (S_ISDIR(st.st_mode)) {
    struct stat bagit;
    std::string marker = source + "/bagit.txt";
    if (lstat(marker.c_str(), &bagit) == 0) return SourceKind::kBagDirectory;
    return SourceKind::kFolder;
  }
  if (S_ISREG(st.st_mode) && bagit::FormatFromName(source)) return SourceKind::kArchive;
  return Status::InvalidArgument(source +
                                 ": not a folder nor a .tar, .tar.gz, .tgz or .zip serialized bag");
}

}  // namespace deposit_internal
}  // namespace cairn::repo
