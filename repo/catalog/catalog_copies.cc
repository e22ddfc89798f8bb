// Catalog: how many ok copies each version has on each site, in one pass
// (for ReconcileCopies).
#include "repo/catalog/catalog.h"

namespace cairn::repo {

// Items of a version: its distinct blobs and its tag files. `ok` lists each
// item once per site where its replica is ok; a version's `available` items
// are those ok somewhere (an item ok nowhere cannot be copied: the auditor's
// business, not a copy to queue).
Status Catalog::ForEachVersionCopies(const std::string& partner,
                                     const std::function<Status(const VersionCopies&)>& fn) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare(
          "WITH vb AS (SELECT DISTINCT f.version_id AS vid, f.blob_id FROM files f "
          "            JOIN versions v ON v.id = f.version_id WHERE ?1 = '' OR v.partner = ?1), "
          "ok AS MATERIALIZED ("
          "  SELECT vb.vid, r.site_id, vb.blob_id AS item FROM vb "
          "    JOIN replicas r ON r.blob_id = vb.blob_id AND r.state = 'ok' "
          "  UNION ALL "
          "  SELECT t.version_id, r.site_id, 't' || t.id FROM tag_files t "
          "    JOIN versions v ON v.id = t.version_id "
          "    JOIN replicas r ON r.tag_file_id = t.id AND r.state = 'ok' "
          "    WHERE ?1 = '' OR v.partner = ?1), "
          "avail AS (SELECT vid, COUNT(DISTINCT item) AS n FROM ok GROUP BY vid), "
          "per_site AS (SELECT vid, site_id, COUNT(*) AS n FROM ok GROUP BY vid, site_id) "
          "SELECT v.id, v.partner, v.object, v.version, a.n, s.name, p.n "
          "FROM avail a JOIN versions v ON v.id = a.vid "
          "JOIN per_site p ON p.vid = a.vid JOIN sites s ON s.id = p.site_id "
          "ORDER BY v.id, s.name"));
  stmt.Bind(1, partner);
  VersionCopies current;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row || stmt.Int(0) != current.version_id) {
      if (current.version_id != 0) CAIRN_RETURN_IF_ERROR(fn(current));
      if (!row) break;
      current = VersionCopies{};
      current.version_id = stmt.Int(0);
      current.partner = stmt.Text(1);
      current.object = stmt.Text(2);
      current.version = static_cast<uint32_t>(stmt.Int(3));
      current.available_items = static_cast<uint64_t>(stmt.Int(4));
    }
    current.ok_items_by_site[stmt.Text(5)] = static_cast<uint64_t>(stmt.Int(6));
  }
  return Status::OK();
}

}  // namespace cairn::repo
