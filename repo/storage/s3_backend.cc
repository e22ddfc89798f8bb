#include "repo/storage/s3_backend.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <deque>
#include <future>
#include <thread>

#include "bagit/time_text.h"
#include "repo/storage/backends.h"
#include "repo/storage/s3_writer.h"
#include "repo/storage/s3_xml.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kTempDir = "tmp/";

// Seconds since the epoch of an S3 time ("2026-11-21T12:47:45.155Z"); 0 if unparsable.
int64_t ParseS3Time(const std::string& text) {
  Result<int64_t> micros = ParseUtc(text);
  return micros.ok() ? *micros / 1'000'000 : 0;
}

}  // namespace

S3Backend::S3Backend(S3Config config, S3Credentials credentials)
    : http_(std::move(config), std::move(credentials)) {}

std::string S3Backend::ObjectName(std::string_view key) const {
  if (config().prefix.empty()) return std::string(key);
  return config().prefix + "/" + std::string(key);
}

std::string S3Backend::Describe(std::string_view key) const {
  std::string name = "s3://" + config().bucket;
  std::string object = ObjectName(key);
  if (!object.empty()) name += "/" + object;
  return name;
}

std::string S3Backend::DisplayUrl() const { return S3DisplayUrl(config()); }

Result<std::unique_ptr<BlobWriter>> S3Backend::NewWriter(const PutOptions& options) {
  return std::unique_ptr<BlobWriter>(new S3Writer(this, options));
}

Status S3Backend::ReadOnce(std::string_view key, uint64_t offset, uint64_t length,
                           const ByteSink& sink, uint64_t* delivered, uint64_t* object_size) {
  S3Request request;
  request.object = ObjectName(key);
  request.sink = &sink;
  if (offset != 0 || length != kToEnd) {
    std::string range = "Range: bytes=" + std::to_string(offset) + "-";
    if (length != kToEnd) range += std::to_string(offset + length - 1);
    request.headers.push_back(range);
  }
  Result<S3Response> response = http_.Send(request);
  if (!response.ok()) return response.status();
  *delivered += response->delivered;
  if (response->has_range_total) {
    *object_size = response->range_total;
  } else if (response->status == 200 && response->has_content_length) {
    *object_size = response->content_length;
  }
  if (response->status == 200 || response->status == 206) return Status::OK();
  // Range starting at or past the end of an existing object: no bytes, not an error.
  if (response->status == 416) return Status::OK();
  return S3Http::ErrorFor(*response, "GET " + Describe(key));
}

Status S3Backend::ReadRange(std::string_view key, uint64_t offset, uint64_t length,
                            const ByteSink& sink, uint64_t* object_size) {
  uint64_t delivered = 0;
  return ReadOnce(key, offset, length, sink, &delivered, object_size);
}

