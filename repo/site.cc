#include "repo/site.h"

#include <ctime>

#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

std::string NowIso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Status CheckBlobName(std::string_view sha256_hex) {
  if (layout::IsSha256Hex(sha256_hex)) return Status::OK();
  return Status::InvalidArgument("blob name '" + std::string(sha256_hex) +
                                 "' is not 64 lower-case hex digits");
}

Status CheckBagIds(std::string_view partner, std::string_view object, uint32_t version) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  if (version == 0) return Status::InvalidArgument("version numbers start at 1");
  return Status::OK();
}

// True if the backend holds any object other than README.txt (a leftover of
// an Init that stopped before writing the marker).
Result<bool> HoldsForeignObjects(StorageBackend& backend) {
  bool found = false;
  Status status = backend.List("", [&found](const ObjectInfo& info) {
    if (info.key == layout::kReadmeKey) return Status::OK();
    found = true;
    return Status::Aborted("stop listing");
  });
  if (!status.ok() && !found) return status;
  return found;
}

}  // namespace

Result<std::unique_ptr<Site>> Site::Init(std::unique_ptr<StorageBackend> backend,
                                         std::string_view site_id, std::string_view created) {
  CAIRN_RETURN_IF_ERROR(layout::ValidateSiteId(site_id));
  const std::string url = backend->DisplayUrl();
  CAIRN_RETURN_IF_ERROR(backend->CreateRoot().WithContext("create site " + url));
  auto existing = backend->ReadAll(layout::kSiteMarkerKey);
  if (existing.ok()) {
    CAIRN_ASSIGN_OR_RETURN(layout::SiteMarker marker,
                           layout::ParseSiteMarker(*existing, url + "/CAIRN-SITE"));
    if (marker.site_id != site_id) {
      return Status::AlreadyExists("site " + url + " is already Cairn site '" + marker.site_id +
                                   "', not '" + std::string(site_id) + "'");
    }
    if (backend->Stat(layout::kReadmeKey).status().IsNotFound()) {
      CAIRN_RETURN_IF_ERROR(backend->Put(layout::kReadmeKey, layout::SiteReadmeText()));
    }
    return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
  }
  if (!existing.status().IsNotFound()) return existing.status();
  CAIRN_ASSIGN_OR_RETURN(bool foreign, HoldsForeignObjects(*backend));
  if (foreign) {
    return Status::InvalidArgument("site " + url +
                                   " is not empty and has no CAIRN-SITE marker: refusing to "
                                   "make it a Cairn site");
  }
  layout::SiteMarker marker;
  marker.site_id = std::string(site_id);
  marker.created = created.empty() ? NowIso8601() : std::string(created);
  CAIRN_RETURN_IF_ERROR(backend->Put(layout::kReadmeKey, layout::SiteReadmeText()));
  PutOptions once;
  once.if_absent = true;
  Status written = backend->Put(layout::kSiteMarkerKey, layout::FormatSiteMarker(marker), once);
  if (written.IsAlreadyExists()) return Init(std::move(backend), site_id, created);  // lost a race
  CAIRN_RETURN_IF_ERROR(written);
  return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
}

Result<std::unique_ptr<Site>> Site::Open(std::unique_ptr<StorageBackend> backend) {
  const std::string url = backend->DisplayUrl();
  auto text = backend->ReadAll(layout::kSiteMarkerKey);
  if (text.status().IsNotFound()) {
    return Status::Unavailable("site " + url +
                               " has no CAIRN-SITE marker: not mounted, lost, or never "
                               "initialised");
  }
  if (!text.ok()) return text.status().WithContext("open site " + url);
  CAIRN_ASSIGN_OR_RETURN(layout::SiteMarker marker,
                         layout::ParseSiteMarker(*text, url + "/CAIRN-SITE"));
  return std::unique_ptr<Site>(new Site(std::move(backend), std::move(marker)));
}

Status Site::MissingOrDown(Status not_found) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (marker.ok()) return not_found;
  if (marker.status().IsNotFound()) {
    return Status::Unavailable(
        "site " + DisplayUrl() +
        ": CAIRN-SITE marker is gone (not mounted?) while reading: " + not_found.message());
  }
  return marker.status();
}

Status Site::Read(std::string_view key, uint64_t offset, uint64_t length, const ByteSink& sink) {
  Status status = backend_->Read(key, offset, length, sink);
  return status.IsNotFound() ? MissingOrDown(status) : status;
}

Result<ObjectInfo> Site::Stat(std::string_view key) {
  auto info = backend_->Stat(key);
  if (info.status().IsNotFound()) return MissingOrDown(info.status());
  return info;
}

Result<std::string> Site::ReadAll(std::string_view key) {
  auto bytes = backend_->ReadAll(key);
  if (bytes.status().IsNotFound()) return MissingOrDown(bytes.status());
  return bytes;
}

Status Site::List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) {
  auto marker = backend_->Stat(layout::kSiteMarkerKey);
  if (!marker.ok()) return MissingOrDown(marker.status());
  return backend_->List(prefix, fn);
}

Result<bool> Site::HasBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  auto info = Stat(layout::BlobKey(sha256_hex));
  if (info.ok()) return true;
  if (info.status().IsNotFound()) return false;
  return info.status();
}

