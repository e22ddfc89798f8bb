#include "bagit/manifest_index.h"

#include <algorithm>
#include <cstring>

#include "bagit/paths.h"

namespace cairn::bagit {
namespace {

int ManifestHexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

// ---- ManifestIndex: what every implementation shares ----

Status ManifestIndex::BeginManifest(Algorithm algorithm, std::string file) {
  for (const ManifestInfo& m : manifests_) {
    if (m.algorithm == algorithm) {
      return Status::InvalidArgument(file + ": a second manifest for " +
                                     std::string(AlgorithmName(algorithm)) + " (" + m.file + ")");
    }
  }
  if (manifests_.size() >= kMaxManifests) {
    return Status::InvalidArgument(file + ": more than " + std::to_string(kMaxManifests) +
                                   " payload manifests");
  }
  ManifestInfo m;
  m.algorithm = algorithm;
  m.file = std::move(file);
  m.digest_size = HexLength(algorithm) / 2;
  manifests_.push_back(std::move(m));
  OnBeginManifest();
  return Status::OK();
}

AlgorithmSet ManifestIndex::algorithms() const {
  AlgorithmSet set;
  for (const ManifestInfo& m : manifests_) set |= Only(m.algorithm);
  return set;
}

uint64_t ManifestIndex::CollisionHash(std::string_view path) {
  return std::hash<std::string>()(CollisionKey(path));
}

std::string ManifestIndex::HexToBinary(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        static_cast<char>(ManifestHexNibble(hex[2 * i]) * 16 + ManifestHexNibble(hex[2 * i + 1]));
  }
  return out;
}

std::string ManifestIndex::BinaryToHex(std::string_view binary) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(binary.size() * 2);
  for (unsigned char c : binary) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void ManifestIndex::ReportDuplicate(std::string_view file, std::string_view path,
                                    uint64_t first_line, uint64_t line, bool same_digest,
                                    const BagitVersion& version, Report* report) {
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

// ---- MemoryManifestIndex ----

void MemoryManifestIndex::OnBeginManifest() {
  columns_.emplace_back();
  tail_.clear();
}

std::string_view MemoryManifestIndex::PathView(EntryId id) const {
  const Entry& e = entries_[id];
  return std::string_view(arena_).substr(e.path_offset, e.path_length);
}

std::string_view MemoryManifestIndex::DigestBytes(int m, EntryId id) const {
  size_t size = manifests()[m].digest_size;
  const std::string& column = columns_[m];
  size_t offset = static_cast<size_t>(id) * size;
  if (offset + size > column.size()) return {};
  return std::string_view(column).substr(offset, size);
}

void MemoryManifestIndex::SetDigest(int m, EntryId id, std::string_view binary) {
  size_t size = manifests()[m].digest_size;
  std::string& column = columns_[m];
  size_t offset = static_cast<size_t>(id) * size;
  if (column.size() < offset + size) column.resize(offset + size, '\0');
  std::memcpy(column.data() + offset, binary.data(), size);
}

std::optional<ManifestIndex::EntryId> MemoryManifestIndex::Find(std::string_view p) const {
  auto it =
      std::lower_bound(sorted_.begin(), sorted_.end(), p,
                       [this](EntryId id, std::string_view want) { return PathView(id) < want; });
  if (it == sorted_.end() || PathView(*it) != p) return std::nullopt;
  return *it;
}

void MemoryManifestIndex::Add(const ParsedManifestLine& line, uint64_t line_no,
                              const BagitVersion& version, Report* report) {
  int m = current_manifest();
  std::string binary = HexToBinary(line.digest);
  if (std::optional<EntryId> found = Find(line.path)) {
    Entry& e = entries_[*found];
    if (e.listed & (1u << m)) {
      ReportDuplicate(manifests()[m].file, line.path, e.line, line_no,
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

void MemoryManifestIndex::EndManifest(const BagitVersion& version, Report* report) {
  int m = current_manifest();
  std::stable_sort(tail_.begin(), tail_.end(),
                   [this](EntryId a, EntryId b) { return LessPath(a, b); });
  size_t old_size = sorted_.size();
  for (size_t i = 0; i < tail_.size(); ++i) {
    EntryId id = tail_[i];
    if (sorted_.size() > old_size && PathView(sorted_.back()) == PathView(id)) {
      EntryId first = sorted_.back();
      ReportDuplicate(manifests()[m].file, PathView(id), entries_[first].line, entries_[id].line,
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

std::string MemoryManifestIndex::HexDigest(EntryId id, Algorithm algorithm) const {
  for (int m = 0; m < manifest_count(); ++m) {
    if (manifest_algorithm(m) == algorithm && (entries_[id].listed & (1u << m))) {
      return BinaryToHex(DigestBytes(m, id));
    }
  }
  return "";
}

std::vector<int> MemoryManifestIndex::Mismatches(EntryId id, const Digests& computed) const {
  std::vector<int> bad;
  for (int m = 0; m < manifest_count(); ++m) {
    if (!(entries_[id].listed & (1u << m))) continue;
    const std::string& hex = computed[manifest_algorithm(m)];
    if (hex.empty()) continue;
    if (HexToBinary(hex) != DigestBytes(m, id)) bad.push_back(m);
  }
  return bad;
}

bool MemoryManifestIndex::SameDigests(EntryId a, EntryId b) const {
  for (int m = 0; m < manifest_count(); ++m) {
    uint32_t bit = 1u << m;
    if ((entries_[a].listed & bit) && (entries_[b].listed & bit) &&
        DigestBytes(m, a) != DigestBytes(m, b)) {
      return false;
    }
  }
  return true;
}

void MemoryManifestIndex::ForEach(const std::function<void(const EntryView&)>& fn) const {
  for (EntryId id : sorted_) {
    fn(EntryView{id, PathView(id), entries_[id].listed, entries_[id].seen != 0});
  }
}

void MemoryManifestIndex::ForEachCollisionCandidates(
    const std::function<void(const std::vector<EntryId>&)>& fn) const {
  std::vector<std::pair<uint64_t, EntryId>> keys;
  keys.reserve(sorted_.size());
  for (EntryId id : sorted_) keys.emplace_back(CollisionHash(PathView(id)), id);
  std::sort(keys.begin(), keys.end());
  std::vector<EntryId> group;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i + 1;
    while (j < keys.size() && keys[j].first == keys[i].first) ++j;
    if (j - i > 1) {
      group.clear();
      for (size_t k = i; k < j; ++k) group.push_back(keys[k].second);
      fn(group);
    }
    i = j;
  }
}

}  // namespace cairn::bagit
