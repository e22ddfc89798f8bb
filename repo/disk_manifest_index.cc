// DiskManifestIndex: the manifest index in SQLite tables (disk_manifest_index.h).
// The duplicate rules follow MemoryManifestIndex step by step (bagit/manifest_index.cc).
#include "repo/disk_manifest_index.h"

#include <algorithm>

namespace cairn::repo {
namespace {

using bagit::Algorithm;

constexpr std::string_view kIndexSchema =
    "CREATE TABLE mi_entry (id INTEGER PRIMARY KEY, path BLOB NOT NULL UNIQUE, "
    "line INTEGER NOT NULL, listed INTEGER NOT NULL, seen INTEGER NOT NULL, "
    "collision INTEGER NOT NULL, digests BLOB NOT NULL); "
    "CREATE TABLE mi_tail (seq INTEGER PRIMARY KEY, path BLOB NOT NULL, line INTEGER NOT NULL, "
    "digest BLOB NOT NULL)";

// The collision hash as a signed column whose order is the unsigned order.
int64_t CollisionColumn(uint64_t hash) { return static_cast<int64_t>(hash ^ (uint64_t{1} << 63)); }

}  // namespace

struct DiskManifestIndex::Statements {
  std::optional<sql::Stmt> find, read, set_listed, mark_seen, tail_add, tail_scan, tail_clear,
      insert, for_each, collisions, count;
};

DiskManifestIndex::DiskManifestIndex(sql::Db* db)
    : db_(db), stmts_(std::make_unique<Statements>()) {}

DiskManifestIndex::~DiskManifestIndex() = default;

Result<std::unique_ptr<DiskManifestIndex>> DiskManifestIndex::Create(sql::Db* db) {
  CAIRN_RETURN_IF_ERROR(db->Exec(kIndexSchema));
  std::unique_ptr<DiskManifestIndex> index(new DiskManifestIndex(db));
  Statements& s = *index->stmts_;
  auto prepare = [db](std::optional<sql::Stmt>* slot, std::string_view sql) -> Status {
    return sql::PrepareOnce(*db, slot, sql).status();
  };
  CAIRN_RETURN_IF_ERROR(prepare(&s.find, "SELECT id FROM mi_entry WHERE path = ?"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.read, "SELECT path, line, listed, seen, digests FROM mi_entry WHERE id = ?"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.set_listed, "UPDATE mi_entry SET listed = ?, digests = ? WHERE id = ?"));
  CAIRN_RETURN_IF_ERROR(prepare(&s.mark_seen, "UPDATE mi_entry SET seen = 1 WHERE id = ?"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.tail_add, "INSERT INTO mi_tail (seq, path, line, digest) VALUES (?, ?, ?, ?)"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.tail_scan, "SELECT seq, path, line, digest FROM mi_tail ORDER BY path, seq"));
  CAIRN_RETURN_IF_ERROR(prepare(&s.tail_clear, "DELETE FROM mi_tail"));
  CAIRN_RETURN_IF_ERROR(prepare(&s.insert,
                                "INSERT INTO mi_entry (id, path, line, listed, seen, collision, "
                                "digests) VALUES (?, ?, ?, ?, 0, ?, ?)"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.for_each, "SELECT id, path, listed, seen FROM mi_entry ORDER BY path"));
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.collisions, "SELECT collision, id FROM mi_entry ORDER BY collision, id"));
  return index;
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

bool DiskManifestIndex::ReadRow(EntryId id, Row* row) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  sql::Stmt& read = *stmts_->read;
  read.Bind(1, static_cast<int64_t>(id));
  Result<bool> has = read.Step();
  bool found = has.ok() && *has;
  if (found) {
    row->path = read.Blob(0);
    row->line = static_cast<uint32_t>(read.Int(1));
    row->listed = static_cast<uint32_t>(read.Int(2));
    row->seen = read.Int(3) != 0;
    row->digests = read.Blob(4);
  }
  if (!has.ok()) Keep(has.status());
  read.Reset();
  return found;
}

std::optional<bagit::ManifestIndex::EntryId> DiskManifestIndex::Find(std::string_view p) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  sql::Stmt& find = *stmts_->find;
  find.BindBlob(1, p);
  Result<bool> has = find.Step();
  std::optional<EntryId> id;
  if (has.ok() && *has) id = static_cast<EntryId>(find.Int(0));
  if (!has.ok()) Keep(has.status());
  find.Reset();
  return id;
}

