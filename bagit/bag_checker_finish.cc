// BagChecker, part 2: the rules that need the whole bag (Finish()).
#include <algorithm>
#include <bit>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "bagit/bag_checker.h"
#include "bagit/paths.h"
#include "bagit/profile.h"
#include "bagit/source_tree.h"

namespace cairn::bagit {
namespace {

// `path` with every character past ASCII as its code point, "caf<U+00E9>.txt", so that names
// differing only in normalization can be told apart in a message. Bytes that are not UTF-8 stay
// as Printable shows them.
std::string CodePoints(std::string_view path) {
  if (!IsValidUtf8(path)) return Printable(path);
  std::string out;
  for (size_t i = 0; i < path.size();) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(path[i + k]) & 0x3F);
    char hex[16];
    std::snprintf(hex, sizeof hex, "<U+%04X>", cp);
    out += hex;
    i += n;
  }
  return out;
}

}  // namespace

void BagChecker::Finish(bool data_dir_present) {
  report_->payload_files = payload_files_;
  report_->payload_bytes = payload_bytes_;
  if (!data_dir_present) {
    report_->Error("data", "bag.data-missing", "the payload directory data/ is missing");
  }
  if (contents_->manifests->manifest_count() == 0) {
    report_->Error("", "bag.no-manifest", "no payload manifest (manifest-<algorithm>.txt)");
  }
  if (renamed_ > 0) {
    const std::string why =
        " only in Unicode normalization (a tar's or zip's UTF-8 names, which a Mac writes in NFD, "
        "are read back in NFC)";
    report_->Warning(first_renamed_, "archive.name-normalized",
                     renamed_ == 1 ? "this member's name in the archive differs from its manifest "
                                     "line" +
                                         why + "; it is taken under the manifest's name"
                                   : std::to_string(renamed_) +
                                         " members' names in the archive differ from their "
                                         "manifest lines" +
                                         why +
                                         "; each is taken under its manifest's name (this is "
                                         "the first)");
  }
  CheckOxum();
  CheckEmptyFolders();
  CheckFilesThatAreFolders();
  CheckTagManifests();
  CheckFetch();
  if (options_.mode != ValidationMode::kFast) CheckMissingAndCollisions();
  if (options_.profile != nullptr) options_.profile->Check(*contents_, report_);
}

void BagChecker::CheckEmptyFolders() {
  if (!folders_tracked_) {
    report_->Warning("data", "payload.folders-not-checked",
                     "more than " + std::to_string(kMaxTrackedFolders) +
                         " payload folders: empty ones, and files that are also folders, were "
                         "not looked for (a deposit keeps no empty folder of this bag)");
    return;
  }
  // The deepest empty folders only: each names the empty ones above it.
  // Members renamed to their manifests' spellings (ArchiveMemberName) hold folders
  // the archive's folder members name in another normalization.
  std::set<std::string, std::less<>> holding_keys;
  if (renamed_ > 0) {
    for (const std::string& folder : folders_holding_) holding_keys.insert(CanonicalKey(folder));
  }
  std::vector<const std::string*> empty;
  for (const std::string& folder : payload_folders_) {
    if (folders_holding_.contains(folder)) continue;
    if (renamed_ > 0 && holding_keys.contains(CanonicalKey(folder))) continue;
    empty.push_back(&folder);
  }
  // Kept with the version (a restore makes them), so named as a payload or tag file would be.
  std::vector<std::string> deepest;
  for (const std::string* folder : empty) {
    auto below = payload_folders_.lower_bound(*folder + "/");
    if (below != payload_folders_.end() && below->starts_with(*folder + "/")) continue;
    const bool payload = IsPayloadPath(*folder);
    if (!IsValidUtf8(*folder)) {
      report_->Error(*folder, payload ? "payload.folder-name-not-utf8" : "tag.folder-name-not-utf8",
                     std::string("this empty folder's name is not valid UTF-8, as a ") +
                         (payload ? "payload" : "tag file") + " path must be");
    } else if (std::optional<PathViolation> v = FindPathViolation(*folder)) {
      report_->Error(*folder, v->rule,
                     std::string("this empty folder cannot be a ") + (payload ? "payload" : "bag") +
                         " path: " + v->message);
    } else {
      deepest.push_back(*folder);
    }
  }
  if (deepest.size() > kMaxEmptyFolders) {
    report_->Warning("data", "payload.folders-not-checked",
                     std::to_string(deepest.size()) + " empty payload folders: more than the " +
                         std::to_string(kMaxEmptyFolders) + " a deposit keeps, so it keeps none");
    deepest.clear();
  }
  contents_->empty_folders = std::move(deepest);  // sorted: payload_folders_ is
}

