// Catalog: objects, versions, files and tag files; the one-transaction insert
// of a deposit.

#include <algorithm>
#include <tuple>

#include "bagit/paths.h"
#include "bagit/report.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_sql.h"

namespace cairn::repo {
namespace {

std::string VersionName(const std::string& partner, const std::string& object,
                        std::optional<uint32_t> version) {
  std::string name = partner + "/" + object;
  if (version) name += "@v" + std::to_string(*version);
  return name;
}

// NewVersion::empty_folders' rules: a restore makes each, so each is held to a bag file's path
// rules (below data/, or in the tag area, never data/ itself).
Status CheckEmptyFolders(const std::string& name, const std::vector<std::string>& folders) {
  if (folders.size() > bagit::kMaxEmptyFolders) {
    return Status::InvalidArgument("insert " + name + ": " + std::to_string(folders.size()) +
                                   " empty folders, more than " +
                                   std::to_string(bagit::kMaxEmptyFolders));
  }
  for (const std::string& folder : folders) {
    if (folder == "data") {
      return Status::InvalidArgument("insert " + name + ": empty folder 'data' is the payload");
    }
    CAIRN_RETURN_IF_ERROR(bagit::CheckBagPath(folder, "insert " + name + ": empty folder"));
  }
  return Status::OK();
}

// Tier 0 of blob_digests (migration 14) is merged into tier 1 once it holds
// an eighth of all blobs, and at least blob_digest_tiers.settle_at_least
// (1,048,576): at 10,000,000 blobs a merge of 1,250,000 entries rewrites tier
// 1's leaves once, where the same entries inserted at random would each have
// dirtied a leaf of their own, and tier 0 stays small enough for a deposit's
// new entries to share its leaves. Runs inside the caller's write transaction.
constexpr int64_t kSettleShare = 8;  // tier 0 against all blobs: 1 / kSettleShare

Status SettleBlobDigestsIfDue(sql::Db& db) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt tiers,
                         db.Prepare("SELECT (SELECT COALESCE(MAX(id), 0) FROM blobs), "
                                    "settled_through, settle_at_least FROM blob_digest_tiers"));
  CAIRN_ASSIGN_OR_RETURN(bool row, tiers.Step());
  if (!row) return Status::Corruption("catalog " + db.path() + ": blob_digest_tiers has no row");
  const int64_t last_id = tiers.Int(0);
  const int64_t recent = last_id - tiers.Int(1);
  const int64_t at_least = tiers.Int(2);
  tiers.Reset();
  if (recent < at_least || recent * kSettleShare < last_id) return Status::OK();
  // In prefix order, so that tier 1's leaves are visited once each.
  CAIRN_RETURN_IF_ERROR(
      db.Exec("INSERT INTO blob_digests (tier, prefix, blob_id) SELECT 1, prefix, blob_id FROM "
              "blob_digests WHERE tier = 0 ORDER BY prefix, blob_id;"
              "DELETE FROM blob_digests WHERE tier = 0;"
              "UPDATE blob_digest_tiers SET settled_through = " +
              std::to_string(last_id)));
  return Status::OK();
}

}  // namespace

Result<uint32_t> Catalog::NextVersion(const std::string& partner, const std::string& object) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare(
          // A withdrawn version's number is never given again, even once purged: its
          // tombstone stays on every site under that number.
          "SELECT MAX(COALESCE((SELECT MAX(version) FROM versions WHERE partner = ?1 AND "
          "object = ?2), 0), COALESCE((SELECT MAX(version) FROM withdrawals WHERE partner = ?1 "
          "AND object = ?2 AND state <> 'cancelled'), 0))"));
  stmt.Bind(1, partner).Bind(2, object);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  const uint32_t next = static_cast<uint32_t>((row ? stmt.Int(0) : 0) + 1);
  if (next == 1)
    CAIRN_RETURN_IF_ERROR(RefuseCaseTwin("objects", "object", "object", object, partner));
  return next;
}

