// Catalog::Reader (catalog_audit.h): the sweep's reads on a connection of
// their own, and the factories of the auditor's handles.
#include <algorithm>

#include "repo/catalog/catalog_audit.h"
#include "repo/catalog/catalog_sql.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kPickBlobQuery = R"sql(
SELECT r.id, s.name, b.sha256, b.size, r.next_due, v.partner, v.object, v.version, f.path,
  r.read_failures
FROM replicas r JOIN sites s ON s.id = r.site_id JOIN blobs b ON b.id = r.blob_id
JOIN files f ON f.blob_id = r.blob_id JOIN versions v ON v.id = f.version_id
WHERE r.blob_id IS NOT NULL AND r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?2 = '' OR v.partner = ?2) AND (?3 = '' OR v.object = ?3)
  AND (?4 = 0 OR r.next_due <= ?5) AND b.sha256 >= ?6 AND b.sha256 < ?7
GROUP BY r.id)sql";

// Without a partner or object scope (and a sample not by size) neither the
// names nor the sizes are needed to pick: the replica rows are read in one
// scan of the table in rowid order, each with its blob's digest by the blob's
// id (the ids of a site's copies rise with their replica ids, so those probes
// walk blobs nearly in order; when blobs were keyed by digest, a probe per
// copy cost ten times the scan). The sweep's workers look up size and names
// of each copy as they check it (NameCopy), in parallel. NOT INDEXED: the join
// on blob_id lets SQLite walk the partial index replicas_of_blob instead, one
// table probe per copy (2,000,000 copies: 3.8 s against 2.6 s for the scan).
constexpr std::string_view kPickBlobOnlyQuery = R"sql(
SELECT r.id, s.name, b.sha256, r.next_due, r.read_failures
FROM replicas r NOT INDEXED JOIN sites s ON s.id = r.site_id CROSS JOIN blobs b ON b.id = r.blob_id
WHERE r.blob_id IS NOT NULL AND r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?4 = 0 OR r.next_due <= ?5))sql";

// A bucket sample's pick: only the copies in the bucket's digest range: the
// range in both tiers of blob_digests, then each blob's row by id and its
// copies through replicas_of_blob (a bucket of 1/100 of 10,000,000 copies
// visits 100,000 blobs and their copies, not all 10,000,000). CROSS JOIN keeps
// blob_digests the outer loop whatever the planner guesses (given a site name
// as a literal, SQLite started from sites and read all of that site's rows
// through replicas_due).
constexpr std::string_view kPickBlobRangeQuery = R"sql(
SELECT r.id, s.name, b.sha256, r.next_due, r.read_failures
FROM blob_digests d CROSS JOIN blobs b ON b.id = d.blob_id
CROSS JOIN replicas r ON r.blob_id = b.id CROSS JOIN sites s ON s.id = r.site_id
WHERE d.tier IN (0, 1) AND d.prefix BETWEEN substr(?6, 1, 8) AND substr(?7, 1, 8)
  AND b.sha256 >= ?6 AND b.sha256 < ?7
  AND r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?4 = 0 OR r.next_due <= ?5))sql";

const std::string kNameQuery = R"sql(
SELECT b.size, v.partner, v.object, v.version, f.path
FROM blobs b LEFT JOIN files f ON f.blob_id = b.id LEFT JOIN versions v ON v.id = f.version_id
WHERE b.id = )sql" + catalog_sql::BlobIdOf(1) +
                               R"sql(
ORDER BY f.version_id, f.path LIMIT 1)sql";

// A tag file copy's columns, as TagCopy reads them.
const std::string kTagCopyColumns =
    "SELECT r.id, s.name, t.id, t.sha256, t.size, r.next_due, v.partner, v.object, v.version, "
    "t.name, r.read_failures, r.last_verified FROM replicas r JOIN sites s ON s.id = r.site_id "
    "JOIN tag_files t ON t.id = r.tag_file_id JOIN versions v ON v.id = t.version_id ";

