// The site layout: the ONLY place that knows how keys on a site are named.
// repo/FORMAT.md documents the same layout for people; keep the two in step.
//
//   CAIRN-SITE                                  marker: layout version, site id
//   README.txt                                  how to rebuild a bag with coreutils
//   blobs/sha256/ab/<64 hex>                    payload files by SHA-256, write-once
//                                               (layout 1: blobs/sha256/ab/cd/<64 hex>)
//   bags/<partner>/<object>/v<N>/<tag file>     the bag's tag files, byte for byte
//   bags/<partner>/<object>/v<N>/version.pb     the version record, written last
//   bags/<partner>/<object>/v<N>/cairn-added.txt  tag files Cairn added (if any)
//   events/<first seq>-<last seq>.pb            event log segments (20-digit numbers)
//   tmp/                                        temp files of unfinished writers
//   lost-and-found/<key>[.N]                    posix: what was in a key's way (MakeRoomFor)
//   (nothing else at the root: IsLayoutTopLevelName)
#ifndef CAIRN_REPO_SITE_LAYOUT_H_
#define CAIRN_REPO_SITE_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::repo::layout {

// The layout a new site is made with. Version 1 (sites made before 2026-12-05) fanned
// blobs out over two folder levels (blobs/sha256/ab/cd/<digest>); version 2 over one
// (blobs/sha256/ab/<digest>). Nothing else differs; a site keeps the layout it was
// made with, and Cairn reads and writes both (Site maps blob keys to its own).
inline constexpr int kLayoutVersion = 2;
inline constexpr int kOldestLayoutVersion = 1;
inline constexpr std::string_view kSiteMarkerKey = "CAIRN-SITE";
inline constexpr std::string_view kReadmeKey = "README.txt";
inline constexpr std::string_view kBlobsPrefix = "blobs/sha256/";
inline constexpr std::string_view kBagsPrefix = "bags/";
inline constexpr std::string_view kEventsPrefix = "events/";
inline constexpr std::string_view kSettingsPrefix = "settings/";
// The version record in each v<N>/ folder; a bag's own tag file may not use this name.
inline constexpr std::string_view kVersionRecordName = "version.pb";
// In a v<N>/ folder of a withdrawn version: the write-once tombstone (who asked, who
// approved, when, why; repo/site/tombstone.h). A bag's own tag file may not use this name.
inline constexpr std::string_view kTombstoneName = "WITHDRAWN";
// Beside it, when a purge was asked and approved after a withdrawal without one: the purge's
// own write-once tombstone (WITHDRAWN keeps saying "Purge: no"). Reserved as well.
inline constexpr std::string_view kPurgeTombstoneName = "WITHDRAWN-PURGE";
// In a v<N>/ folder: the names of tag files Cairn added to the bag (one a line),
// e.g. the manifest-sha256.txt written when the depositor's bag had none. A
// restore removes them (and this list) to give the bag exactly as deposited.
inline constexpr std::string_view kCairnAddedListName = "cairn-added.txt";
// In a v<N>/ folder, listed in cairn-added.txt, when the bag has empty folders (which its
// manifests, files only, cannot list): the deepest ones, one bag path a line, encoded as
// manifest paths are (%0A, %0D, %25), as version.pb lists them; so that README.txt's recipe
// makes them with coreutils alone. A bag's own tag file may not use this name.
inline constexpr std::string_view kEmptyFoldersListName = "cairn-empty-folders.txt";
// The payload manifest every stored version has: payload path -> blob.
inline constexpr std::string_view kSha256ManifestName = "manifest-sha256.txt";
// Where a posix site keeps what was in a key's way (StorageBackend::MakeRoomFor): a
// directory found where key K's file should be, holding anything, is moved there whole, as
// "lost-and-found/K" (LostAndFoundKey). Never read, listed as content, or removed by Cairn:
// the operator looks at it and removes it.
inline constexpr std::string_view kLostAndFoundPrefix = "lost-and-found/";

// True for a name at a site's root that the layout uses, as StorageBackend::ListTopLevel gives
// it (a folder ends in '/'): the files CAIRN-SITE and README.txt; the folders blobs/, bags/,
// events/, settings/, lost-and-found/ and tmp/ (temp files of unfinished writers: posix
// tmp/w-*.tmp, S3 multipart parts and probes); and lost+found/, the folder a posix file system
// keeps at the root of each mount (a site may be one), which Cairn never writes either. Any
// other name there is one Cairn did not write (the auditor's stray files).
bool IsLayoutTopLevelName(std::string_view name);

// True for exactly 64 lower-case hex digits.
bool IsSha256Hex(std::string_view hex);

// THE id rule, for partner, object and site ids alike (repo/FORMAT.md, "Ids"):
// 1..128 characters from [A-Za-z0-9._-], not starting with '.', so an id is
// always safe as one key segment or file name. Every message about an id
// states it in these words.
inline constexpr std::string_view kIdRule =
    "an id is 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'";
