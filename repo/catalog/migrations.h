// Schema migrations of the catalog: numbered SQL files
// (repo/catalog/migrations/NNNN_name.sql.inc) compiled into the binary. The
// schema version is SQLite's PRAGMA user_version.
#ifndef CAIRN_REPO_CATALOG_MIGRATIONS_H_
#define CAIRN_REPO_CATALOG_MIGRATIONS_H_

#include <span>
#include <string_view>

#include "bagit/status.h"
#include "repo/catalog/sqlite.h"

namespace cairn::repo {

struct Migration {
  int version;  // the user_version after it ran: 1, 2, ...
  std::string_view name;
  std::string_view sql;
  // The migration drops and remakes a table other tables refer to (the SQLite
  // way to change a column's constraints): it runs with foreign keys off, and
  // its transaction commits only if PRAGMA foreign_key_check then finds no row
  // pointing at a missing parent.
  bool rebuilds_referenced_table = false;
};

// Every migration this binary knows, in order, numbered from 1 without gaps.
std::span<const Migration> AllMigrations();
// The schema version this binary writes (the last migration's number).
int LatestSchemaVersion();

// Brings `db` up to LatestSchemaVersion(), each migration in its own
// transaction together with its user_version bump, so a crash leaves the
// catalog at a whole version. InvalidArgument naming both versions when the
// catalog is newer than this binary ("upgrade cairn"); the SQL error of the
// failing migration otherwise.
Status Migrate(sql::Db& db);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_MIGRATIONS_H_
