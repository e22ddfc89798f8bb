// Where the bag is inside a serialized bag: the single top-level folder of the
// archive, or the archive root when the first member is a top-level file or
// starts with data/. Used by the bag walker (bagit/bag_walker.h), which reads
// archives member by member for validation and deposit.
#ifndef CAIRN_BAGIT_ARCHIVE_BAG_ROOT_H_
#define CAIRN_BAGIT_ARCHIVE_BAG_ROOT_H_

#include <optional>
#include <string>

#include "bagit/archive.h"
#include "bagit/report.h"

namespace cairn::bagit {

class ArchiveBagRoot {
 public:
  // The member's path relative to the bag ("" for the bag folder itself or
  // "."), or nullopt when the member is refused: a path that breaks a path rule
  // or lies outside the bag folder. Refusals are recorded in `report`. The
  // first member decides where the bag is.
  std::optional<std::string> Relative(const ArchiveEntry& entry, Report* report);

 private:
  bool root_decided_ = false;
  std::string prefix_;  // "bag/" when the bag is a top-level folder
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_ARCHIVE_BAG_ROOT_H_
