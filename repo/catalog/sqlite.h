// A small RAII layer over the sqlite3 C API: a connection (Db), prepared
// statements (Stmt) and transactions (Transaction). Every failure becomes a
// Status naming the database file and SQLite's message; nothing throws.
//
// Error mapping: SQLITE_BUSY/LOCKED -> Unavailable (retryable), SQLITE_FULL ->
// NoSpace, SQLITE_CORRUPT/NOTADB -> Corruption, UNIQUE/PRIMARY KEY constraint
// -> AlreadyExists, other constraints -> InvalidArgument, the rest -> IOError.
#ifndef CAIRN_REPO_CATALOG_SQLITE_H_
#define CAIRN_REPO_CATALOG_SQLITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bagit/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cairn::repo::sql {

class Stmt;

// One connection. Movable, not copyable; closes on destruction.
class Db {
 public:
  // Opens (creating when `create` is true) the database file at `path` with
  // foreign keys on and the given busy timeout. NotFound if it does not exist
  // and `create` is false.
  static Result<Db> Open(const std::string& path, bool create, int busy_timeout_ms);

  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more ';'-separated statements that return no rows needed.
  Status Exec(std::string_view sql);
  // Compiles one statement. InvalidArgument (with the SQL) if it does not compile.
  Result<Stmt> Prepare(std::string_view sql);
  // The single integer a query such as "PRAGMA user_version" returns.
  Result<int64_t> QueryInt(std::string_view sql);

  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

  // The Status for the connection's last error `rc`, prefixed with `what`.
  Status Error(int rc, std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement. Bind indexes are 1-based, column indexes 0-based (as
// in SQLite). Text and blobs are copied by SQLite at bind time.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Stmt& Bind(int index, double value);
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindNull(int index);

  // Advances: true when a row is available, false when done. A bind error
  // recorded earlier is returned here.
  Result<bool> Step();
  // Steps until done (for statements that return no rows).
  Status Run();
  // Makes the statement ready to run again; bindings are kept unless cleared.
  void Reset(bool clear_bindings = true);

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const;

  // Virtual machine steps run since the statement was prepared
  // (SQLITE_STMTSTATUS_VM_STEP): grows with the rows a plan visits, whether
  // by a table scan or through an index.
  int64_t VmSteps() const;

 private:
  friend class Db;
  Stmt(const Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void Check(int rc, int index);
  const Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = 0;
};

// A statement kept for reuse in `*slot`: compiled by `db` on first use, then
// reset (bindings cleared) on every call. Returns the statement in the slot.
Result<Stmt*> PrepareOnce(Db& db, std::optional<Stmt>* slot, std::string_view sql);

// BEGIN IMMEDIATE on construction (so a writer waits for the lock up front,
// never fails half way with SQLITE_BUSY), ROLLBACK on destruction unless
// Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  Status Commit();
  // Rolls back now; safe to call more than once.
  void Rollback();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_ = nullptr;
};

// For a best-effort write (a memo) that must never wait for another writer:
// the connection's busy timeout is 0 while this lives, then what it was.
// ok() is false when the timeout could not be read or set (write nothing then).
class NoBusyWait {
 public:
  explicit NoBusyWait(Db& db);
  ~NoBusyWait();
  NoBusyWait(const NoBusyWait&) = delete;
  NoBusyWait& operator=(const NoBusyWait&) = delete;
  bool ok() const { return saved_ms_ >= 0; }

 private:
  Db& db_;
  int64_t saved_ms_ = -1;
};

}  // namespace cairn::repo::sql

#endif  // CAIRN_REPO_CATALOG_SQLITE_H_
