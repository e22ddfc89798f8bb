// Validating a bag directory: the bag walker's folder walk (lstat, no symlink
// is ever followed), tag files read once, payload files hashed on a pool of
// threads.
#include <sys/stat.h>

#include "bagit/bag_checker.h"
#include "bagit/bag_walker.h"
#include "bagit/validator.h"

namespace cairn::bagit {

Result<Validation> ValidateBagDirectory(const std::string& dir, const ValidateOptions& options) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", root);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(root + ": not a directory");

  Validation v;
  v.contents = std::make_unique<BagContents>();
  v.report.bag = dir;
  BagChecker checker(options, &v.report, v.contents.get());
  HashingSink sink;
  CAIRN_RETURN_IF_ERROR(BagWalker(&checker, &sink, &v.report).WalkFolder(root, options.threads));
  return v;
}

}  // namespace cairn::bagit
