// BatchWriter: replica rows, findings, audit_runs counts and the batch's events in one
// catalog transaction (Catalog::AuditRecorder); plus the small helpers of audit.h.
#include <cstdlib>

#include "audit/audit_internal.h"
#include "bagit/report.h"
#include "repo/events/event_types.h"

namespace cairn::audit {

std::string FindingText(const Finding& f) {
  std::string out;
  if (!f.partner.empty()) {
    out += f.partner + "/" + f.object + "@v" + std::to_string(f.version) + " " +
           bagit::Printable(f.path) + " ";
  }
  out += "on site " + (f.site.empty() ? std::string("-") : f.site);
  if (!f.sha256.empty()) out += " (sha256 " + f.sha256 + ")";
  if (f.repaired) {
    out += f.repaired_from == "catalog" ? ": REPAIRED from the catalog"
           : f.repaired_from.empty()    ? ": REPAIRED"
                                        : ": REPAIRED from site " + f.repaired_from;
  } else if (!f.closed.empty()) {
    out += ": CLOSED (" + f.closed + ")";
  }
  return out + ": " + f.detail;
}

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
    case FindingKind::kUnrecordedCopy:
      return "unrecorded-copy";
    case FindingKind::kStrayFile:
      return "stray-file";
  }
  return "unknown";
}

bool AuditReport::HasProblems() const {
  return corrupt || missing || damaged || unavailable || unreadable || orphans || no_copy ||
         catalog_mismatch || uncataloged || left_of_purge || unrecorded_copies || stray_files ||
         records_missing || !busy_sites.empty() || !unavailable_sites.empty();
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

Status BatchWriter::BeginRepair(const Candidate& copy, const Finding& found) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return recorder_.BeginRepair(run_id_, copy.replica_id, repo_.clock().NowMicros(),
                               std::string(FindingKindName(found.kind)), found.detail);
}

void CountInto(AuditReport& report, const std::string& site, const AuditReport& d) {
  auto add = [&d](auto& into) {  // SiteCounts and AuditReport name their counts alike
    into.checked += d.checked;
    into.ok += d.ok;
    into.corrupt += d.corrupt;
    into.missing += d.missing;
    into.unavailable += d.unavailable;
    into.unreadable += d.unreadable;
    into.repaired += d.repaired;
    into.damaged += d.damaged;
    into.bytes += d.bytes;
  };
  add(report.sites[site]);
  add(report);
}

Status SettleKilledRepairs(repo::Repository& repo, repo::Catalog::Reader& reader,
                           repo::Catalog::AuditRecorder& recorder, BatchWriter& writer,
                           const AuditOptions& options, AuditReport& report,
                           std::unordered_set<int64_t>& checked) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::BegunRepair> begun, recorder.BegunRepairsOfEndedRuns());
  for (const repo::BegunRepair& b : begun) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Candidate> copy, reader.CopyOfReplica(b.replica_id));
    ReplicaUpdate forget{b.replica_id, repo::ReplicaState::kOk, -1, 0, ""};
    forget.keep_state = true;
    forget.ends_repair = true;
    if (!copy) {  // its row is gone (purged): nothing to settle
      CAIRN_RETURN_IF_ERROR(writer.Add({forget}, {}, {}, AuditReport{}));
      continue;
    }
    Result<repo::Site*> site = repo.OpenSite(copy->site);
    if (!site.ok()) continue;  // a later run settles it
    CheckResult check = CheckCopy(**site, *copy, nullptr);
    if (check.outcome == Outcome::kUnavailable) continue;
    const int64_t now = repo.clock().NowMicros();
    const std::string run = "audit run " + std::to_string(b.run_id);
    ReplicaUpdate u = forget;
    u.keep_state = false;
    u.next_due = now;  // checked again by the next sweep either way
    const bool good = check.outcome == Outcome::kOk;
    std::vector<proto::Event> events;
    std::vector<Finding> findings;
    AuditReport d;
    if (good) {
      // Read to the end and verified: this run's check of the copy (the sweep does not read it
      // again), counted as a sweep counts one, so that ok + corrupt + missing add up to checked.
      checked.insert(b.replica_id);
      if (b.found_kind != "unreadable") d.checked = 1;
      d.bytes = check.bytes;
      if (b.found_kind.empty()) d.ok = 1;
    }
    // What the killed run found and never recorded: a failed fixity check, and a finding (and
    // count) of this run, naming that run (nothing noted by a run from before migration 20).
    if (!b.found_kind.empty()) {
      const FindingKind kind = b.found_kind == "missing"      ? FindingKind::kMissing
                               : b.found_kind == "unreadable" ? FindingKind::kUnreadable
                                                              : FindingKind::kCorrupt;
      (kind == FindingKind::kMissing      ? d.missing
       : kind == FindingKind::kUnreadable ? d.unreadable
                                          : d.corrupt) = 1;
      Finding f =
          MakeFinding(kind, *copy, copy->site,
                      b.found + " (found by " + run + ", which was killed before it recorded it)");
      events.push_back(
          CopyEvent(repo::kFixityCheck, *copy, "failure", b.found_kind + ": " + f.detail, options));
      if (good) {
        d.repaired = 1;
        f.repaired = true;
        f.detail += "; repaired by that run: the copy verifies now";
      }
      findings.push_back(std::move(f));
    }
    if (good) {
      u.state = repo::ReplicaState::kOk;
      u.last_verified = now;
      events.push_back(CopyEvent(repo::kRecovery, *copy, "success",
                                 "a repair begun by " + run +
                                     ", which was killed before it recorded its outcome: the "
                                     "copy on site " +
                                     copy->site + " verifies now",
                                 options));
    } else {
      const bool missing = check.outcome == Outcome::kMissing;
      u.state = missing ? repo::ReplicaState::kMissing : repo::ReplicaState::kCorrupt;
      u.detail = check.detail + " (the repair by " + run + " was interrupted)";
      events.push_back(CopyEvent(repo::kFixityCheck, *copy, "failure",
                                 std::string(missing ? "missing: " : "corrupt: ") + u.detail +
                                     "; repaired by a later sweep",
                                 options));
    }
    CountInto(report, copy->site, d);
    for (const Finding& f : findings) report.findings.push_back(f);
    CAIRN_RETURN_IF_ERROR(writer.Add({u}, std::move(findings), std::move(events), d));
  }
  return Status::OK();
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
  repo::AuditRunCounts counts;
  counts.checked = d.checked;
  counts.bytes = d.bytes;
  counts.corrupt = d.corrupt;
  counts.missing = d.missing;
  counts.unavailable = d.unavailable;
  counts.repaired = d.repaired;
  const std::vector<repo::AuditFindingRecord> findings =
      FindingsToStore(batch.findings, unavailable_stored_);
  // Each event names its run, so that a catalog rebuilt from the sites' logs takes the run back
  // under its number (repo/recovery/rebuild_audit.cc; WithoutAuditNumbers rewords it for a
  // partner: "(by an audit)").
  for (proto::Event& e : batch.events) {
    e.set_detail(e.detail() + " (by audit run " + std::to_string(run_id_) + ")");
  }
  // Replica rows, counts, findings and the batch's PREMIS events in one
  // transaction: a kill keeps all or none (a copy no longer due always has
  // its event), and one commit instead of two per batch.
  return recorder_.WriteBatch(run_id_, batch.updates, counts, findings, batch.events,
                              repo_.clock().NowMicros());
}

}  // namespace internal
}  // namespace cairn::audit
