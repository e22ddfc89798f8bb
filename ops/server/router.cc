#include "ops/server/router.h"

#include <limits>
#include <map>
#include <optional>

#include "repo/site_layout.h"

namespace cairn::server {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Whether `value` of parameter `name` may be handed to a route.
Status CheckParameter(const std::string& name, const std::string& value) {
  if (name == "partner" || name == "object" || name == "site") {
    return repo::layout::ValidateId(name, value);
  }
  if (name == "upload") {
    if (value.size() != 32 || value.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::InvalidArgument("upload must be an upload id (32 lower-case hex digits)");
    }
    return Status::OK();
  }
  if (name == "run" || name == "version" || name == "part") {
    bool digits = !value.empty() && value.size() <= 18 &&
                  value.find_first_not_of("0123456789") == std::string::npos && value != "0";
    if (!digits) return Status::InvalidArgument(name + " must be a positive number");
    // A version or a part is 32 bits: 4294967297 read into one was version 1 (served as v1).
    if (name != "run" && std::stoull(value) > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument(name + " must be at most 4294967295");
    }
    return Status::OK();
  }
  if (!IsValidUtf8(value)) return Status::InvalidArgument(name + " is not valid UTF-8");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(name + " holds a control character");
    }
  }
  return Status::OK();
}

Status ParseQuery(std::string_view query, std::map<std::string, std::string>* out) {
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    CAIRN_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      CAIRN_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1)));
    }
    CAIRN_RETURN_IF_ERROR(CheckParameter("query parameter", name));
    CAIRN_RETURN_IF_ERROR(CheckParameter(name, value));
    (*out)[name] = value;
  }
  return Status::OK();
}

}  // namespace

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

Result<Router::Match> Router::Find(std::string_view method, std::string_view target) const {
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (path.empty() || path[0] != '/') return Status::InvalidArgument("the path must start with /");
  std::vector<std::string_view> got = Segments(path);
  bool path_matched = false;
  // Of the patterns that fit, the one with the most literal segments wins, so that
  // "/v1/uploads/{upload}/complete" is not taken for "/v1/uploads/{partner}/{object}".
  std::optional<Match> best;
  size_t best_literals = 0;
  Status first_error = Status::OK();
  for (const Route& route : routes_) {
    std::vector<std::string_view> want = Segments(route.pattern);
    if (want.size() != got.size()) continue;
    Match m;
    bool same = true;
    size_t literals = 0;
    std::vector<std::pair<std::string, std::string_view>> raw;
    for (size_t i = 0; i < want.size() && same; ++i) {
      if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
        raw.emplace_back(std::string(want[i].substr(1, want[i].size() - 2)), got[i]);
      } else {
        same = want[i] == got[i];
        ++literals;
      }
    }
    if (!same) continue;
    path_matched = true;
    if (route.method != method) continue;
    if (best && literals <= best_literals) continue;
    Status checked = Status::OK();
    for (const auto& [name, encoded] : raw) {
      Result<std::string> value = PercentDecode(encoded);
      if (value.ok()) checked = CheckParameter(name, *value);
      if (!value.ok()) checked = value.status();
      if (!checked.ok()) break;
      m.path[name] = std::move(*value);
    }
    if (checked.ok() && question != std::string_view::npos) {
      checked = ParseQuery(target.substr(question + 1), &m.query);
    }
    if (!checked.ok()) {
      if (first_error.ok()) first_error = checked;
      continue;
    }
    m.route = &route;
    best = std::move(m);
    best_literals = literals;
  }
  if (best) return std::move(*best);
  if (!first_error.ok()) return first_error;
  if (path_matched) return Status::NotSupported("method " + std::string(method) + " not allowed");
  return Status::NotFound("no such route");
}

Result<std::string> PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) {
      return Status::InvalidArgument("a broken %-escape in the request target");
    }
    out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
    i += 2;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return false;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace cairn::server
