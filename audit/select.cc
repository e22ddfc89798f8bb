// PickCandidates: the replica rows a sweep checks, oldest first, sampled.
#include <algorithm>
#include <cmath>

#include "audit/audit_internal.h"
#include "repo/site_layout.h"

namespace cairn::audit::internal {
namespace {

constexpr std::string_view kBlobQuery = R"sql(
SELECT r.id, s.name, r.blob, b.size, r.next_due, v.partner, v.object, v.version, f.path,
  r.read_failures
FROM replicas r JOIN sites s ON s.id = r.site_id JOIN blobs b ON b.sha256 = r.blob
JOIN files f ON f.sha256 = r.blob JOIN versions v ON v.id = f.version_id
WHERE r.blob IS NOT NULL AND r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?2 = '' OR v.partner = ?2) AND (?3 = '' OR v.object = ?3)
  AND (?4 = 0 OR r.next_due <= ?5)
GROUP BY r.id)sql";

// Without a partner or object scope (and a sample not by size) neither the
// names nor the sizes are needed to pick: only the replica rows are read, one
// scan, through replicas_due when the sweep is of one site (looking up each
// blob's size here cost ten times the scan with 300,000 copies: one random
// B-tree probe per copy). The sweep's workers look up size and names of each
// copy as they check it (CopyNamer), in parallel. The unary + keeps SQLite
// from walking the partial index replicas_of_blob for "blob IS NOT NULL": that
// walk is in digest order, one random table probe per copy (4.8 s for
// 1,000,000 copies against 1.1 s for a scan of the table in rowid order).
constexpr std::string_view kBlobOnlyQuery = R"sql(
SELECT r.id, s.name, r.blob, r.next_due, r.read_failures
FROM replicas r JOIN sites s ON s.id = r.site_id
WHERE +r.blob IS NOT NULL AND r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?4 = 0 OR r.next_due <= ?5))sql";

constexpr std::string_view kNameQuery = R"sql(
SELECT b.size, v.partner, v.object, v.version, f.path
FROM blobs b LEFT JOIN files f ON f.sha256 = b.sha256 LEFT JOIN versions v ON v.id = f.version_id
WHERE b.sha256 = ?1 ORDER BY f.version_id, f.path LIMIT 1)sql";

constexpr std::string_view kTagQuery = R"sql(
SELECT r.id, s.name, t.id, t.sha256, t.size, r.next_due, v.partner, v.object, v.version, t.name,
  r.read_failures, r.last_verified
FROM replicas r JOIN sites s ON s.id = r.site_id JOIN tag_files t ON t.id = r.tag_file_id
JOIN versions v ON v.id = t.version_id
WHERE r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?2 = '' OR v.partner = ?2) AND (?3 = '' OR v.object = ?3)
  AND (?4 = 0 OR r.next_due <= ?5))sql";

void BindScope(repo::sql::Stmt& stmt, const AuditScope& scope, AuditMode mode, int64_t now) {
  stmt.Bind(1, scope.site).Bind(2, scope.partner).Bind(3, scope.object);
  stmt.Bind(4, int64_t{mode == AuditMode::kDue ? 1 : 0}).Bind(5, now);
}

}  // namespace