void BagChecker::CheckFilesThatAreFolders() {
  if (!folders_tracked_) return;  // said by CheckEmptyFolders' payload.folders-not-checked
  const ManifestIndex& index = *contents_->manifests;
  for (const std::string& folder : folders_holding_) {
    if (!index.Find(folder)) continue;
    report_->Error(folder, "payload.file-is-folder",
                   "a payload manifest lists this path as a file, and payload files lie below "
                   "it as in a folder: no file system holds both, so the bag could not be "
                   "restored");
  }
}

void BagChecker::CheckOxum() {
  const BagInfo& info = contents_->bag_info;
  if (!info.oxum_bytes) {
    if (options_.mode == ValidationMode::kFast) {
      report_->Warning("bag-info.txt", "fast.no-oxum",
                       "no Payload-Oxum: --fast checked nothing of the payload");
    }
    return;
  }
  if (*info.oxum_bytes != payload_bytes_ || *info.oxum_files != payload_files_) {
    report_->Error("bag-info.txt", "bag-info.oxum-mismatch",
                   "Payload-Oxum says " + std::to_string(*info.oxum_bytes) + " bytes in " +
                       std::to_string(*info.oxum_files) + " files, the payload has " +
                       std::to_string(payload_bytes_) + " bytes in " +
                       std::to_string(payload_files_) + " files");
  }
}

void BagChecker::CheckTagManifests() {
  const ManifestIndex& index = *contents_->manifests;
  bool hash = options_.mode == ValidationMode::kFull;
  for (size_t t = 0; t < tag_manifests_.size(); ++t) {
    const TagManifest& tm = tag_manifests_[t];
    // Every payload manifest must be listed.
    for (int m = 0; m < index.manifest_count(); ++m) {
      bool listed = std::any_of(
          tag_manifest_lines_.begin(), tag_manifest_lines_.end(), [&](const TagManifestLine& l) {
            return l.manifest == static_cast<int>(t) && l.path == index.manifest_file(m);
          });
      if (listed) continue;
      std::string msg = "does not list the payload manifest " + index.manifest_file(m);
      if (version().AtLeast1()) {
        report_->Error(tm.file, "tagmanifest.manifest-not-listed", msg);
      } else {
        report_->Warning(tm.file, "tagmanifest.manifest-not-listed", msg);
      }
    }
  }
  // Every listed tag file must exist and verify; each path only once per tag manifest.
  std::unordered_map<std::string, uint64_t> first_line;
  int current = -1;
  for (const TagManifestLine& l : tag_manifest_lines_) {
    const TagManifest& tm = tag_manifests_[l.manifest];
    if (l.manifest != current) {
      first_line.clear();
      current = l.manifest;
    }
    auto [it, inserted] = first_line.emplace(l.path, l.line);
    if (!inserted) {
      std::string msg = "'" + Printable(l.path) + "' is listed again (first on line " +
                        std::to_string(it->second) + ")";
      if (version().AtLeast1()) {
        report_->Error(tm.file, "manifest.duplicate", msg, l.line);
      } else {
        report_->Warning(tm.file, "manifest.duplicate", msg, l.line);
      }
      continue;
    }
    const TagFileRecord* record = contents_->FindTagFile(l.path);
    if (record == nullptr) {
      report_->Error(tm.file, "tagmanifest.file-missing",
                     "lists '" + Printable(l.path) + "', which is not in the bag", l.line);
      continue;
    }
    if (!hash) continue;
    const std::string& actual = record->digests[tm.algorithm];
    if (!actual.empty() && actual != l.digest) {
      report_->Error(l.path, "tagmanifest.digest-mismatch",
                     std::string(AlgorithmName(tm.algorithm)) + " is " + actual + " but " +
                         tm.file + " line " + std::to_string(l.line) + " says " + l.digest);
    }
  }
}

void BagChecker::CheckFetch() {
  const ManifestIndex& index = *contents_->manifests;
  if (options_.mode == ValidationMode::kFast && !contents_->fetch.empty()) {
    report_->Warning("fetch.txt", "fast.fetch-unchecked",
                     "--fast did not check whether the " + std::to_string(contents_->fetch.size()) +
                         " files fetch.txt names are present (the bag may be incomplete)");
  }
  for (const FetchEntry& f : contents_->fetch) {
    std::optional<ManifestIndex::EntryId> id = index.Find(f.path);
    if (!id || index.listed_mask(*id) != index.all_manifests_mask()) {
      report_->Error("fetch.txt", "fetch.not-in-manifest",
                     "'" + Printable(f.path) + "' must be listed in every payload manifest",
                     f.line);
    }
  }
}