const std::string kPickTagQuery = kTagCopyColumns + R"sql(
WHERE r.state <> 'pending' AND (?1 = '' OR s.name = ?1)
  AND (?2 = '' OR v.partner = ?2) AND (?3 = '' OR v.object = ?3)
  AND (?4 = 0 OR r.next_due <= ?5) AND t.sha256 >= ?6 AND t.sha256 < ?7)sql";

const std::string kTagCopyQuery = kTagCopyColumns + "WHERE r.id = ?1";

constexpr std::string_view kBlobCopyQuery =
    "SELECT r.id, s.name, b.sha256, r.next_due, r.read_failures FROM replicas r "
    "JOIN sites s ON s.id = r.site_id JOIN blobs b ON b.id = r.blob_id WHERE r.id = ?1";

// A blob copy without its names, from a row (replica id, site, sha256, next_due, read_failures):
// NameCopy fills size, names, ref and key.
AuditCopy UnnamedBlobCopy(sql::Stmt& blobs) {
  AuditCopy c;
  c.replica_id = blobs.Int(0);
  c.site = blobs.Text(1);
  c.sha256 = blobs.Text(2);
  c.next_due = blobs.Int(3);
  c.read_failures = blobs.Int(4);
  c.named = false;
  return c;
}

// The copy of a row of kTagCopyColumns.
AuditCopy TagCopy(sql::Stmt& tags) {
  AuditCopy c;
  c.replica_id = tags.Int(0);
  c.site = tags.Text(1);
  c.ref = ReplicaRef::TagFile(tags.Int(2));
  c.sha256 = tags.Text(3);
  c.size = static_cast<uint64_t>(tags.Int(4));
  c.next_due = tags.Int(5);
  c.partner = tags.Text(6);
  c.object = tags.Text(7);
  c.version = static_cast<uint32_t>(tags.Int(8));
  c.path = tags.Text(9);
  c.read_failures = tags.Int(10);
  c.verified_once = tags.Int(11) > 0;
  c.key = layout::TagFileKey(c.partner, c.object, c.version, c.path);
  return c;
}

constexpr std::string_view kUncopiedQuery = R"sql(
SELECT b.sha256, MIN(v.partner), MIN(v.object), MIN(v.version), MIN(f.path)
FROM blobs b JOIN files f ON f.blob_id = b.id JOIN versions v ON v.id = f.version_id
WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2)
  AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.blob_id = b.id AND r.state = 'ok')
GROUP BY b.id
UNION ALL
SELECT t.sha256, v.partner, v.object, v.version, t.name
FROM tag_files t JOIN versions v ON v.id = t.version_id
WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2)
  AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.tag_file_id = t.id AND r.state = 'ok'))sql";

// Above every lowercase hex digest, as text: the upper bound of a range without one.
constexpr std::string_view kAboveEveryDigest = "g";

void BindPick(sql::Stmt& stmt, const AuditPick& pick, bool range) {
  stmt.Bind(1, pick.site).Bind(2, pick.partner).Bind(3, pick.object);
  stmt.Bind(4, int64_t{pick.due_only ? 1 : 0}).Bind(5, pick.now_micros);
  if (range) {
    stmt.Bind(6, pick.digest_low);
    stmt.Bind(7, pick.digest_high.empty() ? kAboveEveryDigest : pick.digest_high);
  }
}

}  // namespace

Result<sql::Db> Catalog::OpenConnection(bool reader, int64_t mmap_bytes) {
  CAIRN_ASSIGN_OR_RETURN(sql::Db db, sql::Db::Open(path(), false, kSweepBusyTimeoutMs));
  // FULL on every connection that may write (see "Durability" in catalog.h).
  CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  if (reader) CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA query_only = ON"));
  if (mmap_bytes > 0) {
    CAIRN_RETURN_IF_ERROR(db.Exec("PRAGMA mmap_size = " + std::to_string(mmap_bytes)));
  }
  return db;
}

Result<std::unique_ptr<Catalog::Reader>> Catalog::OpenReader(int64_t mmap_bytes) {
  CAIRN_ASSIGN_OR_RETURN(sql::Db db, OpenConnection(true, mmap_bytes));
  return std::unique_ptr<Reader>(new Reader(std::move(db)));
}

