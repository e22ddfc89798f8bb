// The sqlite3 C API behind Db, Stmt and Transaction.
#include "repo/catalog/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "repo/crash_point.h"
#include "repo/file_modes.h"

namespace cairn::repo::sql {

Result<Db> Db::Open(const std::string& path, bool create, int busy_timeout_ms) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  if (create && !path.empty() && path != ":memory:" && !path.starts_with("file:")) {
    // Made here with the folder's modes (0600, or 0660 in a group-shared
    // folder) whatever the umask: SQLite creates the -wal and -shm files with
    // the database file's own permissions, umask ignored.
    const size_t slash = path.rfind('/');
    const AccessModes modes =
        ModesInside(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, modes.file);
    if (fd >= 0) {
      FixFileMode(fd, modes.file);
      close(fd);
    } else if (errno != EEXIST) {
      return Status::FromErrno(errno, "create catalog", path);
    }
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw, path);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_CANTOPEN && !create) {
      return Status::NotFound("catalog " + path + " does not exist or cannot be opened");
    }
    return db.Error(rc, "open");
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  return db;
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::Error(int rc, std::string_view what) const {
  std::string msg =
      std::string(what) + " " + path_ + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg + " (the catalog is busy: retry)");
    case SQLITE_FULL:
      return Status::NoSpace(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Status::PermissionDenied(msg);
    case SQLITE_CANTOPEN:
      return Status::NotFound(msg);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(msg);
      }
      return Status::InvalidArgument(msg);
    default:
      return Status::IOError(msg);
  }
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, "exec on");
  return Status::OK();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Error(rc, "prepare on");
    return Status(s.code() == Code::kIOError ? Code::kInvalidArgument : s.code(),
                  s.message() + " in: " + std::string(sql));
  }
  return Stmt(this, stmt);
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  CAIRN_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql));
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no row from: " + std::string(sql));
  return stmt.Int(0);
}

int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Stmt::Check(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Stmt& Stmt::Bind(int index, int64_t value) {
  Check(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  Check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        index);
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  Check(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob must not bind as NULL: pass a valid pointer.
  static const char kEmpty = 0;
  Check(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                            SQLITE_TRANSIENT),
        index);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  Check(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Stmt::Step() {
  if (bind_error_ != 0) return db_->Error(bind_error_, "bind on");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->Error(sqlite3_extended_errcode(db_->raw()), "step on");
  sqlite3_reset(stmt_);
  return s;
}

Status Stmt::Run() {
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

void Stmt::Reset(bool clear_bindings) {
  sqlite3_reset(stmt_);
  if (clear_bindings) sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

int64_t Stmt::VmSteps() const { return sqlite3_stmt_status(stmt_, SQLITE_STMTSTATUS_VM_STEP, 0); }
double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

std::string Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<Stmt*> PrepareOnce(Db& db, std::optional<Stmt>* slot, std::string_view sql) {
  if (!*slot) {
    CAIRN_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql));
    slot->emplace(std::move(stmt));
  }
  (*slot)->Reset();
  return &**slot;
}

Result<Transaction> Transaction::Begin(Db& db) {
  CAIRN_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Transaction::~Transaction() { Rollback(); }

Status Transaction::Commit() {
  if (db_ == nullptr) return Status::InvalidArgument("transaction already finished");
  CrashPoint("catalog.before-commit");
  Status s = db_->Exec("COMMIT");
  if (s.ok()) db_ = nullptr;
  if (s.ok()) CrashPoint("catalog.after-commit");
  return s;
}

void Transaction::Rollback() {
  if (db_ == nullptr) return;
  (void)db_->Exec("ROLLBACK");
  db_ = nullptr;
}

NoBusyWait::NoBusyWait(Db& db) : db_(db) {
  Result<int64_t> ms = db_.QueryInt("PRAGMA busy_timeout");
  if (ms.ok() && db_.Exec("PRAGMA busy_timeout = 0").ok()) saved_ms_ = *ms;
}

NoBusyWait::~NoBusyWait() {
  if (ok()) (void)db_.Exec("PRAGMA busy_timeout = " + std::to_string(saved_ms_));
}

}  // namespace cairn::repo::sql
