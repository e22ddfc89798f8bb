#include "bagit/tag_files.h"

#include <cctype>
#include <charconv>
#include <utility>

#include "bagit/paths.h"

namespace cairn::bagit {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// "Label: value" split at the first colon; false if there is no colon.
struct Element {
  std::string_view label;  // without trailing blanks
  std::string_view value;  // without surrounding blanks
  bool blank_before_colon = false;
  bool blank_after_colon = false;
};

bool SplitElement(std::string_view line, Element* e) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view label = line.substr(0, colon);
  std::string_view rest = line.substr(colon + 1);
  e->blank_before_colon = !label.empty() && IsBlank(label.back());
  e->blank_after_colon = !rest.empty() && IsBlank(rest.front());
  e->label = TrimBlanks(label);
  e->value = TrimBlanks(rest);
  return true;
}

// Collects the lines of a small in-memory text; reports a line that is too long.
std::vector<std::pair<uint64_t, std::string>> SmallTextLines(std::string_view text,
                                                             std::string_view file,
                                                             Report* report) {
  std::vector<std::pair<uint64_t, std::string>> lines;
  LineSplitter splitter(
      [&](uint64_t no, std::string_view line) { lines.emplace_back(no, std::string(line)); });
  Status s = splitter.Feed(text);
  if (s.ok()) s = splitter.Finish();
  if (!s.ok()) report->Error(file, "tag.line-too-long", s.message(), splitter.lines() + 1);
  return lines;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Decodes, strips "./" and checks a path from a manifest or fetch.txt line.
std::optional<std::string> CheckedPath(std::string_view raw, std::string_view file,
                                       uint64_t line_no, std::string_view dot_rule,
                                       Report* report) {
  std::string decoded = DecodeManifestPath(raw);
  std::string_view path = decoded;
  if (StripDotSlash(&path)) {
    report->Warning(
        file, dot_rule,
        "path '" + Printable(decoded) + "' starts with './'; read as '" + Printable(path) + "'",
        line_no);
  }
  if (std::optional<PathViolation> v = FindPathViolation(path)) {
    report->Error(file, v->rule, v->message, line_no);
    return std::nullopt;
  }
  return std::string(path);
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

BagitDeclaration ParseBagitTxt(std::string_view bytes, Report* report) {
  constexpr std::string_view kFile = "bagit.txt";
  BagitDeclaration decl;
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF" || bytes.substr(0, 2) == "\xFE\xFF" ||
      bytes.substr(0, 2) == "\xFF\xFE") {
    report->Error(kFile, "bagit.bom",
                  "bagit.txt starts with a byte-order mark, which is not allowed", 1);
    bytes.remove_prefix(bytes[0] == '\xEF' ? 3 : 2);
  }
  auto lines = SmallTextLines(bytes, kFile, report);
  while (!lines.empty() && TrimBlanks(lines.back().second).empty()) lines.pop_back();
  if (lines.empty()) {
    report->Error(kFile, "bagit.version-missing", "bagit.txt is empty", 1);
    return decl;
  }
  bool whitespace_problem = false;
  bool saw_version = false, saw_encoding = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& [no, line] = lines[i];
    Element e;
    if (!SplitElement(line, &e)) {
      report->Error(kFile, "bagit.malformed",
                    "expected 'Label: value', got '" + Printable(line) + "'", no);
      continue;
    }
    std::string_view raw_value = std::string_view(line).substr(line.find(':') + 1);
    if (e.blank_before_colon || raw_value.substr(0, 1) != " " ||
        (raw_value.size() > 1 && IsBlank(raw_value[1])) ||
        (!raw_value.empty() && IsBlank(raw_value.back())) || line.front() == ' ') {
      whitespace_problem = true;
    }
    if (e.label == "BagIt-Version") {
      if (i != 0) report->Error(kFile, "bagit.order", "BagIt-Version must be the first line", no);
      saw_version = true;
      int major = 0, minor = 0;
      size_t dot = e.value.find('.');
      auto a = dot == std::string_view::npos ? std::nullopt : ParseDecimal(e.value.substr(0, dot));
      auto b = dot == std::string_view::npos ? std::nullopt : ParseDecimal(e.value.substr(dot + 1));
      if (a && b && *a < 100 && *b < 100) {
        major = static_cast<int>(*a);
        minor = static_cast<int>(*b);
      }
      bool supported = (major == 1 && minor == 0) || (major == 0 && minor >= 93 && minor <= 97);
      if (!supported) {
        report->Error(kFile, "bagit.version",
                      "BagIt-Version '" + Printable(e.value) +
                          "' is not a supported version (0.93 to 0.97, 1.0)",
                      no);
      } else {
        decl.version = BagitVersion{major, minor};
        decl.version_known = true;
      }
    } else if (e.label == "Tag-File-Character-Encoding") {
      if (i != 1) {
        report->Error(kFile, "bagit.order", "Tag-File-Character-Encoding must be the second line",
                      no);
      }
      saw_encoding = true;
      if (e.value.empty()) {
        report->Error(kFile, "bagit.encoding-missing", "Tag-File-Character-Encoding is empty", no);
      } else {
        decl.encoding = std::string(e.value);
      }
    } else {
      report->Error(kFile, "bagit.extra-line",
                    "unexpected line '" + Printable(line) +
                        "': bagit.txt holds exactly BagIt-Version and Tag-File-Character-Encoding",
                    no);
    }
  }
  if (!saw_version) {
    report->Error(kFile, "bagit.version-missing", "no BagIt-Version line", 1);
  }
  if (!saw_encoding) {
    report->Error(kFile, "bagit.encoding-missing", "no Tag-File-Character-Encoding line",
                  lines.size() + 1);
  }
  if (whitespace_problem) {
    std::string msg =
        "bagit.txt lines must be 'Label: value' with exactly one space after the "
        "colon and no other whitespace";
    if (decl.version.AtLeast1()) {
      report->Error(kFile, "bagit.whitespace", std::move(msg));
    } else {
      report->Warning(kFile, "bagit.whitespace", std::move(msg));
    }
  }
  return decl;
}