Result<std::unique_ptr<Catalog::AuditRecorder>> Catalog::OpenAuditRecorder() {
  CAIRN_ASSIGN_OR_RETURN(sql::Db db, OpenConnection(false, 0));  // a writer: no memory map
  return std::unique_ptr<AuditRecorder>(new AuditRecorder(std::move(db)));
}

Catalog::Reader::~Reader() {
  name_.reset();
  if (names_in_read_ > 0) (void)db_.Exec("COMMIT");  // ends a read: nothing to lose
}

Result<std::vector<AuditCopy>> Catalog::Reader::PickAuditCopies(const AuditPick& pick) {
  std::vector<AuditCopy> picked;
  const bool names = pick.with_names;
  const bool range = pick.by_digest_range();
  const std::string_view blob_query = names   ? kPickBlobQuery
                                      : range ? kPickBlobRangeQuery
                                              : kPickBlobOnlyQuery;
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt blobs, db_.Prepare(blob_query));
  BindPick(blobs, pick, names || range);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, blobs.Step());
    if (!row) break;
    if (!names) {  // ref and key too: NameCopy fills them in the workers
      picked.push_back(UnnamedBlobCopy(blobs));
      continue;
    }
    AuditCopy c;
    c.replica_id = blobs.Int(0);
    c.site = blobs.Text(1);
    c.sha256 = blobs.Text(2);
    c.size = static_cast<uint64_t>(blobs.Int(3));
    c.next_due = blobs.Int(4);
    c.partner = blobs.Text(5);
    c.object = blobs.Text(6);
    c.version = static_cast<uint32_t>(blobs.Int(7));
    c.path = blobs.Text(8);
    c.read_failures = blobs.Int(9);
    c.ref = ReplicaRef::Blob(c.sha256);
    c.key = layout::BlobKey(c.sha256);
    picked.push_back(std::move(c));
  }
  last_pick_steps_ = blobs.VmSteps();
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt tags, db_.Prepare(kPickTagQuery));
  BindPick(tags, pick, true);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    picked.push_back(TagCopy(tags));
  }
  return picked;
}

Result<std::optional<AuditCopy>> Catalog::Reader::CopyOfReplica(int64_t replica_id) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt tags, db_.Prepare(kTagCopyQuery));
  tags.Bind(1, replica_id);
  CAIRN_ASSIGN_OR_RETURN(bool tag, tags.Step());
  if (tag) return std::optional<AuditCopy>(TagCopy(tags));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt blobs, db_.Prepare(kBlobCopyQuery));
  blobs.Bind(1, replica_id);
  CAIRN_ASSIGN_OR_RETURN(bool blob, blobs.Step());
  if (!blob) return std::optional<AuditCopy>();
  AuditCopy c = UnnamedBlobCopy(blobs);
  CAIRN_RETURN_IF_ERROR(NameCopy(c));
  return std::optional<AuditCopy>(std::move(c));
}

Status Catalog::Reader::NameCopy(AuditCopy& copy) {
  if (copy.named) return Status::OK();
  if (names_in_read_ >= kNamesPerRead) {
    names_in_read_ = 0;
    if (name_) name_->Reset();
    CAIRN_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt * stmt, sql::PrepareOnce(db_, &name_, kNameQuery));
  if (names_in_read_ == 0) CAIRN_RETURN_IF_ERROR(db_.Exec("BEGIN"));
  ++names_in_read_;
  stmt->Bind(1, copy.sha256);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    stmt->Reset();
    return Status::NotFound("blob " + copy.sha256 + " has a replica row but no blobs row");
  }
  copy.size = static_cast<uint64_t>(stmt->Int(0));
  // A blob no file names any more (NULL names) is named by its digest only.
  copy.partner = stmt->Text(1);
  copy.object = stmt->Text(2);
  copy.version = static_cast<uint32_t>(stmt->Int(3));
  copy.path = stmt->Text(4);
  copy.ref = ReplicaRef::Blob(copy.sha256);
  copy.key = layout::BlobKey(copy.sha256);
  copy.named = true;
  stmt->Reset();
  return Status::OK();
}

