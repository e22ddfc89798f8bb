// Listing and showing objects: the copies that count toward a policy, over
// the catalog's streamed queries (repo/catalog/catalog_inventory.cc).
#include "repo/catalog/inventory.h"

#include <algorithm>
#include <map>

namespace cairn::repo {

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
    if (c.state != "ok" && c.state != "unverified") continue;  // both are on the site
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
    if (Status refused = catalog.RefuseIfWithdrawn(o.partner, o.object, latest.version);
        !refused.ok()) {
      listing.withdrawn = refused.message();
    }
    const CopyRule& counted = rule->second.first;
    CAIRN_ASSIGN_OR_RETURN(listing.copies_ok, catalog.MinCountedCopies(latest.id, counted.site_ids,
                                                                       counted.distinct_regions));
    listing.summary = std::move(o);
    out.push_back(std::move(listing));
  }
  return out;
}

Status KeepListedCopies(Catalog& catalog, const std::string& partner, int64_t version_id) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(partner));
  const CopyRule rule = CopyRule::FromPolicy(policy, sites);
  return catalog.MinCountedCopies(version_id, rule.site_ids, rule.distinct_regions).status();
}

Status KeepListedCopiesOfObjects(Catalog& catalog, const std::string& partner) {
  return ListObjectsWithCopies(catalog, partner).status();
}

namespace {

// `fn` called with `file`, a site of `owed` that holds no copy of it added as pending, in site
// order (a copy is made only when one is added: a version of 200,000 files streams by).
std::function<Status(const FileCopies&)> WithOwed(
    const std::vector<std::string>& owed, const std::function<Status(const FileCopies&)>& fn) {
  return [&owed, &fn](const FileCopies& file) {
    auto lacks = [&file](const std::string& site) {
      return std::none_of(file.copies.begin(), file.copies.end(),
                          [&site](const CopyState& c) { return c.site == site; });
    };
    if (std::none_of(owed.begin(), owed.end(), lacks)) return fn(file);
    FileCopies with = file;
    for (const std::string& site : owed) {
      if (lacks(site)) with.copies.push_back({site, "pending"});
    }
    std::stable_sort(with.copies.begin(), with.copies.end(),
                     [](const CopyState& x, const CopyState& y) { return x.site < y.site; });
    return fn(with);
  };
}

}  // namespace

Status ForEachFileCopies(Catalog& catalog, int64_t version_id,
                         const std::function<Status(const FileCopies&)>& fn,
                         const std::vector<std::string>& owed) {
  return catalog.ForEachFileCopies(version_id, WithOwed(owed, fn));
}

Status ForEachTagFileCopies(Catalog& catalog, int64_t version_id,
                            const std::function<Status(const FileCopies&)>& fn,
                            const std::vector<std::string>& owed) {
  return catalog.ForEachTagFileCopies(version_id, WithOwed(owed, fn));
}

Result<std::vector<VersionCopyCounts>> CountVersionCopies(Catalog& catalog, int64_t version_id) {
  std::map<std::string, VersionCopyCounts> by_site;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  for (const SiteRecord& s : sites) by_site[s.name].site = s.name;
  CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaStateCount> counts,
                         catalog.CountVersionReplicas(version_id));
  for (const ReplicaStateCount& row : counts) {
    VersionCopyCounts& c = by_site[row.site];
    c.site = row.site;
    uint64_t n = row.count;
    std::optional<ReplicaState> state = ParseReplicaState(row.state);
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
  return catalog.CountVersionItems(version_id);
}

}  // namespace cairn::repo
