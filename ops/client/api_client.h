// The `cairn` command's HTTPS client of `cairn serve` (issue 17): one request at a time to the
// /v1/ JSON API, answers parsed as JSON, refusals turned into the Status the server's JSON error
// names, so that a remote verb exits as the local one does. TLS verification is always on
// (`ca_file` adds a private CA); plain http:// is accepted only to a loopback host. The token is
// sent as "Authorization: Bearer" and never appears in a message this client returns.
#ifndef CAIRN_OPS_CLIENT_API_CLIENT_H_
#define CAIRN_OPS_CLIENT_API_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"

namespace cairn::client {

struct ServerOptions {
  std::string url;      // https://HOST[:PORT] (a trailing '/' or '/v1' is ignored)
  std::string token;    // the bearer token (never printed)
  std::string ca_file;  // extra CA (PEM) to trust; empty: the system's CAs only
};

// Query parameters of a request; empty values are left out.
using Query = std::map<std::string, std::string>;

class ApiClient {
 public:
  // A client of `options.url` (a trailing "/" or "/v1", the API's prefix, is dropped: the base
  // URL is the server's). InvalidArgument when the URL is not https:// (or http:// to
  // 127.0.0.1, ::1 or localhost), when the token is empty or holds a character a header cannot
  // carry, or when `ca_file` cannot be read.
  static Result<std::unique_ptr<ApiClient>> Create(ServerOptions options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // GET `path` (e.g. "/v1/objects") with `query` percent-encoded; the answer parsed as JSON.
  // Errors: 401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 409 AlreadyExists,
  // other 4xx InvalidArgument, 5xx and transport failures Unavailable; the message is the
  // server's (and its request id), never the token.
  Result<nlohmann::json> GetJson(const std::string& path, const Query& query = {});

  // GET `path` as text (e.g. PREMIS XML: ?format=premis), `accept` in the Accept header;
  // errors as GetJson.
  Result<std::string> GetText(const std::string& path, const Query& query = {},
                              const std::string& accept = "*/*");

  // POST `body` as JSON to `path`; the answer as GetJson.
  Result<nlohmann::json> PostJson(const std::string& path, const nlohmann::json& body);

  // `method` (PUT, DELETE, POST) to `path` with `body` (none when null) as `content_type`; the
  // answer as GetJson.
  Result<nlohmann::json> SendBody(const std::string& method, const std::string& path,
                                  const std::string* body,
                                  const std::string& content_type = "application/json");
  Result<std::string> SendRaw(const std::string& method, const std::string& path,
                              const Query& query, const std::string* body,
                              const std::string& content_type, const std::string& accept);

  // Pieces of a body to send: copies up to `size` bytes into `out`, returns how many (0: the
  // end) or an error that abandons the request.
  using BodyReader = std::function<Result<size_t>(char* out, size_t size)>;

  // An answer the route documents besides 2xx (e.g. 422 for a refused deposit): the status and
  // the parsed body.
  struct Answer {
    long status = 0;
    nlohmann::json body;
    std::map<std::string, std::string> headers;  // names in lower case
  };

  // POST a body streamed from `read` (never held whole; `length` bytes, or chunked when it is
  // -1) as `content_type`, with
  // "Expect: 100-continue" so that a refusal (401, 403, 413) arrives before the upload. A 2xx
  // answer, or one of `also_ok` (e.g. 422), is returned with its JSON; others are the Status as
  // GetJson. An error of `read` is returned as is.
  Result<Answer> PostStream(const std::string& path, const std::string& content_type,
                            const BodyReader& read, int64_t length,
                            const std::vector<long>& also_ok = {});

  // `method` `path` with `body` (none when null) as `content_type` and `headers` ("Name:
  // value"); a 2xx answer, or one of `also_ok`, is returned with its JSON (and status), others
  // as GetJson. The body is sent from memory (e.g. one part of a resumable upload).
  Result<Answer> Call(const std::string& method, const std::string& path, const std::string* body,
                      const std::string& content_type = "application/json",
                      const std::vector<std::string>& headers = {},
                      const std::vector<long>& also_ok = {});

  // Another client of the same server with the same token (its own connection): for requests
  // sent in parallel.
  Result<std::unique_ptr<ApiClient>> Clone() const { return Create(options_); }
  // The answer to GetStream: its status and headers (names in lower case).
  struct StreamAnswer {
    long status = 0;
    std::map<std::string, std::string> headers;
  };
  // Receives the body of a 2xx answer chunk by chunk; an error abandons the transfer.
  using BodySink = std::function<Status(std::string_view chunk)>;

  // GET `path`, the body of a 2xx answer handed to `sink` as it arrives (never held whole).
  // Other answers are the Status as GetJson (a JSON error whose code is "Corruption" stays
  // Corruption). An error of `sink` is returned as is; a transfer that ends before the whole
  // body arrived (a cut connection, a stream the server abandoned) is Unavailable "... cut"; an
  // answer that ends with the X-Cairn-Error trailer (asked for with ?on-error=trailer) is the
  // failure it names (StatusFromErrorTrailer), and then, with `failed_fields`, its headers and
  // trailers are put there (names in lower case: what a failed restore still says, its
  // X-Cairn-Warnings).
  Result<StreamAnswer> GetStream(const std::string& path, const BodySink& sink,
                                 std::map<std::string, std::string>* failed_fields = nullptr);

  // `path` with `query` appended, percent-encoded (parameters with an empty value left out).
  static std::string WithQuery(const std::string& path, const Query& query);

  // The server's base URL as given (for messages).
  const std::string& url() const { return options_.url; }

 private:
  explicit ApiClient(ServerOptions options);
  Result<nlohmann::json> Send(const std::string& method, const std::string& path,
                              const Query& query, const std::string* body,
                              const std::string& content_type = "application/json");
  // Sets what every request carries: URL, token, TLS verification, no redirects. Returns the
  // header list to free after the request.
  void* Prepare(const std::string& url, const std::vector<std::string>& extra_headers);

  ServerOptions options_;
  void* curl_ = nullptr;  // CURL*, reused so that the TLS connection is kept between requests
};

// The Status for an HTTP answer `http_status` with `body` (the server's JSON error when it is
// one): the code from the status as ApiClient documents, the message from the body.
Status StatusFromAnswer(long http_status, const std::string& body);

// The Status an X-Cairn-Error trailer `value` names ({"code", "message", "request_id"}, as the
// server's ErrorTrailerValue writes it): that code (Corruption stays Corruption) and "server: "
// + the message; Unavailable when the code is not one this client knows.
Status StatusFromErrorTrailer(const std::string& value);

// Percent-encodes `text` for a path segment or query value (unreserved characters kept).
std::string PercentEncode(const std::string& text);

}  // namespace cairn::client

#endif  // CAIRN_OPS_CLIENT_API_CLIENT_H_