Result<std::vector<OtherReplica>> Catalog::Reader::OtherReplicas(const AuditCopy& copy) {
  const bool blob = copy.ref.kind == ReplicaRef::Kind::kBlob;
  std::string query = std::string(
                          "SELECT r.id, s.name FROM replicas r JOIN sites s ON s.id = "
                          "r.site_id WHERE ") +
                      (blob ? "r.blob_id = " + catalog_sql::BlobIdOf(1) : "r.tag_file_id = ?1") +
                      " AND r.id <> ?2 AND r.state <> 'pending' "
                      "ORDER BY (r.state = 'ok') DESC, r.last_verified DESC, r.id";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  if (blob) {
    stmt.Bind(1, copy.sha256);
  } else {
    stmt.Bind(1, copy.ref.tag_file_id);
  }
  stmt.Bind(2, copy.replica_id);
  std::vector<OtherReplica> others;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    others.push_back({stmt.Int(0), stmt.Text(1)});
  }
  return others;
}

Result<std::vector<std::string>> Catalog::Reader::TagFileSites(int64_t tag_file_id) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("SELECT s.name FROM replicas r JOIN sites s ON s.id = r.site_id "
                                  "WHERE r.tag_file_id = ?1 ORDER BY r.state = 'ok' DESC, s.name"));
  stmt.Bind(1, tag_file_id);
  std::vector<std::string> sites;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    sites.push_back(stmt.Text(0));
  }
  return sites;
}

Result<std::vector<VersionRecordRow>> Catalog::Reader::VersionRecordRows(
    const std::string& partner, const std::string& object) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT v.id, v.partner, v.object, v.version, t.id, t.sha256 FROM versions v "
                  "JOIN tag_files t ON t.version_id = v.id AND t.name = 'version.pb' "
                  "WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2) "
                  "ORDER BY v.id"));
  stmt.Bind(1, partner).Bind(2, object);
  std::vector<VersionRecordRow> versions;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    versions.push_back(VersionRecordRow{stmt.Int(0), stmt.Text(1), stmt.Text(2),
                                        static_cast<uint32_t>(stmt.Int(3)), stmt.Int(4),
                                        stmt.Text(5)});
  }
  return versions;
}

Result<std::vector<FileEntry>> Catalog::Reader::VersionFiles(int64_t version_id) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, db_.Prepare("SELECT f.path, f.size, b.sha256 FROM files f "
                                  "LEFT JOIN blobs b ON b.id = f.blob_id WHERE f.version_id = ?1"));
  stmt.Bind(1, version_id);
  std::vector<FileEntry> files;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    files.push_back(FileEntry{stmt.Text(0), static_cast<uint64_t>(stmt.Int(1)), stmt.Text(2)});
  }
  return files;
}

Result<std::vector<std::string>> Catalog::Reader::VersionEmptyFolders(int64_t version_id) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT path FROM version_empty_folders WHERE version_id = ?1 ORDER BY path"));
  stmt.Bind(1, version_id);
  std::vector<std::string> folders;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    folders.push_back(stmt.Text(0));
  }
  return folders;
}

Result<std::unordered_set<std::string>> Catalog::Reader::BlobsListedOn(const std::string& site) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT b.sha256 FROM replicas r JOIN sites s ON s.id = r.site_id "
                  "JOIN blobs b ON b.id = r.blob_id WHERE s.name = ?1"));
  stmt.Bind(1, site);
  std::unordered_set<std::string> known;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    known.insert(stmt.Text(0));
  }
  return known;
}

Result<std::vector<UncopiedItem>> Catalog::Reader::UncopiedItems(const std::string& partner,
                                                                 const std::string& object) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(kUncopiedQuery));
  stmt.Bind(1, partner).Bind(2, object);
  std::vector<UncopiedItem> items;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    items.push_back(UncopiedItem{stmt.Text(0), stmt.Text(1), stmt.Text(2),
                                 static_cast<uint32_t>(stmt.Int(3)), stmt.Text(4)});
  }
  return items;
}

}  // namespace cairn::repo