Result<std::vector<Candidate>> PickCandidates(repo::sql::Db& db, const AuditScope& scope,
                                              AuditMode mode, const Sample& sample,
                                              int64_t now_micros) {
  std::vector<Candidate> picked;
  const bool names =
      !scope.partner.empty() || !scope.object.empty() || sample.kind == Sample::Kind::kBytes;
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt blobs, db.Prepare(names ? kBlobQuery : kBlobOnlyQuery));
  BindScope(blobs, scope, mode, now_micros);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, blobs.Step());
    if (!row) break;
    Candidate c;
    c.replica_id = blobs.Int(0);
    c.site = blobs.Text(1);
    c.sha256 = blobs.Text(2);
    if (names) {
      c.size = static_cast<uint64_t>(blobs.Int(3));
      c.next_due = blobs.Int(4);
      c.partner = blobs.Text(5);
      c.object = blobs.Text(6);
      c.version = static_cast<uint32_t>(blobs.Int(7));
      c.path = blobs.Text(8);
      c.read_failures = blobs.Int(9);
      c.ref = repo::ReplicaRef::Blob(c.sha256);
      c.key = repo::layout::BlobKey(c.sha256);
    } else {
      c.next_due = blobs.Int(3);
      c.read_failures = blobs.Int(4);
      c.named = false;  // ref and key too: CopyNamer fills them in the workers
    }
    picked.push_back(std::move(c));
  }
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt tags, db.Prepare(kTagQuery));
  BindScope(tags, scope, mode, now_micros);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    Candidate c;
    c.replica_id = tags.Int(0);
    c.site = tags.Text(1);
    c.ref = repo::ReplicaRef::TagFile(tags.Int(2));
    c.sha256 = tags.Text(3);
    c.size = static_cast<uint64_t>(tags.Int(4));
    c.next_due = tags.Int(5);
    c.partner = tags.Text(6);
    c.object = tags.Text(7);
    c.version = static_cast<uint32_t>(tags.Int(8));
    c.path = tags.Text(9);
    c.read_failures = tags.Int(10);
    c.verified_once = tags.Int(11) > 0;
    c.key = repo::layout::TagFileKey(c.partner, c.object, c.version, c.path);
    picked.push_back(std::move(c));
  }
  // Rows mostly come in order already (rowid order is deposit order): sorting
  // a million candidates that are sorted costs more than checking they are.
  const auto oldest_first = [](const Candidate& a, const Candidate& b) {
    return a.next_due != b.next_due ? a.next_due < b.next_due : a.replica_id < b.replica_id;
  };
  if (!std::is_sorted(picked.begin(), picked.end(), oldest_first)) {
    std::sort(picked.begin(), picked.end(), oldest_first);
  }
  switch (sample.kind) {
    case Sample::Kind::kAll:
      break;
    case Sample::Kind::kPercent: {
      auto keep = static_cast<size_t>(
          std::ceil(static_cast<double>(picked.size()) * sample.percent / 100.0));
      picked.resize(std::min(keep, picked.size()));
      break;
    }
    case Sample::Kind::kBucket:
      std::erase_if(picked, [&](const Candidate& c) {
        return BucketOf(c.sha256, sample.buckets) != sample.bucket;
      });
      break;
    case Sample::Kind::kBytes: {
      uint64_t total = 0;
      size_t keep = 0;
      while (keep < picked.size() && total < sample.bytes) total += picked[keep++].size;
      picked.resize(keep);
      break;
    }
  }
  return picked;
}

CopyNamer::~CopyNamer() {
  stmt_.reset();
  if (names_in_read_ > 0) (void)db_.Exec("COMMIT");  // ends a read: nothing to lose
}

Status CopyNamer::Name(Candidate& copy) {
  if (copy.named) return Status::OK();
  if (!stmt_) {
    CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt, db_.Prepare(kNameQuery));
    stmt_ = std::make_unique<repo::sql::Stmt>(std::move(stmt));
  }
  if (names_in_read_ >= kNamesPerRead) {
    names_in_read_ = 0;
    CAIRN_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  }
  if (names_in_read_ == 0) CAIRN_RETURN_IF_ERROR(db_.Exec("BEGIN"));
  ++names_in_read_;
  stmt_->Reset();
  stmt_->Bind(1, copy.sha256);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt_->Step());
  if (!row) {
    stmt_->Reset();
    return Status::NotFound("blob " + copy.sha256 + " has a replica row but no blobs row");
  }
  copy.size = static_cast<uint64_t>(stmt_->Int(0));
  // A blob no file names any more (NULL names) is named by its digest only.
  copy.partner = stmt_->Text(1);
  copy.object = stmt_->Text(2);
  copy.version = static_cast<uint32_t>(stmt_->Int(3));
  copy.path = stmt_->Text(4);
  copy.ref = repo::ReplicaRef::Blob(copy.sha256);
  copy.key = repo::layout::BlobKey(copy.sha256);
  copy.named = true;
  stmt_->Reset();
  return Status::OK();
}

}  // namespace cairn::audit::internal
