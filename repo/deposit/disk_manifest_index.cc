// DiskManifestIndex: the manifest index in SQLite tables (disk_manifest_index.h).
// The duplicate rules follow MemoryManifestIndex step by step (bagit/manifest_index.cc).
#include "repo/deposit/disk_manifest_index.h"

#include <algorithm>

namespace cairn::repo {
namespace {

using bagit::Algorithm;

// The collision hash as a signed column whose order is the unsigned order.
int64_t CollisionColumn(uint64_t hash) { return static_cast<int64_t>(hash ^ (uint64_t{1} << 63)); }

}  // namespace

DiskManifestIndex::DiskManifestIndex(std::unique_ptr<ManifestStore> store)
    : store_(std::move(store)) {}

DiskManifestIndex::~DiskManifestIndex() = default;

Result<std::unique_ptr<DiskManifestIndex>> DiskManifestIndex::Create(ScratchStore* scratch) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ManifestStore> store, ManifestStore::Create(scratch));
  return std::unique_ptr<DiskManifestIndex>(new DiskManifestIndex(std::move(store)));
}

void DiskManifestIndex::Keep(Status s) const {
  if (!s.ok() && error_.ok()) error_ = std::move(s);
}

Status DiskManifestIndex::status() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return error_;
}

size_t DiskManifestIndex::DigestOffset(int m) const {
  size_t offset = 0;
  for (int i = 0; i < m; ++i) offset += manifests()[i].digest_size;
  return offset;
}

std::string_view DiskManifestIndex::RowDigest(const Row& row, int m) const {
  size_t offset = DigestOffset(m);
  size_t size = manifests()[m].digest_size;
  if (offset + size > row.digests.size()) return {};
  return std::string_view(row.digests).substr(offset, size);
}

const DiskManifestIndex::Row* DiskManifestIndex::CachedRow(EntryId id) const {
  if (cached_id_ == id) return &cached_;
  cached_id_.reset();
  Result<bool> found = store_->Read(static_cast<int64_t>(id), &cached_);
  if (!found.ok()) Keep(found.status());
  if (!found.ok() || !*found) return nullptr;
  cached_id_ = id;
  return &cached_;
}

bool DiskManifestIndex::ReadRow(EntryId id, Row* row) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Row* found = CachedRow(id);
  if (found) *row = *found;
  return found != nullptr;
}

std::optional<bagit::ManifestIndex::EntryId> DiskManifestIndex::Find(std::string_view p) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  cached_id_.reset();
  Result<std::optional<int64_t>> found = store_->FindEntry(p, &cached_);
  if (!found.ok()) {
    Keep(found.status());
    return std::nullopt;
  }
  if (!found->has_value()) return std::nullopt;
  cached_id_ = static_cast<EntryId>(**found);
  return cached_id_;
}

void DiskManifestIndex::Add(const bagit::ParsedManifestLine& line, uint64_t line_no,
                            const bagit::BagitVersion& version, bagit::Report* report) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  int m = current_manifest();
  if (m != direct_manifest_) {  // the first line of manifest m
    direct_manifest_ = m;
    direct_rows_ = 0;
    // A line of the first manifest whose path sorts after every path entered
    // before it goes straight to the entries (every line of a manifest Cairn
    // writes; most of one listed folder by folder); the others wait in the
    // tail. A path entered so is unique among the entered ones, and every
    // later line of it sorts before the last entered path: it goes to the
    // tail and is found a duplicate when the manifest ends, as in memory.
    direct_ = live_ == 0;
  }
  std::string binary = HexToBinary(line.digest);
  const uint32_t line_number = static_cast<uint32_t>(std::min<uint64_t>(line_no, UINT32_MAX));
  if (direct_ && (direct_rows_ == 0 || line.path > last_direct_path_)) {
    Keep(store_->InsertEntry(static_cast<int64_t>(next_id_++), line.path, line_number, 1u << m,
                             CollisionColumn(CollisionHash(line.path)),
                             std::string(DigestOffset(m), '\0') + binary));
    ++live_;
    ++direct_rows_;
    last_direct_path_ = line.path;
    return;
  }
  // Only the finished manifests' paths are looked up here (the lines of this
  // one are compared when it ends): none before the first ends.
  if (std::optional<EntryId> found = finished_ > 0 ? Find(line.path) : std::nullopt) {
    Row row;
    if (!ReadRow(*found, &row)) return;
    if (row.listed & (1u << m)) {
      ReportDuplicate(manifests()[m].file, line.path, row.line, line_no,
                      RowDigest(row, m) == binary, version, report);
      return;
    }
    size_t offset = DigestOffset(m);
    row.digests.resize(offset, '\0');  // holds the manifests before m only
    row.digests += binary;
    cached_id_.reset();
    Keep(store_->SetListed(static_cast<int64_t>(*found), row.listed | (1u << m), row.digests));
    return;
  }
  Keep(store_->AddTail(static_cast<int64_t>(next_id_++), line.path, line_number, binary));
}