void BagChecker::CheckMissingAndCollisions() {
  const ManifestIndex& index = *contents_->manifests;
  // Group names that differ only in case or Unicode normalization.
  std::vector<ManifestIndex::EntryId> covered;
  index.ForEachCollisionCandidates([&](const std::vector<ManifestIndex::EntryId>& candidates) {
    std::string key = CollisionKey(index.path(candidates[0]));
    std::vector<ManifestIndex::EntryId> group;
    for (ManifestIndex::EntryId id : candidates) {
      if (CollisionKey(index.path(id)) == key) group.push_back(id);
    }
    if (group.size() < 2) return;
    if (options_.refuse_normalization_twins) {
      // Names equal once decomposed (NFD), as opposed to those differing in case.
      std::map<std::string, std::vector<ManifestIndex::EntryId>> twins;
      for (ManifestIndex::EntryId id : group) twins[CanonicalKey(index.path(id))].push_back(id);
      for (const auto& [key, ids] : twins) {
        if (ids.size() < 2) continue;
        std::string named;
        for (ManifestIndex::EntryId id : ids) {
          named += std::string(named.empty() ? "" : ", ") + "'" + Printable(index.path(id)) +
                   "' (" + CodePoints(index.path(id)) + ")";
        }
        report_->Error(index.path(ids[0]), "payload.normalization-twin",
                       "names that differ only in Unicode normalization: " + named +
                           ". They are one name on macOS and Windows file systems, and in a tar "
                           "or zip as it is read back (in NFC), so the bag could not be restored "
                           "whole: rename all but one and deposit again");
      }
    }
    std::string names;
    for (ManifestIndex::EntryId id : group) names += " '" + Printable(index.path(id)) + "'";
    report_->Warning(index.path(group[0]), "payload.name-collision",
                     "names differ only in case or Unicode normalization and collide on "
                     "some file systems:" +
                         names);
    for (ManifestIndex::EntryId id : group) {
      if (index.seen(id)) continue;
      for (ManifestIndex::EntryId other : group) {
        if (index.seen(other) && index.SameDigests(id, other)) {
          covered.push_back(id);
          break;
        }
      }
    }
  });
  std::sort(covered.begin(), covered.end());
  std::vector<std::string_view> fetch_paths;
  for (const FetchEntry& f : contents_->fetch) fetch_paths.push_back(f.path);
  std::sort(fetch_paths.begin(), fetch_paths.end());
  index.ForEach([&](const ManifestIndex::EntryView& entry) {
    if (entry.listed != index.all_manifests_mask() && version().AtLeast1()) {
      for (int m = 0; m < index.manifest_count(); ++m) {
        if (entry.listed & (1u << m)) continue;
        report_->Error(entry.path, "payload.not-in-every-manifest",
                       "not listed in " + index.manifest_file(m) +
                           " (BagIt 1.0: every payload manifest lists every payload file)");
      }
    }
    if (entry.seen) return;
    if (std::binary_search(covered.begin(), covered.end(), entry.id)) {
      report_->Warning(entry.path, "payload.name-collision-absent",
                       "listed, but only present under a name that differs in case or "
                       "normalization, with the same digest");
      return;
    }
    if (std::binary_search(fetch_paths.begin(), fetch_paths.end(), entry.path)) {
      // RFC 8493 section 3: complete means every manifest entry is present; a
      // file still to be fetched leaves the bag incomplete, so not valid.
      report_->complete = false;
      std::string msg = "listed in " + index.manifest_file(std::countr_zero(entry.listed)) +
                        " but not in the bag; fetch.txt says where to get it, and until it is "
                        "fetched the bag is incomplete";
      if (options_.allow_fetch) {
        report_->Warning(entry.path, "complete.fetch-not-retrieved", msg + " (allowed)");
      } else {
        report_->Error(entry.path, "complete.fetch-not-retrieved", msg + ", so not valid");
      }
      return;
    }
    report_->Error(
        entry.path, "payload.missing",
        "listed in " + index.manifest_file(std::countr_zero(entry.listed)) + " but not in the bag");
  });
}

}  // namespace cairn::bagit
