// One request through `cairn serve`, transport aside (issue 17): authenticate the bearer token
// (401 without one or with a bad one, slowed per address by AuthThrottle), find the route
// (404, 405, 400 for a bad parameter), run it (its Status becomes a JSON error), and describe
// the exchange in one access-log line. Thread-safe: the server calls it from several threads.
#ifndef CAIRN_OPS_SERVER_REQUEST_HANDLER_H_
#define CAIRN_OPS_SERVER_REQUEST_HANDLER_H_

#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <variant>

#include "ops/server/api_types.h"
#include "ops/server/auth_throttle.h"
#include "ops/server/router.h"

namespace cairn::server {

class RequestHandler {
 public:
  RequestHandler(const Router& router, Authenticator authenticate)
      : router_(router), authenticate_(std::move(authenticate)), salt_(std::random_device{}()) {}

  // The answer to `in`. Never throws; a route that throws is a 500.
  ApiResponse Handle(const RawRequest& in, const std::string& request_id);

  // Whether `method` `target` names a route whose body is streamed to a file.
  bool StreamsBody(const std::string& method, const std::string& target) const;
  // For a request whose body is still unread: the refusal when its token or its route is
  // refused (as Handle answers it), nullopt when the body may be read; then `*target` is where
  // the route wants it (Route::spool_to; path empty: the default spool file).
  std::optional<ApiResponse> Admit(const RawRequest& head, const std::string& request_id,
                                   SpoolTarget* target);

  // A fresh request id: 16 hex digits, drawn at random (not a count of the requests served,
  // which would tell a partner how busy the others are), so unlikely to repeat.
  std::string NewRequestId();

 private:
  // The principal of `in`, or the 401 (or 5xx) refusal.
  std::variant<repo::Principal, ApiResponse> Authenticate(const RawRequest& in,
                                                          const std::string& request_id);

  const Router& router_;
  Authenticator authenticate_;
  AuthThrottle throttle_;
  std::atomic<uint64_t> counter_{0};
  const uint64_t salt_;  // random per process: ids differ across restarts
};

// The access-log line of one exchange: UTC time, request id, peer, principal, method, path
// (without the query string, which may carry ids but never a token), status, bytes, ms.
std::string AccessLogLine(const std::string& request_id, const std::string& peer,
                          const std::string& principal, const std::string& method,
                          const std::string& target, int status, size_t bytes, int64_t millis);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_REQUEST_HANDLER_H_