std::vector<std::string> BagInfo::Values(std::string_view label) const {
  std::vector<std::string> out;
  std::string want = AsciiLower(label);
  for (const BagInfoEntry& e : entries) {
    if (AsciiLower(e.label) == want) out.push_back(e.value);
  }
  return out;
}

BagInfo ParseBagInfo(std::string_view text, const BagitVersion& version, std::string_view file,
                     Report* report) {
  BagInfo info;
  for (const auto& [no, line] : SmallTextLines(text, file, report)) {
    if (TrimBlanks(line).empty()) {
      report->Warning(file, "bag-info.blank-line", "blank line", no);
      continue;
    }
    if (IsBlank(line.front())) {
      if (info.entries.empty()) {
        report->Error(file, "bag-info.continuation",
                      "a line starting with whitespace continues a value, but there is none", no);
      } else {
        info.entries.back().value += " ";
        info.entries.back().value += TrimBlanks(line);
      }
      continue;
    }
    if (info.entries.size() >= kMaxBagInfoElements) {
      report->Error(file, "bag-info.too-many-elements",
                    "more than " + std::to_string(kMaxBagInfoElements) +
                        " elements; the rest of the file is not read",
                    no);
      break;
    }
    Element e;
    if (!SplitElement(line, &e)) {
      report->Error(file, "bag-info.no-colon",
                    "expected 'Label: value', got '" + Printable(line) + "'", no);
      continue;
    }
    if (e.label.empty()) {
      report->Error(file, "bag-info.empty-label", "empty label before ':'", no);
      continue;
    }
    if (version.AtLeast1() && e.blank_before_colon) {
      report->Error(file, "bag-info.whitespace-before-colon",
                    "whitespace before the colon after '" + Printable(e.label) +
                        "' is not allowed in BagIt 1.0",
                    no);
    }
    if (version.AtLeast1() && !e.blank_after_colon && !e.value.empty()) {
      report->Error(
          file, "bag-info.no-space-after-colon",
          "BagIt 1.0 requires a space or tab after the colon of '" + Printable(e.label) + "'", no);
    }
    info.entries.push_back(BagInfoEntry{std::string(e.label), std::string(e.value), no});
  }
  int oxum_count = 0;
  for (const BagInfoEntry& e : info.entries) {
    if (AsciiLower(e.label) != "payload-oxum") continue;
    if (++oxum_count > 1) {
      report->Error(file, "bag-info.oxum-repeated", "Payload-Oxum appears more than once", e.line);
      info.oxum_bytes.reset();
      info.oxum_files.reset();
      continue;
    }
    size_t dot = e.value.find('.');
    auto bytes = dot == std::string::npos ? std::nullopt
                                          : ParseDecimal(std::string_view(e.value).substr(0, dot));
    auto files = dot == std::string::npos ? std::nullopt
                                          : ParseDecimal(std::string_view(e.value).substr(dot + 1));
    if (!bytes || !files) {
      report->Error(file, "bag-info.oxum-format",
                    "Payload-Oxum '" + Printable(e.value) + "' is not 'octets.streamcount'",
                    e.line);
      continue;
    }
    info.oxum_bytes = bytes;
    info.oxum_files = files;
  }
  return info;
}