Status S3Backend::Read(std::string_view key, uint64_t offset, uint64_t length,
                       const ByteSink& sink) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) return Stat(key).status();
  // The first kReadRange bytes come in one ranged GET, which also tells the
  // object's size; the rest, if any, in kReadRange ranges fetched kReadAhead at
  // a time and handed to the sink in order.
  const uint64_t chunk = std::min<uint64_t>(config().part_size, kReadRange);
  constexpr uint64_t kUnknown = ~uint64_t{0};
  uint64_t first = std::min(length, chunk);
  uint64_t size = kUnknown;
  CAIRN_RETURN_IF_ERROR(ReadRange(key, offset, first, sink, &size));
  if (length <= chunk || size == kUnknown) return Status::OK();
  uint64_t end = length == kToEnd ? size : std::min(size, offset + length);
  uint64_t next = offset + first;
  std::deque<std::future<Result<std::string>>> ahead;
  // Each range's buffer is used again once the sink has its bytes: a fresh
  // kReadRange allocation per range cost a page fault per 4 KiB of the object
  // (the freed buffer goes back to the kernel with the thread's arena).
  std::vector<std::string> spare;
  auto launch = [&] {
    uint64_t from = next, n = std::min(chunk, end - next);
    next += n;
    std::string buffer;
    if (!spare.empty()) {
      buffer = std::move(spare.back());
      spare.pop_back();
    }
    ahead.push_back(std::async(std::launch::async, [this, key = std::string(key), from, n,
                                                    bytes = std::move(buffer)]() mutable {
      bytes.clear();
      bytes.reserve(n);
      uint64_t ignored = 0;
      Status s = ReadRange(
          key, from, n,
          [&bytes](std::span<const std::byte> c) {
            bytes.append(reinterpret_cast<const char*>(c.data()), c.size());
            return Status::OK();
          },
          &ignored);
      if (!s.ok()) return Result<std::string>(s);
      return Result<std::string>(std::move(bytes));
    }));
  };
  Status result;
  while (result.ok() && (next < end || !ahead.empty())) {
    while (next < end && ahead.size() < kReadAhead) launch();
    Result<std::string> bytes = ahead.front().get();
    ahead.pop_front();
    result = bytes.ok() ? sink(std::as_bytes(std::span<const char>(bytes->data(), bytes->size())))
                        : bytes.status();
    if (bytes.ok()) spare.push_back(std::move(bytes).value());
  }
  for (auto& pending : ahead) pending.wait();  // they use this backend: never leave them running
  return result;
}

Result<ObjectInfo> S3Backend::Stat(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  S3Request request;
  request.method = "HEAD";
  request.object = ObjectName(key);
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status != 200) return S3Http::ErrorFor(response, "HEAD " + Describe(key));
  return ObjectInfo{std::string(key), response.content_length};
}

Status S3Backend::ListObjects(
    std::string_view object_prefix,
    const std::function<Status(const std::string&, uint64_t, const std::string&)>& fn,
    std::string_view start_after) {
  std::string token;
  while (true) {
    S3Request request;
    request.query = {{"list-type", "2"}, {"prefix", std::string(object_prefix)}};
    if (!token.empty()) {
      request.query.push_back({"continuation-token", token});
    } else if (!start_after.empty()) {
      // The first page only: the token carries on from where it ended.
      request.query.push_back({"start-after", std::string(start_after)});
    }
    CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
    if (response.status != 200) {
      return S3Http::ErrorFor(response, "list " + Describe("") + "/" + std::string(object_prefix));
    }
    for (std::string_view contents : XmlElements(response.body, "Contents")) {
      std::string name = XmlText(contents, "Key");
      std::string size_text = XmlText(contents, "Size");
      uint64_t size = std::strtoull(size_text.c_str(), nullptr, 10);
      CAIRN_RETURN_IF_ERROR(fn(name, size, XmlText(contents, "LastModified")));
    }
    if (XmlText(response.body, "IsTruncated") != "true") return Status::OK();
    token = XmlText(response.body, "NextContinuationToken");
    if (token.empty())
      return Status::IOError("list " + Describe("") + ": truncated without a token");
  }
}

Status S3Backend::List(std::string_view prefix,
                       const std::function<Status(const ObjectInfo&)>& fn) {
  return ListAfter(prefix, "", fn);
}

Status S3Backend::ListAfter(std::string_view prefix, std::string_view start_after,
                            const std::function<Status(const ObjectInfo&)>& fn) {
  if (!prefix.empty()) {
    // A prefix need not be a whole key ("x/a" lists "x/a1"), so check it as a key
    // after stripping a trailing '/'.
    std::string_view checked = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
    if (!checked.empty()) CAIRN_RETURN_IF_ERROR(ValidateKey(checked));
  }
  std::string root = config().prefix.empty() ? "" : config().prefix + "/";
  // A key sorts after start_after exactly when its name on the bucket (the
  // same root before both) sorts after root + start_after.
  const std::string after = start_after.empty() ? "" : root + std::string(start_after);
  return ListObjects(
      root + std::string(prefix),
      [&](const std::string& name, uint64_t size, const std::string&) {
        if (name.compare(0, root.size(), root) != 0) return Status::OK();
        std::string key = name.substr(root.size());
        if (key.compare(0, kTempDir.size(), kTempDir) == 0) return Status::OK();
        return fn(ObjectInfo{key, size});
      },
      after);
}

