#include "bagit/archive_bag_root.h"

#include "bagit/paths.h"

namespace cairn::bagit {

std::optional<std::string> ArchiveBagRoot::Relative(const ArchiveEntry& entry, Report* report) {
  std::string_view name = entry.path;
  StripDotSlash(&name);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  if (name.empty() || name == ".") return std::string();
  if (std::optional<PathViolation> v = FindPathViolation(name)) {
    report->Error(entry.path, v->rule, "archive member refused: " + v->message);
    return std::nullopt;
  }
  if (!root_decided_) {
    root_decided_ = true;
    size_t slash = name.find('/');
    std::string_view first = name.substr(0, slash);
    bool top_level_file = slash == std::string_view::npos && entry.type != EntryType::kDirectory;
    if (!top_level_file && first != "data") prefix_ = std::string(first) + "/";
  }
  if (prefix_.empty()) return std::string(name);
  if (std::string(name) + "/" == prefix_) return std::string();
  if (!name.starts_with(prefix_)) {
    report->Error(
        entry.path, "archive.outside-bag-folder",
        "the bag is the single top-level folder '" + prefix_ + "'; this member is outside it");
    return std::nullopt;
  }
  return std::string(name.substr(prefix_.size()));
}

}  // namespace cairn::bagit