Result<int64_t> Catalog::InsertVersion(NewVersion& v) {
  std::lock_guard lock(mu_);
  const std::string name = VersionName(v.partner, v.object, v.version);
  if (v.object.empty()) return Status::InvalidArgument("insert version: empty object id");
  if (v.version < 1) return Status::InvalidArgument("insert " + name + ": version must be >= 1");
  CAIRN_RETURN_IF_ERROR(CheckEmptyFolders(name, v.empty_folders));
  CAIRN_RETURN_IF_ERROR(GetPartner(v.partner).status());
  std::vector<int64_t> site_ids;
  for (const std::string& site : v.stored_on) {
    CAIRN_ASSIGN_OR_RETURN(int64_t id, SiteId(site));
    site_ids.push_back(id);
  }
  const int64_t now = clock_->NowMicros();
  const int64_t created = v.created_micros ? v.created_micros : now;
  const int64_t next_due = now + v.fixity_interval_micros;
  uint64_t payload_bytes = v.payload_bytes;
  uint64_t file_count = v.file_count;
  if (!v.file_source) {
    payload_bytes = 0;
    for (const FileEntry& f : v.files) payload_bytes += f.size;
    file_count = v.files.size();
  }

  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt object,
      db_.Prepare("INSERT INTO objects (partner, object, created) VALUES (?, ?, ?) "
                  "ON CONFLICT DO NOTHING"));
  object.Bind(1, v.partner).Bind(2, v.object).Bind(3, created);
  CAIRN_RETURN_IF_ERROR(object.Run());

  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt version,
      db_.Prepare("INSERT INTO versions (partner, object, version, created, depositor, "
                  "file_count, payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  version.Bind(1, v.partner)
      .Bind(2, v.object)
      .Bind(3, int64_t{v.version})
      .Bind(4, created)
      .Bind(5, v.depositor)
      .Bind(6, static_cast<int64_t>(file_count))
      .Bind(7, static_cast<int64_t>(payload_bytes));
  Status inserted = version.Run();
  if (inserted.IsAlreadyExists()) return Status::AlreadyExists(name + " already exists");
  CAIRN_RETURN_IF_ERROR(inserted);
  const int64_t version_id = db_.LastInsertRowId();

  CAIRN_ASSIGN_OR_RETURN(sql::Stmt find_blob,
                         db_.Prepare("SELECT blob_id FROM " + catalog_sql::BlobIdOf(1)));
  // blobs has no unique index on sha256 (migration 13): a digest is inserted
  // only where the lookup just found none, in this write transaction (this is
  // the one writer of blobs rows). Two statements cost less than one insert
  // with the lookup as its WHERE NOT EXISTS (a subquery per row).
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt new_blob,
                         db_.Prepare("INSERT INTO blobs (sha256, size) VALUES (?1, ?2)"));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt file,
      db_.Prepare("INSERT INTO files (version_id, path, size, blob_id) VALUES (?, ?, ?, ?)"));
  // No per-file memory here: a blob listed twice in the version (or stored
  // by an earlier one) is found by its digest (a new blob takes the next id:
  // files_by_blob grows at its end). The blobs' replicas are upserted after
  // the files, all in one statement per site.
  uint64_t new_blobs = 0;
  uint64_t files_of_known_blobs = 0;  // a blob listed twice counts here too
  auto find = [&](const FileEntry& f, int64_t* id) -> Result<bool> {
    find_blob.Reset();
    find_blob.Bind(1, f.sha256);
    CAIRN_ASSIGN_OR_RETURN(bool known, find_blob.Step());
    if (known) *id = find_blob.Int(0);
    find_blob.Reset();
    return known;
  };
  auto insert_file = [&](const FileEntry& f) -> Status {
    // Lowercase hex only: the digest's prefix is its index key, and a site
    // names its blob by it.
    if (f.sha256.size() != 64 ||
        f.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::InvalidArgument("insert " + name + ": bad sha256 for " + f.path);
    }
    int64_t blob_id = 0;
    CAIRN_ASSIGN_OR_RETURN(bool known, find(f, &blob_id));
    if (!known) {
      new_blob.Reset();
      new_blob.Bind(1, f.sha256).Bind(2, static_cast<int64_t>(f.size));
      CAIRN_RETURN_IF_ERROR(new_blob.Run());
      blob_id = db_.LastInsertRowId();
    }
    if (known) {
      ++files_of_known_blobs;
    } else {
      ++new_blobs;
    }
    file.Reset();
    file.Bind(1, version_id).Bind(2, f.path).Bind(3, static_cast<int64_t>(f.size)).Bind(4, blob_id);
    Status s = file.Run();
    if (s.IsAlreadyExists()) {
      return Status::InvalidArgument(name + ": path listed twice: " + f.path);
    }
    return s;
  };
  if (v.file_source) {
    CAIRN_RETURN_IF_ERROR(v.file_source(insert_file));
  } else {
    // In digest order (see NewVersion::file_source).
    std::vector<const FileEntry*> by_digest;
    by_digest.reserve(v.files.size());
    for (const FileEntry& f : v.files) by_digest.push_back(&f);
    std::sort(by_digest.begin(), by_digest.end(), [](const FileEntry* a, const FileEntry* b) {
      return std::tie(a->sha256, a->path) < std::tie(b->sha256, b->path);
    });
    for (const FileEntry* f : by_digest) CAIRN_RETURN_IF_ERROR(insert_file(*f));
  }
  if (new_blobs > 0) CAIRN_RETURN_IF_ERROR(SettleBlobDigestsIfDue(db_));
  // Every blob of the version is "ok" on each site it was stored on: one
  // set-based upsert per site (in blob id order) instead of one statement per file.
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt blob_replicas,
                         db_.Prepare(catalog_sql::kUpsertVersionBlobReplicas));
  // Every blob new: only this version holds them, and its memo comes after
  // (below), so the per-copy trigger is held off (migration 12) for the upserts.
  const bool bulk = files_of_known_blobs == 0 && !site_ids.empty();
  if (bulk) {
    CAIRN_RETURN_IF_ERROR(db_.Exec("INSERT INTO version_copies_bulk (id) VALUES (1)"));
  }
  for (int64_t site_id : site_ids) {
    blob_replicas.Reset();
    blob_replicas.Bind(1, site_id)
        .Bind(2, version_id)
        .Bind(3, "ok")
        .Bind(4, now)
        .Bind(5, next_due)
        .Bind(6, "");
    CAIRN_RETURN_IF_ERROR(blob_replicas.Run());
  }
  if (bulk) {
    // What the trigger would have dropped: a memo of this version's id only
    // (none can be: the id is new, and a purged version's memo went with it).
    CAIRN_RETURN_IF_ERROR(db_.Exec("DELETE FROM version_copies_bulk"));
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt drop,
                           db_.Prepare("DELETE FROM version_copies WHERE version_id = ?"));
    drop.Bind(1, version_id);
    CAIRN_RETURN_IF_ERROR(drop.Run());
  }

  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt tag,
      db_.Prepare("INSERT INTO tag_files (version_id, name, size, sha256) VALUES (?, ?, ?, ?)"));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt tag_replica, db_.Prepare(catalog_sql::kUpsertTagReplica));
  for (TagFileEntry& t : v.tag_files) {
    tag.Reset();
    tag.Bind(1, version_id).Bind(2, t.name).Bind(3, static_cast<int64_t>(t.size)).Bind(4, t.sha256);
    Status s = tag.Run();
    if (s.IsAlreadyExists())
      return Status::InvalidArgument(name + ": tag file listed twice: " + t.name);
    CAIRN_RETURN_IF_ERROR(s);
    t.id = db_.LastInsertRowId();
    for (int64_t site_id : site_ids) {
      tag_replica.Reset();
      tag_replica.Bind(1, site_id)
          .Bind(2, t.id)
          .Bind(3, "ok")
          .Bind(4, now)
          .Bind(5, next_due)
          .Bind(6, "");
      CAIRN_RETURN_IF_ERROR(tag_replica.Run());
    }
  }

  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt folder,
      db_.Prepare("INSERT INTO version_empty_folders (version_id, path) VALUES (?, ?)"));
  for (const std::string& path : v.empty_folders) {
    folder.Reset();
    folder.Bind(1, version_id).Bind(2, path);
    Status s = folder.Run();
    if (s.IsAlreadyExists()) {
      return Status::InvalidArgument(name + ": empty folder listed twice: " + path);
    }
    CAIRN_RETURN_IF_ERROR(s);
  }

  // Every item of a version without a blob known before has copies on
  // stored_on and nowhere else; with one, a tag file (only on stored_on, as
  // every tag file is new) still has the fewest.
  v.new_items.reset();
  if (files_of_known_blobs == 0) v.new_items = new_blobs + v.tag_files.size();
  if (v.listed_rule && (files_of_known_blobs == 0 || !v.tag_files.empty())) {
    CAIRN_RETURN_IF_ERROR(KeepNewVersionCopiesLocked(version_id, site_ids, *v.listed_rule,
                                                     v.tag_files.empty() && new_blobs == 0));
  }

  for (proto::Event& e : v.events) {
    if (e.partner().empty()) e.set_partner(v.partner);
    if (e.object().empty()) e.set_object(v.object);
    if (e.version() == 0) e.set_version(v.version);
  }
  if (!v.events.empty()) CAIRN_RETURN_IF_ERROR(AppendEventsLocked(v.events).status());
  for (const proto::Job& job : v.jobs) CAIRN_RETURN_IF_ERROR(EnqueueJobLocked(job).status());
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return version_id;
}