Status S3Backend::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  const std::string root = config().prefix.empty() ? "" : config().prefix + "/";
  std::string token;
  while (true) {
    S3Request request;
    request.query = {{"list-type", "2"}, {"prefix", root}, {"delimiter", "/"}};
    if (!token.empty()) request.query.push_back({"continuation-token", token});
    CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
    if (response.status != 200) return S3Http::ErrorFor(response, "list " + Describe(""));
    for (std::string_view contents : XmlElements(response.body, "Contents")) {
      std::string name = XmlText(contents, "Key");
      if (name.compare(0, root.size(), root) != 0 || name.size() == root.size()) continue;
      uint64_t size = std::strtoull(XmlText(contents, "Size").c_str(), nullptr, 10);
      CAIRN_RETURN_IF_ERROR(fn(ObjectInfo{name.substr(root.size()), size}));
    }
    for (std::string_view common : XmlElements(response.body, "CommonPrefixes")) {
      std::string name = XmlText(common, "Prefix");
      if (name.compare(0, root.size(), root) != 0 || name.size() == root.size()) continue;
      std::string folder = name.substr(root.size());
      if (folder == kTempDir) continue;  // unfinished writers
      CAIRN_RETURN_IF_ERROR(fn(ObjectInfo{std::move(folder), 0}));
    }
    if (XmlText(response.body, "IsTruncated") != "true") return Status::OK();
    token = XmlText(response.body, "NextContinuationToken");
    if (token.empty())
      return Status::IOError("list " + Describe("") + ": truncated without a token");
  }
}

Status S3Backend::Remove(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  S3Request request;
  request.method = "DELETE";
  request.object = ObjectName(key);
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404) {
    return Status::OK();
  }
  return S3Http::ErrorFor(response, "DELETE " + Describe(key));
}

// Lists every version and delete marker of the object `name` itself (the prefix listing also
// names longer keys), then deletes each version by its id: the bytes go, not just the name. A
// version Object Lock still retains is refused by the storage (403); its retain-until date is
// read back and reported, and the delete markers stay, so it waits hidden. A 403 without a
// retention in force is an error (a permission problem never passes for a retention).
Result<Erasure> S3Backend::RemoveEveryVersion(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  const std::string name = ObjectName(key);
  struct Stored {
    std::string id;
    bool marker = false;
  };
  std::vector<Stored> stored;
  std::string key_marker, id_marker;
  while (true) {
    S3Request list;
    list.query = {{"prefix", name}, {"versions", ""}};
    if (!key_marker.empty()) {
      list.query.push_back({"key-marker", key_marker});
      list.query.push_back({"version-id-marker", id_marker});
    }
    CAIRN_ASSIGN_OR_RETURN(S3Response answer, http_.Send(list));
    if (answer.status != 200)
      return S3Http::ErrorFor(answer, "list the versions of " + Describe(key));
    for (bool marker : {false, true}) {
      for (std::string_view v : XmlElements(answer.body, marker ? "DeleteMarker" : "Version")) {
        if (XmlText(v, "Key") == name) stored.push_back({XmlText(v, "VersionId"), marker});
      }
    }
    if (XmlText(answer.body, "IsTruncated") != "true") break;
    key_marker = XmlText(answer.body, "NextKeyMarker");
    id_marker = XmlText(answer.body, "NextVersionIdMarker");
    if (key_marker.empty()) {
      return Status::IOError("list the versions of " + Describe(key) +
                             ": truncated without a marker");
    }
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr)) * 1'000'000;
  Erasure erasure;
  bool hidden = false;
  for (const Stored& v : stored) {
    if (v.marker) {
      hidden = true;
      continue;
    }
    S3Request del;
    del.method = "DELETE";
    del.object = name;
    // An unversioned bucket's one version has the id "null": a plain DELETE removes it.
    if (v.id != "null") del.query = {{"versionId", v.id}};
    CAIRN_ASSIGN_OR_RETURN(S3Response answer, http_.Send(del));
    if (answer.status == 204 || answer.status == 200 || answer.status == 404) continue;
    if (answer.status == 403) {
      S3Request get;
      get.object = name;
      get.query = {{"retention", ""}, {"versionId", v.id}};
      CAIRN_ASSIGN_OR_RETURN(S3Response held, http_.Send(get));
      Result<int64_t> until =
          held.status == 200 ? ParseUtc(XmlText(held.body, "RetainUntilDate").substr(0, 19) + "Z")
                             : Result<int64_t>(Status::NotFound("no retention"));
      if (until.ok() && *until > now) {
        erasure.gone = false;
        erasure.retained_until_micros = std::max(erasure.retained_until_micros, *until);
        continue;
      }
    }
    return S3Http::ErrorFor(answer, "DELETE version " + v.id + " of " + Describe(key));
  }
  if (!erasure.gone) {
    if (!hidden) CAIRN_RETURN_IF_ERROR(Remove(key));  // a delete marker hides what waits
    return erasure;
  }
  for (const Stored& v : stored) {
    if (!v.marker) continue;
    S3Request del;
    del.method = "DELETE";
    del.object = name;
    del.query = {{"versionId", v.id}};
    CAIRN_ASSIGN_OR_RETURN(S3Response answer, http_.Send(del));
    if (answer.status != 204 && answer.status != 200 && answer.status != 404) {
      return S3Http::ErrorFor(answer, "DELETE marker " + v.id + " of " + Describe(key));
    }
  }
  return erasure;
}

