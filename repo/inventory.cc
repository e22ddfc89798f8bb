// Listing and showing objects: catalog queries that use the indexes of
// repo/catalog/SCHEMA.md (files by (version_id, path), replicas by
// (blob, site_id) and (tag_file_id, site_id)) and stream their rows.
#include "repo/inventory.h"

#include <algorithm>
#include <map>

namespace cairn::repo {
namespace {

// Runs `query` (bound to version_id) whose rows are (path, size, sha256,
// site, state), ordered by path, and calls `fn` once per path.
Status StreamCopies(Catalog& catalog, std::string_view query, int64_t version_id,
                    const std::function<Status(const FileCopies&)>& fn) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, catalog.db().Prepare(query));
  stmt.Bind(1, version_id);
  FileCopies current;
  bool have = false;
  auto flush = [&]() -> Status {
    if (!have) return Status::OK();
    std::sort(current.copies.begin(), current.copies.end(),
              [](const CopyState& a, const CopyState& b) { return a.site < b.site; });
    return fn(current);
  };
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string path = stmt.Text(0);
    if (!have || path != current.path) {
      CAIRN_RETURN_IF_ERROR(flush());
      current.path = std::move(path);
      current.size = static_cast<uint64_t>(stmt.Int(1));
      current.sha256 = stmt.Text(2);
      current.copies.clear();
      have = true;
    }
    if (!stmt.IsNull(3)) current.copies.push_back(CopyState{stmt.Text(3), stmt.Text(4)});
  }
  return flush();
}

}  // namespace

Result<std::vector<ObjectListing>> ListObjectsWithCopies(Catalog& catalog,
                                                         const std::string& partner) {
  if (!partner.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetPartner(partner).status());
  CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectSummary> objects, catalog.ListObjects(partner));
  std::vector<ObjectListing> out;
  std::map<std::string, uint32_t> wanted_by_partner;
  for (ObjectSummary& o : objects) {
    ObjectListing listing;
    auto wanted = wanted_by_partner.find(o.partner);
    if (wanted == wanted_by_partner.end()) {
      CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(o.partner));
      wanted = wanted_by_partner.emplace(o.partner, policy.copies()).first;
    }
    listing.copies_wanted = wanted->second;
    CAIRN_ASSIGN_OR_RETURN(VersionInfo latest,
                           catalog.GetVersion(o.partner, o.object, std::nullopt, false));
    listing.latest_version_id = latest.id;
    CAIRN_ASSIGN_OR_RETURN(listing.copies_ok, catalog.MinOkCopies(latest.id));
    listing.summary = std::move(o);
    out.push_back(std::move(listing));
  }
  return out;
}

Status ForEachFileCopies(Catalog& catalog, int64_t version_id,
                         const std::function<Status(const FileCopies&)>& fn) {
  return StreamCopies(catalog,
                      "SELECT f.path, f.size, f.sha256, s.name, r.state FROM files f "
                      "LEFT JOIN replicas r ON r.blob = f.sha256 "
                      "LEFT JOIN sites s ON s.id = r.site_id "
                      "WHERE f.version_id = ?1 ORDER BY f.path",
                      version_id, fn);
}

Status ForEachTagFileCopies(Catalog& catalog, int64_t version_id,
                            const std::function<Status(const FileCopies&)>& fn) {
  return StreamCopies(catalog,
                      "SELECT t.name, t.size, t.sha256, s.name, r.state FROM tag_files t "
                      "LEFT JOIN replicas r ON r.tag_file_id = t.id "
                      "LEFT JOIN sites s ON s.id = r.site_id "
                      "WHERE t.version_id = ?1 ORDER BY t.name",
                      version_id, fn);
}

Result<std::vector<VersionCopyCounts>> CountVersionCopies(Catalog& catalog, int64_t version_id) {
  std::map<std::string, VersionCopyCounts> by_site;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  for (const SiteRecord& s : sites) by_site[s.name].site = s.name;
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      catalog.db().Prepare(
          "SELECT s.name, r.state, COUNT(*) FROM (SELECT DISTINCT sha256 FROM files "
          "WHERE version_id = ?1) d JOIN replicas r ON r.blob = d.sha256 "
          "JOIN sites s ON s.id = r.site_id GROUP BY s.name, r.state "
          "UNION ALL SELECT s.name, r.state, COUNT(*) FROM tag_files t "
          "JOIN replicas r ON r.tag_file_id = t.id JOIN sites s ON s.id = r.site_id "
          "WHERE t.version_id = ?1 GROUP BY s.name, r.state"));
  stmt.Bind(1, version_id);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    VersionCopyCounts& c = by_site[stmt.Text(0)];
    c.site = stmt.Text(0);
    uint64_t n = static_cast<uint64_t>(stmt.Int(2));
    std::optional<ReplicaState> state = ParseReplicaState(stmt.Text(1));
    if (!state) continue;
    switch (*state) {
      case ReplicaState::kOk:
        c.ok += n;
        break;
      case ReplicaState::kPending:
        c.pending += n;
        break;
      case ReplicaState::kCorrupt:
        c.corrupt += n;
        break;
      case ReplicaState::kMissing:
        c.missing += n;
        break;
      case ReplicaState::kUnavailable:
        c.unavailable += n;
        break;
    }
  }
  std::vector<VersionCopyCounts> out;
  for (auto& [name, c] : by_site) out.push_back(std::move(c));
  return out;
}

}  // namespace cairn::repo
