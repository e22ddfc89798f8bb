// ManifestStore: the manifest index's tables (manifest_store.h).
#include "repo/catalog/manifest_store.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kIndexSchema =
    "CREATE TABLE mi_entry (id INTEGER PRIMARY KEY, path BLOB NOT NULL UNIQUE, "
    "line INTEGER NOT NULL, listed INTEGER NOT NULL, seen INTEGER NOT NULL, "
    "collision INTEGER NOT NULL, digests BLOB NOT NULL); "
    "CREATE TABLE mi_tail (seq INTEGER PRIMARY KEY, path BLOB NOT NULL, line INTEGER NOT NULL, "
    "digest BLOB NOT NULL)";

}  // namespace

struct ManifestStore::Statements {
  std::optional<sql::Stmt> find_entry, read, set_listed, mark_seen, tail_add, tail_scan, tail_clear,
      insert, for_each, collisions;
};

ManifestStore::ManifestStore(sql::Db* db) : db_(db), stmts_(std::make_unique<Statements>()) {}

ManifestStore::~ManifestStore() = default;

Result<std::unique_ptr<ManifestStore>> ManifestStore::Create(ScratchStore* scratch) {
  sql::Db* db = &scratch->db_;
  CAIRN_RETURN_IF_ERROR(db->Exec(kIndexSchema));
  std::unique_ptr<ManifestStore> store(new ManifestStore(db));
  Statements& s = *store->stmts_;
  auto prepare = [db](std::optional<sql::Stmt>* slot, std::string_view sql) -> Status {
    return sql::PrepareOnce(*db, slot, sql).status();
  };
  CAIRN_RETURN_IF_ERROR(
      prepare(&s.read, "SELECT path, line, listed, seen, digests FROM mi_entry WHERE id = ?"));
  CAIRN_RETURN_IF_ERROR(prepare(
      &s.find_entry, "SELECT path, line, listed, seen, digests, id FROM mi_entry WHERE path = ?"));
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
  return store;
}

namespace {

// Columns path, line, listed, seen, digests of `row` into *entry.
void EntryFromRow(const sql::Stmt& row, ManifestStore::Entry* entry) {
  entry->path = row.Blob(0);
  entry->line = static_cast<uint32_t>(row.Int(1));
  entry->listed = static_cast<uint32_t>(row.Int(2));
  entry->seen = row.Int(3) != 0;
  entry->digests = row.Blob(4);
}

}  // namespace

Result<bool> ManifestStore::Read(int64_t id, Entry* entry) {
  sql::Stmt& read = *stmts_->read;
  read.Bind(1, id);
  Result<bool> has = read.Step();
  const bool found = has.ok() && *has;
  if (found) EntryFromRow(read, entry);
  read.Reset();
  if (!has.ok()) return has.status();
  return found;
}

Result<std::optional<int64_t>> ManifestStore::FindEntry(std::string_view path, Entry* entry) {
  sql::Stmt& find = *stmts_->find_entry;
  find.BindBlob(1, path);
  Result<bool> has = find.Step();
  std::optional<int64_t> id;
  if (has.ok() && *has) {
    EntryFromRow(find, entry);
    id = find.Int(5);
  }
  find.Reset();
  if (!has.ok()) return has.status();
  return id;
}

Status ManifestStore::SetListed(int64_t id, uint32_t listed, std::string_view digests) {
  sql::Stmt& set = *stmts_->set_listed;
  set.Bind(1, static_cast<int64_t>(listed)).BindBlob(2, digests).Bind(3, id);
  Status s = set.Run();
  set.Reset();
  return s;
}

Status ManifestStore::MarkSeen(int64_t id) {
  sql::Stmt& mark = *stmts_->mark_seen;
  mark.Bind(1, id);
  Status s = mark.Run();
  mark.Reset();
  return s;
}

Status ManifestStore::AddTail(int64_t seq, std::string_view path, uint32_t line,
                              std::string_view digest) {
  sql::Stmt& add = *stmts_->tail_add;
  add.Bind(1, seq).BindBlob(2, path).Bind(3, static_cast<int64_t>(line)).BindBlob(4, digest);
  Status s = add.Run();
  add.Reset();
  return s;
}

Status ManifestStore::ForEachTail(
    const std::function<void(int64_t, std::string&, uint32_t, std::string&)>& fn) {
  sql::Stmt& scan = *stmts_->tail_scan;
  Status status;
  while (true) {
    Result<bool> has = scan.Step();
    if (!has.ok()) status = has.status();
    if (!has.ok() || !*has) break;
    std::string path = scan.Blob(1);
    std::string digest = scan.Blob(3);
    fn(scan.Int(0), path, static_cast<uint32_t>(scan.Int(2)), digest);
  }
  scan.Reset();
  return status;
}

Status ManifestStore::ClearTail() {
  Status s = stmts_->tail_clear->Run();
  stmts_->tail_clear->Reset();
  return s;
}

Status ManifestStore::InsertEntry(int64_t id, std::string_view path, uint32_t line, uint32_t listed,
                                  int64_t collision, std::string_view digests) {
  sql::Stmt& insert = *stmts_->insert;
  insert.Bind(1, id)
      .BindBlob(2, path)
      .Bind(3, static_cast<int64_t>(line))
      .Bind(4, static_cast<int64_t>(listed))
      .Bind(5, collision)
      .BindBlob(6, digests);
  Status s = insert.Run();
  insert.Reset();
  return s;
}

Status ManifestStore::ForEachEntry(
    const std::function<void(int64_t, const std::string&, uint32_t, bool)>& fn) {
  sql::Stmt& each = *stmts_->for_each;
  Status status;
  while (true) {
    Result<bool> has = each.Step();
    if (!has.ok()) status = has.status();
    if (!has.ok() || !*has) break;
    std::string path = each.Blob(1);
    fn(each.Int(0), path, static_cast<uint32_t>(each.Int(2)), each.Int(3) != 0);
  }
  each.Reset();
  return status;
}

Status ManifestStore::ForEachByCollision(const std::function<void(int64_t, int64_t)>& fn) {
  sql::Stmt& scan = *stmts_->collisions;
  Status status;
  while (true) {
    Result<bool> has = scan.Step();
    if (!has.ok()) status = has.status();
    if (!has.ok() || !*has) break;
    fn(scan.Int(0), scan.Int(1));
  }
  scan.Reset();
  return status;
}

}  // namespace cairn::repo