void DiskManifestIndex::EndManifest(const bagit::BagitVersion& version, bagit::Report* report) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  int m = current_manifest();
  cached_id_.reset();
  std::string padding(DigestOffset(m), '\0');
  bool have_previous = false;  // an entry new in this manifest was added
  std::string previous_path, previous_digest;
  uint32_t previous_line = 0;
  // Lines of this manifest entered at once (Add): a tail line of the same path
  // is a duplicate of that earlier line.
  const bool entered_before = direct_manifest_ == m && direct_rows_ > 0;
  Keep(store_->ForEachTail([&](int64_t seq, std::string& path, uint32_t line, std::string& digest) {
    if (have_previous && path == previous_path) {
      ReportDuplicate(manifests()[m].file, path, previous_line, line, previous_digest == digest,
                      version, report);
      return;
    }
    if (entered_before) {
      Row first;
      Result<std::optional<int64_t>> found = store_->FindEntry(path, &first);
      Keep(found.status());
      if (found.ok() && found->has_value()) {
        previous_digest = std::string(RowDigest(first, m));
        ReportDuplicate(manifests()[m].file, path, first.line, line, previous_digest == digest,
                        version, report);
        have_previous = true;
        previous_path = std::move(path);
        previous_line = first.line;
        return;
      }
    }
    Keep(store_->InsertEntry(seq, path, line, 1u << m, CollisionColumn(CollisionHash(path)),
                             padding + digest));
    ++live_;
    have_previous = true;
    previous_path = std::move(path);
    previous_digest = std::move(digest);
    previous_line = line;
  }));
  Keep(store_->ClearTail());
  direct_ = false;
  finished_ = live_;
}

size_t DiskManifestIndex::size() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return live_;
}

std::string DiskManifestIndex::path(EntryId id) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Row* row = CachedRow(id);
  return row ? row->path : "";
}

uint32_t DiskManifestIndex::listed_mask(EntryId id) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Row* row = CachedRow(id);
  return row ? row->listed : 0;
}

bool DiskManifestIndex::seen(EntryId id) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Row* row = CachedRow(id);
  return row && row->seen;
}

void DiskManifestIndex::MarkSeen(EntryId id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Status marked = store_->MarkSeen(static_cast<int64_t>(id));
  if (cached_id_ == id) {
    if (marked.ok()) {
      cached_.seen = true;
    } else {
      cached_id_.reset();
    }
  }
  Keep(std::move(marked));
}

std::string DiskManifestIndex::HexDigest(EntryId id, Algorithm algorithm) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Row* row = CachedRow(id);
  if (!row) return "";
  for (int m = 0; m < manifest_count(); ++m) {
    if (manifest_algorithm(m) == algorithm && (row->listed & (1u << m))) {
      return BinaryToHex(RowDigest(*row, m));
    }
  }
  return "";
}

std::vector<int> DiskManifestIndex::Mismatches(EntryId id, const bagit::Digests& computed) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<int> bad;
  const Row* row = CachedRow(id);
  if (!row) return bad;
  for (int m = 0; m < manifest_count(); ++m) {
    if (!(row->listed & (1u << m))) continue;
    const std::string& hex = computed[manifest_algorithm(m)];
    if (hex.empty()) continue;
    if (HexToBinary(hex) != RowDigest(*row, m)) bad.push_back(m);
  }
  return bad;
}

bool DiskManifestIndex::SameDigests(EntryId a, EntryId b) const {
  Row ra, rb;
  if (!ReadRow(a, &ra) || !ReadRow(b, &rb)) return false;
  for (int m = 0; m < manifest_count(); ++m) {
    uint32_t bit = 1u << m;
    if ((ra.listed & bit) && (rb.listed & bit) && RowDigest(ra, m) != RowDigest(rb, m)) {
      return false;
    }
  }
  return true;
}

void DiskManifestIndex::ForEach(const std::function<void(const EntryView&)>& fn) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Keep(store_->ForEachEntry([&](int64_t id, const std::string& path, uint32_t listed, bool seen) {
    fn(EntryView{static_cast<EntryId>(id), path, listed, seen});
  }));
}

void DiskManifestIndex::ForEachCollisionCandidates(
    const std::function<void(const std::vector<EntryId>&)>& fn) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<EntryId> group;
  int64_t group_hash = 0;
  auto flush = [&] {
    if (group.size() > 1) fn(group);
    group.clear();
  };
  Keep(store_->ForEachByCollision([&](int64_t hash, int64_t id) {
    if (!group.empty() && hash != group_hash) flush();
    group_hash = hash;
    group.push_back(static_cast<EntryId>(id));
  }));
  flush();
}

}  // namespace cairn::repo