void DiskManifestIndex::Add(const bagit::ParsedManifestLine& line, uint64_t line_no,
                            const bagit::BagitVersion& version, bagit::Report* report) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  int m = current_manifest();
  std::string binary = HexToBinary(line.digest);
  if (std::optional<EntryId> found = Find(line.path)) {
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
    sql::Stmt& set = *stmts_->set_listed;
    set.Bind(1, static_cast<int64_t>(row.listed | (1u << m)))
        .BindBlob(2, row.digests)
        .Bind(3, static_cast<int64_t>(*found));
    Keep(set.Run());
    set.Reset();
    return;
  }
  sql::Stmt& add = *stmts_->tail_add;
  add.Bind(1, static_cast<int64_t>(next_id_++))
      .BindBlob(2, line.path)
      .Bind(3, static_cast<int64_t>(std::min<uint64_t>(line_no, UINT32_MAX)))
      .BindBlob(4, binary);
  Keep(add.Run());
  add.Reset();
}

void DiskManifestIndex::EndManifest(const bagit::BagitVersion& version, bagit::Report* report) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  int m = current_manifest();
  std::string padding(DigestOffset(m), '\0');
  sql::Stmt& scan = *stmts_->tail_scan;
  sql::Stmt& insert = *stmts_->insert;
  bool have_previous = false;  // an entry new in this manifest was added
  std::string previous_path, previous_digest;
  uint32_t previous_line = 0;
  while (true) {
    Result<bool> has = scan.Step();
    if (!has.ok()) Keep(has.status());
    if (!has.ok() || !*has) break;
    std::string path = scan.Blob(1);
    uint32_t line = static_cast<uint32_t>(scan.Int(2));
    std::string digest = scan.Blob(3);
    if (have_previous && path == previous_path) {
      ReportDuplicate(manifests()[m].file, path, previous_line, line, previous_digest == digest,
                      version, report);
      continue;
    }
    insert.Bind(1, scan.Int(0))
        .BindBlob(2, path)
        .Bind(3, static_cast<int64_t>(line))
        .Bind(4, static_cast<int64_t>(1u << m))
        .Bind(5, CollisionColumn(CollisionHash(path)))
        .BindBlob(6, padding + digest);
    Keep(insert.Run());
    insert.Reset();
    ++live_;
    have_previous = true;
    previous_path = std::move(path);
    previous_digest = std::move(digest);
    previous_line = line;
  }
  scan.Reset();
  Keep(stmts_->tail_clear->Run());
  stmts_->tail_clear->Reset();
}

size_t DiskManifestIndex::size() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return live_;
}

std::string DiskManifestIndex::path(EntryId id) const {
  Row row;
  ReadRow(id, &row);
  return row.path;
}

uint32_t DiskManifestIndex::listed_mask(EntryId id) const {
  Row row;
  return ReadRow(id, &row) ? row.listed : 0;
}

bool DiskManifestIndex::seen(EntryId id) const {
  Row row;
  return ReadRow(id, &row) && row.seen;
}

void DiskManifestIndex::MarkSeen(EntryId id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  sql::Stmt& mark = *stmts_->mark_seen;
  mark.Bind(1, static_cast<int64_t>(id));
  Keep(mark.Run());
  mark.Reset();
}

std::string DiskManifestIndex::HexDigest(EntryId id, Algorithm algorithm) const {
  Row row;
  if (!ReadRow(id, &row)) return "";
  for (int m = 0; m < manifest_count(); ++m) {
    if (manifest_algorithm(m) == algorithm && (row.listed & (1u << m))) {
      return BinaryToHex(RowDigest(row, m));
    }
  }
  return "";
}

std::vector<int> DiskManifestIndex::Mismatches(EntryId id, const bagit::Digests& computed) const {
  std::vector<int> bad;
  Row row;
  if (!ReadRow(id, &row)) return bad;
  for (int m = 0; m < manifest_count(); ++m) {
    if (!(row.listed & (1u << m))) continue;
    const std::string& hex = computed[manifest_algorithm(m)];
    if (hex.empty()) continue;
    if (HexToBinary(hex) != RowDigest(row, m)) bad.push_back(m);
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
  sql::Stmt& each = *stmts_->for_each;
  while (true) {
    Result<bool> has = each.Step();
    if (!has.ok()) Keep(has.status());
    if (!has.ok() || !*has) break;
    std::string path = each.Blob(1);
    fn(EntryView{static_cast<EntryId>(each.Int(0)), path, static_cast<uint32_t>(each.Int(2)),
                 each.Int(3) != 0});
  }
  each.Reset();
}

void DiskManifestIndex::ForEachCollisionCandidates(
    const std::function<void(const std::vector<EntryId>&)>& fn) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  sql::Stmt& scan = *stmts_->collisions;
  std::vector<EntryId> group;
  int64_t group_hash = 0;
  auto flush = [&] {
    if (group.size() > 1) fn(group);
    group.clear();
  };
  while (true) {
    Result<bool> has = scan.Step();
    if (!has.ok()) Keep(has.status());
    if (!has.ok() || !*has) break;
    int64_t hash = scan.Int(0);
    if (!group.empty() && hash != group_hash) flush();
    group_hash = hash;
    group.push_back(static_cast<EntryId>(scan.Int(1)));
  }
  flush();
  scan.Reset();
}

}  // namespace cairn::repo
