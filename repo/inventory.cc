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

// Fewest copies that count under `rule` among the version's distinct blobs
// and tag files: one aggregate query over the replica indexes.
Result<uint32_t> MinCountedCopies(Catalog& catalog, int64_t version_id, const CopyRule& rule) {
  std::string ids;
  for (int64_t id : rule.site_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string key = rule.distinct_regions ? "s.region" : "r.site_id";
  const std::string counted = "SELECT COUNT(DISTINCT " + key +
                              ") FROM replicas r JOIN sites s ON s.id = r.site_id WHERE r.state = "
                              "'ok' AND r.site_id IN (" +
                              ids + ") AND ";
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      catalog.db().Prepare("SELECT COALESCE(MIN(n), 0) FROM (SELECT (" + counted +
                           "r.blob = d.sha256) AS n FROM (SELECT DISTINCT sha256 FROM files "
                           "WHERE version_id = ?1) d UNION ALL SELECT (" +
                           counted +
                           "r.tag_file_id = t.id) FROM tag_files t WHERE t.version_id = ?1)"));
  stmt.Bind(1, version_id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return static_cast<uint32_t>(row ? stmt.Int(0) : 0);
}

}  // namespace

CopyRule CopyRule::FromPolicy(const proto::Policy& policy, const std::vector<SiteRecord>& sites) {
  CopyRule rule;
  rule.wanted = std::max<uint32_t>(policy.copies(), 1);
  rule.distinct_regions = policy.regions_size() > 0;
  for (const SiteRecord& site : sites) {
    bool named = policy.sites_size() == 0 || std::find(policy.sites().begin(), policy.sites().end(),
                                                       site.name) != policy.sites().end();
    bool in_region = !rule.distinct_regions ||
                     std::find(policy.regions().begin(), policy.regions().end(), site.region) !=
                         policy.regions().end();
    if (!named || !in_region) continue;
    rule.site_ids.push_back(site.id);
    rule.by_site[site.name] = site.region;
  }
  return rule;
}

uint32_t CopyRule::Count(const std::vector<CopyState>& copies) const {
  // Called once per file by `cairn show`: no allocation after the first call.
  // A file has a copy per site at most, so a linear search of the keys seen is cheap.
  thread_local std::vector<const std::string*> seen;
  seen.clear();
  for (const CopyState& c : copies) {
    if (c.state != "ok") continue;
    auto site = by_site.find(c.site);
    if (site == by_site.end()) continue;
    const std::string* key = distinct_regions ? &site->second : &site->first;
    bool repeated = false;
    for (const std::string* s : seen) repeated = repeated || *s == *key;
    if (!repeated) seen.push_back(key);
  }
  return static_cast<uint32_t>(seen.size());
}

std::string CopyRule::Describe(const proto::Policy& policy) const {
  std::string text = std::to_string(wanted) + (wanted == 1 ? " copy" : " copies");
  auto join = [](const auto& list) {
    std::string out;
    for (const std::string& item : list) out += (out.empty() ? "" : ", ") + item;
    return out;
  };
  if (policy.sites_size() > 0) text += " on sites " + join(policy.sites());
  if (policy.regions_size() > 0) text += " in distinct regions of " + join(policy.regions());
  return text;
}

Result<std::vector<ObjectListing>> ListObjectsWithCopies(Catalog& catalog,
                                                         const std::string& partner) {
  if (!partner.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetPartner(partner).status());
  CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectSummary> objects, catalog.ListObjects(partner));
  std::vector<ObjectListing> out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  std::map<std::string, std::pair<CopyRule, std::string>> rule_by_partner;
  for (ObjectSummary& o : objects) {
    ObjectListing listing;
    auto rule = rule_by_partner.find(o.partner);
    if (rule == rule_by_partner.end()) {
      CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(o.partner));
      CopyRule r = CopyRule::FromPolicy(policy, sites);
      std::string text = r.Describe(policy);
      rule =
          rule_by_partner.emplace(o.partner, std::make_pair(std::move(r), std::move(text))).first;
    }
    listing.copies_wanted = rule->second.first.wanted;
    listing.policy_text = rule->second.second;
    CAIRN_ASSIGN_OR_RETURN(VersionInfo latest,
                           catalog.GetVersion(o.partner, o.object, std::nullopt, false));
    listing.latest_version_id = latest.id;
    CAIRN_ASSIGN_OR_RETURN(listing.copies_ok,
                           MinCountedCopies(catalog, latest.id, rule->second.first));
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
      case ReplicaState::kUnreadable:
        c.unreadable += n;
        break;
    }
  }
  std::vector<VersionCopyCounts> out;
  for (auto& [name, c] : by_site) out.push_back(std::move(c));
  return out;
}

Result<uint64_t> CountVersionItems(Catalog& catalog, int64_t version_id) {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt, catalog.db().Prepare(
                          "SELECT (SELECT COUNT(DISTINCT sha256) FROM files WHERE version_id = ?1) "
                          "+ (SELECT COUNT(*) FROM tag_files WHERE version_id = ?1)"));
  stmt.Bind(1, version_id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return static_cast<uint64_t>(row ? stmt.Int(0) : 0);
}

}  // namespace cairn::repo
