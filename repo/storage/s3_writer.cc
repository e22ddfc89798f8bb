#include "repo/storage/s3_writer.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <ctime>

#include "bagit/time_text.h"
#include "repo/storage/s3_xml.h"

namespace cairn::repo {
namespace {

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

std::string Md5Base64(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

// The retain-until date of an object locked now: "2027-01-01T00:00:00Z".
std::string RetainUntil(const S3Config& config) {
  const int64_t until =
      static_cast<int64_t>(std::time(nullptr)) + static_cast<int64_t>(config.retain_seconds);
  return FormatUtc(until * 1'000'000);
}

// S3 may answer 200 to a copy or a completion and still put an <Error> in the body.
Status CheckXmlAnswer(const S3Response& response, const std::string& what) {
  if (response.status == 200 && response.body.find("<Error>") == std::string::npos) {
    return Status::OK();
  }
  S3Response failed = response;
  if (failed.status == 200) failed.status = 500;
  return S3Http::ErrorFor(failed, what);
}

}  // namespace

Status AbortMultipartUpload(S3Http& http, const std::string& object_name,
                            const std::string& upload_id) {
  S3Request request;
  request.method = "DELETE";
  request.object = object_name;
  request.query = {{"uploadId", upload_id}};
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http.Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404) {
    return Status::OK();
  }
  return S3Http::ErrorFor(response,
                          "abort upload of s3://" + http.config().bucket + "/" + object_name);
}

Status DeleteObject(S3Http& http, const std::string& object_name) {
  S3Request request;
  request.method = "DELETE";
  request.object = object_name;
  CAIRN_ASSIGN_OR_RETURN(S3Response response, http.Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404) {
    return Status::OK();
  }
  return S3Http::ErrorFor(response, "DELETE s3://" + http.config().bucket + "/" + object_name);
}

S3Writer::S3Writer(S3Backend* backend, PutOptions options)
    : backend_(backend), options_(std::move(options)) {
  if (options_.size_hint) {
    buffer_.reserve(
        static_cast<size_t>(std::min(*options_.size_hint, backend_->config().part_size)));
  }
}

S3Writer::~S3Writer() { Abort(); }

Status S3Writer::Fail(Status status) {
  failed_ = true;
  return status;
}

Status S3Writer::Append(std::span<const std::byte> data) {
  if (committed_ || failed_ || checked_) {
    return Status::InvalidArgument("s3 writer: Append after Commit/CheckAppended/failure");
  }
  const size_t part_size = static_cast<size_t>(backend_->config().part_size);
  while (!data.empty()) {
    if (buffer_.size() == part_size) CAIRN_RETURN_IF_ERROR(FlushPart());
    if (buffer_.capacity() < part_size && buffer_.size() + data.size() > buffer_.capacity()) {
      buffer_.reserve(part_size);
    }
    size_t n = std::min(data.size(), part_size - buffer_.size());
    buffer_.append(reinterpret_cast<const char*>(data.data()), n);
    data = data.subspan(n);
    total_ += n;
  }
  return Status::OK();
}

Status S3Writer::StartDirectUpload() {
  direct_ = true;
  // Started even when the key exists now: if_absent is decided at Commit, and
  // the key may be gone by then (Site::CommitBlob removes a damaged blob
  // before committing the good bytes, which must therefore all go up).
  final_name_ = backend_->ObjectName(options_.key_hint);
  S3Request start;
  start.method = "POST";
  start.object = final_name_;
  start.query = {{"uploads", ""}};
  start.headers = LockHeaders(options_.key_hint);
  CAIRN_ASSIGN_OR_RETURN(S3Response started, backend_->http().Send(start));
  CAIRN_RETURN_IF_ERROR(
      CheckXmlAnswer(started, "start upload to " + backend_->Describe(options_.key_hint)));
  upload_id_ = XmlText(started.body, "UploadId");
  if (upload_id_.empty()) {
    return Status::IOError("start upload to " + backend_->Describe(options_.key_hint) +
                           ": no UploadId");
  }
  return Status::OK();
}

Status S3Writer::WaitParts(size_t keep) {
  Status first;
  while (in_flight_.size() > keep) {
    // The answer first: until then the request points into the part's body.
    Result<std::string> etag = in_flight_.front().etag.get();
    PartInFlight part = std::move(in_flight_.front());
    in_flight_.pop_front();
    part.body.clear();
    spare_.push_back(std::move(part.body));  // the next part's buffer
    if (!etag.ok()) {
      if (first.ok()) first = etag.status();
      continue;
    }
    if (direct_) {
      if (etags_.size() < part.number) etags_.resize(part.number);
      etags_[part.number - 1] = *etag;
    }
  }
  return first;
}

Status S3Writer::FlushPart() {
  if (parts_sent_ == 0) {
    if (!options_.expected_sha256.empty()) {
      // The caller's part digests, from the same read as expected_sha256, sign
      // the parts; once the gateway is known to refuse a part that misses its
      // digest, the writer need not hash the bytes again.
      signed_by_caller_ = !options_.part_sha256.empty() && backend_->ChecksPayloadDigests();
      if (!signed_by_caller_ && !options_.caller_hashes_appended) {
        whole_ = std::make_unique<Sha256Stream>();
      }
    }
    if (!options_.key_hint.empty()) {
      Status started = StartDirectUpload();
      if (!started.ok()) return Fail(started);
    } else {
      temp_id_ = RandomHex(16);
    }
  }
  if (whole_) whole_->Update(std::as_bytes(std::span<const char>(buffer_.data(), buffer_.size())));
  size_t number = ++parts_sent_;
  if (signed_by_caller_ && number > options_.part_sha256.size()) {
    return Fail(PartCountMismatch("upload to " + backend_->Describe(options_.key_hint), "longer"));
  }
  std::string body = std::move(buffer_);
  buffer_ = std::string();
  Status waited = WaitParts(kPartsInFlight - 1);
  if (!waited.ok()) return Fail(waited);
  // A part's buffer is used again once it is sent: a fresh part_size
  // allocation per part cost a page fault per 4 KiB sent.
  if (!spare_.empty()) {
    buffer_ = std::move(spare_.back());
    spare_.pop_back();
  }
  S3Request request;
  request.method = "PUT";
  request.retry = true;  // the part's bytes are here: only the writer can resend them
  if (signed_by_caller_) request.body_sha256 = options_.part_sha256[number - 1];
  if (direct_) {
    request.object = final_name_;
    request.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
  } else {
    request.object = backend_->ObjectName("tmp/" + temp_id_ + "." + std::to_string(number));
    temp_parts_.push_back(request.object);  // before sending: Abort deletes it whatever happened
  }
  S3Http* http = &backend_->http();
  std::string what = "PUT s3://" + backend_->config().bucket + "/" + request.object +
                     (direct_ ? " (part " + std::to_string(number) + ")" : "");
  // The part in flight owns its body (a deque keeps its elements in place); the
  // request's view points into it until WaitParts has the answer.
  PartInFlight& part = in_flight_.emplace_back();
  part.number = number;
  part.body = std::move(body);
  request.body = part.body;
  part.etag = std::async(std::launch::async,
                         [http, request = std::move(request),
                          what = std::move(what)]() mutable -> Result<std::string> {
                           CAIRN_ASSIGN_OR_RETURN(S3Response response, http->Send(request));
                           if (response.status != 200) return S3Http::ErrorFor(response, what);
                           return response.etag;
                         });
  return Status::OK();
}

std::vector<std::string> S3Writer::LockHeaders(std::string_view key) const {
  const S3Config& config = backend_->config();
  if (!backend_->LocksKey(key)) return {};
  return {"x-amz-object-lock-mode: " + config.object_lock_mode,
          "x-amz-object-lock-retain-until-date: " + RetainUntil(config)};
}

// Beside LockHeaders: the same retention rule for an object already stored.
Status S3Backend::ExtendRetention(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  if (!LocksKey(key)) return Status::OK();
  const std::string until = RetainUntil(config());
  S3Request get;
  get.object = ObjectName(key);
  get.query = {{"retention", ""}};
  CAIRN_ASSIGN_OR_RETURN(S3Response held, http_.Send(get));
  if (held.status == 200) {
    // Both "YYYY-MM-DDTHH:MM:SS...Z" in UTC: the first 19 characters compare as dates.
    const std::string current = XmlText(held.body, "RetainUntilDate");
    if (current.size() >= 19 && current.substr(0, 19) >= until.substr(0, 19)) return Status::OK();
  } else if (S3ErrorCode(held.body) == "NoSuchKey") {
    return Status::NotFound(Describe(key) + " does not exist");
  } else if (held.status != 404 && S3ErrorCode(held.body) != "NoSuchObjectLockConfiguration") {
    return S3Http::ErrorFor(held, "GET retention of " + Describe(key));
  }
  S3Request put;
  put.method = "PUT";
  put.object = ObjectName(key);
  put.query = {{"retention", ""}};
  const std::string body = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>" +
                           config().object_lock_mode + "</Mode><RetainUntilDate>" + until +
                           "</RetainUntilDate></Retention>";
  put.body = body;
  put.headers.push_back("Content-MD5: " + Md5Base64(body));
  CAIRN_ASSIGN_OR_RETURN(S3Response answer, http_.Send(put));
  if (answer.status == 200 || answer.status == 204) return Status::OK();
  if (S3ErrorCode(answer.body) == "NoSuchKey") {
    return Status::NotFound(Describe(key) + " does not exist");
  }
  return S3Http::ErrorFor(answer, "extend the retention of " + Describe(key) + " to " + until);
}

bool S3Backend::ChecksPayloadDigests(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  if (probed_ != Probed::kNotYet && now - probed_at_ < kProbeLifetime) {
    return probed_ == Probed::kChecks;
  }
  probed_ = Probed::kNotYet;
  probed_at_ = now;
  ++probes_sent_;
  S3Request probe;
  probe.method = "PUT";
  probe.object = ObjectName("tmp/digest-check-" + RandomHex(8));
  const std::string_view body = "Cairn asks whether this gateway checks x-amz-content-sha256";
  probe.body = body;
  probe.body_sha256 = Sha256Hex("not the bytes sent");
  Result<S3Response> answer = http_.Send(probe);
  if (!answer.ok()) return false;  // no answer: ask again next time
  const std::string code = S3ErrorCode(answer->body);
  if (answer->status == 400 && (code == "XAmzContentSHA256Mismatch" || code == "BadDigest")) {
    probed_ = Probed::kChecks;
  } else if (answer->status >= 200 && answer->status < 300) {
    (void)DeleteObject(http_, probe.object);  // stored: the gateway does not check
    probed_ = Probed::kDoesNotCheck;
  } else if (answer->status == 403 || answer->status == 408 || answer->status == 429 ||
             answer->status >= 500) {
    return false;  // refused or busy for other reasons: ask again next time
  } else {
    probed_ = Probed::kDoesNotCheck;
  }
  return probed_ == Probed::kChecks;
}

void S3Backend::DistrustGatewayDigestsForTest() {
  std::lock_guard<std::mutex> lock(probe_mutex_);
  probed_ = Probed::kDoesNotCheck;
  probed_at_ = std::chrono::steady_clock::time_point::max() - kProbeLifetime;  // never expires
}

Status S3Writer::Commit(std::string_view key) {
  if (committed_) return Status::InvalidArgument("s3 writer: Commit called twice");
  if (failed_) return Status::IOError("s3 writer: Commit after a failed Append");
  Status valid = ValidateKey(key);
  if (!valid.ok()) {
    Abort();
    return valid;
  }
  Status status = parts_sent_ == 0 ? CommitSingle(key)
                  : direct_        ? CommitDirect(key)
                                   : CommitViaTempParts(key);
  if (!status.ok()) {
    Abort();
    return status;
  }
  committed_ = true;
  buffer_ = std::string();
  spare_ = {};
  return Status::OK();
}

Status S3Writer::CommitSingle(std::string_view key) {
  const std::string& expected = options_.expected_sha256;
  std::string sha256;
  if (!expected.empty() && options_.part_sha256.size() > 1) {
    return PartCountMismatch("PUT " + backend_->Describe(key), "shorter");
  }
  if (!expected.empty() && (options_.part_sha256.empty() || options_.part_sha256[0] == expected) &&
      backend_->ChecksPayloadDigests()) {
    // Sent as one part whose digest is the whole one: the gateway refuses the
    // PUT if the bytes miss it (Corruption), so they need not be hashed here.
    sha256 = expected;
  } else {
    sha256 = Sha256Hex(buffer_);
    if (!expected.empty() && sha256 != expected) {
      return Status::Corruption("PUT " + backend_->Describe(key) + ": the bytes' SHA-256 " +
                                sha256 + " is not the expected " + expected);
    }
  }
  CAIRN_RETURN_IF_ERROR(CheckKeyHint(options_, key));
  if (options_.if_absent && !backend_->config().object_lock_mode.empty()) {
    // An Object Lock bucket is versioned, and there the Ceph gateway stores a PUT with
    // If-None-Match as a newer version over an existing key instead of refusing it: ask first.
    // (A writer racing between the HEAD and the PUT still wins; the first version stays
    // retained by the lock either way.)
    CAIRN_RETURN_IF_ERROR(CheckAbsent(key));
  }
  S3Request request;
  request.method = "PUT";
  request.retry = true;  // the object's bytes are in this writer's buffer
  request.object = backend_->ObjectName(key);
  request.body = buffer_;
  request.body_sha256 = sha256;
  if (options_.if_absent) request.headers.push_back("If-None-Match: *");
  std::vector<std::string> lock = LockHeaders(key);
  if (!lock.empty()) {
    request.headers.insert(request.headers.end(), lock.begin(), lock.end());
    request.headers.push_back("Content-MD5: " + Md5Base64(buffer_));
  }
  CAIRN_ASSIGN_OR_RETURN(S3Response response, backend_->http().Send(request));
  if (response.status == 200) return Status::OK();
  return S3Http::ErrorFor(response, "PUT " + backend_->Describe(key));
}

Status S3Writer::PartCountMismatch(const std::string& what,
                                   std::string_view longer_or_shorter) const {
  return Status::Corruption(what + ": the bytes are " + std::string(longer_or_shorter) +
                            " than the " + std::to_string(options_.part_sha256.size()) +
                            " part digests given for them describe");
}

Status S3Writer::CheckWholeDigest(std::string_view key) {
  if (signed_by_caller_ && parts_sent_ != options_.part_sha256.size()) {
    return PartCountMismatch("upload to " + backend_->Describe(key), "shorter");
  }
  const std::string& sha256 = WholeSha256();
  if (sha256.empty() || sha256 == options_.expected_sha256) return Status::OK();
  return Status::Corruption("upload to " + backend_->Describe(key) + ": the bytes' SHA-256 " +
                            sha256 + " is not the expected " + options_.expected_sha256);
}

const std::string& S3Writer::WholeSha256() {
  if (whole_) {
    whole_sha256_ = whole_->FinishHex();
    whole_.reset();
  }
  return whole_sha256_;
}

Status S3Writer::CheckAppended(std::string_view sha256_hex) {
  if (committed_ || failed_) {
    return Status::InvalidArgument("s3 writer: CheckAppended after Commit/failure");
  }
  checked_ = true;
  const std::string what = "upload to " + backend_->Describe(options_.key_hint);
  // A small object is still whole in the buffer: its single PUT is sent at Commit.
  if (parts_sent_ == 0) return AppendedSha256Is(what, Sha256Hex(buffer_), sha256_hex);
  if (!whole_ && whole_sha256_.empty() && !signed_by_caller_) {
    return Status::NotSupported(what +
                                ": the writer did not hash the bytes it sent (their caller does)");
  }
  if (!buffer_.empty()) CAIRN_RETURN_IF_ERROR(FlushPart());  // it fails the writer itself
  Status sent = WaitParts(0);
  if (!sent.ok()) return Fail(sent);
  if (signed_by_caller_) {
    // The gateway took each part under the caller's digest of it, read with expected_sha256.
    if (parts_sent_ != options_.part_sha256.size()) return PartCountMismatch(what, "shorter");
    return AppendedSha256Is(what, options_.expected_sha256, sha256_hex);
  }
  return AppendedSha256Is(what, WholeSha256(), sha256_hex);
}

Status S3Writer::CommitDirect(std::string_view key) {
  if (!buffer_.empty()) CAIRN_RETURN_IF_ERROR(FlushPart());
  CAIRN_RETURN_IF_ERROR(WaitParts(0));
  CAIRN_RETURN_IF_ERROR(CheckWholeDigest(key));
  CAIRN_RETURN_IF_ERROR(CheckKeyHint(options_, key));
  if (options_.if_absent) {
    // Asked now, not when the upload started: a key made meanwhile is kept
    // (AlreadyExists), one removed meanwhile gets these bytes. This narrows
    // the race; If-None-Match on the completion closes it where the gateway
    // honours it.
    CAIRN_RETURN_IF_ERROR(CheckAbsent(key));
  }
  return CompleteUpload(key, etags_, options_.if_absent);
}

Status S3Writer::CheckAbsent(std::string_view key) {
  Result<ObjectInfo> existing = backend_->Stat(key);
  if (existing.ok()) return Status::AlreadyExists(backend_->Describe(key) + ": already exists");
  return existing.status().IsNotFound() ? Status::OK() : existing.status();
}

Status S3Writer::CompleteUpload(std::string_view key, const std::vector<std::string>& etags,
                                bool if_none_match) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3Request complete;
  complete.method = "POST";
  complete.retry = true;  // part of this writer's Commit, which no wrapper retries
  complete.object = final_name_;
  complete.query = {{"uploadId", upload_id_}};
  complete.headers = {"Content-Type: application/xml"};
  if (if_none_match) complete.headers.push_back("If-None-Match: *");
  complete.body = xml;
  CAIRN_ASSIGN_OR_RETURN(S3Response done, backend_->http().Send(complete));
  CAIRN_RETURN_IF_ERROR(CheckXmlAnswer(done, "complete upload to " + backend_->Describe(key)));
  upload_id_.clear();
  return Status::OK();
}

