// The values a request and its answer are made of inside `cairn serve`, independent of the
// transport (Beast, TLS), so that routing, authentication and the routes are tested without a
// socket (issue 17).
#ifndef CAIRN_OPS_SERVER_API_TYPES_H_
#define CAIRN_OPS_SERVER_API_TYPES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/principal.h"

namespace cairn::server {

// Makes the principal of a request from its bearer token. Unauthenticated (with a message that
// never contains the token) for an unknown, expired or revoked token.
using Authenticator = std::function<Result<repo::Principal>(std::string_view bearer)>;

// One request as the transport received it.
struct RawRequest {
  std::string method;         // "GET"
  std::string target;         // "/v1/objects?partner=acme", still percent-encoded
  std::string authorization;  // the Authorization header, "" when absent
  std::string content_type;
  std::string peer;  // the client's address, no port
  std::string body;
  std::string body_file;       // a streamed body (Route::streams_body), spooled here; else ""
  uint64_t body_offset = 0;    // where in body_file the body begins (a SpoolTarget's offset)
  uint64_t body_bytes = 0;     // how many bytes of the streamed body arrived
  std::string content_sha256;  // the X-Content-SHA256 header (an upload's part), "" if absent
  std::optional<uint64_t> content_length;  // the Content-Length header; none for a chunked body
};

// Where a route wants its streamed body written (Route::spool_to): into an existing file at an
// offset, at most `max_bytes`, and kept there (not removed once answered).
struct SpoolTarget {
  std::string path;
  uint64_t offset = 0;
  uint64_t max_bytes = 0;
  std::function<void()> done;  // called once the body is read or abandoned (may be empty)
};

// What a route is handed: the authenticated principal, the decoded and checked path and query
// parameters, and the body.
struct ApiRequest {
  repo::Principal principal;
  std::string request_id;
  std::map<std::string, std::string> path;   // {partner} -> "acme"
  std::map<std::string, std::string> query;  // ?since=... -> "..."
  std::string content_type;
  std::string body;
  std::string body_file;  // the spooled body of a Route::streams_body route
  uint64_t body_offset = 0;
  uint64_t body_bytes = 0;
  std::string content_sha256;
  std::optional<uint64_t> content_length;  // as RawRequest's: known before the body is read

  // The query parameter `name`, "" when absent.
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
};

// What the server answers.
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string body_file;  // when set: this file is the body (streamed), removed once sent
  std::string filename;   // Content-Disposition: attachment; filename="..." when set
  std::map<std::string, std::string> headers;  // further headers ("X-Cairn-Restore")
  // A body made while it is sent (a restore): run on a thread of its own, never an io thread, it
  // writes the body to `fd` (a pipe the server sends from, chunked), puts in `*trailers` the
  // fields to send after it, and returns OK. An error cuts the answer short (no last chunk) so
  // that the client cannot take it for whole, unless `error_trailer` is set. The server closes
  // `fd` once it returns.
  std::function<Status(int fd, std::map<std::string, std::string>* trailers)> producer;
  // For a client that asked for it (and so checks for it): the name of the trailer field
  // ("X-Cairn-Error") that, instead of a cut, ends the answer of a producer that failed, its
  // value ErrorTrailerValue(the producer's error), beside the fields the producer put in
  // `*trailers` before it failed (what a failed restore still says: its X-Cairn-Warnings).
  std::string error_trailer;
  std::chrono::milliseconds delay{0};  // wait this long before answering (failed logins)
  std::string principal;               // for the access log: who asked ("-" when nobody)
};

// The HTTP status for a failed library call: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists 409, Unavailable 503, NotSupported 501,
// anything else 500.
int HttpStatusFor(const Status& status);

// The error body every refusal carries:
// {"error": {"code": "<CodeName or HTTP reason>", "message": ..., "request_id": ...}}.
ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                          std::string_view request_id);
// ErrorResponse for a failed library call (HttpStatusFor, the status code's name).
ApiResponse ErrorResponse(const Status& status, std::string_view request_id);

// The value of an ApiResponse::error_trailer field: {"code": "<CodeName>", "message": ...,
// "request_id": ...} (and "retryable": true when it is) as one line of ASCII JSON, the message
// cut at 8 KiB to stay well under a client's header limit.
std::string ErrorTrailerValue(const Status& status, std::string_view request_id);

// A 200 answer with `json_text` as the body.
ApiResponse JsonResponse(std::string json_text);

// JsonResponse with `warnings`, what the verb prints on stderr beside the document, in the
// X-Cairn-Warnings header (views::kWarningsHeader) when there are any.
ApiResponse JsonResponse(std::string json_text, const std::vector<std::string>& warnings);

// The refusal of an upload larger than --max-upload (`limit`), InvalidArgument (400): the same
// words whether the client gave the size (a tar's, a POST /v1/deposits body's Content-Length),
// only a lower bound (`at_least`: a folder made into a tar as it is sent), or it came out as
// the parts arrived. Such a refusal stands: rerunning the same upload cannot succeed.
Status UploadTooLarge(uint64_t bytes, bool at_least, uint64_t limit);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_API_TYPES_H_