std::optional<ParsedManifestLine> ParseManifestLine(std::string_view line, Algorithm algorithm,
                                                    std::string_view file, uint64_t line_no,
                                                    Report* report) {
  if (TrimBlanks(line).empty()) {
    report->Warning(file, "manifest.blank-line", "blank line", line_no);
    return std::nullopt;
  }
  size_t gap = line.find_first_of(" \t");
  size_t path_start = gap == std::string_view::npos ? gap : line.find_first_not_of(" \t", gap);
  if (gap == 0 || path_start == std::string_view::npos) {
    report->Error(file, "manifest.malformed",
                  "expected '<digest> <path>', got '" + Printable(line) + "'", line_no);
    return std::nullopt;
  }
  std::string_view digest = line.substr(0, gap);
  std::string_view raw_path = line.substr(path_start);
  if (digest.size() != HexLength(algorithm) || !IsHex(digest)) {
    report->Error(file, "manifest.bad-digest",
                  "'" + Printable(digest) + "' is not a " + std::string(AlgorithmName(algorithm)) +
                      " digest (" + std::to_string(HexLength(algorithm)) + " hex digits)",
                  line_no);
    return std::nullopt;
  }
  if (raw_path.front() == '*') {
    report->Warning(file, "manifest.md5sum-star",
                    "md5sum-style '*' before the path (binary mode marker) ignored", line_no);
    raw_path.remove_prefix(1);
  }
  std::optional<std::string> path =
      CheckedPath(raw_path, file, line_no, "manifest.dot-slash", report);
  if (!path) return std::nullopt;
  return ParsedManifestLine{AsciiLower(digest), std::move(*path)};
}

std::optional<FetchEntry> ParseFetchLine(std::string_view line, std::string_view file,
                                         uint64_t line_no, Report* report) {
  if (TrimBlanks(line).empty()) {
    report->Warning(file, "fetch.blank-line", "blank line", line_no);
    return std::nullopt;
  }
  size_t gap1 = line.find_first_of(" \t");
  size_t len_start = gap1 == std::string_view::npos ? gap1 : line.find_first_not_of(" \t", gap1);
  size_t gap2 =
      len_start == std::string_view::npos ? len_start : line.find_first_of(" \t", len_start);
  size_t path_start = gap2 == std::string_view::npos ? gap2 : line.find_first_not_of(" \t", gap2);
  if (gap1 == 0 || path_start == std::string_view::npos) {
    report->Error(file, "fetch.malformed",
                  "expected '<url> <length|-> <path>', got '" + Printable(line) + "'", line_no);
    return std::nullopt;
  }
  FetchEntry entry;
  entry.url = std::string(line.substr(0, gap1));
  entry.line = line_no;
  std::string_view length = line.substr(len_start, gap2 - len_start);
  if (length != "-") {
    entry.length = ParseDecimal(length);
    if (!entry.length) {
      report->Error(file, "fetch.bad-length",
                    "length '" + Printable(length) + "' is neither a number nor '-'", line_no);
      return std::nullopt;
    }
  }
  std::optional<std::string> path =
      CheckedPath(line.substr(path_start), file, line_no, "fetch.dot-slash", report);
  if (!path) return std::nullopt;
  if (!IsPayloadPath(*path) || *path == "data") {
    report->Error(
        file, "fetch.path-outside-data",
        "fetch.txt may only name payload files under data/, not '" + Printable(*path) + "'",
        line_no);
    return std::nullopt;
  }
  entry.path = std::move(*path);
  return entry;
}

TagKind ClassifyTagFile(std::string_view path, std::optional<Algorithm>* algorithm) {
  if (path == "bagit.txt") return TagKind::kBagitTxt;
  if (path == "bag-info.txt") return TagKind::kBagInfo;
  if (path == "fetch.txt") return TagKind::kFetch;
  auto middle = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (path.find('/') != std::string_view::npos) return std::nullopt;
    if (path.size() <= prefix.size() + 4 || path.substr(0, prefix.size()) != prefix ||
        path.substr(path.size() - 4) != ".txt") {
      return std::nullopt;
    }
    return path.substr(prefix.size(), path.size() - prefix.size() - 4);
  };
  if (auto name = middle("manifest-")) {
    *algorithm = ParseAlgorithm(*name);
    return TagKind::kManifest;
  }
  if (auto name = middle("tagmanifest-")) {
    *algorithm = ParseAlgorithm(*name);
    return TagKind::kTagManifest;
  }
  return TagKind::kOther;
}

}  // namespace cairn::bagit