Status S3Backend::CleanupTemp(uint64_t min_age_seconds) {
  int64_t cutoff = static_cast<int64_t>(std::time(nullptr)) - static_cast<int64_t>(min_age_seconds);
  std::string root = config().prefix.empty() ? "" : config().prefix + "/";
  // 1. Abandoned multipart uploads anywhere under the site's prefix.
  std::string key_marker, upload_marker;
  while (true) {
    S3Request request;
    request.query = {{"prefix", root}, {"uploads", ""}};
    if (!key_marker.empty()) {
      request.query.push_back({"key-marker", key_marker});
      request.query.push_back({"upload-id-marker", upload_marker});
    }
    CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
    if (response.status != 200) return S3Http::ErrorFor(response, "list uploads " + Describe(""));
    for (std::string_view upload : XmlElements(response.body, "Upload")) {
      if (ParseS3Time(XmlText(upload, "Initiated")) > cutoff) continue;
      CAIRN_RETURN_IF_ERROR(
          AbortMultipartUpload(http_, XmlText(upload, "Key"), XmlText(upload, "UploadId")));
    }
    if (XmlText(response.body, "IsTruncated") != "true") break;
    key_marker = XmlText(response.body, "NextKeyMarker");
    upload_marker = XmlText(response.body, "NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  // 2. Temp objects of writers killed between completing and copying.
  std::vector<std::string> old_temps;
  CAIRN_RETURN_IF_ERROR(
      ListObjects(root + std::string(kTempDir),
                  [&](const std::string& name, uint64_t, const std::string& modified) {
                    if (ParseS3Time(modified) <= cutoff) old_temps.push_back(name);
                    return Status::OK();
                  }));
  for (const std::string& name : old_temps) CAIRN_RETURN_IF_ERROR(DeleteObject(http_, name));
  return Status::OK();
}

Status S3Backend::CreateRoot() {
  S3Request request;
  request.method = "HEAD";
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 200) return Status::OK();
  if (response.status == 404) {
    // The bucket alone is missing, not the prefix inside it; a site already in the catalog is
    // made again by resync (`site add` refuses a name the catalog has).
    const std::string& prefix = config().prefix;
    return Status::NotFound(
        "bucket `" + config().bucket + "`" + (prefix.empty() ? "" : " (prefix `" + prefix + "/`)") +
        " does not exist: create it with `cairn site resync NAME --create-bucket` for a site "
        "already added, or `cairn site add NAME URL --create-bucket` for a new one");
  }
  return S3Http::ErrorFor(response, "HEAD bucket " + Describe(""));
}

bool S3Backend::LocksKey(std::string_view key) const {
  return !config().object_lock_mode.empty() &&
         (key.starts_with("blobs/") || key.starts_with("bags/"));
}

Status S3Backend::Probe() {
  CAIRN_RETURN_IF_ERROR(CreateRoot());
  if (config().object_lock_mode.empty()) return Status::OK();
  S3Request request;
  request.query = {{"object-lock", ""}};
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 200 && XmlText(response.body, "ObjectLockEnabled") == "Enabled") {
    return Status::OK();
  }
  if (response.status == 200 || response.status == 404 ||
      S3ErrorCode(response.body) == "ObjectLockConfigurationNotFoundError") {
    return Status::InvalidArgument(
        "bucket " + Describe("") +
        " has no Object Lock, but the site URL asks object-lock=" + config().object_lock_mode +
        ": locked blobs cannot be written (create the bucket with cairn site add --create-bucket)");
  }
  return S3Http::ErrorFor(response, "GET object-lock of bucket " + Describe(""));
}

