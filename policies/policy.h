// The policy engine: loads text-format policies checked against
// proto/policy.proto, checks what the schema cannot say (copies >= 1, known
// algorithms, a profile that exists, ...), and resolves which policy applies to
// a partner. Every error names the source and, when known, "LINE:COL" and the
// field: "acme.textpb:3:9: copies: must be at least 1".
#ifndef CAIRN_POLICIES_POLICY_H_
#define CAIRN_POLICIES_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "policies/sample.h"
#include "proto/policy.pb.h"

namespace cairn::policies {

// Copies kept when no policy at all has been set.
inline constexpr uint32_t kBuiltinDefaultCopies = 2;
// Days between fixity checks when a policy does not say.
inline constexpr uint32_t kDefaultFixityIntervalDays = 90;

// The days between fixity checks `policy` asks for: its fixity.interval_days,
// or kDefaultFixityIntervalDays when it does not say.
uint32_t FixityIntervalDays(const proto::Policy& policy);

// The text of the default policy `cairn init` stores and `catalog rebuild`
// sets when a site keeps none: "copies: N\n" with N = kBuiltinDefaultCopies.
std::string BuiltinDefaultPolicyText();

// Parses `text` as a text-format Policy and checks it. `source` names the text
// in messages (a file path, "catalog:default"); a relative `bagit_profile` is
// resolved against `base_dir` and returned absolute. Returns InvalidArgument
// "SOURCE:LINE:COL: message" naming the field for syntax errors (unknown field,
// bad value) and semantic errors alike.
Result<proto::Policy> ParsePolicy(std::string_view text, const std::string& source,
                                  const std::string& base_dir);

// Reads the file at `path` and parses it with ParsePolicy (base_dir = the
// file's folder). NotFound/PermissionDenied/IOError name the file.
Result<proto::Policy> LoadPolicyFile(const std::string& path);

// The semantic checks ParsePolicy runs, for a policy built in code. Messages
// are prefixed with `source` only (no line numbers). A relative profile path
// is resolved against `base_dir`.
Status CheckPolicy(const proto::Policy& policy, const std::string& source,
                   const std::string& base_dir);

// What the policy engine needs to know of a site to check a policy against
// the sites that exist.
struct SiteFacts {
  std::string name;
  std::string region;  // empty: no region
};

// Checks that every site the policy names exists, and that enough sites exist
// (in distinct listed regions when `regions` is set) to hold `copies` copies.
// InvalidArgument "SOURCE: sites: no site named "x"" and similar.
Status CheckPolicyAgainstSites(const proto::Policy& policy, const std::vector<SiteFacts>& sites,
                               const std::string& source);

// What a policy about to be stored is checked against, beyond ParsePolicy's checks.
struct StoreContext {
  std::vector<SiteFacts> sites;  // the sites that exist
  // A relative bagit_profile must not leave `base_dir`: set for a policy sent to the server,
  // whose `base_dir` is the repository's folder (a client names no other file of the host).
  bool profile_inside_base_dir = false;
};

// Parses and checks a policy about to be stored (`cairn policy set`, PUT /v1/policy): the
// syntax; that every site it names exists (before the other checks, so that a misspelt site is
// named as such and not as too few sites); ParsePolicy's checks; that its bagit_profile is a
// BagIt profile (JSON that bagit::Profile reads, whose BagIt-Profile-Info has a
// BagIt-Profile-Identifier) and, with `profile_inside_base_dir`, that a relative one does not
// leave `base_dir`; then CheckPolicyAgainstSites. Returns the policy as ParsePolicy does, or
// InvalidArgument "SOURCE:LINE:COL: field: rule".
Result<proto::Policy> ParsePolicyToStore(std::string_view text, const std::string& source,
                                         const std::string& base_dir, const StoreContext& context);

// A policy as stored in the catalog: the text as written, where it came from,
// and the folder its relative paths are resolved against.
struct StoredPolicy {
  std::string text;
  std::string source;    // e.g. "/etc/cairn/acme.textpb" or "catalog:acme"
  std::string base_dir;  // folder for a relative bagit_profile
};

// `copies: 2` and nothing else: what applies when no policy is stored.
proto::Policy BuiltinDefaultPolicy();

// The policy that applies to a partner: its own policy when it has one (it
// replaces the default whole: fields are not merged), else the default policy,
// else BuiltinDefaultPolicy(). Errors of a stored text are returned as from
// ParsePolicy.
Result<proto::Policy> EffectivePolicy(const std::optional<StoredPolicy>& partner_policy,
                                      const std::optional<StoredPolicy>& default_policy);

// The policy in text format, one field per line (for `policy show`).
std::string FormatPolicy(const proto::Policy& policy);

}  // namespace cairn::policies

#endif  // CAIRN_POLICIES_POLICY_H_
