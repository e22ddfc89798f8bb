// Planning a restore from the catalog: which files, in which order, and which
// sites to try for each, best copy first.
#include "repo/restore/restore_plan.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "bagit/paths.h"
#include "bagit/report.h"
#include "repo/restore/restore_check.h"
#include "repo/site_layout.h"

namespace cairn::repo::restore_internal {
namespace {

// Lower is tried first: copies last seen good, then unknown, then known bad
// (a bad copy may have been repaired since), then sites with no record.
int Rank(std::optional<ReplicaState> state) {
  if (!state) return 5;
  switch (*state) {
    case ReplicaState::kOk:
      return 0;
    case ReplicaState::kPending:
      return 1;
    case ReplicaState::kUnavailable:
    case ReplicaState::kUnreadable:
      return 2;
    case ReplicaState::kCorrupt:
      return 3;
    case ReplicaState::kMissing:
      return 4;
  }
  return 5;
}

std::string BlobRefKey(const std::string& sha256) { return "b:" + sha256; }
std::string TagRefKey(int64_t id) { return "t:" + std::to_string(id); }

using StatesBySite = std::map<std::string, ReplicaState>;

// The sites to try, best first; in *recorded, how many of them, from the first, the catalog
// records a copy on (held or owed): the others come last.
std::vector<std::string> Candidates(const StatesBySite* states,
                                    const std::vector<std::string>& all_sites,
                                    const std::string& only_site, size_t* recorded) {
  *recorded = 0;
  if (!only_site.empty()) {
    *recorded = states && states->contains(only_site) ? 1 : 0;
    return {only_site};
  }
  std::vector<std::pair<int, std::string>> ranked;
  for (const std::string& site : all_sites) {
    std::optional<ReplicaState> state;
    if (states) {
      auto it = states->find(site);
      if (it != states->end()) state = it->second;
    }
    ranked.emplace_back(Rank(state), site);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (auto& [rank, site] : ranked) {
    if (rank < Rank(std::nullopt)) ++*recorded;
    out.push_back(std::move(site));
  }
  return out;
}

}  // namespace

ReplicaRef RestorePlan::RefOf(const CopyProblem& p) const {
  if (!p.tag_file) return ReplicaRef::Blob(p.sha256);
  auto it = tag_ids.find(p.path);
  return ReplicaRef::TagFile(it == tag_ids.end() ? 0 : it->second);
}

bool RestorePlan::HasReplica(const CopyProblem& p) const {
  std::string ref;
  if (p.tag_file) {
    auto it = tag_ids.find(p.path);
    if (it == tag_ids.end()) return false;
    ref = TagRefKey(it->second);
  } else {
    ref = BlobRefKey(p.sha256);
  }
  return recorded.count(ref + "|" + p.site) > 0;
}

bool LeftOutOfRestore(const TagFileEntry& tag) { return tag.name == layout::kVersionRecordName; }

size_t FirstPayloadItem(const std::vector<RestoreItem>& items) {
  size_t i = 0;
  while (i < items.size() && items[i].tag_file) ++i;
  return i;
}

Result<RestorePlan> PlanRestore(Catalog& catalog, const std::string& partner,
                                const std::string& object, uint32_t version,
                                const std::string& only_site) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  RestorePlan plan;
  Result<VersionInfo> found = catalog.GetVersion(
      partner, object, version == 0 ? std::nullopt : std::optional(version), true);
  if (!found.ok()) {
    // A purged version is gone from the catalog: say why, not just "no object".
    if (found.status().IsNotFound()) {
      CAIRN_RETURN_IF_ERROR(catalog.RefuseIfWithdrawn(partner, object, version));
    }
    return found.status();
  }
  plan.version = *std::move(found);
  // A withdrawn version gives nothing back (issue 18), whoever asks.
  CAIRN_RETURN_IF_ERROR(catalog.RefuseIfWithdrawn(partner, object, plan.version.version));
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  for (const SiteRecord& s : sites) plan.sites.push_back(s.name);
  if (!only_site.empty()) {
    if (std::find(plan.sites.begin(), plan.sites.end(), only_site) == plan.sites.end()) {
      return Status::NotFound("restore: no site named '" + only_site + "'");
    }
    plan.sites = {only_site};
  }

  CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> replicas, catalog.ReplicasOf(plan.version.id));
  std::unordered_map<std::string, StatesBySite> states;
  for (const ReplicaRecord& r : replicas) {
    std::string ref = r.ref.kind == ReplicaRef::Kind::kBlob ? BlobRefKey(r.ref.blob)
                                                            : TagRefKey(r.ref.tag_file_id);
    states[ref][r.site] = r.state;
    plan.recorded.insert(ref + "|" + r.site);
  }
  auto states_of = [&](const std::string& ref) -> const StatesBySite* {
    auto it = states.find(ref);
    return it == states.end() ? nullptr : &it->second;
  };

