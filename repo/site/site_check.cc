#include "repo/site/site_check.h"

#include <openssl/rand.h>

#include "repo/site_layout.h"
#include "repo/storage/backend.h"
#include "repo/storage/retry_backend.h"
#include "repo/storage/s3_backend.h"

namespace cairn::repo {
namespace {

std::string RandomName() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "cairn-check-";
  for (unsigned char c : raw) {
    name.push_back(kHex[c >> 4]);
    name.push_back(kHex[c & 15]);
  }
  return name;
}

// Records one step and returns whether it passed.
bool Record(SiteCheckReport& report, std::string name, const Status& status,
            std::string ok_detail) {
  SiteCheckStep step;
  step.name = std::move(name);
  step.state = status.ok() ? CheckState::kOk : CheckState::kFailed;
  step.detail = status.ok() ? std::move(ok_detail) : status.ToString();
  report.steps.push_back(std::move(step));
  return status.ok();
}

void SkipRest(SiteCheckReport& report) {
  static constexpr std::string_view kSteps[] = {"open",     "reachable", "credentials",
                                                "location", "writable",  "layout"};
  for (size_t i = report.steps.size(); i < std::size(kSteps); ++i) {
    report.steps.push_back(
        SiteCheckStep{std::string(kSteps[i]), CheckState::kSkipped, "an earlier check failed"});
  }
}

// Write, read back, compare, remove a probe object under a fresh name.
Status ProbeWrite(StorageBackend& backend) {
  const std::string key = RandomName();
  const std::string bytes = "cairn site check probe " + key + "\n";
  PutOptions once;
  once.if_absent = true;
  CAIRN_RETURN_IF_ERROR(backend.Put(key, bytes, once).WithContext("write probe " + key));
  Result<std::string> back = backend.ReadAll(key);
  Status removed = backend.Remove(key);
  if (!back.ok()) return back.status().WithContext("read back probe " + key);
  if (*back != bytes) {
    return Status::Corruption("probe " + key + " read back " + std::to_string(back->size()) +
                              " bytes that differ from the " + std::to_string(bytes.size()) +
                              " written");
  }
  if (!removed.ok()) return removed.WithContext("remove probe " + key);
  return Status::OK();
}

Status CheckLayout(StorageBackend& backend, std::string_view name, std::string_view repository,
                   std::string* found) {
  CAIRN_ASSIGN_OR_RETURN(std::string text, backend.ReadAll(layout::kSiteMarkerKey));
  CAIRN_ASSIGN_OR_RETURN(layout::SiteMarker marker,
                         layout::ParseSiteMarker(text, backend.DisplayUrl() + "/CAIRN-SITE"));
  if (marker.site_id != name) {
    return Status::InvalidArgument("CAIRN-SITE names site '" + marker.site_id + "', not '" +
                                   std::string(name) + "' (are two folders or mounts swapped?)");
  }
  if (!repository.empty() && !marker.repository_id.empty() && marker.repository_id != repository) {
    return Status::InvalidArgument("CAIRN-SITE names repository " + marker.repository_id +
                                   ", not this one (" + std::string(repository) +
                                   "): another repository's site is mounted here");
  }
  *found = "layout version " + std::to_string(marker.layout_version) + ", site " + marker.site_id +
           ", created " + marker.created;
  return Status::OK();
}

}  // namespace

std::string_view CheckStateName(CheckState state) {
  switch (state) {
    case CheckState::kOk:
      return "ok";
    case CheckState::kFailed:
      return "failed";
    case CheckState::kSkipped:
      return "skipped";
  }
  return "?";
}

bool SiteCheckReport::ok() const {
  for (const SiteCheckStep& step : steps) {
    if (step.state != CheckState::kOk) return false;
  }
  return !steps.empty();
}

SiteCheckReport CheckSite(std::string_view name, std::string_view url,
                          std::string_view repository) {
  SiteCheckReport report;
  report.site = std::string(name);
  Result<std::unique_ptr<StorageBackend>> opened = OpenSiteBackend(url);
  if (!Record(report, "open", opened.status(), "URL and credentials found")) {
    SkipRest(report);
    return report;
  }
  StorageBackend& backend = **opened;
  report.url = backend.DisplayUrl();
  Status probe = backend.Probe();
  // Which step a probe failure belongs to: unreachable, refused, missing, other.
  bool answered = !probe.IsUnavailable();
  bool accepted = answered && probe.code() != Code::kPermissionDenied;
  if (!Record(report, "reachable", answered ? Status::OK() : probe, "the storage answers") ||
      !Record(report, "credentials", accepted ? Status::OK() : probe,
              "accepted (or none needed)") ||
      !Record(report, "location", probe, "exists")) {
    SkipRest(report);
    return report;
  }
  // The marker first: nothing is written to a folder or bucket that is not this site (another
  // site's, another repository's, or no site at all).
  std::string found;
  Status layout_status = CheckLayout(backend, name, repository, &found);
  if (layout_status.ok()) {
    Record(report, "writable", ProbeWrite(backend), "probe object written, read back and removed");
  } else {
    report.steps.push_back(
        SiteCheckStep{"writable", CheckState::kSkipped, "not written: the layout check failed"});
  }
  Record(report, "layout", layout_status, found);
  if (url.starts_with("s3://") && report.ok()) {
    // Informational: whether uploads are checked by the gateway or by Cairn.
    Result<std::unique_ptr<S3Backend>> s3 = OpenS3BackendTyped(url);
    const bool checks = s3.ok() && (*s3)->ChecksPayloadDigests();
    Record(report, "digests", Status::OK(),
           checks ? "the gateway refuses bytes that miss their SHA-256: uploads are checked "
                    "there and not hashed again"
                  : "not confirmed that the gateway refuses bytes that miss their SHA-256: "
                    "every upload is hashed and compared before it completes");
  }
  return report;
}

Status CreateSiteBucket(std::string_view url) {
  if (url.substr(0, 5) != "s3://") {
    return Status::InvalidArgument("--create-bucket is for s3:// sites only");
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<S3Backend> backend, OpenS3BackendTyped(url));
  return backend->CreateBucket(!backend->config().object_lock_mode.empty());
}

}  // namespace cairn::repo
