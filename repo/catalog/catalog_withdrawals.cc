// Catalog: withdrawals, the keys a purge still removes, and legal holds (tables withdrawals,
// purge_keys and holds, migration 8; issue 18). The rules are repo/withdraw/'s.
#include <array>
#include <random>

#include "bagit/time_text.h"
#include "repo/catalog/catalog.h"
#include "repo/site_layout.h"
#include "repo/test_hooks.h"

namespace cairn::repo {
namespace {

constexpr std::array<std::pair<WithdrawalState, std::string_view>, 6> kStateNames = {{
    {WithdrawalState::kRequested, "requested"},
    {WithdrawalState::kWithdrawn, "withdrawn"},
    {WithdrawalState::kCancelled, "cancelled"},
    {WithdrawalState::kPurging, "purging"},
    {WithdrawalState::kWaitingRetention, "waiting-retention"},
    {WithdrawalState::kPurged, "purged"},
}};

constexpr std::string_view kWithdrawalColumns =
    "id, partner, object, version, reason, purge, state, requested_by, requested_role, "
    "requested, approved_by, approved_role, approved, cancelled_by, cancelled, purged, detail";

WithdrawalRecord ReadWithdrawal(const sql::Stmt& s) {
  WithdrawalRecord w;
  w.id = s.Int(0);
  w.partner = s.Text(1);
  w.object = s.Text(2);
  w.version = static_cast<uint32_t>(s.Int(3));
  w.reason = s.Text(4);
  w.purge = s.Int(5) != 0;
  w.state = ParseWithdrawalState(s.Text(6)).value_or(WithdrawalState::kRequested);
  w.requested_by = s.Text(7);
  w.requested_role = s.Text(8);
  w.requested_micros = s.Int(9);
  w.approved_by = s.Text(10);
  w.approved_role = s.Text(11);
  w.approved_micros = s.Int(12);
  w.cancelled_by = s.Text(13);
  w.cancelled_micros = s.Int(14);
  w.purged_micros = s.Int(15);
  w.detail = s.Text(16);
  return w;
}

constexpr std::string_view kHoldColumns =
    "id, partner, object, reason, added_by, added_role, added, removal_requested_by, "
    "removal_requested_role, removal_requested, removed_by, removed_role, removed";

HoldRecord ReadHold(const sql::Stmt& s) {
  return HoldRecord{s.Int(0),  s.Text(1), s.Text(2), s.Text(3),  s.Text(4),  s.Text(5), s.Int(6),
                    s.Text(7), s.Text(8), s.Int(9),  s.Text(10), s.Text(11), s.Int(12)};
}

Status RunInt(sql::Db& db, std::string_view query, int64_t value) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare(query));
  stmt.Bind(1, value);
  return stmt.Run();
}

// The number of a new withdrawal or hold (`table`): drawn uniformly from kFirstNumber ..
// kLastNumber, again while a row of `table` (cancelled, removed and purged ones included) or
// `taken` (what the sites record) has it. Numbers are not a sequence: the next integer after
// the repository's last told a partner how many withdrawals and holds the others had made
// since its own. Called inside the transaction that inserts the row. With the test hook
// $CAIRN_SEQUENTIAL_NUMBERS, the next integer past every number in use (the tests' "1, 2, 3").
constexpr int64_t kFirstNumber = 100000;
constexpr int64_t kLastNumber = 99999999;

Result<int64_t> FreeNumber(sql::Db& db, std::string_view table, const std::set<int64_t>& taken) {
  if (test_hooks::SequentialNumbers()) {
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt max,
                           db.Prepare("SELECT coalesce(max(id), 0) FROM " + std::string(table)));
    CAIRN_ASSIGN_OR_RETURN(bool row, max.Step());
    int64_t highest = row ? max.Int(0) : 0;
    if (!taken.empty()) highest = std::max(highest, *taken.rbegin());
    return highest + 1;
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt used,
                         db.Prepare("SELECT 1 FROM " + std::string(table) + " WHERE id = ?"));
  std::random_device random;  // the kernel's: a partner cannot foresee the next one either
  std::uniform_int_distribution<int64_t> draw(kFirstNumber, kLastNumber);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int64_t n = draw(random);
    if (taken.contains(n)) continue;
    used.Reset();
    used.Bind(1, n);
    CAIRN_ASSIGN_OR_RETURN(bool row, used.Step());
    if (!row) return n;
  }
  return Status::Unavailable("no free number for a new row of " + std::string(table));
}

}  // namespace

