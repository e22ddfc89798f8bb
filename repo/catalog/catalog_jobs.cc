// Catalog: the durable job queue (replication, repair, ...). A job row lives
// from Enqueue to Complete; a crash while it is leased only delays it until
// the next LeaseJobs sees that the holder's process is gone (or, failing
// that, until the lease expires).
#include <signal.h>

#include <algorithm>
#include <cerrno>

#include "repo/catalog/catalog.h"
#include "repo/catalog/dead_owner.h"

namespace cairn::repo {
namespace {

// Equal keys mean the same work: a blob copy to a site is the same whichever
// version asked for it.
std::string DedupKey(const proto::Job& job) {
  std::string key = proto::JobKind_Name(job.kind()) + "|";
  if (!job.blob().empty()) {
    key += "blob:" + job.blob();
  } else {
    key += job.partner() + "/" + job.object() + "@v" + std::to_string(job.version()) + "/" +
           job.tag_file();
  }
  return key + "|" + job.target_site();
}

// " AND ..." clauses for a filter, with parameters ?10..?13.
std::string FilterSql(const JobFilter& f) {
  std::string sql;
  if (f.kind) sql += " AND kind = ?10";
  if (f.partner) sql += " AND partner = ?11";
  if (f.object) sql += " AND object = ?12";
  if (f.target_site) sql += " AND target_site = ?13";
  return sql;
}

void BindFilter(sql::Stmt& stmt, const JobFilter& f) {
  if (f.kind) stmt.Bind(10, proto::JobKind_Name(*f.kind));
  if (f.partner) stmt.Bind(11, *f.partner);
  if (f.object) stmt.Bind(12, *f.object);
  if (f.target_site) stmt.Bind(13, *f.target_site);
}

constexpr std::string_view kJobColumns =
    "SELECT id, payload, state, attempts, next_try, last_error, lease_owner, lease_until "
    "FROM jobs WHERE 1 = 1";

Result<JobRecord> JobFromRow(const sql::Stmt& s) {
  JobRecord r;
  r.id = s.Int(0);
  if (!r.job.ParseFromString(s.Blob(1))) {
    return Status::Corruption("job " + std::to_string(r.id) + ": unreadable payload");
  }
  r.state = s.Text(2);
  r.job.set_attempts(static_cast<uint32_t>(s.Int(3)));
  r.job.set_next_try_unix_micros(s.Int(4));
  r.job.set_last_error(s.Text(5));
  r.lease_owner = s.Text(6);
  r.lease_until_micros = s.Int(7);
  return r;
}

}  // namespace

Result<int64_t> Catalog::EnqueueJob(const proto::Job& job) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(int64_t id, EnqueueJobLocked(job));
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return id;
}

Result<int64_t> Catalog::EnqueueJobLocked(const proto::Job& job) {
  if (job.kind() == proto::JOB_KIND_UNSPECIFIED) {
    return Status::InvalidArgument("enqueue: job kind is not set");
  }
  const int64_t now = clock_->NowMicros();
  const int64_t next_try = std::max(job.next_try_unix_micros(), now);
  const std::string key = DedupKey(job);
  proto::Job stored = job;
  stored.set_attempts(0);
  stored.clear_last_error();
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt insert,
      db_.Prepare("INSERT INTO jobs (kind, partner, object, target_site, dedup_key, payload, "
                  "next_try, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
                  "ON CONFLICT(dedup_key) DO UPDATE SET state = 'queued', attempts = 0, "
                  "next_try = ?7, payload = ?6, last_error = '', lease_owner = '', "
                  "lease_until = 0, updated = ?8 WHERE jobs.state = 'failed'"));
  insert.Bind(1, proto::JobKind_Name(job.kind()))
      .Bind(2, job.partner())
      .Bind(3, job.object())
      .Bind(4, job.target_site())
      .Bind(5, key)
      .BindBlob(6, stored.SerializeAsString())
      .Bind(7, next_try)
      .Bind(8, now);
  CAIRN_RETURN_IF_ERROR(insert.Run());
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt find, db_.Prepare("SELECT id FROM jobs WHERE dedup_key = ?"));
  find.Bind(1, key);
  CAIRN_ASSIGN_OR_RETURN(bool row, find.Step());
  if (!row) return Status::IOError("enqueue: job " + key + " vanished");
  return find.Int(0);
}

Result<uint64_t> Catalog::EnqueueJobs(const std::vector<proto::Job>& jobs, bool revive_failed) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt find,
                         db_.Prepare("SELECT state FROM jobs WHERE dedup_key = ?1"));
  uint64_t queued = 0;
  for (const proto::Job& job : jobs) {
    find.Reset();
    find.Bind(1, DedupKey(job));
    CAIRN_ASSIGN_OR_RETURN(bool row, find.Step());
    const std::string state = row ? find.Text(0) : "";
    find.Reset();
    if (row && (state != "failed" || !revive_failed)) continue;
    CAIRN_RETURN_IF_ERROR(EnqueueJobLocked(job).status());
    ++queued;
  }
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return queued;
}

using catalog_internal::OwnerIsDead;

