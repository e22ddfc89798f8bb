// BatchWriter: replica rows, findings, audit_runs counts and the batch's events in one
// transaction; plus the small helpers of audit.h.
#include <cstdlib>

#include "audit/audit_internal.h"

namespace cairn::audit {

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kCorrupt:
      return "corrupt";
    case FindingKind::kMissing:
      return "missing";
    case FindingKind::kUnavailable:
      return "unavailable";
    case FindingKind::kDamaged:
      return "damaged";
    case FindingKind::kOrphan:
      return "orphan";
    case FindingKind::kNoCopy:
      return "no-copy";
    case FindingKind::kCatalogMismatch:
      return "catalog-mismatch";
    case FindingKind::kUnreadable:
      return "unreadable";
    case FindingKind::kUncataloged:
      return "uncataloged";
  }
  return "unknown";
}

bool AuditReport::HasProblems() const {
  return corrupt || missing || damaged || unavailable || unreadable || orphans || no_copy ||
         catalog_mismatch || uncataloged || records_missing || !busy_sites.empty() ||
         !unavailable_sites.empty();
}

namespace internal {

Status BatchWriter::Add(std::vector<ReplicaUpdate> updates, std::vector<Finding> findings,
                        std::vector<proto::Event> events, const AuditReport& d) {
  std::unique_lock<std::mutex> lock(mu_);
  for (ReplicaUpdate& u : updates) current_.updates.push_back(std::move(u));
  for (Finding& f : findings) current_.findings.push_back(std::move(f));
  for (proto::Event& e : events) current_.events.push_back(std::move(e));
  AuditReport& sum = current_.deltas;
  sum.checked += d.checked;
  sum.bytes += d.bytes;
  sum.corrupt += d.corrupt;
  sum.missing += d.missing;
  sum.unavailable += d.unavailable;
  sum.repaired += d.repaired;
  if (++checks_ < batch_size_) return Status::OK();
  Batch batch = TakeLocked();
  lock.unlock();
  return Write(batch);
}

Status BatchWriter::Flush() {
  Batch batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch = TakeLocked();
  }
  return Write(batch);
}

BatchWriter::Batch BatchWriter::TakeLocked() {
  checks_ = 0;
  Batch batch = std::move(current_);
  current_ = Batch{};
  return batch;
}

Status BatchWriter::Write(Batch& batch) {
  std::lock_guard<std::mutex> lock(write_mu_);
  const AuditReport& d = batch.deltas;
  if (batch.updates.empty() && batch.findings.empty() && batch.events.empty() &&
      d.unavailable == 0) {
    return Status::OK();
  }
  {
    CAIRN_ASSIGN_OR_RETURN(repo::sql::Transaction tx, repo::sql::Transaction::Begin(db_));
    CAIRN_ASSIGN_OR_RETURN(
        repo::sql::Stmt update,
        db_.Prepare("UPDATE replicas SET state = COALESCE(?1, state), next_due = ?2, "
                    "detail = ?3, last_verified = CASE WHEN ?4 < 0 THEN last_verified ELSE ?4 "
                    "END, read_failures = ?6 WHERE id = ?5"));
    // A good copy that was good before (nearly every check) leaves `state`
    // alone: setting it, even to the same value, re-evaluates the CHECK on
    // state (an ephemeral table per row for its IN list) and the index of
    // non-ok states. When no row changed, the full update runs.
    CAIRN_ASSIGN_OR_RETURN(
        repo::sql::Stmt still_ok,
        db_.Prepare("UPDATE replicas SET next_due = ?1, detail = ?2, last_verified = ?3, "
                    "read_failures = 0 WHERE id = ?4 AND state = 'ok'"));
    for (const ReplicaUpdate& u : batch.updates) {
      if (u.state == repo::ReplicaState::kOk && u.last_verified >= 0 && !u.keep_state) {
        still_ok.Bind(1, u.next_due)
            .Bind(2, u.detail)
            .Bind(3, u.last_verified)
            .Bind(4, u.replica_id);
        CAIRN_RETURN_IF_ERROR(still_ok.Run());
        still_ok.Reset();
        if (db_.Changes() > 0) continue;
      }
      if (u.keep_state) {
        update.BindNull(1);
      } else {
        update.Bind(1, repo::ReplicaStateName(u.state));
      }
      update.Bind(2, u.next_due)
          .Bind(3, u.detail)
          .Bind(4, u.last_verified)
          .Bind(5, u.replica_id)
          .Bind(6, u.read_failures);
      CAIRN_RETURN_IF_ERROR(update.Run());
      update.Reset();
    }
    CAIRN_ASSIGN_OR_RETURN(
        repo::sql::Stmt counts,
        db_.Prepare("UPDATE audit_runs SET checked = checked + ?1, bytes = bytes + ?2, "
                    "corrupt = corrupt + ?3, missing = missing + ?4, "
                    "unavailable = unavailable + ?5, repaired = repaired + ?6 WHERE id = ?7"));
    counts.Bind(1, static_cast<int64_t>(d.checked))
        .Bind(2, static_cast<int64_t>(d.bytes))
        .Bind(3, static_cast<int64_t>(d.corrupt))
        .Bind(4, static_cast<int64_t>(d.missing))
        .Bind(5, static_cast<int64_t>(d.unavailable))
        .Bind(6, static_cast<int64_t>(d.repaired))
        .Bind(7, run_id_);
    CAIRN_RETURN_IF_ERROR(counts.Run());
    CAIRN_RETURN_IF_ERROR(InsertFindings(db_, run_id_, batch.findings, unavailable_stored_));
    // The batch's PREMIS events in the same transaction as its rows: a kill
    // keeps both or neither (a copy no longer due always has its event), and
    // one commit instead of two per batch.
    if (!batch.events.empty()) {
      CAIRN_RETURN_IF_ERROR(
          repo::AppendEventsInTransaction(db_, repo_.clock().NowMicros(), batch.events).status());
    }
    CAIRN_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::OK();
}

}  // namespace internal
}  // namespace cairn::audit
