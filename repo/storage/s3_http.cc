#include "repo/storage/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "repo/storage/retry_backend.h"
#include "repo/storage/s3_xml.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

constexpr size_t kMaxErrorBody = 1 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Per-transfer state the libcurl callbacks see.
struct Transfer {
  CURL* handle = nullptr;
  const S3Request* request = nullptr;
  S3Response* response = nullptr;
  std::string_view upload;  // bytes not yet sent
  Status sink_status;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  long code = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
  if (t->request->sink != nullptr && code >= 200 && code < 300) {
    Status status = (*t->request->sink)(std::as_bytes(std::span<const char>(data, bytes)));
    if (!status.ok()) {
      t->sink_status = std::move(status);
      return CURL_WRITEFUNC_ERROR;
    }
    t->response->delivered += bytes;
    return bytes;
  }
  size_t room = kMaxErrorBody - std::min(kMaxErrorBody, t->response->body.size());
  t->response->body.append(data, std::min(room, bytes));
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) {  // a new answer (after 100 Continue): start over
    t->response->etag.clear();
    t->response->has_content_length = false;
    t->response->has_range_total = false;
    return bytes;
  }
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (name == "etag") {
    t->response->etag = std::string(value);
  } else if (name == "content-length") {
    t->response->content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
    t->response->has_content_length = true;
  } else if (name == "content-range") {
    size_t slash = value.rfind('/');
    if (slash != std::string_view::npos && slash + 1 < value.size() && value[slash + 1] != '*') {
      t->response->range_total =
          std::strtoull(std::string(value.substr(slash + 1)).c_str(), nullptr, 10);
      t->response->has_range_total = true;
    }
  }
  return bytes;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, t->upload.size());
  std::memcpy(buffer, t->upload.data(), n);
  t->upload.remove_prefix(n);
  return n;
}

bool RetryableHttp(long status) { return status >= 500 || status == 408 || status == 429; }

}  // namespace

// The CURLSH (DNS cache, TLS sessions) and the locks libcurl asks for.
struct S3Http::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
};

S3Http::S3Http(S3Config config, S3Credentials credentials)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      shared_(std::make_unique<Shared>()) {
  GlobalInit();
  shared_->share = curl_share_init();
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(shared_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(shared_->share, CURLSHOPT_USERDATA, shared_.get());
  curl_share_setopt(
      shared_->share, CURLSHOPT_LOCKFUNC,
      +[](CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<Shared*>(user)->locks[data].lock();
      });
  curl_share_setopt(
      shared_->share, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data data, void* user) {
        static_cast<Shared*>(user)->locks[data].unlock();
      });
}

S3Http::~S3Http() {
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
  curl_share_cleanup(shared_->share);
}

void* S3Http::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void S3Http::ReleaseHandle(void* handle) {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  idle_handles_.push_back(handle);
}

Result<S3Response> S3Http::Send(const S3Request& request) {
  std::string url = config_.endpoint + "/" + config_.bucket;
  if (!request.object.empty()) url += "/" + S3UriEncode(request.object, /*keep_slash=*/true);
  std::vector<std::pair<std::string, std::string>> query = request.query;
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    url += (i == 0 ? "?" : "&") + S3UriEncode(query[i].first, false) + "=" +
           S3UriEncode(query[i].second, false);
  }
  std::string sha256 = request.body_sha256.empty() ? Sha256Hex(request.body) : request.body_sha256;
  // The writer's requests only (S3Request::retry); the same capped, jittered
  // backoff as RetryBackend, with the S3 config's numbers.
  RetryPolicy policy;
  policy.max_attempts = request.retry && request.sink == nullptr ? config_.max_attempts : 1;
  policy.initial_delay = std::chrono::milliseconds(config_.retry_delay_ms);
  policy.max_delay = std::chrono::milliseconds(2000);
  policy.multiplier = 4.0;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 1;; ++attempt) {
    Result<S3Response> result = SendOnce(request, url, sha256);
    bool retry = result.ok() ? RetryableHttp(result->status) : result.status().retryable();
    if (!retry || attempt >= policy.max_attempts) return result;
    int64_t ceiling = BackoffCeiling(policy, attempt).count();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng)));
  }
}

Result<S3Response> S3Http::SendOnce(const S3Request& request, const std::string& url,
                                    const std::string& sha256) {
  CURL* handle = static_cast<CURL*>(AcquireHandle());
  if (handle == nullptr) return Status::Unavailable("s3: cannot create a libcurl handle");
  curl_easy_reset(handle);  // keeps the handle's live connections
  S3Response response;
  Transfer transfer{handle, &request, &response, request.body, Status::OK()};
  std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("x-amz-content-sha256: " + sha256).c_str());
  if (!credentials_.session_token.empty()) {
    headers =
        curl_slist_append(headers, ("x-amz-security-token: " + credentials_.session_token).c_str());
  }
  // No "Expect:" override: libcurl would sign that empty header and RGW refuses the signature.
  for (const std::string& header : request.headers)
    headers = curl_slist_append(headers, header.c_str());

  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(handle, CURLOPT_USERNAME, credentials_.access_key.c_str());
  curl_easy_setopt(handle, CURLOPT_PASSWORD, credentials_.secret_key.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout_ms));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, static_cast<long>(config_.stall_timeout_s));
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  // Large buffers for large objects. libcurl's "Expect: 100-continue" stays on:
  // it keeps a refused upload's body off the connection.
  curl_easy_setopt(handle, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl_easy_setopt(handle, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
  if (!config_.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, config_.ca_file.c_str());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(handle, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    // Never NULL: with NULL POSTFIELDS libcurl would read the body from stdin.
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode code = curl_easy_perform(handle);
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    // A failed transfer may leave a half-used connection: do not reuse the handle.
    curl_easy_cleanup(handle);
    if (!transfer.sink_status.ok()) return transfer.sink_status;
    std::string where = S3DisplayUrl(config_);
    return Status::Unavailable("s3 " + request.method + " on " + where.substr(0, where.find('?')) +
                               " (" + config_.endpoint + "): " + curl_easy_strerror(code));
  }
  if (!request.body.empty() && response.status >= 300) {
    // The gateway may have answered before reading the whole body: bytes left
    // on that connection would be taken as the next request. Do not reuse it.
    curl_easy_cleanup(handle);
  } else {
    ReleaseHandle(handle);
  }
  return response;
}

std::string S3ErrorCode(std::string_view body) { return XmlText(body, "Code"); }

Status S3Http::ErrorFor(const S3Response& response, std::string_view what) {
  std::string code = S3ErrorCode(response.body);
  std::string detail =
      " (HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code) + ")";
  std::string subject(what);
  long status = response.status;
  if (status == 404) return Status::NotFound(subject + ": not found" + detail);
  if (status == 403) {
    return Status::PermissionDenied("credentials refused for " + subject + detail +
                                    ": check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY");
  }
  if (code == "XAmzContentSHA256Mismatch" || code == "BadDigest") {
    return Status::Corruption(subject +
                              ": the gateway refused the bytes: they do not match the "
                              "SHA-256 they were sent with (changed at the source since it "
                              "was hashed, or damaged in transit)" +
                              detail);
  }
  if (status == 412) return Status::AlreadyExists(subject + ": already exists" + detail);
  if (status == 507 || code == "QuotaExceeded")
    return Status::NoSpace(subject + ": no space" + detail);
  if (RetryableHttp(status)) return Status::Unavailable(subject + ": gateway unavailable" + detail);
  return Status::IOError(subject + ": request failed" + detail);
}

}  // namespace cairn::repo
