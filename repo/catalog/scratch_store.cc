// ScratchStore: the SQL of a deposit's scratch database (scratch_store.h).
#include "repo/catalog/scratch_store.h"

namespace cairn::repo {
namespace {

// Page cache of the scratch database (negative: KiB). Bounds its memory.
constexpr std::string_view kScratchPragmas =
    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
    "PRAGMA cache_size = -512; PRAGMA temp_store = FILE";
constexpr std::string_view kScratchSchema =
    "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, sha256 TEXT NOT NULL, "
    "created INTEGER NOT NULL, other_digests TEXT NOT NULL) WITHOUT ROWID; "
    "CREATE TABLE held (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, "
    "digests TEXT NOT NULL); "
    "CREATE TABLE created_twice (sha256 TEXT PRIMARY KEY) WITHOUT ROWID";

}  // namespace

Result<std::unique_ptr<ScratchStore>> ScratchStore::Open(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(sql::Db db, sql::Db::Open(path, true, 0));
  std::unique_ptr<ScratchStore> store(new ScratchStore(std::move(db)));
  CAIRN_RETURN_IF_ERROR(store->db_.Exec(kScratchPragmas));
  CAIRN_RETURN_IF_ERROR(store->db_.Exec(kScratchSchema));
  // One transaction for the whole deposit: rows spill to the file when the
  // page cache is full; nothing is ever committed (the file is thrown away).
  CAIRN_RETURN_IF_ERROR(store->db_.Exec("BEGIN"));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt insert,
                         store->db_.Prepare("INSERT INTO files (path, size, sha256, created, "
                                            "other_digests) VALUES (?, ?, ?, ?, ?)"));
  store->insert_.emplace(std::move(insert));
  return store;
}

ScratchStore::~ScratchStore() = default;

Status ScratchStore::AddFile(std::string_view path, uint64_t size, std::string_view sha256,
                             bool created, std::string_view other_digests) {
  sql::Stmt& insert = *insert_;
  insert.Reset();
  insert.Bind(1, path)
      .Bind(2, static_cast<int64_t>(size))
      .Bind(3, sha256)
      .Bind(4, int64_t{created ? 1 : 0})
      .Bind(5, other_digests.data() ? other_digests : std::string_view(""));  // never NULL
  Status inserted = insert.Run();
  if (inserted.IsAlreadyExists() && created) {
    // A path met twice (an archive's duplicate member) whose second copy made a blob: the
    // deposit is refused, and that blob must be taken back with the others.
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt * twice,
        sql::PrepareOnce(db_, &twice_, "INSERT OR IGNORE INTO created_twice (sha256) VALUES (?)"));
    twice->Bind(1, sha256);
    CAIRN_RETURN_IF_ERROR(twice->Run());
  }
  return inserted;
}

Status ScratchStore::ForEachFile(const std::function<Status(const ScratchFile&)>& fn, Order order) {
  // By digest: SQLite's sorter, which spills to temporary files past the
  // page cache (temp_store = FILE), so memory stays bounded.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt query,
      db_.Prepare(order == Order::kDigest
                      ? "SELECT path, size, sha256, other_digests FROM files ORDER BY sha256, path"
                      : "SELECT path, size, sha256, other_digests FROM files ORDER BY path"));
  ScratchFile file;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return Status::OK();
    file.path = query.Text(0);
    file.size = static_cast<uint64_t>(query.Int(1));
    file.sha256 = query.Text(2);
    file.other_digests = query.Text(3);
    CAIRN_RETURN_IF_ERROR(fn(file));
  }
}

Status ScratchStore::HoldPayload(std::string_view path, uint64_t size, std::string_view digests) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt * hold,
      sql::PrepareOnce(db_, &hold_, "INSERT INTO held (path, size, digests) VALUES (?, ?, ?)"));
  hold->Bind(1, path).Bind(2, static_cast<int64_t>(size)).Bind(3, digests);
  return hold->Run();
}

Status ScratchStore::ForEachHeld(
    const std::function<void(const std::string&, uint64_t, const std::string&)>& fn) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt query,
                         db_.Prepare("SELECT path, size, digests FROM held ORDER BY seq"));
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return Status::OK();
    fn(query.Text(0), static_cast<uint64_t>(query.Int(1)), query.Text(2));
  }
}

Status ScratchStore::RenameFile(std::string_view from, std::string_view to) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt rename, db_.Prepare("UPDATE files SET path = ? WHERE path = ?"));
  rename.Bind(1, to).Bind(2, from);
  return rename.Run();
}

Status ScratchStore::ForEachCreatedBlob(const std::function<void(const std::string&)>& fn) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt query,
                         db_.Prepare("SELECT sha256 FROM files WHERE created = 1 UNION "
                                     "SELECT sha256 FROM created_twice"));
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return Status::OK();
    fn(query.Text(0));
  }
}

}  // namespace cairn::repo
