#include "ops/server/request_handler.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <exception>

#include "bagit/time_text.h"

namespace cairn::server {
namespace {

constexpr std::string_view kBearer = "Bearer ";

std::string NowText() {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return FormatUtc(micros, TimeText::kMicros);
}

// Printable ASCII of `s`, everything else as '?': log lines stay one line each.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(c > 0x20 && c < 0x7f ? c : '?');
  return out.empty() ? "-" : out;
}

}  // namespace

std::string RequestHandler::NewRequestId() {
  // 64 random bits (OpenSSL's generator): an id is shown to the caller (X-Request-Id, errors,
  // the events of a deposit name its upload by it), and ids counted up from one told a partner
  // how many requests everyone else had made between two of its own. Should the generator
  // fail, the old salted count, which is still unique in this process.
  uint64_t n = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&n), sizeof n) != 1) {
    n = (salt_ << 32) | ((counter_.fetch_add(1) + 1) & 0xffffffff);
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
  return buf;
}

std::variant<repo::Principal, ApiResponse> RequestHandler::Authenticate(
    const RawRequest& in, const std::string& request_id) {
  if (in.authorization.empty()) {
    return ErrorResponse(401, "Unauthenticated",
                         "no token: send the header 'Authorization: Bearer TOKEN'", request_id);
  }
  if (!in.authorization.starts_with(kBearer) || in.authorization.size() == kBearer.size()) {
    ApiResponse r = ErrorResponse(401, "Unauthenticated",
                                  "the Authorization header must be 'Bearer TOKEN'", request_id);
    r.delay = throttle_.Failed(in.peer, AuthThrottle::Clock::now());
    return r;
  }
  Result<repo::Principal> principal =
      authenticate_(std::string_view(in.authorization).substr(kBearer.size()));
  if (!principal.ok() && principal.status().code() != Code::kUnauthenticated) {
    return ErrorResponse(principal.status(), request_id);  // the catalog could not be read
  }
  if (!principal.ok()) {
    ApiResponse r = ErrorResponse(principal.status(), request_id);
    r.delay = throttle_.Failed(in.peer, AuthThrottle::Clock::now());
    return r;
  }
  throttle_.Succeeded(in.peer);
  return std::move(principal.value());
}

bool RequestHandler::StreamsBody(const std::string& method, const std::string& target) const {
  Result<Router::Match> match = router_.Find(method, target);
  return match.ok() && match->route->streams_body;
}

std::optional<ApiResponse> RequestHandler::Admit(const RawRequest& head,
                                                 const std::string& request_id,
                                                 SpoolTarget* target) {
  *target = SpoolTarget{};
  auto authenticated = Authenticate(head, request_id);
  if (auto* refusal = std::get_if<ApiResponse>(&authenticated)) return std::move(*refusal);
  ApiRequest request;
  request.principal = std::move(std::get<repo::Principal>(authenticated));
  request.request_id = request_id;
  Result<Router::Match> match = router_.Find(head.method, head.target);
  if (!match.ok()) return ErrorResponse(match.status(), request_id);
  request.path = std::move(match->path);
  request.query = std::move(match->query);
  request.content_type = head.content_type;
  request.content_sha256 = head.content_sha256;
  request.content_length = head.content_length;
  Status admitted = match->route->admit ? match->route->admit(request) : Status::OK();
  if (admitted.ok() && match->route->spool_to) {
    Result<SpoolTarget> spool = match->route->spool_to(request);
    if (spool.ok()) {
      *target = std::move(*spool);
      return std::nullopt;
    }
    admitted = spool.status();
  }
  if (admitted.ok()) return std::nullopt;
  ApiResponse refusal = ErrorResponse(admitted, request_id);
  refusal.principal = request.principal.name;
  return refusal;
}

ApiResponse RequestHandler::Handle(const RawRequest& in, const std::string& request_id) {
  auto authenticated = Authenticate(in, request_id);
  if (auto* refusal = std::get_if<ApiResponse>(&authenticated)) return std::move(*refusal);
  auto* principal = std::get_if<repo::Principal>(&authenticated);
  const std::string who = principal->name;
  auto finish = [&who](ApiResponse r) {
    r.principal = who;
    return r;
  };

  Result<Router::Match> match = router_.Find(in.method, in.target);
  if (!match.ok()) {
    const Status& s = match.status();
    if (s.IsNotFound()) return finish(ErrorResponse(404, "NotFound", s.message(), request_id));
    if (s.code() == Code::kNotSupported) {
      return finish(ErrorResponse(405, "MethodNotAllowed", s.message(), request_id));
    }
    return finish(ErrorResponse(400, "InvalidArgument", s.message(), request_id));
  }
  ApiRequest request;
  request.principal = std::move(*principal);
  request.request_id = request_id;
  request.path = std::move(match->path);
  request.query = std::move(match->query);
  request.content_type = in.content_type;
  request.body = in.body;
  request.body_file = in.body_file;
  request.body_offset = in.body_offset;
  request.body_bytes = in.body_bytes;
  request.content_sha256 = in.content_sha256;
  try {
    Result<ApiResponse> answer = match->route->handler(request);
    if (!answer.ok()) return finish(ErrorResponse(answer.status(), request_id));
    return finish(std::move(answer.value()));
  } catch (const std::exception& e) {
    return finish(
        ErrorResponse(500, "Internal", std::string("internal error: ") + e.what(), request_id));
  }
}

std::string AccessLogLine(const std::string& request_id, const std::string& peer,
                          const std::string& principal, const std::string& method,
                          const std::string& target, int status, size_t bytes, int64_t millis) {
  std::string path = target.substr(0, target.find('?'));
  return NowText() + " " + request_id + " " + Printable(peer) + " " + Printable(principal) + " " +
         Printable(method) + " " + Printable(path) + " " + std::to_string(status) + " " +
         std::to_string(bytes) + " " + std::to_string(millis) + "ms";
}

}  // namespace cairn::server