  const VersionInfo& v = plan.version;
  const std::string what = v.partner + "/" + v.object + "@v" + std::to_string(v.version);
  std::vector<const TagFileEntry*> tags;
  const TagFileEntry* record = nullptr;
  bool has_manifest = false;
  for (const TagFileEntry& t : v.tag_files) {
    if (LeftOutOfRestore(t)) {
      record = &t;
    } else {
      tags.push_back(&t);
    }
    has_manifest = has_manifest || t.name == kCheckedManifestName;
  }
  // The bag's own word on its files (restore_check.h): without it the catalog
  // alone would say which bytes to write.
  if (record == nullptr || !has_manifest) {
    return Status::Corruption(
        "restore: the catalog lists no " +
        std::string(record == nullptr ? layout::kVersionRecordName : kCheckedManifestName) +
        " for " + what +
        ", so its files cannot be checked against the bag on the sites "
        "(every stored version has one; `cairn catalog rebuild --from "
        "SITE` rebuilds the catalog from a site)");
  }
  // version.pb first (read, checked, not written): a catalog that disagrees
  // with it stops the restore before anything is written. Then bagit.txt:
  // some readers of serialized bags expect it early.
  std::stable_sort(tags.begin(), tags.end(), [](const TagFileEntry* a, const TagFileEntry* b) {
    return (a->name == "bagit.txt") > (b->name == "bagit.txt");
  });
  tags.insert(tags.begin(), record);
  for (const TagFileEntry* t : tags) {
    if (t != record) {  // the one name ValidateTagFileName reserves
      CAIRN_RETURN_IF_ERROR(layout::ValidateTagFileName(t->name).WithContext("restore: catalog"));
    }
    plan.tag_ids[t->name] = t->id;
    size_t recorded = 0;
    RestoreItem item{t->name,
                     t == record ? layout::VersionRecordKey(v.partner, v.object, v.version)
                                 : layout::TagFileKey(v.partner, v.object, v.version, t->name),
                     t->size,
                     t->sha256,
                     true,
                     Candidates(states_of(TagRefKey(t->id)), plan.sites, only_site, &recorded)};
    item.check_only = t == record;
    item.recorded_sites = recorded;
    plan.items.push_back(std::move(item));
  }
  for (FileEntry& f : plan.version.files) {
    if (!layout::IsSha256Hex(f.sha256)) {
      // A damaged catalog (an empty digest: its files row names a blob id with
      // no blobs row), not a bad request: exit 1, like any disagreement.
      return Status::Corruption(
          "restore: catalog entry '" + f.path + "' of " + what +
          (f.sha256.empty() ? " names no blob the catalog lists"
                            : " has a malformed sha256 '" + f.sha256 + "'") +
          " (rule restore.catalog-damaged); nothing was restored. `cairn audit run --all` "
          "reports the damage; `cairn catalog rebuild --from SITE` rebuilds the catalog");
    }
    size_t recorded = 0;
    std::vector<std::string> candidates =
        Candidates(states_of(BlobRefKey(f.sha256)), plan.sites, only_site, &recorded);
    std::string key = layout::BlobKey(f.sha256);
    plan.items.push_back(RestoreItem{std::move(f.path), std::move(key), f.size, std::move(f.sha256),
                                     false, std::move(candidates)});
    plan.items.back().recorded_sites = recorded;
  }
  plan.version.files.clear();
  plan.version.files.shrink_to_fit();
  // The catalog lists files in path order; the checks look paths up by it.
  auto payload = plan.items.begin() + static_cast<std::ptrdiff_t>(FirstPayloadItem(plan.items));
  auto by_path = [](const RestoreItem& a, const RestoreItem& b) { return a.path < b.path; };
  if (!std::is_sorted(payload, plan.items.end(), by_path)) {
    std::sort(payload, plan.items.end(), by_path);
  }
  CAIRN_RETURN_IF_ERROR(CheckRestoreItems(plan.items));
  // Made at DEST as the files are: a hostile catalog row writes nothing.
  for (const std::string& folder : plan.version.empty_folders) {
    if (folder == "data") {
      return Status::InvalidArgument("restore: catalog empty folder 'data' of " + what +
                                     " is the payload itself");
    }
    CAIRN_RETURN_IF_ERROR(bagit::CheckBagPath(folder, "restore: catalog empty folder"));
  }
  return plan;
}

}  // namespace cairn::repo::restore_internal