Result<std::unique_ptr<BlobWriter>> Site::NewBlobWriter(std::string_view sha256_hex,
                                                        std::optional<uint64_t> size) {
  PutOptions options;
  options.if_absent = true;
  options.size_hint = size;
  if (!sha256_hex.empty()) {
    CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
    options.expected_sha256 = std::string(sha256_hex);
    options.key_hint = layout::BlobKey(sha256_hex);
  }
  Result<std::unique_ptr<BlobWriter>> writer = backend_->NewWriter(options);
  if (!writer.ok()) return writer.status().WithContext("site " + id());
  return writer;
}

Result<Site::BlobCommitResult> Site::CommitBlob(BlobWriter& writer, std::string_view sha256_hex,
                                                std::optional<uint64_t> size) {
  Status named = CheckBlobName(sha256_hex);
  if (!named.ok()) {
    writer.Abort();
    return named;
  }
  const std::string key = layout::BlobKey(sha256_hex);
  const std::string where = "site " + id() + ": blob " + std::string(sha256_hex);
  BlobCommitResult result;
  // A blob already there is read back before it is counted on: a damaged one
  // is replaced by the writer's bytes, which are known good.
  Result<ObjectInfo> present = Stat(key);
  if (present.ok()) {
    Status verified = VerifyBlob(sha256_hex, size);
    if (verified.ok()) {
      writer.Abort();
      result.how = BlobCommit::kVerified;
      return result;
    }
    if (!verified.IsCorruption() && !verified.IsNotFound()) {
      writer.Abort();
      return verified;
    }
    if (verified.IsCorruption()) {
      result.replaced = verified.message();
      Status removed = backend_->Remove(key);
      if (!removed.ok()) {
        writer.Abort();
        return removed.WithContext(where + ": could not remove the damaged copy");
      }
    }
  } else if (!present.status().IsNotFound()) {
    writer.Abort();
    return present.status().WithContext(where);
  }
  Status committed = writer.Commit(key);
  if (committed.ok()) {
    result.how = result.replaced.empty() ? BlobCommit::kCreated : BlobCommit::kReplaced;
    return result;
  }
  writer.Abort();
  if (!committed.IsAlreadyExists()) return committed.WithContext(where);
  // Another writer made the blob meanwhile: verify it like any existing blob.
  Status verified = VerifyBlob(sha256_hex, size);
  if (!verified.ok()) return verified;
  result.how = BlobCommit::kVerified;
  result.replaced.clear();
  return result;
}

Status Site::PutBlob(std::string_view sha256_hex, std::string_view bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer,
                         NewBlobWriter(sha256_hex, bytes.size()));
  Status status = writer->Append(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  if (!status.ok()) {
    writer->Abort();
    return status;
  }
  return CommitBlob(*writer, sha256_hex, bytes.size()).status();
}

Status Site::ReadBlob(std::string_view sha256_hex, const ByteSink& sink) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  return Read(layout::BlobKey(sha256_hex), 0, StorageBackend::kToEnd, sink);
}

Status Site::VerifyBlob(std::string_view sha256_hex, std::optional<uint64_t> size) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Sha256Stream hash;
  uint64_t read = 0;
  Status s = ReadBlob(sha256_hex, [&](std::span<const std::byte> chunk) {
    hash.Update(chunk);
    read += chunk.size();
    return Status::OK();
  });
  const std::string where = "site " + id() + ": blob " + std::string(sha256_hex);
  if (!s.ok()) return s.WithContext(where);
  std::string digest = hash.FinishHex();
  if (digest == sha256_hex && (!size || *size == read)) return Status::OK();
  return Status::Corruption(where + ": read " + std::to_string(read) + " bytes with sha256 " +
                            digest +
                            (size ? ", expected " + std::to_string(*size) + " bytes" : ""));
}

Status Site::RemoveUnreferencedBlob(std::string_view sha256_hex) {
  CAIRN_RETURN_IF_ERROR(CheckBlobName(sha256_hex));
  Status removed = backend_->Remove(layout::BlobKey(sha256_hex));
  if (!removed.ok())
    return removed.WithContext("site " + id() + ": remove blob " + std::string(sha256_hex));
  return removed;
}

Status Site::PutTagFile(std::string_view partner, std::string_view object, uint32_t version,
                        std::string_view name, std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(name));
  return backend_->Put(layout::TagFileKey(partner, object, version, name), bytes);
}

Result<std::string> Site::ReadTagFile(std::string_view partner, std::string_view object,
                                      uint32_t version, std::string_view name) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(name));
  return ReadAll(layout::TagFileKey(partner, object, version, name));
}

Status Site::PutVersionRecord(std::string_view partner, std::string_view object, uint32_t version,
                              std::string_view bytes) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  return backend_->Put(layout::VersionRecordKey(partner, object, version), bytes);
}

Result<std::string> Site::ReadVersionRecord(std::string_view partner, std::string_view object,
                                            uint32_t version) {
  CAIRN_RETURN_IF_ERROR(CheckBagIds(partner, object, version));
  return ReadAll(layout::VersionRecordKey(partner, object, version));
}

Status Site::PutEventSegment(uint64_t first_seq, uint64_t last_seq, std::string_view bytes) {
  if (first_seq > last_seq) return Status::InvalidArgument("event segment with first > last");
  const std::string key = layout::EventSegmentKey(first_seq, last_seq);
  PutOptions once;
  once.if_absent = true;
  Status status = backend_->Put(key, bytes, once);
  if (!status.IsAlreadyExists()) return status;
  CAIRN_ASSIGN_OR_RETURN(std::string existing, ReadAll(key));
  if (existing == bytes) return Status::OK();
  return Status::AlreadyExists("site " + DisplayUrl() + ": " + key +
                               " already holds different events");
}

}  // namespace cairn::repo