Result<std::vector<JobRecord>> Catalog::LeaseJobs(size_t max, int64_t lease_micros,
                                                  const std::string& owner,
                                                  const JobFilter& filter) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  {
    // Leases of killed processes end now: a rerun after a crash resumes at once.
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt owners,
                           db_.Prepare("SELECT DISTINCT lease_owner FROM jobs WHERE state = "
                                       "'leased' AND lease_until > ?1"));
    owners.Bind(1, now);
    std::vector<std::string> dead;
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool row, owners.Step());
      if (!row) break;
      std::string owner = owners.Text(0);
      if (owner != "" && OwnerIsDead(owner)) dead.push_back(std::move(owner));
    }
    for (const std::string& owner : dead) {
      CAIRN_ASSIGN_OR_RETURN(sql::Stmt end,
                             db_.Prepare("UPDATE jobs SET lease_until = ?1 WHERE state = "
                                         "'leased' AND lease_owner = ?2"));
      end.Bind(1, now).Bind(2, owner);
      CAIRN_RETURN_IF_ERROR(end.Run());
    }
  }
  std::string query(kJobColumns);
  query +=
      " AND ((state = 'queued' AND next_try <= ?1) OR (state = 'leased' AND lease_until <= ?1))" +
      FilterSql(filter) + " ORDER BY next_try, id LIMIT ?2";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt select, db_.Prepare(query));
  select.Bind(1, now).Bind(2, static_cast<int64_t>(max));
  BindFilter(select, filter);
  std::vector<JobRecord> leased;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    CAIRN_ASSIGN_OR_RETURN(JobRecord r, JobFromRow(select));
    leased.push_back(std::move(r));
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt update,
      db_.Prepare("UPDATE jobs SET state = 'leased', lease_owner = ?, lease_until = ?, "
                  "updated = ? WHERE id = ?"));
  for (JobRecord& r : leased) {
    update.Reset();
    update.Bind(1, owner).Bind(2, now + lease_micros).Bind(3, now).Bind(4, r.id);
    CAIRN_RETURN_IF_ERROR(update.Run());
    r.state = "leased";
    r.lease_owner = owner;
    r.lease_until_micros = now + lease_micros;
  }
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return leased;
}

Status Catalog::CompleteJob(int64_t id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("DELETE FROM jobs WHERE id = ?"));
  stmt.Bind(1, id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no job " + std::to_string(id) + " in the queue");
  return Status::OK();
}

Status Catalog::FailJob(int64_t id, const Status& error) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt get, db_.Prepare("SELECT attempts FROM jobs WHERE id = ?"));
  get.Bind(1, id);
  CAIRN_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return Status::NotFound("no job " + std::to_string(id) + " in the queue");
  const uint32_t attempts = static_cast<uint32_t>(get.Int(0)) + 1;
  const bool give_up = !error.retryable() || attempts >= backoff_.max_attempts;
  int64_t delay = backoff_.base_micros;
  for (uint32_t i = 1; i < attempts && delay < backoff_.max_micros; ++i) delay *= 2;
  delay = std::min(delay, backoff_.max_micros);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt update,
      db_.Prepare("UPDATE jobs SET state = ?, attempts = ?, next_try = ?, last_error = ?, "
                  "lease_owner = '', lease_until = 0, updated = ? WHERE id = ?"));
  update.Bind(1, give_up ? "failed" : "queued")
      .Bind(2, int64_t{attempts})
      .Bind(3, give_up ? now : now + delay)
      .Bind(4, error.ToString())
      .Bind(5, now)
      .Bind(6, id);
  return update.Run();
}

Status Catalog::ReleaseJob(int64_t id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("UPDATE jobs SET state = 'queued', lease_owner = '', "
                                     "lease_until = 0, updated = ?1 WHERE id = ?2"));
  stmt.Bind(1, clock_->NowMicros()).Bind(2, id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no job " + std::to_string(id) + " in the queue");
  return Status::OK();
}

Result<uint64_t> Catalog::RetryJobsNow(const JobFilter& filter) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE jobs SET state = 'queued', attempts = 0, next_try = ?1, updated = ?1 "
                  "WHERE state IN ('queued', 'failed')" +
                  FilterSql(filter)));
  stmt.Bind(1, clock_->NowMicros());
  BindFilter(stmt, filter);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return static_cast<uint64_t>(db_.Changes());
}

Result<uint64_t> Catalog::MakeQueuedJobsDueNow(const JobFilter& filter,
                                               std::string_view error_prefix) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("UPDATE jobs SET next_try = ?1, updated = ?1 "
                                                     "WHERE state = 'queued' AND next_try > ?1 "
                                                     "AND substr(last_error, 1, length(?2)) = ?2" +
                                                     FilterSql(filter)));
  stmt.Bind(1, clock_->NowMicros());
  stmt.Bind(2, error_prefix);
  BindFilter(stmt, filter);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return static_cast<uint64_t>(db_.Changes());
}

Result<JobCounts> Catalog::CountJobs(const JobFilter& filter) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT state, COUNT(*) FROM jobs WHERE 1 = 1" +
                                     FilterSql(filter) + " GROUP BY state"));
  BindFilter(stmt, filter);
  JobCounts counts;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const std::string state = stmt.Text(0);
    const uint64_t n = static_cast<uint64_t>(stmt.Int(1));
    if (state == "queued") counts.queued = n;
    if (state == "leased") counts.leased = n;
    if (state == "failed") counts.failed = n;
  }
  return counts;
}

Result<std::vector<JobRecord>> Catalog::ListJobs(const JobFilter& filter) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(std::string(kJobColumns) + FilterSql(filter) +
                                                     " ORDER BY next_try, id"));
  BindFilter(stmt, filter);
  std::vector<JobRecord> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    CAIRN_ASSIGN_OR_RETURN(JobRecord r, JobFromRow(stmt));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cairn::repo