std::string_view WithdrawalStateName(WithdrawalState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<WithdrawalState> ParseWithdrawalState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsWithdrawn(WithdrawalState state) {
  return state != WithdrawalState::kRequested && state != WithdrawalState::kCancelled;
}

Result<int64_t> Catalog::AddWithdrawal(const WithdrawalRecord& w, const std::set<int64_t>& taken) {
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(GetPartner(w.partner).status());
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  // One withdrawal of a version, but for a purge asked after an approved withdrawal without
  // one (which stays as it was: its tombstone says "Purge: no").
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt open, db_.Prepare("SELECT id, state, purge FROM withdrawals WHERE partner = ? AND "
                                  "object = ? AND version = ? AND state <> 'cancelled' "
                                  "ORDER BY id"));
  open.Bind(1, w.partner).Bind(2, w.object).Bind(3, static_cast<int64_t>(w.version));
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool found, open.Step());
    if (!found) break;
    const bool approved_keeping_bytes = open.Text(1) != "requested" && open.Int(2) == 0;
    if (w.purge && approved_keeping_bytes) continue;
    return Status::AlreadyExists(w.VersionName() + " already has withdrawal " +
                                 std::to_string(open.Int(0)) + " (" + open.Text(1) +
                                 (open.Int(2) ? ", with purge" : "") + ")");
  }
  CAIRN_ASSIGN_OR_RETURN(const int64_t id, FreeNumber(db_, "withdrawals", taken));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO withdrawals (id, partner, object, version, reason, purge, state, "
                  "requested_by, requested_role, requested) VALUES (?9, ?1, ?2, ?3, ?4, ?5, "
                  "'requested', ?6, ?7, ?8)"));
  stmt.Bind(1, w.partner)
      .Bind(2, w.object)
      .Bind(3, static_cast<int64_t>(w.version))
      .Bind(4, w.reason)
      .Bind(5, int64_t{w.purge ? 1 : 0})
      .Bind(6, w.requested_by)
      .Bind(7, w.requested_role)
      .Bind(8, w.requested_micros ? w.requested_micros : clock_->NowMicros())
      .Bind(9, id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<WithdrawalRecord> Catalog::GetWithdrawal(int64_t id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT " + std::string(kWithdrawalColumns) +
                                                     " FROM withdrawals WHERE id = ?"));
  stmt.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no withdrawal " + std::to_string(id));
  return ReadWithdrawal(stmt);
}

Result<std::vector<WithdrawalRecord>> Catalog::ListWithdrawals(const std::string& partner) {
  std::lock_guard lock(mu_);
  std::string query = "SELECT " + std::string(kWithdrawalColumns) + " FROM withdrawals ";
  if (!partner.empty()) query += "WHERE partner = ? ";
  query += "ORDER BY id";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  if (!partner.empty()) stmt.Bind(1, partner);
  std::vector<WithdrawalRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadWithdrawal(stmt));
  }
  return out;
}

Result<std::optional<WithdrawalRecord>> Catalog::WithdrawalOf(const std::string& partner,
                                                              const std::string& object,
                                                              uint32_t version) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT " + std::string(kWithdrawalColumns) +
                  " FROM withdrawals WHERE partner = ? AND object = ? AND version = ? AND "
                  "state NOT IN ('requested', 'cancelled') ORDER BY id DESC LIMIT 1"));
  stmt.Bind(1, partner).Bind(2, object).Bind(3, static_cast<int64_t>(version));
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<WithdrawalRecord>();
  return std::optional<WithdrawalRecord>(ReadWithdrawal(stmt));
}