Status Catalog::KeepNewVersionCopiesLocked(int64_t version_id,
                                           const std::vector<int64_t>& stored_on,
                                           const NewVersion::CountedSites& rule, bool empty) {
  // The copies on stored_on that the rule counts, as MinCountedCopies counts
  // them (COUNT DISTINCT: a region left NULL is not counted); none for a
  // version without files or tag files (its MIN over nothing).
  std::string ids;
  for (int64_t id : stored_on) {
    if (std::find(rule.site_ids.begin(), rule.site_ids.end(), id) == rule.site_ids.end()) continue;
    ids += (ids.empty() ? "" : ",") + std::to_string(id);
  }
  int64_t copies = 0;
  if (!empty && !ids.empty()) {
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt count, db_.Prepare(std::string("SELECT COUNT(DISTINCT ") +
                                                        (rule.distinct_regions ? "region" : "id") +
                                                        ") FROM sites WHERE id IN (" + ids + ")"));
    CAIRN_ASSIGN_OR_RETURN(bool row, count.Step());
    copies = row ? count.Int(0) : 0;
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt store,
      db_.Prepare("INSERT OR REPLACE INTO version_copies (version_id, rule, copies_ok) "
                  "VALUES (?, ?, ?)"));
  store.Bind(1, version_id)
      .Bind(2, catalog_sql::VersionCopiesRule(rule.site_ids, rule.distinct_regions))
      .Bind(3, copies);
  return store.Run();
}

