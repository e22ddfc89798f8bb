// The HTTP side of the S3 backend: SigV4-signed requests through libcurl
// (CURLOPT_AWS_SIGV4: libcurl signs, Cairn only supplies x-amz-content-sha256),
// a pool of reusable easy handles (each keeps its connections alive; DNS and TLS
// sessions are shared through one CURLSH), bounded retry with backoff, and the
// mapping of HTTP answers to Status codes. Safe to use from many threads.
#ifndef CAIRN_REPO_STORAGE_S3_HTTP_H_
#define CAIRN_REPO_STORAGE_S3_HTTP_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bagit/status.h"
#include "repo/storage/backend.h"
#include "repo/storage/s3_config.h"

namespace cairn::repo {

struct S3Request {
  std::string method = "GET";  // GET, PUT, HEAD, DELETE, POST
  std::string object;          // full object name in the bucket; "" = the bucket
  // Query parameters; Send() sorts and percent-encodes them (SigV4 signs the
  // query as written). A parameter without value is given as {"uploads", ""}.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // PUT/POST payload
  // Hex SHA-256 announced in x-amz-content-sha256; computed from `body` when
  // empty. Only tests set it (to prove the gateway refuses a wrong one).
  std::string body_sha256;
  // Receives the body of a 2xx answer instead of S3Response::body.
  const ByteSink* sink = nullptr;
  // Whether Send() repeats the request itself on a retryable failure (no
  // answer, 5xx with 503 SlowDown, 408, 429). Only a writer sets it, on
  // idempotent requests whose bytes it holds (a part, a small object's PUT, a
  // part copy, a completion): the RetryBackend stacked on every site cannot
  // resend those. Every other call is retried there, not here (a retry loop
  // in both would multiply the attempts). Never set with a sink.
  bool retry = false;
};

struct S3Response {
  long status = 0;
  std::string body;  // the answer's body (error documents, listings); capped
  std::string etag;  // ETag header, quotes kept
  uint64_t content_length = 0;
  bool has_content_length = false;
  uint64_t delivered = 0;  // bytes handed to the request's sink
  // The whole object's size from "Content-Range: bytes a-b/SIZE" (ranged GET).
  uint64_t range_total = 0;
  bool has_range_total = false;
};

class S3Http {
 public:
  S3Http(S3Config config, S3Credentials credentials);
  ~S3Http();
  S3Http(const S3Http&) = delete;
  S3Http& operator=(const S3Http&) = delete;

  // Sends one request. Returns the HTTP answer whatever its status code (the
  // caller maps it, usually with ErrorFor); a non-OK Status only when no answer
  // came (Unavailable: refused, timeout, reset; or the sink's own error).
  // Retryable failures (no answer, 5xx, 408, 429) are retried up to
  // config.max_attempts times, with jittered backoff, when request.retry.
  Result<S3Response> Send(const S3Request& request);

  // The Status an HTTP error answer stands for, naming `what` (e.g.
  // "GET s3://bucket/prefix/key"): 404 NotFound, 403 PermissionDenied
  // ("credentials refused ..."), 400 digest mismatch Corruption, 412
  // AlreadyExists, 5xx/408/429 Unavailable, others IOError with the S3 code.
  static Status ErrorFor(const S3Response& response, std::string_view what);

  const S3Config& config() const { return config_; }

 private:
  struct Shared;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);
  Result<S3Response> SendOnce(const S3Request& request, const std::string& url,
                              const std::string& sha256);

  S3Config config_;
  S3Credentials credentials_;
  std::unique_ptr<Shared> shared_;
  std::mutex pool_mutex_;
  std::vector<void*> idle_handles_;
};

// The text of the first <tag>...</tag> in an S3 error document ("" if none).
std::string S3ErrorCode(std::string_view body);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_S3_HTTP_H_
