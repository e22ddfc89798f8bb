#include "bagit/paths.h"

#include <uninorm.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>

namespace cairn::bagit {
namespace {

PathViolation Violation(std::string rule, std::string message) {
  return PathViolation{std::move(rule), std::move(message)};
}

std::string Quote(std::string_view path) {
  std::string out = "'";
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one UTF-8 sequence at text[*i]; an invalid byte decodes as itself
// mapped into U+DC80..U+DCFF so it still takes part in comparisons.
char32_t NextCodePoint(std::string_view text, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(*i);
  int extra = b0 < 0x80 ? 0 : (b0 >> 5) == 6 ? 1 : (b0 >> 4) == 14 ? 2 : (b0 >> 3) == 30 ? 3 : -1;
  if (extra < 0) {
    ++*i;
    return 0xDC00 + b0;
  }
  char32_t cp = extra == 0 ? b0 : b0 & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if (*i + k >= text.size() || (byte(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return 0xDC00 + b0;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  *i += extra + 1;
  return cp;
}

}  // namespace

std::optional<PathViolation> FindPathViolation(std::string_view path) {
  if (path.empty()) return Violation("path.empty", "empty path");
  if (path.find('\0') != std::string_view::npos) {
    return Violation("path.nul", "path " + Quote(path) + " contains a NUL byte");
  }
  if (path.front() == '/') {
    return Violation("path.absolute", "absolute path " + Quote(path) + " points outside the bag");
  }
  if (path.substr(0, 2) == "\\\\") {
    return Violation("path.unc", "UNC path " + Quote(path) + " points outside the bag");
  }
  if (path.find('\\') != std::string_view::npos) {
    return Violation("path.backslash", "path " + Quote(path) +
                                           " contains a backslash, a separator on Windows "
                                           "(use '/' in bag paths)");
  }
  if (path.size() >= 2 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':') {
    return Violation("path.drive-letter", "path " + Quote(path) + " starts with a drive letter");
  }
  if (path.front() == '~') {
    return Violation("path.home", "path " + Quote(path) +
                                      " starts with '~', a home-folder shortcut outside the bag");
  }
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) {
      return Violation("path.empty-segment", "path " + Quote(path) + " has an empty segment");
    }
    if (segment == ".") {
      return Violation("path.dot", "path " + Quote(path) + " has a '.' segment");
    }
    if (segment == "..") {
      return Violation("path.dot-dot",
                       "path " + Quote(path) + " has a '..' segment that may leave the bag");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

Status CheckBagPath(std::string_view path, std::string_view where) {
  std::optional<PathViolation> v = FindPathViolation(path);
  if (!v) return Status::OK();
  return Status::InvalidArgument(std::string(where) + ": " + v->message + " (rule " + v->rule +
                                 ")");
}

bool StripDotSlash(std::string_view* path) {
  bool stripped = false;
  while (path->size() > 2 && path->substr(0, 2) == "./") {
    path->remove_prefix(2);
    stripped = true;
  }
  return stripped;
}

bool IsPayloadPath(std::string_view path) { return path == "data" || path.substr(0, 5) == "data/"; }

std::string EncodeManifestPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\r') {
      out += "%0D";
    } else {
      out += c;
    }
  }
  return out;
}

std::string DecodeManifestPath(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      int hi = HexValue(encoded[i + 1]);
      int lo = HexValue(encoded[i + 2]);
      int value = (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
      if (value == '%' || value == '\n' || value == '\r') {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += encoded[i];
  }
  return out;
}

bool IsOsJunk(std::string_view path) {
  static constexpr std::array<std::string_view, 7> kJunk = {
      ".DS_Store", "Thumbs.db",  "desktop.ini", ".Spotlight-V100",
      ".Trashes",  ".fseventsd", "ehthumbs.db"};
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.substr(0, 2) == "._") return true;
    for (std::string_view junk : kJunk) {
      if (EqualsIgnoreCase(segment, junk)) return true;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

std::string CollisionKey(std::string_view path) {
  // The canonical decomposition first (CanonicalKey: NFD, in every script), then case folded
  // where it is simple: ASCII, and the Latin-1 capitals NFD leaves whole (Æ, Ð, Ø, Þ).
  const std::string decomposed = CanonicalKey(path);
  std::string key;
  key.reserve(decomposed.size());
  size_t i = 0;
  while (i < decomposed.size()) {
    char32_t cp = NextCodePoint(decomposed, &i);
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) cp += 0x20;
    if (cp < 0x80) cp = static_cast<char32_t>(std::tolower(static_cast<int>(cp)));
    AppendUtf8(cp, &key);
  }
  return key;
}

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string CanonicalKey(std::string_view path) {
  if (IsAscii(path)) return std::string(path);
  size_t length = 0;
  uint8_t* nfd = u8_normalize(UNINORM_NFD, reinterpret_cast<const uint8_t*>(path.data()),
                              path.size(), nullptr, &length);
  if (nfd == nullptr) return std::string(path);  // not UTF-8 (EILSEQ): the bytes as they are
  std::string key(reinterpret_cast<const char*>(nfd), length);
  std::free(nfd);
  return key;
}

}  // namespace cairn::bagit
