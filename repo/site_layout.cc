#include "repo/site_layout.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "bagit/report.h"
#include "repo/key_rule.h"

namespace cairn::repo::layout {
namespace {

constexpr size_t kMaxIdLength = 128;

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Splits off the text before the next '/', advancing `rest` past it.
std::optional<std::string_view> NextSegment(std::string_view& rest) {
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view segment = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return segment;
}

// A decimal number; "007" only when `padded` (event segment names are zero-padded).
template <typename Int>
std::optional<Int> ParseDecimal(std::string_view text, bool padded = false) {
  Int value = 0;
  if (text.empty() || (!padded && text.size() > 1 && text[0] == '0')) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

bool IsLayoutTopLevelName(std::string_view name) {
  // The folders by their prefixes' first segment, so that a new prefix is named in one place.
  auto first_folder = [](std::string_view prefix) {
    return prefix.substr(0, prefix.find('/') + 1);
  };
  return name == kSiteMarkerKey || name == kReadmeKey || name == first_folder(kBlobsPrefix) ||
         name == first_folder(kBagsPrefix) || name == first_folder(kEventsPrefix) ||
         name == first_folder(kSettingsPrefix) || name == first_folder(kLostAndFoundPrefix) ||
         name == "tmp/" || name == "lost+found/";
}

bool IsSha256Hex(std::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ValidateId(std::string_view kind, std::string_view id) {
  auto bad = [&](std::string_view what) {
    return Status::InvalidArgument(std::string(kind) + " id '" + bagit::Printable(id) + "' " +
                                   std::string(what) + ": " + std::string(kIdRule));
  };
  if (id.empty()) return bad("is empty");
  if (id.size() > kMaxIdLength) return bad("is longer than 128 characters");
  if (id.front() == '.') return bad("starts with '.'");
  for (char c : id) {
    if (!IsIdChar(c)) return bad("holds a character that is not allowed");
  }
  return Status::OK();
}

Status ValidateTagFileName(std::string_view name) {
  auto bad = [&](std::string_view rule) {
    return Status::InvalidArgument("tag file '" + std::string(name) + "': " + std::string(rule));
  };
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return bad("contains a control character");
  }
  if (name == "data" || name.starts_with("data/")) return bad("payload (data/) is not a tag file");
  if (name == kVersionRecordName) return bad("version.pb is reserved by Cairn's site layout");
  if (name == kTombstoneName || name == kPurgeTombstoneName) {
    return bad(std::string(name) + " is reserved by Cairn's site layout");
  }
  Status key = ValidateKey(name);
  if (!key.ok()) return bad(key.message());
  return Status::OK();
}

std::string BlobKey(std::string_view sha256_hex, int layout_version) {
  std::string key(kBlobsPrefix);
  key.append(sha256_hex.substr(0, 2)).append("/");
  if (layout_version == 1) key.append(sha256_hex.substr(2, 2)).append("/");
  key.append(sha256_hex);
  return key;
}

std::string ObjectPrefix(std::string_view partner, std::string_view object) {
  std::string key(kBagsPrefix);
  key.append(partner).append("/").append(object).append("/");
  return key;
}

std::string VersionPrefix(std::string_view partner, std::string_view object, uint32_t version) {
  return ObjectPrefix(partner, object) + "v" + std::to_string(version) + "/";
}

std::string TagFileKey(std::string_view partner, std::string_view object, uint32_t version,
                       std::string_view name) {
  return VersionPrefix(partner, object, version) + std::string(name);
}

std::string VersionRecordKey(std::string_view partner, std::string_view object, uint32_t version) {
  return VersionPrefix(partner, object, version) + std::string(kVersionRecordName);
}

std::string LostAndFoundKey(std::string_view key, int n) {
  std::string out = std::string(kLostAndFoundPrefix) + std::string(key);
  if (n > 1) out += "." + std::to_string(n);
  return out;
}

std::string TombstoneKey(std::string_view partner, std::string_view object, uint32_t version,
                         std::string_view name) {
  return VersionPrefix(partner, object, version) + std::string(name);
}

std::string EventSegmentKey(uint64_t first_seq, uint64_t last_seq) {
  char name[64];
  std::snprintf(name, sizeof name, "%020llu-%020llu.pb", static_cast<unsigned long long>(first_seq),
                static_cast<unsigned long long>(last_seq));
  return std::string(kEventsPrefix) + name;
}

std::optional<std::string> ParseBlobKey(std::string_view key, int layout_version) {
  if (!key.starts_with(kBlobsPrefix)) return std::nullopt;
  key.remove_prefix(kBlobsPrefix.size());
  auto first = NextSegment(key);
  if (!first) return std::nullopt;
  std::optional<std::string_view> second;
  if (layout_version == 1) {
    second = NextSegment(key);
    if (!second) return std::nullopt;
  } else if (layout_version != 2) {
    return std::nullopt;
  }
  if (!IsSha256Hex(key) || *first != key.substr(0, 2)) return std::nullopt;
  if (second && *second != key.substr(2, 2)) return std::nullopt;
  return std::string(key);
}

std::optional<std::string> ParseAnyBlobKey(std::string_view key) {
  for (int version = kLayoutVersion; version >= kOldestLayoutVersion; --version) {
    if (auto digest = ParseBlobKey(key, version)) return digest;
  }
  return std::nullopt;
}

std::optional<TagFileRef> ParseTagFileKey(std::string_view key) {
  if (!key.starts_with(kBagsPrefix)) return std::nullopt;
  key.remove_prefix(kBagsPrefix.size());
  auto partner = NextSegment(key);
  auto object = NextSegment(key);
  auto version = NextSegment(key);
  if (!partner || !object || !version) return std::nullopt;
  if (!ValidatePartnerId(*partner).ok() || !ValidateObjectId(*object).ok()) return std::nullopt;
  if (version->size() < 2 || (*version)[0] != 'v') return std::nullopt;
  auto number = ParseDecimal<uint32_t>(version->substr(1));
  if (!number || *number == 0) return std::nullopt;
  if (key != kVersionRecordName && !ValidateTagFileName(key).ok()) return std::nullopt;
  return TagFileRef{std::string(*partner), std::string(*object), *number, std::string(key)};
}

std::optional<TagFileRef> ParseTombstoneKey(std::string_view key) {
  for (std::string_view name : {kTombstoneName, kPurgeTombstoneName}) {
    if (!key.ends_with(name) || key.size() == name.size() ||
        key[key.size() - name.size() - 1] != '/') {
      continue;
    }
    std::string as_record(key.substr(0, key.size() - name.size()));
    as_record += kVersionRecordName;
    // Directly in the version folder: a bag's tag file meta/WITHDRAWN is no tombstone (it
    // was read as one, and a rebuild skipped the version as withdrawn by a bad tombstone).
    std::optional<TagFileRef> ref = ParseTagFileKey(as_record);
    if (!ref || !ref->is_version_record()) return std::nullopt;
    ref->name = std::string(name);
    return ref;
  }
  return std::nullopt;
}

std::optional<EventSegmentRef> ParseEventSegmentKey(std::string_view key) {
  if (!key.starts_with(kEventsPrefix) || !key.ends_with(".pb")) return std::nullopt;
  key.remove_prefix(kEventsPrefix.size());
  key.remove_suffix(3);
  size_t dash = key.find('-');
  if (dash != 20 || key.size() != 41) return std::nullopt;
  auto first = ParseDecimal<uint64_t>(key.substr(0, 20), true);
  auto last = ParseDecimal<uint64_t>(key.substr(21), true);
  if (!first || !last || *first > *last) return std::nullopt;
  return EventSegmentRef{*first, *last};
}

namespace {
// Ids, plus '@' for principal names ("alice@yale").
bool IsSettingsSegment(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsIdChar(c) || c == '@'; });
}
}  // namespace

std::string SettingsRecordKey(std::string_view kind, std::string_view name, uint64_t version) {
  char number[32];
  std::snprintf(number, sizeof number, "%020llu.pb", static_cast<unsigned long long>(version));
  return std::string(kSettingsPrefix) + std::string(kind) + "/" + std::string(name) + "/" + number;
}

std::optional<SettingsRecordRef> ParseSettingsRecordKey(std::string_view key) {
  if (!key.starts_with(kSettingsPrefix) || !key.ends_with(".pb")) return std::nullopt;
  key.remove_prefix(kSettingsPrefix.size());
  key.remove_suffix(3);
  auto kind = NextSegment(key);
  auto name = NextSegment(key);
  if (!kind || !name || !IsSettingsSegment(*kind) || !IsSettingsSegment(*name)) return std::nullopt;
  if (key.size() != 20) return std::nullopt;
  auto version = ParseDecimal<uint64_t>(key, true);
  if (!version) return std::nullopt;
  return SettingsRecordRef{std::string(*kind), std::string(*name), *version};
}

std::string FormatSiteMarker(const SiteMarker& marker) {
  std::string text = "cairn-site " + std::to_string(marker.layout_version) +
                     "\nsite-id: " + marker.site_id + "\ncreated: " + marker.created + "\n";
  if (!marker.repository_id.empty()) text += "repository-id: " + marker.repository_id + "\n";
  return text;
}

Result<SiteMarker> ParseSiteMarker(std::string_view text, std::string_view where) {
  auto bad = [&](std::string_view rule) {
    return Status::InvalidArgument(std::string(where) + ": " + std::string(rule));
  };
  SiteMarker marker;
  size_t line_end = text.find('\n');
  std::string_view first = text.substr(0, line_end);
  constexpr std::string_view kMagic = "cairn-site ";
  if (!first.starts_with(kMagic))
    return bad("not a Cairn site marker (first line is not 'cairn-site N')");
  auto version = ParseDecimal<uint32_t>(first.substr(kMagic.size()));
  if (!version)
    return bad("layout version '" + std::string(first.substr(kMagic.size())) + "' is not a number");
  if (*version < static_cast<uint32_t>(kOldestLayoutVersion) ||
      *version > static_cast<uint32_t>(kLayoutVersion)) {
    return bad("site layout version " + std::to_string(*version) +
               " is unknown (this Cairn reads " + std::to_string(kOldestLayoutVersion) + " to " +
               std::to_string(kLayoutVersion) + ")");
  }
  marker.layout_version = static_cast<int>(*version);
  std::string_view rest = line_end == std::string_view::npos ? "" : text.substr(line_end + 1);
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
    if (line.empty()) continue;
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos)
      return bad("line '" + std::string(line) + "' is not 'label: value'");
    std::string_view label = line.substr(0, colon);
    std::string_view value = line.substr(colon + 2);
    if (label == "site-id") marker.site_id = std::string(value);
    if (label == "created") marker.created = std::string(value);
    if (label == "repository-id") marker.repository_id = std::string(value);
  }
  if (marker.site_id.empty()) return bad("no 'site-id:' line");
  Status id = ValidateSiteId(marker.site_id);
  if (!id.ok()) return bad(id.message());
  if (!marker.repository_id.empty()) {
    Status repository = ValidateRepositoryId(marker.repository_id);
    if (!repository.ok()) return bad(repository.message());
  }
  return marker;
}

}  // namespace cairn::repo::layout
