// Catalog: taking a site out (`cairn site remove`). The checks that keep a removal from losing a
// last good copy read here; the removal itself is one transaction.
#include <utility>

#include "repo/catalog/catalog.h"

namespace cairn::repo {
namespace {

// The blobs (of some version) and tag files site ?1 holds in a state other than pending or
// missing that no other site holds verified (ok, read back at least once: a rebuilt catalog's
// `unverified` copies are not): each row a blob id or a tag file id.
constexpr std::string_view kLastGoodCopies =
    "SELECT r.blob_id, r.tag_file_id FROM replicas r "
    "WHERE r.site_id = ?1 AND r.state NOT IN ('pending', 'missing') AND ("
    " (r.blob_id IS NOT NULL AND EXISTS (SELECT 1 FROM files f WHERE f.blob_id = r.blob_id)"
    "  AND NOT EXISTS (SELECT 1 FROM replicas o WHERE o.blob_id = r.blob_id"
    "   AND o.site_id <> ?1 AND o.state = 'ok' AND o.last_verified > 0))"
    " OR (r.tag_file_id IS NOT NULL"
    "  AND NOT EXISTS (SELECT 1 FROM replicas o WHERE o.tag_file_id = r.tag_file_id"
    "   AND o.site_id <> ?1 AND o.state = 'ok' AND o.last_verified > 0))) "
    "ORDER BY r.id";

// "acme/maps@v1 data/a.tif": the first version (by row) holding blob `blob_id`, or tag file
// `tag_file_id` (when `blob_id` is null).
Result<std::string> NameOfItem(sql::Db& db, const sql::Stmt& row) {
  const bool blob = !row.IsNull(0);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db.Prepare(blob ? "SELECT v.partner, v.object, v.version, f.path FROM files f "
                        "JOIN versions v ON v.id = f.version_id WHERE f.blob_id = ? "
                        "ORDER BY f.version_id LIMIT 1"
                      : "SELECT v.partner, v.object, v.version, t.name FROM tag_files t "
                        "JOIN versions v ON v.id = t.version_id WHERE t.id = ?"));
  stmt.Bind(1, row.Int(blob ? 0 : 1));
  CAIRN_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return std::string(blob ? "a blob" : "a tag file") + " of no version";
  return stmt.Text(0) + "/" + stmt.Text(1) + "@v" + std::to_string(stmt.Int(2)) + " " +
         stmt.Text(3);
}

// The count `sql` gives with its one parameter bound to `key` (a site's row id or name).
template <typename Key>
Result<uint64_t> CountOf(sql::Db& db, std::string_view sql, const Key& key) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare(sql));
  stmt.Bind(1, key);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<uint64_t>(stmt.Int(0)) : 0;
}

}  // namespace

Result<Catalog::SiteRemovalFacts> Catalog::FactsOfSiteRemoval(const std::string& name,
                                                              size_t examples) {
  std::lock_guard lock(mu_);
  SiteRemovalFacts facts;
  CAIRN_ASSIGN_OR_RETURN(facts.site, GetSite(name));
  const int64_t id = facts.site.id;
  CAIRN_ASSIGN_OR_RETURN(facts.copies,
                         CountOf(db_, "SELECT count(*) FROM replicas WHERE site_id = ?", id));
  CAIRN_ASSIGN_OR_RETURN(facts.jobs,
                         CountOf(db_, "SELECT count(*) FROM jobs WHERE target_site = ?", name));
  CAIRN_ASSIGN_OR_RETURN(facts.purge_keys,
                         CountOf(db_, "SELECT count(*) FROM purge_keys WHERE site_id = ?", id));
  CAIRN_ASSIGN_OR_RETURN(facts.open_findings,
                         CountOf(db_,
                                 "SELECT count(*) FROM audit_findings WHERE site = ? AND "
                                 "repaired = 0 AND closed = ''",
                                 name));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(kLastGoodCopies));
  stmt.Bind(1, id);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (facts.last_good_examples.size() < examples) {
      CAIRN_ASSIGN_OR_RETURN(std::string item, NameOfItem(db_, stmt));
      facts.last_good_examples.push_back(std::move(item));
    }
    ++facts.last_good;
  }
  return facts;
}

Status Catalog::RemoveSite(const std::string& name, std::vector<proto::Event>& events) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(SiteRemovalFacts facts, FactsOfSiteRemoval(name, 0));
  if (facts.last_good > 0) {
    return Status::InvalidArgument(
        "site " + name + " holds the last good copy of " + std::to_string(facts.last_good) +
        " files: not removed (see `cairn site remove " + name + " --dry-run`)");
  }
  // Children first (foreign keys); segment_checks go with the row (ON DELETE CASCADE), and the
  // version_copies memo with the replicas and the row (its triggers). The audit history keeps
  // the site's name: its open findings and its runs' counts there are closed, no longer left bad.
  // Each statement's one parameter is the site's row id, or its name (`by_name`).
  const std::string close_findings = "UPDATE audit_findings SET closed = '" +
                                     std::string(kClosedSiteRemoved) +
                                     "' WHERE site = ? AND repaired = 0 AND closed = ''";
  const std::string close_run_sites = "UPDATE audit_run_sites SET closed = '" +
                                      std::string(kClosedSiteRemoved) +
                                      "' WHERE site = ? AND closed = ''";
  const std::pair<std::string_view, bool> changes[] = {
      {close_findings, true},
      {close_run_sites, true},
      {"DELETE FROM jobs WHERE target_site = ?", true},
      {"DELETE FROM audit_repairs_begun WHERE replica_id IN "
       "(SELECT id FROM replicas WHERE site_id = ?)",
       false},
      {"DELETE FROM replicas WHERE site_id = ?", false},
      {"DELETE FROM gc_candidates WHERE site_id = ?", false},
      {"DELETE FROM purge_keys WHERE site_id = ?", false},
      {"DELETE FROM settings_seen WHERE site = ?", true},
      {"DELETE FROM sites WHERE id = ?", false},
  };
  for (const auto& [sql, by_name] : changes) {
    CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare(sql));
    if (by_name) {
      stmt.Bind(1, name);
    } else {
      stmt.Bind(1, facts.site.id);
    }
    CAIRN_RETURN_IF_ERROR(stmt.Run());
  }
  if (!events.empty()) CAIRN_RETURN_IF_ERROR(AppendEventsLocked(events).status());
  return tx.Commit();
}

}  // namespace cairn::repo
