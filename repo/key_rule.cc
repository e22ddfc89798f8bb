#include "repo/key_rule.h"

#include <string>

namespace cairn::repo {
namespace {

constexpr size_t kMaxKeyLength = 1024;

Status BadKey(std::string_view key, std::string_view rule) {
  return Status::InvalidArgument("storage key '" + std::string(key) + "': " + std::string(rule));
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return BadKey(key, "is empty");
  if (key.size() > kMaxKeyLength) return BadKey(key.substr(0, 64), "is longer than 1024 bytes");
  if (key.front() == '/') return BadKey(key, "must be relative (starts with '/')");
  if (key.back() == '/') return BadKey(key, "must not end with '/'");
  for (char c : key) {
    if (c == '\\') return BadKey(key, "contains a backslash");
    if (c == '\0') return BadKey(key, "contains a NUL byte");
  }
  size_t start = 0;
  bool first = true;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return BadKey(key, "has an empty segment ('//')");
    if (segment == "." || segment == "..") return BadKey(key, "has a '.' or '..' segment");
    if (first && segment == "tmp") return BadKey(key, "'tmp/' is reserved for temp files");
    first = false;
    start = end + 1;
  }
  return Status::OK();
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  if (prefix.back() == '/') prefix.remove_suffix(1);
  return ValidateKey(prefix);
}

}  // namespace cairn::repo