Status Catalog::UpdateWithdrawal(const WithdrawalRecord& w, WithdrawalState expected,
                                 std::vector<proto::Event> events) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE withdrawals SET state = ?, approved_by = ?, approved_role = ?, "
                  "approved = ?, cancelled_by = ?, cancelled = ?, purged = ?, detail = ? "
                  "WHERE id = ? AND state = ?"));
  stmt.Bind(1, WithdrawalStateName(w.state))
      .Bind(2, w.approved_by)
      .Bind(3, w.approved_role)
      .Bind(4, w.approved_micros)
      .Bind(5, w.cancelled_by)
      .Bind(6, w.cancelled_micros)
      .Bind(7, w.purged_micros)
      .Bind(8, w.detail)
      .Bind(9, w.id)
      .Bind(10, WithdrawalStateName(expected));
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 1) {
    if (!events.empty()) CAIRN_RETURN_IF_ERROR(AppendEventsLocked(events).status());
    return tx.Commit();
  }
  tx.Rollback();
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord now, GetWithdrawal(w.id));
  return Status::InvalidArgument("withdrawal " + std::to_string(w.id) + " of " + now.VersionName() +
                                 " is " + std::string(WithdrawalStateName(now.state)) + ", not " +
                                 std::string(WithdrawalStateName(expected)));
}

Status Catalog::RestoreWithdrawal(const WithdrawalRecord& w) {
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(GetPartner(w.partner).status());
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT OR IGNORE INTO withdrawals (" + std::string(kWithdrawalColumns) +
                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, w.id)
      .Bind(2, w.partner)
      .Bind(3, w.object)
      .Bind(4, static_cast<int64_t>(w.version))
      .Bind(5, w.reason)
      .Bind(6, int64_t{w.purge ? 1 : 0})
      .Bind(7, WithdrawalStateName(w.state))
      .Bind(8, w.requested_by)
      .Bind(9, w.requested_role)
      .Bind(10, w.requested_micros)
      .Bind(11, w.approved_by)
      .Bind(12, w.approved_role)
      .Bind(13, w.approved_micros)
      .Bind(14, w.cancelled_by)
      .Bind(15, w.cancelled_micros)
      .Bind(16, w.purged_micros)
      .Bind(17, w.detail);
  return stmt.Run();
}

