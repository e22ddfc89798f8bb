// Semantic checks of a policy: what proto/policy.proto cannot express.
#include <algorithm>
#include <boost/filesystem.hpp>
#include <charconv>
#include <set>

#include "bagit/digest.h"
#include "bagit/profile.h"
#include "policies/policy.h"
#include "policies/policy_check_internal.h"

namespace cairn::policies {
namespace {

// "1 is", "3 are": a count of sites in a sentence.
std::string IsOrAre(size_t n) { return std::to_string(n) + (n == 1 ? " is" : " are"); }

}  // namespace
namespace internal {
namespace {

namespace fs = boost::filesystem;

Status Bad(const Locate& locate, std::string_view field, int index, const std::string& what) {
  return Status::InvalidArgument(locate(field, index) + ": " + std::string(field) + ": " + what);
}

// Index of the first repeated element equal to an earlier one, or -1.
int FirstDuplicate(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::set<std::string> seen;
  for (int i = 0; i < values.size(); ++i) {
    if (!seen.insert(values[i]).second) return i;
  }
  return -1;
}

Status CheckPlacement(const proto::Policy& p, const Locate& locate) {
  if (p.copies() < 1) {
    return Bad(locate, "copies", -1, "must be at least 1 (every policy needs `copies: N`)");
  }
  for (int i = 0; i < p.sites_size(); ++i) {
    if (p.sites(i).empty()) return Bad(locate, "sites", i, "a site name must not be empty");
  }
  if (int dup = FirstDuplicate(p.sites()); dup >= 0) {
    return Bad(locate, "sites", dup, "site \"" + p.sites(dup) + "\" is listed twice");
  }
  if (p.sites_size() > 0 && p.copies() > static_cast<uint32_t>(p.sites_size())) {
    return Bad(locate, "copies", -1,
               std::to_string(p.copies()) + " copies need at least " + std::to_string(p.copies()) +
                   " sites, but only " + IsOrAre(p.sites_size()) + " listed in `sites`");
  }
  for (int i = 0; i < p.regions_size(); ++i) {
    if (p.regions(i).empty()) return Bad(locate, "regions", i, "a region must not be empty");
  }
  if (int dup = FirstDuplicate(p.regions()); dup >= 0) {
    return Bad(locate, "regions", dup, "region \"" + p.regions(dup) + "\" is listed twice");
  }
  if (p.regions_size() > 0 && p.copies() > static_cast<uint32_t>(p.regions_size())) {
    return Bad(locate, "copies", -1,
               std::to_string(p.copies()) + " copies in distinct regions need at least " +
                   std::to_string(p.copies()) + " regions, but only " +
                   std::to_string(p.regions_size()) + " are listed in `regions`");
  }
  return Status::OK();
}

Status CheckContent(const proto::Policy& p, const std::string& base_dir, const Locate& locate) {
  if (p.has_fixity()) {
    if (p.fixity().interval_days() < 1) {
      return Bad(locate, "fixity.interval_days", -1, "must be at least 1 day");
    }
    if (auto sample = ParseSample(p.fixity().sample()); !sample.ok()) {
      return Bad(locate, "fixity.sample", -1, sample.status().message());
    }
  }
  for (int i = 0; i < p.algorithms_size(); ++i) {
    if (!bagit::ParseAlgorithm(p.algorithms(i))) {
      return Bad(locate, "algorithms", i,
                 "unknown algorithm \"" + p.algorithms(i) +
                     "\" (known: md5, sha1, sha224, sha256, sha384, sha512)");
    }
  }
  for (int i = 0; i < p.required_bag_info_size(); ++i) {
    const std::string& label = p.required_bag_info(i);
    if (label.empty() || label.find_first_of(":\r\n") != std::string::npos ||
        label.front() == ' ' || label.back() == ' ') {
      return Bad(locate, "required_bag_info", i,
                 "\"" + label + "\" is not a bag-info label (no ':', newline or edge spaces)");
    }
  }
  if (!p.bagit_profile().empty()) {
    const std::string path = ResolveProfilePath(p.bagit_profile(), base_dir);
    boost::system::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Bad(locate, "bagit_profile", -1, "no BagIt profile file at " + path);
    }
    // Whether it is a profile is checked when a policy is stored (CheckProfileContent), not
    // at every read of the stored policy.
  }
  if (p.retention().forever() && p.retention().min_days() > 0) {
    return Bad(locate, "retention.min_days", -1, "is meaningless with `forever: true`");
  }
  return Status::OK();
}

}  // namespace

Status CheckPolicyAt(const proto::Policy& policy, const std::string& base_dir,
                     const Locate& locate) {
  CAIRN_RETURN_IF_ERROR(CheckPlacement(policy, locate));
  return CheckContent(policy, base_dir, locate);
}

Status CheckSitesExist(const proto::Policy& policy, const std::vector<SiteFacts>& sites,
                       const Locate& locate) {
  for (int i = 0; i < policy.sites_size(); ++i) {
    const std::string& name = policy.sites(i);
    if (std::none_of(sites.begin(), sites.end(),
                     [&name](const SiteFacts& s) { return s.name == name; })) {
      return Bad(locate, "sites", i, "no site named \"" + name + "\" (see `cairn site list`)");
    }
  }
  return Status::OK();
}

Status CheckProfileInside(const proto::Policy& policy, const Locate& locate) {
  const fs::path profile(policy.bagit_profile());
  if (profile.empty() || profile.is_absolute()) return Status::OK();
  const fs::path normal = profile.lexically_normal();
  if (normal.empty() || *normal.begin() != "..") return Status::OK();
  return Bad(locate, "bagit_profile", -1,
             "the relative path \"" + policy.bagit_profile() +
                 "\" leaves the repository's folder, which a relative path is read beside on "
                 "the server: put the profile inside that folder (or give an absolute path)");
}

Status CheckProfileContent(const proto::Policy& policy, const std::string& base_dir,
                           const Locate& locate) {
  if (policy.bagit_profile().empty()) return Status::OK();
  const std::string path = ResolveProfilePath(policy.bagit_profile(), base_dir);
  Result<bagit::Profile> profile = bagit::Profile::Load(path);
  std::string why;
  if (profile.status().IsNotFound()) {
    return Bad(locate, "bagit_profile", -1, "the BagIt profile " + path + " cannot be read");
  }
  if (!profile.ok()) {
    // "profile PATH: what" (bagit::Profile's words): the path is said once, before.
    why = profile.status().message();
    const std::string prefix = "profile " + path + ": ";
    if (why.starts_with(prefix)) why = why.substr(prefix.size());
  } else if (profile->identifier().empty()) {
    why =
        "it has no BagIt-Profile-Info with a BagIt-Profile-Identifier, which every BagIt "
        "profile has (BagIt Profiles 1.4)";
  } else {
    return Status::OK();
  }
  return Bad(locate, "bagit_profile", -1, path + " is not a BagIt profile: " + why);
}

std::string ResolveProfilePath(const std::string& profile, const std::string& base_dir) {
  if (profile.empty()) return profile;
  fs::path p(profile);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

}  // namespace internal

Status CheckPolicy(const proto::Policy& policy, const std::string& source,
                   const std::string& base_dir) {
  return internal::CheckPolicyAt(policy, base_dir,
                                 [&source](std::string_view, int) { return source; });
}

Status CheckPolicyAgainstSites(const proto::Policy& policy, const std::vector<SiteFacts>& sites,
                               const std::string& source) {
  for (const std::string& name : policy.sites()) {
    bool found = false;
    for (const SiteFacts& s : sites) found = found || s.name == name;
    if (!found) {
      return Status::InvalidArgument(source + ": sites: no site named \"" + name +
                                     "\" (see `cairn site list`)");
    }
  }
  // The sites copies may go to: the listed ones, or all.
  std::vector<const SiteFacts*> usable;
  for (const SiteFacts& s : sites) {
    bool listed = policy.sites().empty();
    for (const std::string& name : policy.sites()) listed = listed || s.name == name;
    if (listed) usable.push_back(&s);
  }
  if (policy.regions().empty()) {
    if (usable.size() < policy.copies()) {
      return Status::InvalidArgument(source + ": copies: " + std::to_string(policy.copies()) +
                                     " copies need " + std::to_string(policy.copies()) +
                                     " sites, but only " + IsOrAre(usable.size()) + " available");
    }
    return Status::OK();
  }
  std::set<std::string> regions;
  for (const SiteFacts* s : usable) {
    for (const std::string& r : policy.regions()) {
      if (s->region == r) regions.insert(r);
    }
  }
  if (regions.size() < policy.copies()) {
    return Status::InvalidArgument(
        source + ": regions: " + std::to_string(policy.copies()) +
        " copies in distinct regions need sites in " + std::to_string(policy.copies()) +
        " of the listed regions, but sites exist in only " + std::to_string(regions.size()));
  }
  return Status::OK();
}

}  // namespace cairn::policies
