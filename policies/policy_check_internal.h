// Internal to policies/: the semantic checks with a hook that turns a field
// into "SOURCE:LINE:COL" when the policy was parsed from text.
#ifndef CAIRN_POLICIES_POLICY_CHECK_INTERNAL_H_
#define CAIRN_POLICIES_POLICY_CHECK_INTERNAL_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "policies/policy.h"
#include "proto/policy.pb.h"

namespace cairn::policies::internal {

// Returns the message prefix for a field: "SOURCE:LINE:COL" when its place in
// the text is known, else "SOURCE". `field` is a path such as "copies" or
// "fixity.interval_days"; `index` is the element of a repeated field or -1.
using Locate = std::function<std::string(std::string_view field, int index)>;

// Runs every semantic check; the first failure is returned as InvalidArgument
// "<Locate(field)>: <field>: <what is wrong>".
Status CheckPolicyAt(const proto::Policy& policy, const std::string& base_dir,
                     const Locate& locate);

// That every site `policy` names is one of `sites`: InvalidArgument "<Locate>: sites: no site
// named "x" (see `cairn site list`)".
Status CheckSitesExist(const proto::Policy& policy, const std::vector<SiteFacts>& sites,
                       const Locate& locate);

// That a relative bagit_profile does not leave the folder it is read beside (no leading `..`
// once normalized). An absolute one is not checked here.
Status CheckProfileInside(const proto::Policy& policy, const Locate& locate);

// That the bagit_profile (resolved against `base_dir`), when set, is a BagIt profile: a file
// bagit::Profile reads whose BagIt-Profile-Info has a BagIt-Profile-Identifier. REQUIRES: the
// file exists (CheckPolicyAt).
Status CheckProfileContent(const proto::Policy& policy, const std::string& base_dir,
                           const Locate& locate);

// `profile` made absolute against `base_dir` (unchanged if already absolute
// or empty).
std::string ResolveProfilePath(const std::string& profile, const std::string& base_dir);

}  // namespace cairn::policies::internal

#endif  // CAIRN_POLICIES_POLICY_CHECK_INTERNAL_H_