Status Catalog::BeginPurge(int64_t withdrawal_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord w, GetWithdrawal(withdrawal_id));
  if (w.state != WithdrawalState::kWithdrawn) {
    if (w.state == WithdrawalState::kPurging || w.state == WithdrawalState::kWaitingRetention ||
        w.state == WithdrawalState::kPurged) {
      return Status::OK();
    }
    return Status::InvalidArgument("withdrawal " + std::to_string(w.id) + " of " + w.VersionName() +
                                   " is " + std::string(WithdrawalStateName(w.state)) +
                                   ": only an approved withdrawal is purged");
  }
  if (!w.purge) {
    return Status::InvalidArgument("withdrawal " + std::to_string(w.id) + " of " + w.VersionName() +
                                   " keeps the bytes (asked without --purge)");
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt find,
                         db_.Prepare("SELECT id FROM versions WHERE partner = ? AND object = ? "
                                     "AND version = ?"));
  find.Bind(1, w.partner).Bind(2, w.object).Bind(3, static_cast<int64_t>(w.version));
  CAIRN_ASSIGN_OR_RETURN(bool has_version, find.Step());
  if (has_version) {
    const int64_t vid = find.Int(0);
    find.Reset();
    // Its tag files (version.pb included) on every site of the repository, not only those with
    // a replica row: a site may hold a copy the catalog does not count (a catalog rebuilt from
    // another site knows only that site's copies until `replicate` runs).
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt tags,
        db_.Prepare("SELECT s.id, t.name, t.size FROM tag_files t CROSS JOIN sites s "
                    "WHERE t.version_id = ?"));
    // Its blobs that no file of another version names, on every site likewise.
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt blobs,
        db_.Prepare("SELECT DISTINCT s.id, b.sha256, b.size FROM files f "
                    "JOIN blobs b ON b.id = f.blob_id CROSS JOIN sites s "
                    "WHERE f.version_id = ?1 AND NOT EXISTS (SELECT 1 FROM files o WHERE "
                    "o.blob_id = f.blob_id AND o.version_id <> ?1)"));
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt add,
                           db_.Prepare("INSERT OR IGNORE INTO purge_keys (withdrawal_id, site_id, "
                                       "key, sha256, size) VALUES (?, ?, ?, ?, ?)"));
    tags.Bind(1, vid);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool row, tags.Step());
      if (!row) break;
      add.Bind(1, w.id)
          .Bind(2, tags.Int(0))
          .Bind(3, layout::TagFileKey(w.partner, w.object, w.version, tags.Text(1)))
          .Bind(4, "")
          .Bind(5, tags.Int(2));
      CAIRN_RETURN_IF_ERROR(add.Run());
      add.Reset();
    }
    blobs.Bind(1, vid);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool row, blobs.Step());
      if (!row) break;
      add.Bind(1, w.id)
          .Bind(2, blobs.Int(0))
          .Bind(3, layout::BlobKey(blobs.Text(1)))
          .Bind(4, blobs.Text(1))
          .Bind(5, blobs.Int(2));
      CAIRN_RETURN_IF_ERROR(add.Run());
      add.Reset();
    }
    // The rows go, children first. A blob row goes when no file names it any more.
    CAIRN_RETURN_IF_ERROR(
        RunInt(db_,
               "DELETE FROM replicas WHERE tag_file_id IN (SELECT id FROM tag_files WHERE "
               "version_id = ?)",
               vid));
    CAIRN_RETURN_IF_ERROR(RunInt(db_, "DELETE FROM tag_files WHERE version_id = ?", vid));
    CAIRN_RETURN_IF_ERROR(
        RunInt(db_, "DELETE FROM version_empty_folders WHERE version_id = ?", vid));
    CAIRN_RETURN_IF_ERROR(
        db_.Exec("CREATE TEMP TABLE IF NOT EXISTS purge_blob_ids (blob_id INTEGER PRIMARY KEY)"));
    CAIRN_RETURN_IF_ERROR(db_.Exec("DELETE FROM temp.purge_blob_ids"));
    CAIRN_RETURN_IF_ERROR(RunInt(db_,
                                 "INSERT OR IGNORE INTO temp.purge_blob_ids SELECT blob_id FROM "
                                 "files WHERE version_id = ?",
                                 vid));
    CAIRN_RETURN_IF_ERROR(RunInt(db_, "DELETE FROM files WHERE version_id = ?", vid));
    const char* kUnreferenced =
        "SELECT blob_id FROM temp.purge_blob_ids p WHERE NOT EXISTS (SELECT 1 FROM files f "
        "WHERE f.blob_id = p.blob_id)";
    CAIRN_RETURN_IF_ERROR(
        db_.Exec(std::string("DELETE FROM replicas WHERE blob_id IN (") + kUnreferenced + ")"));
    CAIRN_RETURN_IF_ERROR(
        db_.Exec(std::string("DELETE FROM blobs WHERE id IN (") + kUnreferenced + ")"));
    CAIRN_RETURN_IF_ERROR(db_.Exec("DELETE FROM temp.purge_blob_ids"));
    CAIRN_RETURN_IF_ERROR(RunInt(db_, "DELETE FROM versions WHERE id = ?", vid));
    // Queued copies, repairs and checks of the version go with it: nothing would be left for
    // them to copy, and a job that can never succeed only fills `jobs` with failures.
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt jobs,
        db_.Prepare("SELECT id, payload FROM jobs WHERE partner = ? AND object = ? AND kind IN "
                    "('JOB_KIND_REPLICATE', 'JOB_KIND_REPAIR', 'JOB_KIND_VERIFY')"));
    jobs.Bind(1, w.partner).Bind(2, w.object);
    std::vector<int64_t> stale;
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool row, jobs.Step());
      if (!row) break;
      proto::Job job;
      if (job.ParseFromString(jobs.Blob(1)) && job.version() == w.version) {
        stale.push_back(jobs.Int(0));
      }
    }
    for (int64_t job_id : stale) {
      CAIRN_RETURN_IF_ERROR(RunInt(db_, "DELETE FROM jobs WHERE id = ?", job_id));
    }
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt object,
        db_.Prepare("DELETE FROM objects WHERE partner = ? AND object = ? AND NOT EXISTS "
                    "(SELECT 1 FROM versions v WHERE v.partner = ?1 AND v.object = ?2)"));
    object.Bind(1, w.partner).Bind(2, w.object);
    CAIRN_RETURN_IF_ERROR(object.Run());
  }
  CAIRN_RETURN_IF_ERROR(RunInt(
      db_, "UPDATE withdrawals SET state = 'purging' WHERE id = ? AND state = 'withdrawn'", w.id));
  return tx.Commit();
}