Status S3Writer::CommitViaTempParts(std::string_view key) {
  if (!buffer_.empty()) CAIRN_RETURN_IF_ERROR(FlushPart());
  CAIRN_RETURN_IF_ERROR(WaitParts(0));
  CAIRN_RETURN_IF_ERROR(CheckWholeDigest(key));
  CAIRN_RETURN_IF_ERROR(CheckKeyHint(options_, key));
  if (options_.if_absent) CAIRN_RETURN_IF_ERROR(CheckAbsent(key));
  S3Http& http = backend_->http();
  final_name_ = backend_->ObjectName(key);
  S3Request start;
  start.method = "POST";
  start.object = final_name_;
  start.query = {{"uploads", ""}};
  start.headers = LockHeaders(key);
  CAIRN_ASSIGN_OR_RETURN(S3Response started, http.Send(start));
  CAIRN_RETURN_IF_ERROR(CheckXmlAnswer(started, "start upload to " + backend_->Describe(key)));
  upload_id_ = XmlText(started.body, "UploadId");
  if (upload_id_.empty())
    return Status::IOError("start upload to " + backend_->Describe(key) + ": no UploadId");
  // Each temp part object becomes one part of the final object, copied whole on
  // the server (UploadPartCopy without a range header: libcurl 7.88 signs
  // x-amz-copy-source and x-amz-copy-source-range in the wrong order), several
  // parts at once.
  std::vector<std::future<Result<std::string>>> copies;
  std::vector<std::string> etags(temp_parts_.size());
  Status first;
  for (size_t i = 0; i < temp_parts_.size(); ++i) {
    if (copies.size() == kPartsInFlight) {
      for (auto& copy : copies) {
        Result<std::string> etag = copy.get();
        if (!etag.ok() && first.ok()) first = etag.status();
      }
      copies.clear();
      if (!first.ok()) return first;
    }
    S3Request part;
    part.method = "PUT";
    part.retry = true;  // part of this writer's Commit, which no wrapper retries
    part.object = final_name_;
    part.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id_}};
    part.headers = {"x-amz-copy-source: /" + backend_->config().bucket + "/" +
                    S3UriEncode(temp_parts_[i], /*keep_slash=*/true)};
    std::string what = "copy part to " + backend_->Describe(key);
    copies.push_back(
        std::async(std::launch::async,
                   [&http, part = std::move(part), what, &etags, i]() -> Result<std::string> {
                     CAIRN_ASSIGN_OR_RETURN(S3Response copied, http.Send(part));
                     CAIRN_RETURN_IF_ERROR(CheckXmlAnswer(copied, what));
                     etags[i] = XmlText(copied.body, "ETag");
                     return etags[i];
                   }));
  }
  for (auto& copy : copies) {
    Result<std::string> etag = copy.get();
    if (!etag.ok() && first.ok()) first = etag.status();
  }
  CAIRN_RETURN_IF_ERROR(first);
  // Conditional like the direct path: a key made meanwhile is never replaced.
  CAIRN_RETURN_IF_ERROR(CompleteUpload(key, etags, options_.if_absent));
  DeleteTempParts();
  return Status::OK();
}

void S3Writer::DeleteTempParts() {
  for (const std::string& name : temp_parts_) (void)DeleteObject(backend_->http(), name);
  temp_parts_.clear();
}

void S3Writer::Abort() {
  (void)WaitParts(0);  // tasks hold requests on this backend: let them finish first
  if (committed_) return;
  if (!upload_id_.empty()) {
    (void)AbortMultipartUpload(backend_->http(), final_name_, upload_id_);
    upload_id_.clear();
  }
  DeleteTempParts();
  buffer_ = std::string();
  spare_ = {};
  failed_ = true;
}

}  // namespace cairn::repo