namespace {

VersionInfo VersionFromRow(const sql::Stmt& s) {
  VersionInfo v;
  v.id = s.Int(0);
  v.partner = s.Text(1);
  v.object = s.Text(2);
  v.version = static_cast<uint32_t>(s.Int(3));
  v.created_micros = s.Int(4);
  v.depositor = s.Text(5);
  v.file_count = static_cast<uint64_t>(s.Int(6));
  v.payload_bytes = static_cast<uint64_t>(s.Int(7));
  return v;
}

constexpr std::string_view kVersionColumns =
    "SELECT id, partner, object, version, created, depositor, file_count, payload_bytes "
    "FROM versions ";

}  // namespace

Status Catalog::NoObject(const std::string& partner, const std::string& object,
                         std::optional<uint32_t> version) {
  std::string message = "no object " + VersionName(partner, object, version);
  Result<std::optional<std::string>> twin = CaseTwin("objects", "object", object, partner);
  if (twin.ok() && *twin) {
    message += " (did you mean " + VersionName(partner, **twin, version) +
               "? object ids are matched with their case)";
  } else {
    message += " (`cairn list " + partner + "` lists the objects of " + partner + ")";
  }
  return Status::NotFound(message);
}

Result<VersionInfo> Catalog::GetVersion(const std::string& partner, const std::string& object,
                                        std::optional<uint32_t> version, bool with_files) {
  std::lock_guard lock(mu_);
  std::string query(kVersionColumns);
  query += version ? "WHERE partner = ? AND object = ? AND version = ?"
                   : "WHERE partner = ? AND object = ? ORDER BY version DESC LIMIT 1";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  stmt.Bind(1, partner).Bind(2, object);
  if (version) stmt.Bind(3, int64_t{*version});
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row && version) {
    // A version the object lacks: its latest is named (a typo of N, or a version not made yet).
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt latest,
        db_.Prepare("SELECT MAX(version) FROM versions WHERE partner = ? AND object = ?"));
    latest.Bind(1, partner).Bind(2, object);
    CAIRN_ASSIGN_OR_RETURN(bool any, latest.Step());
    if (any && !latest.IsNull(0)) {
      const std::string name = VersionName(partner, object, {});
      return Status::NotFound("no version " + VersionName(partner, object, version) +
                              ": the latest of " + name + " is v" + std::to_string(latest.Int(0)) +
                              " (`cairn show " + name + "` lists its versions)");
    }
  }
  if (!row) return NoObject(partner, object, version);
  VersionInfo v = VersionFromRow(stmt);

  if (with_files) {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt files,
        // LEFT JOIN: a row naming a blob id the catalog lacks (a damaged
        // catalog) is listed with an empty digest, which every check refuses,
        // rather than left out of the version.
        db_.Prepare(
            "SELECT f.path, f.size, b.sha256 FROM files f "
            "LEFT JOIN blobs b ON b.id = f.blob_id WHERE f.version_id = ? ORDER BY f.path"));
    files.Bind(1, v.id);
    v.files.reserve(v.file_count);
    while (true) {
      CAIRN_ASSIGN_OR_RETURN(bool more, files.Step());
      if (!more) break;
      v.files.push_back(
          FileEntry{files.Text(0), static_cast<uint64_t>(files.Int(1)), files.Text(2)});
    }
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt tags,
      db_.Prepare(
          "SELECT id, name, size, sha256 FROM tag_files WHERE version_id = ? ORDER BY name"));
  tags.Bind(1, v.id);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool more, tags.Step());
    if (!more) break;
    v.tag_files.push_back(
        TagFileEntry{tags.Int(0), tags.Text(1), static_cast<uint64_t>(tags.Int(2)), tags.Text(3)});
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt folders,
      db_.Prepare("SELECT path FROM version_empty_folders WHERE version_id = ? ORDER BY path"));
  folders.Bind(1, v.id);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool more, folders.Step());
    if (!more) break;
    v.empty_folders.push_back(folders.Text(0));
  }
  return v;
}