Result<std::vector<PurgeKey>> Catalog::ListPurgeKeys(int64_t withdrawal_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT s.name, p.key, p.sha256, p.size FROM purge_keys p JOIN sites s ON "
                  "s.id = p.site_id WHERE p.withdrawal_id = ? ORDER BY s.name, p.key"));
  stmt.Bind(1, withdrawal_id);
  std::vector<PurgeKey> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), static_cast<uint64_t>(stmt.Int(3))});
  }
  return out;
}

Status Catalog::RemovePurgeKey(int64_t withdrawal_id, const std::string& site,
                               const std::string& key) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("DELETE FROM purge_keys WHERE withdrawal_id = ? AND site_id = ? AND key = ?"));
  stmt.Bind(1, withdrawal_id).Bind(2, site_id).Bind(3, key);
  return stmt.Run();
}

Result<int64_t> Catalog::AddHold(const HoldRecord& h, const std::set<int64_t>& taken) {
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(GetPartner(h.partner).status());
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(std::optional<HoldRecord> on, HoldOn(h.partner, h.object));
  if (on) {
    return Status::AlreadyExists(h.partner + "/" + h.object + " is already on hold (hold " +
                                 std::to_string(on->id) + ")");
  }
  CAIRN_ASSIGN_OR_RETURN(const int64_t id, FreeNumber(db_, "holds", taken));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO holds (id, partner, object, reason, added_by, added_role, added) "
                  "VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6)"));
  stmt.Bind(1, h.partner)
      .Bind(2, h.object)
      .Bind(3, h.reason)
      .Bind(4, h.added_by)
      .Bind(5, h.added_role)
      .Bind(6, h.added_micros ? h.added_micros : clock_->NowMicros())
      .Bind(7, id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<std::optional<HoldRecord>> Catalog::HoldOn(const std::string& partner,
                                                  const std::string& object) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT " + std::string(kHoldColumns) +
                                     " FROM holds WHERE partner = ? AND object = ? AND "
                                     "removed = 0"));
  stmt.Bind(1, partner).Bind(2, object);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<HoldRecord>();
  return std::optional<HoldRecord>(ReadHold(stmt));
}

Result<std::vector<HoldRecord>> Catalog::ListHolds(const std::string& partner) {
  std::lock_guard lock(mu_);
  std::string query = "SELECT " + std::string(kHoldColumns) + " FROM holds ";
  if (!partner.empty()) query += "WHERE partner = ? ";
  query += "ORDER BY id";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  if (!partner.empty()) stmt.Bind(1, partner);
  std::vector<HoldRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadHold(stmt));
  }
  return out;
}

