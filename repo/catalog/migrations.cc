// The migration list and the loop that applies it.
#include "repo/catalog/migrations.h"

#include <string>

namespace cairn::repo {
namespace {

// To add a migration: write migrations/NNNN_name.sql.inc (a raw string
// literal) and append it here. Never edit a migration that has shipped.
constexpr Migration kMigrations[] = {
    {
        1,
        "initial",
#include "repo/catalog/migrations/0001_initial.sql.inc"
    },
    {
        2,
        "audit_reports",
#include "repo/catalog/migrations/0002_audit_reports.sql.inc"
    },
    {
        3,
        "repository_id",
#include "repo/catalog/migrations/0003_repository_id.sql.inc"
    },
    {
        4,
        "witness_keys",
#include "repo/catalog/migrations/0004_witness_keys.sql.inc"
    },
    {
        5,
        "gc_candidates",
#include "repo/catalog/migrations/0005_gc_candidates.sql.inc"
    },
    {
        6,
        "unreadable_copies",
#include "repo/catalog/migrations/0006_unreadable_copies.sql.inc"
    },
    {
        7,
        "principals",
#include "repo/catalog/migrations/0007_principals.sql.inc"
    },
    {
        8,
        "withdrawals",
#include "repo/catalog/migrations/0008_withdrawals.sql.inc"
    },
    {
        9,
        "version_copies",
#include "repo/catalog/migrations/0009_version_copies.sql.inc"
    },
    {
        10,
        "blob_ids",
#include "repo/catalog/migrations/0010_blob_ids.sql.inc"
    },
    {
        11,
        "segment_checks",
#include "repo/catalog/migrations/0011_segment_checks.sql.inc"
    },
    {
        12,
        "version_copies_bulk",
#include "repo/catalog/migrations/0012_version_copies_bulk.sql.inc"
    },
    {
        13,
        "blob_digest_prefixes",
#include "repo/catalog/migrations/0013_blob_digest_prefixes.sql.inc"
        ,
        true,
    },
    {
        14,
        "blob_digest_tiers",
#include "repo/catalog/migrations/0014_blob_digest_tiers.sql.inc"
    },
    {
        15,
        "withdrawal_then_purge",
#include "repo/catalog/migrations/0015_withdrawal_then_purge.sql.inc"
    },
    {
        16,
        "settings_seen",
#include "repo/catalog/migrations/0016_settings_seen.sql.inc"
    },
    {
        17,
        "audit_run_owner",
#include "repo/catalog/migrations/0017_audit_run_owner.sql.inc"
    },
    {
        18,
        "objects_case_blind",
#include "repo/catalog/migrations/0018_objects_case_blind.sql.inc"
    },
    {
        19,
        "audit_repairs_begun",
#include "repo/catalog/migrations/0019_audit_repairs_begun.sql.inc"
    },
    {
        20,
        "audit_repairs_found",
#include "repo/catalog/migrations/0020_audit_repairs_found.sql.inc"
    },
    {
        21,
        "version_empty_folders",
#include "repo/catalog/migrations/0021_version_empty_folders.sql.inc"
    },
    {
        22,
        "settings_seen_values",
#include "repo/catalog/migrations/0022_settings_seen_values.sql.inc"
    },
    {
        23,
        "audit_finding_kinds",
#include "repo/catalog/migrations/0023_audit_finding_kinds.sql.inc"
    },
    {
        24,
        "audit_findings_open",
#include "repo/catalog/migrations/0024_audit_findings_open.sql.inc"
    },
    {
        25,
        "audit_findings_closed",
#include "repo/catalog/migrations/0025_audit_findings_closed.sql.inc"
    },
};

// Turns foreign keys off for its lifetime (outside any transaction: SQLite
// ignores the pragma inside one) and back on after.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sql::Db& db) : db_(db) {}
  Status Begin() {
    Status s = db_.Exec("PRAGMA foreign_keys = OFF");
    on_ = !s.ok();
    return s;
  }
  ~ForeignKeysOff() {
    if (!on_) (void)db_.Exec("PRAGMA foreign_keys = ON");
  }

 private:
  sql::Db& db_;
  bool on_ = true;
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Status Migrate(sql::Db& db) {
  CAIRN_ASSIGN_OR_RETURN(int64_t current, db.QueryInt("PRAGMA user_version"));
  if (current > LatestSchemaVersion()) {
    return Status::InvalidArgument("catalog " + db.path() + " has schema version " +
                                   std::to_string(current) +
                                   ", newer than this cairn understands (" +
                                   std::to_string(LatestSchemaVersion()) + "): upgrade cairn");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    ForeignKeysOff keys_off(db);
    if (m.rebuilds_referenced_table) CAIRN_RETURN_IF_ERROR(keys_off.Begin());
    CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db));
    // Another process may have migrated while we waited for the write lock.
    CAIRN_ASSIGN_OR_RETURN(int64_t now_at, db.QueryInt("PRAGMA user_version"));
    if (now_at >= m.version) continue;
    // A damaged catalog may already hold such rows (they are listed, and the
    // audit reports them): only new ones stop the migration.
    int64_t orphans_before = 0;
    if (m.rebuilds_referenced_table) {
      CAIRN_ASSIGN_OR_RETURN(orphans_before,
                             db.QueryInt("SELECT count(*) FROM pragma_foreign_key_check"));
    }
    Status s = db.Exec(m.sql);
    if (!s.ok()) {
      return s.WithContext("migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                           ")");
    }
    if (m.rebuilds_referenced_table) {
      CAIRN_ASSIGN_OR_RETURN(int64_t orphans,
                             db.QueryInt("SELECT count(*) FROM pragma_foreign_key_check"));
      if (orphans > orphans_before) {
        return Status::Corruption("migration " + std::to_string(m.version) + " (" +
                                  std::string(m.name) + ") would leave " +
                                  std::to_string(orphans - orphans_before) +
                                  " more rows pointing at a missing parent row; nothing was "
                                  "changed");
      }
    }
    CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(m.version)));
    CAIRN_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::OK();
}

}  // namespace cairn::repo