Result<std::vector<VersionInfo>> Catalog::ListVersions(const std::string& partner,
                                                       const std::string& object) {
  std::lock_guard lock(mu_);
  std::string query(kVersionColumns);
  query += "WHERE partner = ? AND object = ? ORDER BY version";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  stmt.Bind(1, partner).Bind(2, object);
  std::vector<VersionInfo> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(VersionFromRow(stmt));
  }
  if (out.empty()) return NoObject(partner, object, {});
  return out;
}

Result<std::vector<ObjectSummary>> Catalog::ListObjects(const std::string& partner) {
  std::lock_guard lock(mu_);
  std::string query =
      "SELECT o.partner, o.object, o.created, v.version, "
      "(SELECT COUNT(*) FROM versions c WHERE c.partner = o.partner AND c.object = o.object), "
      "v.file_count, v.payload_bytes FROM objects o JOIN versions v ON v.partner = o.partner "
      "AND v.object = o.object AND v.version = (SELECT MAX(version) FROM versions m "
      "WHERE m.partner = o.partner AND m.object = o.object) ";
  if (!partner.empty()) query += "WHERE o.partner = ? ";
  query += "ORDER BY o.partner, o.object";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(query));
  if (!partner.empty()) stmt.Bind(1, partner);
  std::vector<ObjectSummary> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(
        ObjectSummary{stmt.Text(0), stmt.Text(1), stmt.Int(2), static_cast<uint32_t>(stmt.Int(3)),
                      static_cast<uint32_t>(stmt.Int(4)), static_cast<uint64_t>(stmt.Int(5)),
                      static_cast<uint64_t>(stmt.Int(6))});
  }
  return out;
}

}  // namespace cairn::repo