Status S3Backend::CreateBucket(bool object_lock) {
  S3Request request;
  request.method = "PUT";
  if (object_lock) request.headers.push_back("x-amz-bucket-object-lock-enabled: true");
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 200) return Status::OK();
  std::string code = S3ErrorCode(response.body);
  if (code == "BucketAlreadyOwnedByYou") return Status::OK();
  if (code == "BucketAlreadyExists") {
    return Status::AlreadyExists("bucket " + Describe("") + " belongs to another account");
  }
  return S3Http::ErrorFor(response, "create bucket " + Describe(""));
}

Status S3Backend::DeleteBucket() {
  CAIRN_RETURN_IF_ERROR(CleanupTemp(0));
  std::vector<std::string> names;
  std::string root = config().prefix.empty() ? "" : config().prefix + "/";
  Status listed = ListObjects(root, [&](const std::string& name, uint64_t, const std::string&) {
    names.push_back(name);
    return Status::OK();
  });
  if (listed.IsNotFound()) return Status::OK();
  CAIRN_RETURN_IF_ERROR(listed);
  for (const std::string& name : names) CAIRN_RETURN_IF_ERROR(DeleteObject(http_, name));
  if (!config().prefix.empty()) return Status::OK();
  S3Request request;
  request.method = "DELETE";
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404) {
    return Status::OK();
  }
  return S3Http::ErrorFor(response, "delete bucket " + Describe(""));
}

Status S3Backend::PutWithClaimedSha256ForTest(std::string_view key, std::string_view bytes,
                                              const std::string& claimed_sha256) {
  S3Request request;
  request.method = "PUT";
  request.object = ObjectName(key);
  request.body = bytes;
  request.body_sha256 = claimed_sha256;
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http_.Send(request));
  if (response.status == 200) return Status::OK();
  return S3Http::ErrorFor(response, "PUT " + Describe(key));
}

Result<std::unique_ptr<S3Backend>> OpenS3BackendTyped(std::string_view url) {
  CAIRN_ASSIGN_OR_RETURN(S3Config config, ParseS3Url(url));
  CAIRN_ASSIGN_OR_RETURN(S3Credentials credentials, LoadS3Credentials(config.profile));
  return std::make_unique<S3Backend>(std::move(config), std::move(credentials));
}

Result<std::unique_ptr<StorageBackend>> OpenS3Backend(std::string_view url) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<S3Backend> backend, OpenS3BackendTyped(url));
  return std::unique_ptr<StorageBackend>(std::move(backend));
}

}  // namespace cairn::repo
