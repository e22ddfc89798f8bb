// BagIt Profiles (https://bagit-profiles.github.io/bagit-profiles-specification/,
// version 1.4): a JSON document that narrows what a bag may hold, checked after
// the RFC rules. Supported keys: Bag-Info (required, values, repeatable),
// Manifests-Required/Allowed, Tag-Manifests-Required/Allowed,
// Tag-Files-Required/Allowed (glob patterns), Allow-Fetch.txt, Fetch.txt-Required,
// Data-Empty, Serialization (forbidden|required|optional), Accept-Serialization,
// Accept-BagIt-Version. BagIt-Profile-Info is read for its identifier.
#ifndef CAIRN_BAGIT_PROFILE_H_
#define CAIRN_BAGIT_PROFILE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/digest.h"
#include "bagit/report.h"
#include "bagit/status.h"

namespace cairn::bagit {

struct BagContents;

class Profile {
 public:
  // Reads the profile JSON at `path`. NotFound if absent; InvalidArgument naming
  // the file (and the byte or key at fault) if it is not a valid profile.
  static Result<Profile> Load(const std::string& path);
  // Parses profile JSON text; `name` is used in messages.
  static Result<Profile> Parse(std::string_view json_text, std::string_view name);

  // Adds a finding (rule profile.*, file the bag file concerned) for every way the
  // bag breaks the profile.
  void Check(const BagContents& bag, Report* report) const;

  const std::string& identifier() const { return identifier_; }
  const std::string& name() const { return name_; }

 private:
  struct BagInfoRule {
    std::string label;
    bool required = false;
    bool repeatable = true;
    std::vector<std::string> values;  // empty: any value
  };
  enum class Serialization { kForbidden, kRequired, kOptional };

  std::string name_;
  std::string identifier_;
  std::vector<BagInfoRule> bag_info_;
  std::vector<Algorithm> manifests_required_;
  std::optional<std::vector<Algorithm>> manifests_allowed_;
  std::vector<Algorithm> tag_manifests_required_;
  std::optional<std::vector<Algorithm>> tag_manifests_allowed_;
  std::vector<std::string> tag_files_required_;
  std::optional<std::vector<std::string>> tag_files_allowed_;
  bool allow_fetch_ = true;
  bool fetch_required_ = false;
  bool data_empty_ = false;
  Serialization serialization_ = Serialization::kOptional;
  std::vector<std::string> accept_serialization_;
  std::vector<std::string> accept_versions_;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_PROFILE_H_