Status Catalog::UpdateHold(const HoldRecord& h) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE holds SET removal_requested_by = ?, removal_requested_role = ?, "
                  "removal_requested = ?, removed_by = ?, removed_role = ?, removed = ? "
                  "WHERE id = ? AND removed = 0"));
  stmt.Bind(1, h.removal_requested_by)
      .Bind(2, h.removal_requested_role)
      .Bind(3, h.removal_requested_micros)
      .Bind(4, h.removed_by)
      .Bind(5, h.removed_role)
      .Bind(6, h.removed_micros)
      .Bind(7, h.id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() != 1) {
    return Status::NotFound("hold " + std::to_string(h.id) + " is not on any more");
  }
  return Status::OK();
}

Status Catalog::RestoreHold(const HoldRecord& h) {
  std::lock_guard lock(mu_);
  CAIRN_RETURN_IF_ERROR(GetPartner(h.partner).status());
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO holds (id, partner, object, reason, added_by, added_role, added, "
                  "removal_requested_by, removal_requested_role, removal_requested, removed_by, "
                  "removed_role, removed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                  "?12, ?13) ON CONFLICT(id) DO UPDATE SET removal_requested_by = ?8, "
                  "removal_requested_role = ?9, removal_requested = ?10, removed_by = ?11, "
                  "removed_role = ?12, removed = ?13 WHERE holds.removed = 0"));
  stmt.Bind(1, h.id)
      .Bind(2, h.partner)
      .Bind(3, h.object)
      .Bind(4, h.reason)
      .Bind(5, h.added_by)
      .Bind(6, h.added_role)
      .Bind(7, h.added_micros)
      .Bind(8, h.removal_requested_by)
      .Bind(9, h.removal_requested_role)
      .Bind(10, h.removal_requested_micros)
      .Bind(11, h.removed_by)
      .Bind(12, h.removed_role)
      .Bind(13, h.removed_micros);
  return stmt.Run();
}

Status Catalog::RefuseIfWithdrawn(const std::string& partner, const std::string& object,
                                  uint32_t version) {
  std::optional<WithdrawalRecord> w;
  if (version == 0) {
    std::lock_guard lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt stmt,
        db_.Prepare("SELECT " + std::string(kWithdrawalColumns) +
                    " FROM withdrawals WHERE partner = ? AND object = ? AND state NOT IN "
                    "('requested', 'cancelled') ORDER BY version DESC, id DESC LIMIT 1"));
    stmt.Bind(1, partner).Bind(2, object);
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) w = ReadWithdrawal(stmt);
  } else {
    CAIRN_ASSIGN_OR_RETURN(w, WithdrawalOf(partner, object, version));
  }
  if (!w) return Status::OK();
  // A purge asked after a withdrawal without one: withdrawn since the first's approval.
  std::optional<WithdrawalRecord> first;
  if (w->purge) {
    std::lock_guard lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt stmt,
        db_.Prepare("SELECT " + std::string(kWithdrawalColumns) +
                    " FROM withdrawals WHERE partner = ? AND object = ? AND version = ? AND "
                    "id < ? AND purge = 0 AND state NOT IN ('requested', 'cancelled') "
                    "ORDER BY id LIMIT 1"));
    stmt.Bind(1, partner).Bind(2, object).Bind(3, static_cast<int64_t>(w->version)).Bind(4, w->id);
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) first = ReadWithdrawal(stmt);
  }
  auto which = [](const WithdrawalRecord& r) {
    return "withdrawal " + std::to_string(r.id) + ", " + std::string(WithdrawalStateName(r.state)) +
           ": " + r.reason;
  };
  return Status::Withdrawn(w->VersionName() + " is withdrawn since " +
                           FormatUtc(first ? first->approved_micros : w->approved_micros) + " (" +
                           (first ? which(*first) + "; " : std::string()) + which(*w) + ")");
}

}  // namespace cairn::repo
