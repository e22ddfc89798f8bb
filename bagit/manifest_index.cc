#include "bagit/manifest_index.h"

#include <algorithm>
#include <cstring>

namespace cairn::bagit {
namespace {

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

std::string HexToBinary(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(HexNibble(hex[2 * i]) * 16 + HexNibble(hex[2 * i + 1]));
  }
  return out;
}

std::string BinaryToHex(std::string_view binary) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(binary.size() * 2);
  for (unsigned char c : binary) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void ReportDuplicate(std::string_view file, std::string_view path, uint64_t first_line,
                     uint64_t line, bool same_digest, const BagitVersion& version, Report* report) {
  std::string where = "'" + Printable(path) + "' is listed again (first on line " +
                      std::to_string(first_line) + ")";
  if (!same_digest) {
    report->Error(file, "manifest.duplicate-conflict", where + " with a different digest", line);
  } else if (version.AtLeast1()) {
    report->Error(file, "manifest.duplicate", where + "; BagIt 1.0 allows each path once", line);
  } else {
    report->Warning(file, "manifest.duplicate", where + " with the same digest", line);
  }
}

}  // namespace

Status ManifestIndex::BeginManifest(Algorithm algorithm, std::string file) {
  for (const Manifest& m : manifests_) {
    if (m.algorithm == algorithm) {
      return Status::InvalidArgument(file + ": a second manifest for " +
                                     std::string(AlgorithmName(algorithm)) + " (" + m.file + ")");
    }
  }
  if (manifests_.size() >= kMaxManifests) {
    return Status::InvalidArgument(file + ": more than " + std::to_string(kMaxManifests) +
                                   " payload manifests");
  }
  Manifest m;
  m.algorithm = algorithm;
  m.file = std::move(file);
  m.digest_size = HexLength(algorithm) / 2;
  manifests_.push_back(std::move(m));
  tail_.clear();
  return Status::OK();
}

std::string_view ManifestIndex::path(EntryId id) const {
  const Entry& e = entries_[id];
  return std::string_view(arena_).substr(e.path_offset, e.path_length);
}

std::string_view ManifestIndex::DigestBytes(int m, EntryId id) const {
  const Manifest& man = manifests_[m];
  size_t offset = static_cast<size_t>(id) * man.digest_size;
  if (offset + man.digest_size > man.column.size()) return {};
  return std::string_view(man.column).substr(offset, man.digest_size);
}

void ManifestIndex::SetDigest(int m, EntryId id, std::string_view binary) {
  Manifest& man = manifests_[m];
  size_t offset = static_cast<size_t>(id) * man.digest_size;
  if (man.column.size() < offset + man.digest_size) {
    man.column.resize(offset + man.digest_size, '\0');
  }
  std::memcpy(man.column.data() + offset, binary.data(), man.digest_size);
}

std::optional<ManifestIndex::EntryId> ManifestIndex::Find(std::string_view p) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), p,
                             [this](EntryId id, std::string_view want) { return path(id) < want; });
  if (it == sorted_.end() || path(*it) != p) return std::nullopt;
  return *it;
}

void ManifestIndex::Add(const ParsedManifestLine& line, uint64_t line_no,
                        const BagitVersion& version, Report* report) {
  int m = static_cast<int>(manifests_.size()) - 1;
  std::string binary = HexToBinary(line.digest);
  if (std::optional<EntryId> found = Find(line.path)) {
    Entry& e = entries_[*found];
    if (e.listed & (1u << m)) {
      ReportDuplicate(manifests_[m].file, line.path, e.line, line_no,
                      DigestBytes(m, *found) == binary, version, report);
      return;
    }
    e.listed |= static_cast<uint16_t>(1u << m);
    SetDigest(m, *found, binary);
    return;
  }
  Entry e;
  e.path_offset = arena_.size();
  e.path_length = static_cast<uint32_t>(line.path.size());
  e.line = static_cast<uint32_t>(std::min<uint64_t>(line_no, UINT32_MAX));
  e.listed = static_cast<uint16_t>(1u << m);
  arena_.append(line.path);
  EntryId id = static_cast<EntryId>(entries_.size());
  entries_.push_back(e);
  SetDigest(m, id, binary);
  tail_.push_back(id);
}

void ManifestIndex::EndManifest(const BagitVersion& version, Report* report) {
  int m = static_cast<int>(manifests_.size()) - 1;
  std::stable_sort(tail_.begin(), tail_.end(),
                   [this](EntryId a, EntryId b) { return LessPath(a, b); });
  size_t old_size = sorted_.size();
  for (size_t i = 0; i < tail_.size(); ++i) {
    EntryId id = tail_[i];
    if (i > 0 && !sorted_.empty() && sorted_.size() > old_size &&
        path(sorted_.back()) == path(id)) {
      EntryId first = sorted_.back();
      ReportDuplicate(manifests_[m].file, path(id), entries_[first].line, entries_[id].line,
                      DigestBytes(m, first) == DigestBytes(m, id), version, report);
      entries_[id].dead = 1;
      entries_[id].listed = 0;
      continue;
    }
    sorted_.push_back(id);
    ++live_;
  }
  std::inplace_merge(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(old_size),
                     sorted_.end(), [this](EntryId a, EntryId b) { return LessPath(a, b); });
  tail_.clear();
  tail_.shrink_to_fit();
}

AlgorithmSet ManifestIndex::algorithms() const {
  AlgorithmSet set;
  for (const Manifest& m : manifests_) set |= Only(m.algorithm);
  return set;
}

std::string ManifestIndex::HexDigest(EntryId id, Algorithm algorithm) const {
  for (size_t m = 0; m < manifests_.size(); ++m) {
    if (manifests_[m].algorithm == algorithm && (entries_[id].listed & (1u << m))) {
      return BinaryToHex(DigestBytes(static_cast<int>(m), id));
    }
  }
  return "";
}

std::vector<int> ManifestIndex::Mismatches(EntryId id, const Digests& computed) const {
  std::vector<int> bad;
  for (size_t m = 0; m < manifests_.size(); ++m) {
    if (!(entries_[id].listed & (1u << m))) continue;
    const std::string& hex = computed[manifests_[m].algorithm];
    if (hex.empty()) continue;
    if (HexToBinary(hex) != DigestBytes(static_cast<int>(m), id))
      bad.push_back(static_cast<int>(m));
  }
  return bad;
}

bool ManifestIndex::SameDigests(EntryId a, EntryId b) const {
  for (size_t m = 0; m < manifests_.size(); ++m) {
    uint32_t bit = 1u << m;
    if ((entries_[a].listed & bit) && (entries_[b].listed & bit) &&
        DigestBytes(static_cast<int>(m), a) != DigestBytes(static_cast<int>(m), b)) {
      return false;
    }
  }
  return true;
}

void ManifestIndex::ForEach(const std::function<void(EntryId)>& fn) const {
  for (EntryId id : sorted_) fn(id);
}

}  // namespace cairn::bagit