// InvalidArgument "<kind> id '<id>' <what is wrong>: <kIdRule>" otherwise (the
// id printed safely).
Status ValidateId(std::string_view kind, std::string_view id);
inline Status ValidatePartnerId(std::string_view id) { return ValidateId("partner", id); }
inline Status ValidateObjectId(std::string_view id) { return ValidateId("object", id); }
inline Status ValidateSiteId(std::string_view id) { return ValidateId("site", id); }
inline Status ValidateRepositoryId(std::string_view id) { return ValidateId("repository", id); }

// A tag file's path inside its bag ("bagit.txt", "metadata/mods.xml"): relative,
// '/'-separated, no empty/"."/".." segment, no backslash or control character,
// not data/ or under it, not "version.pb". InvalidArgument naming it otherwise.
Status ValidateTagFileName(std::string_view name);

// The blob's key in layout `layout_version`: "blobs/sha256/ab/abcd..." (2),
// "blobs/sha256/ab/cd/abcd..." (1). REQUIRES: IsSha256Hex(sha256_hex), a known version.
std::string BlobKey(std::string_view sha256_hex, int layout_version = kLayoutVersion);
// "bags/<partner>/<object>/". REQUIRES: valid ids.
std::string ObjectPrefix(std::string_view partner, std::string_view object);
// "bags/<partner>/<object>/v<version>/". REQUIRES: valid ids, version >= 1.
std::string VersionPrefix(std::string_view partner, std::string_view object, uint32_t version);
// VersionPrefix + name. REQUIRES: ValidateTagFileName(name) is OK.
std::string TagFileKey(std::string_view partner, std::string_view object, uint32_t version,
                       std::string_view name);
// kLostAndFoundPrefix + `key`, then ".2", ".3", ... for `n` = 2, 3, ... (a second directory
// found in the same key's way). REQUIRES: n >= 1.
std::string LostAndFoundKey(std::string_view key, int n);
// VersionPrefix + "version.pb".
std::string VersionRecordKey(std::string_view partner, std::string_view object, uint32_t version);
// VersionPrefix + `name`: "WITHDRAWN" (kTombstoneName) or "WITHDRAWN-PURGE".
std::string TombstoneKey(std::string_view partner, std::string_view object, uint32_t version,
                         std::string_view name = kTombstoneName);
// "events/<first>-<last>.pb", both zero-padded to 20 digits so that the
// lexical order of keys is the numeric order. REQUIRES: first <= last.
std::string EventSegmentKey(uint64_t first_seq, uint64_t last_seq);

// "settings/<kind>/<name>/<version>.pb", the version zero-padded to 20
// digits (lexical order is numeric order). REQUIRES: kind and name non-empty,
// of letters, digits, '.', '_', '-' (and '@' in a principal's name) only, not
// starting with '.'.
std::string SettingsRecordKey(std::string_view kind, std::string_view name, uint64_t version);

// The digest a blob key of layout `layout_version` names, or nullopt if `key` is not a
// well-formed blob key of that layout (including the fan-out folders matching the digest).
std::optional<std::string> ParseBlobKey(std::string_view key, int layout_version);
// The same for a key of any layout this build knows.
std::optional<std::string> ParseAnyBlobKey(std::string_view key);

struct TagFileRef {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string name;  // path inside the bag, or "version.pb" for the version record
  bool is_version_record() const { return name == kVersionRecordName; }
};
// Splits a key under bags/, or nullopt if it is not one the layout makes. A tombstone is
// not a tag file: nullopt (ParseTombstoneKey reads it).
std::optional<TagFileRef> ParseTagFileKey(std::string_view key);
// The version whose tombstone `key` is (name "WITHDRAWN" or "WITHDRAWN-PURGE"), or nullopt.
std::optional<TagFileRef> ParseTombstoneKey(std::string_view key);

struct EventSegmentRef {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};
std::optional<EventSegmentRef> ParseEventSegmentKey(std::string_view key);

struct SettingsRecordRef {
  std::string kind;  // "partners", "policies", "sites", "schedules", "witness-keys", "principals"
  std::string name;
  uint64_t version = 0;
};
// Splits a key under settings/, or nullopt if it is not one the layout makes.
std::optional<SettingsRecordRef> ParseSettingsRecordKey(std::string_view key);

// The CAIRN-SITE marker:
//   cairn-site 1
//   site-id: <id>
//   created: <ISO 8601 UTC time>
//   repository-id: <id of the repository the site belongs to>
// repository-id is absent from markers written before repositories had ids
// (still read: such a site belongs to whichever repository lists it).
struct SiteMarker {
  int layout_version = kLayoutVersion;
  std::string site_id;
  std::string created;
  std::string repository_id;  // empty: an older marker that names none
};
std::string FormatSiteMarker(const SiteMarker& marker);
// InvalidArgument naming `where` if the text is not a CAIRN-SITE marker, its
// layout version is not one this build reads, site-id is missing or bad, or
// repository-id is present but not a valid id.
// Lines after the first that are not "label: value" are errors; unknown labels
// are ignored (newer writers may add some).
Result<SiteMarker> ParseSiteMarker(std::string_view text, std::string_view where);

// The README.txt every site holds (site_readme.cc).
std::string SiteReadmeText(int layout_version = kLayoutVersion);

}  // namespace cairn::repo::layout

#endif  // CAIRN_REPO_SITE_LAYOUT_H_
