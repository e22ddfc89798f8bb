// The rows the auditor reads and writes through the catalog (Catalog's
// audit methods, Catalog::Reader, Catalog::AuditRecorder: catalog_audit.h).
#ifndef CAIRN_REPO_CATALOG_CATALOG_AUDIT_TYPES_H_
#define CAIRN_REPO_CATALOG_CATALOG_AUDIT_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "repo/catalog/catalog_types.h"

namespace cairn::repo {

// One replica row a sweep will check, with the names a finding needs.
struct AuditCopy {
  int64_t replica_id = 0;
  ReplicaRef ref;
  std::string site;
  std::string sha256;
  uint64_t size = 0;
  std::string key;  // storage key on every site
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string path;  // a payload path holding the blob, or the tag file name
  int64_t next_due = 0;
  int64_t read_failures = 0;  // sweeps in a row that could not read it (site fine)
  // A tag file copy the catalog once read back good on this site (its row has
  // a last_verified time): other bytes there now are that copy decayed, which
  // a repair may replace (Site::CopyBagFile's `verified_here`).
  bool verified_once = false;
  // False for a blob copy picked without its size, names, ref and key:
  // Catalog::Reader::NameCopy fills them.
  bool named = true;
};

// Which replica rows a sweep picks: those not pending, in scope ("": all),
// and when `due_only` those with next_due <= now_micros.
struct AuditPick {
  std::string site;
  std::string partner;
  std::string object;
  bool due_only = true;
  int64_t now_micros = 0;
  // Fill size and names of blob copies now (a partner or object scope needs
  // them, and so does a sample by size); else blob copies come unnamed.
  bool with_names = false;
  // Only copies whose digest d has digest_low <= d and (digest_high empty or
  // d < digest_high), compared as text: a bucket sample's range
  // (policies::DigestRangeOf). With a range, blob copies are read through the
  // digest index (replicas_of_blob), visiting only the range's rows.
  std::string digest_low;
  std::string digest_high;
  bool by_digest_range() const { return !digest_low.empty() || !digest_high.empty(); }
};

// One replica row update of a sweep, written in a batch.
struct AuditReplicaUpdate {
  int64_t replica_id = 0;
  ReplicaState state = ReplicaState::kOk;
  int64_t last_verified = -1;  // -1: keep
  int64_t next_due = 0;
  std::string detail;
  int64_t read_failures = 0;  // failed reads in a row; 0 after a read to the end
  bool keep_state = false;    // leave `state` as it is (a failed read not given up on yet)
  bool ends_repair = false;   // the copy's repair (AuditRecorder::BeginRepair) is recorded
  // With ends_repair and state ok: the site the good copy came from. The findings earlier runs
  // left open about the copy are marked repaired from it (Catalog::MarkFindingsRepaired).
  std::string repaired_from;
};

// A repair an audit run began (AuditRecorder::BeginRepair) whose batch was never written: the
// run was killed in between.
struct BegunRepair {
  int64_t replica_id = 0;
  int64_t run_id = 0;
  int64_t began_micros = 0;
  std::string found_kind;  // what the run found: "corrupt", "missing", "unreadable"...
  std::string found;       // its detail ("" for a repair noted before migration 20)
};

// A finding of a finished run marked repaired by a later repair of its copy
// (Catalog::MarkFindingsRepaired).
struct RepairedFinding {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string kind;  // corrupt, missing, unreadable, damaged
  std::string detail;
};

// One audit_findings row.
struct AuditFindingRecord {
  int64_t run_id = 0;  // filled when read back
  std::string kind;    // audit::FindingKindName
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string path;
  std::string site;
  std::string sha256;
  std::string detail;
  bool repaired = false;
  std::string repaired_from;
  std::string closed;  // why it needs nothing done though not repaired (kClosedSiteRemoved); ""
};

// The counts an audit_runs row adds up batch by batch.
struct AuditRunCounts {
  uint64_t checked = 0;
  uint64_t bytes = 0;
  uint64_t corrupt = 0;
  uint64_t missing = 0;
  uint64_t unavailable = 0;
  uint64_t repaired = 0;
};

// One audit_runs row.
struct AuditRunRecord {
  int64_t id = 0;
  std::string schedule;  // "" : run by hand
  int64_t started_micros = 0;
  int64_t finished_micros = 0;  // 0 while running (or killed)
  std::string state;            // running | done | aborted
  AuditRunCounts counts;
  std::string report;  // the summary JSON FinishRun stored ("" while running)
};

// One audit_run_sites row.
struct AuditRunSiteRecord {
  int64_t run_id = 0;
  std::string site;
  uint64_t checked = 0, ok = 0, corrupt = 0, missing = 0, unavailable = 0, repaired = 0,
           damaged = 0, bytes = 0;
  std::string closed;  // its counts need nothing done any more (kClosedSiteRemoved); ""
};

// Why a finding not repaired, or a run's counts on a site, were closed: the site was taken out
// (`cairn site remove`, Catalog::RemoveSite). Stored in the `closed` columns (migration 25).
inline constexpr std::string_view kClosedSiteRemoved = "site removed";

// A copy whose next check is past (audit report).
struct OverdueCopyRecord {
  std::string site;
  int64_t next_due_micros = 0;
  std::string sha256;
  std::string partner, object, path;
  uint32_t version = 0;
};

// Another replica of the blob or tag file of a copy (repair sources).
struct OtherReplica {
  int64_t replica_id = 0;
  std::string site;
};

// A version and the catalog's row of its version.pb (catalog rows check).
struct VersionRecordRow {
  int64_t version_id = 0;
  std::string partner, object;
  uint32_t version = 0;
  int64_t record_tag_id = 0;
  std::string record_sha256;
};

// A blob or tag file with no ok replica anywhere: the first version and path
// that hold it.
struct UncopiedItem {
  std::string sha256;
  std::string partner, object;
  uint32_t version = 0;
  std::string path;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_AUDIT_TYPES_H_
