#include "ops/server/api_types.h"

#include <nlohmann/json.hpp>

#include "ops/server/json_views.h"

namespace cairn::server {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kWithdrawn:
      return 410;
    case Code::kNotSupported:
      return 501;
    case Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                          std::string_view request_id) {
  nlohmann::json body = {{"error",
                          {{"code", std::string(code)},
                           {"message", std::string(message)},
                           {"request_id", std::string(request_id)}}}};
  ApiResponse r;
  r.status = http_status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

ApiResponse ErrorResponse(const Status& status, std::string_view request_id) {
  ApiResponse r =
      ErrorResponse(HttpStatusFor(status), CodeName(status.code()), status.message(), request_id);
  if (status.retryable()) {
    // Trying the same request again later may succeed (a site down, another request at work
    // on the same upload): said apart from a refusal that stands.
    nlohmann::json body = nlohmann::json::parse(r.body);
    body["error"]["retryable"] = true;
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return r;
}

std::string ErrorTrailerValue(const Status& status, std::string_view request_id) {
  constexpr size_t kMaxMessage = 8 * 1024;
  std::string message = status.message();
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  nlohmann::json value = {{"code", std::string(CodeName(status.code()))},
                          {"message", message},
                          {"request_id", std::string(request_id)}};
  if (status.retryable()) value["retryable"] = true;
  return value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

Status UploadTooLarge(uint64_t bytes, bool at_least, uint64_t limit) {
  return Status::InvalidArgument(std::string("the upload is ") + (at_least ? "at least " : "") +
                                 std::to_string(bytes) + " bytes: larger than the server's " +
                                 std::to_string(limit) +
                                 " byte limit (cairn serve --max-upload); nothing of it is kept");
}

ApiResponse JsonResponse(std::string json_text) {
  ApiResponse r;
  r.body = std::move(json_text);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

ApiResponse JsonResponse(std::string json_text, const std::vector<std::string>& warnings) {
  ApiResponse r = JsonResponse(std::move(json_text));
  if (!warnings.empty()) r.headers[views::kWarningsHeader] = views::WarningsHeaderValue(warnings);
  return r;
}

}  // namespace cairn::server
