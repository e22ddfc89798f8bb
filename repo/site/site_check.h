// `cairn site check`: is a registered site usable right now? Runs, in order:
//   open         the URL parses and credentials were found (S3)
//   reachable    the storage answers (not: connection refused, timeout, 5xx)
//   credentials  the storage accepts the credentials (S3 403 = refused)
//   location     the bucket / folder exists (and has Object Lock when asked)
//   writable     a probe object under a fresh temp name is written, read back
//                byte-identical and removed
//   layout       CAIRN-SITE reads, its layout version is one this build
//                supports and it names this site
//   digests      (S3, after the others pass; informational, always ok) whether
//                the gateway refuses a PUT whose bytes miss their announced
//                SHA-256 (S3Backend::ChecksPayloadDigests), so uploads are
//                checked there, or Cairn hashes what it sends
// A step whose prerequisite failed is "skipped". Messages come from the
// backends, which never include secrets.
#ifndef CAIRN_REPO_SITE_CHECK_H_
#define CAIRN_REPO_SITE_CHECK_H_

#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

enum class CheckState { kOk, kFailed, kSkipped };

// "ok", "failed", "skipped".
std::string_view CheckStateName(CheckState state);

struct SiteCheckStep {
  std::string name;  // open, reachable, credentials, location, writable, layout, digests
  CheckState state = CheckState::kSkipped;
  std::string detail;  // what was found; the error message when failed
};

struct SiteCheckReport {
  std::string site;
  std::string url;  // display URL (no secret); "" when the URL did not parse
  std::vector<SiteCheckStep> steps;
  // True when every step is ok.
  bool ok() const;
};

// Checks site `name` stored at `url` (the catalog's URL). Never fails as a
// whole: every problem is a failed step of the report.
// `repository`: this repository's id (a marker naming another is a failed layout); empty: any.
// The write probe runs only once the marker is found to be this site's.
SiteCheckReport CheckSite(std::string_view name, std::string_view url,
                          std::string_view repository = "");

// Creates the bucket an s3:// URL names, with Object Lock enabled when the URL
// asks for object-lock; OK if this account already owns it. InvalidArgument
// for a URL that is not s3://; other errors as the backend reports them
// (PermissionDenied for refused credentials, Unavailable if unreachable).
Status CreateSiteBucket(std::string_view url);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_CHECK_H_
