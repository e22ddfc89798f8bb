// Internal to repo/catalog/: SQL shared by several catalog_*.cc files.
#ifndef CAIRN_REPO_CATALOG_CATALOG_SQL_H_
#define CAIRN_REPO_CATALOG_CATALOG_SQL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::repo::catalog_sql {

// The id of the blob whose digest is parameter ?<param>, as a scalar subquery
// (NULL when the catalog has no such blob): the digest's prefix sought in tier
// 0, then in tier 1, of blob_digests (migration 14), each entry's blob row
// read by id and its whole digest compared. Two seeks by the key, about 0.6
// microseconds more than migration 13's one; written as `tier IN (0, 1)`,
// SQLite built the list's ephemeral table at each run of the statement, and a
// lookup cost 2.5 to 3.4 microseconds more.
inline std::string BlobIdOf(int param) {
  const std::string p = "?" + std::to_string(param);
  auto in_tier = [&p](const char* tier) {
    return std::string("SELECT d.blob_id FROM blob_digests d JOIN blobs b ON b.id = d.blob_id ") +
           "WHERE d.tier = " + tier + " AND d.prefix = substr(" + p + ", 1, 8) AND b.sha256 = " + p;
  };
  return "(" + in_tier("0") + " UNION ALL " + in_tier("1") + ")";
}

// Parameters: ?1 site_id, ?2 the blob's sha256 or tag_file_id, ?3 state,
// ?4 last_verified (-1: keep), ?5 next_due (-1: keep), ?6 detail. A blob the
// catalog does not list has no id: the row fails its CHECK (InvalidArgument).
inline const std::string kUpsertBlobReplica =
    "INSERT INTO replicas (site_id, blob_id, state, last_verified, next_due, detail) "
    "VALUES (?1, " +
    BlobIdOf(2) +
    ", ?3, "
    "MAX(?4, 0), MAX(?5, 0), ?6) "
    "ON CONFLICT(blob_id, site_id) WHERE blob_id IS NOT NULL DO UPDATE SET state = ?3, "
    "last_verified = CASE WHEN ?4 >= 0 THEN ?4 ELSE last_verified END, "
    "next_due = CASE WHEN ?5 >= 0 THEN ?5 ELSE next_due END, detail = ?6";
// The distinct blob ids of version ?1, in id order: GROUP BY sorts them, so the
// blobs and replicas rows joined to each are visited in the order they are
// stored. (A DISTINCT gives them in path order, and SQLite drops an ORDER BY
// of a subquery in FROM: every join then reads the pages of another random
// row, and with a version larger than SQLite's 2 MiB page cache each lookup
// read its pages again, 25,000 page reads to join 50,000 blobs' rows.)
inline constexpr std::string_view kVersionBlobIds =
    "(SELECT blob_id FROM files WHERE version_id = ?1 GROUP BY blob_id)";
// kUpsertBlobReplica for every distinct blob of version ?2 (files.version_id), by id.
inline constexpr std::string_view kUpsertVersionBlobReplicas =
    "INSERT INTO replicas (site_id, blob_id, state, last_verified, next_due, detail) "
    "SELECT ?1, d.blob_id, ?3, MAX(?4, 0), MAX(?5, 0), ?6 FROM "
    "(SELECT blob_id FROM files WHERE version_id = ?2 GROUP BY blob_id) d WHERE true "
    "ON CONFLICT(blob_id, site_id) WHERE blob_id IS NOT NULL DO UPDATE SET state = ?3, "
    "last_verified = CASE WHEN ?4 >= 0 THEN ?4 ELSE last_verified END, "
    "next_due = CASE WHEN ?5 >= 0 THEN ?5 ELSE next_due END, detail = ?6";
inline constexpr std::string_view kUpsertTagReplica =
    "INSERT INTO replicas (site_id, tag_file_id, state, last_verified, next_due, detail) "
    "VALUES (?1, ?2, ?3, MAX(?4, 0), MAX(?5, 0), ?6) "
    "ON CONFLICT(tag_file_id, site_id) WHERE tag_file_id IS NOT NULL DO UPDATE SET state = ?3, "
    "last_verified = CASE WHEN ?4 >= 0 THEN ?4 ELSE last_verified END, "
    "next_due = CASE WHEN ?5 >= 0 THEN ?5 ELSE next_due END, detail = ?6";

// The version_copies memo's key: the counted site ids and whether one copy
// per region counts (Catalog::MinCountedCopies).
inline std::string VersionCopiesRule(const std::vector<int64_t>& site_ids, bool distinct_regions) {
  std::string rule;
  for (int64_t id : site_ids) rule += (rule.empty() ? "" : ",") + std::to_string(id);
  return rule + (distinct_regions ? "/one-per-region" : "/one-per-site");
}

}  // namespace cairn::repo::catalog_sql

#endif  // CAIRN_REPO_CATALOG_CATALOG_SQL_H_
