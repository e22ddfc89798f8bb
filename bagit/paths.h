// Bag-relative path rules, shared by the validator, the bag creator and the
// repository (deposit, restore): a path named in a manifest, a tag manifest,
// fetch.txt or an archive member must stay inside the bag, on every system.
//
// Paths here are the decoded form (after DecodeManifestPath), '/'-separated,
// relative to the bag's top folder, e.g. "data/images/1.tif".
#ifndef CAIRN_BAGIT_PATHS_H_
#define CAIRN_BAGIT_PATHS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"

namespace cairn::bagit {

// Why a path was refused: a stable rule id and a human explanation.
struct PathViolation {
  std::string rule;     // "path.absolute", "path.dot-dot", ...
  std::string message;  // "absolute path '/etc/passwd' points outside the bag"
};

// Returns the first rule `path` breaks, or nullopt if it is a safe bag-relative
// path. Refused, in this order:
//   path.empty         ""
//   path.nul           a NUL byte
//   path.absolute      leading '/'
//   path.unc           leading "\\" (Windows UNC, \\server\share or \\?\...)
//   path.backslash     any '\' (a separator on Windows: "..\x" would escape)
//   path.drive-letter  "C:" at the start (Windows absolute or drive-relative)
//   path.home          a first segment starting with '~' ("~", "~/x", "~user/x")
//   path.empty-segment "a//b" or a trailing '/'
//   path.dot           a "." segment (a single leading "./" must be stripped
//                      first with StripDotSlash: it is a warning, not an error)
//   path.dot-dot       a ".." segment
// A '~' inside a later segment ("data/~x") and '%' are fine.
std::optional<PathViolation> FindPathViolation(std::string_view path);

// OK, or InvalidArgument "<where>: <message> (rule <rule>)". `where` names the
// file and line, e.g. "manifest-sha256.txt line 3".
Status CheckBagPath(std::string_view path, std::string_view where);

// Removes leading "./" prefixes; true if there was one (report a warning).
bool StripDotSlash(std::string_view* path);

// True if `path` is "data" or lies below "data/".
bool IsPayloadPath(std::string_view path);

// Percent-encoding of paths in manifests and fetch.txt (RFC 8493 2.1.3):
// '%' -> "%25", LF -> "%0A", CR -> "%0D". Everything else is written as is.
std::string EncodeManifestPath(std::string_view path);
// The inverse: decodes only %25, %0A, %0D (hex digits in either case); any other
// '%' sequence ("%7E", "%test") is kept literally, as the RFC requires.
std::string DecodeManifestPath(std::string_view encoded);

// True for operating-system junk a person rarely means to preserve:
// .DS_Store, Thumbs.db, desktop.ini, ._* (AppleDouble), .Spotlight-V100,
// .Trashes, .fseventsd, ehthumbs.db (checked on every segment, case-insensitive).
bool IsOsJunk(std::string_view path);

// The most empty folders of a payload a version keeps (BagContents::empty_folders, the
// version record's empty_folders): past it a deposit warns and keeps none.
inline constexpr size_t kMaxEmptyFolders = 100000;

// A key under which names that differ only in ASCII/Latin-1 case or Unicode
// normalization (CanonicalKey: NFC vs NFD, in any script: a Hangul syllable and its
// conjoining jamo, the Angstrom sign and Å) are equal: two byte-different paths with
// the same key would collide on a case-insensitive or normalizing file system
// (macOS, Windows). The key is for comparison only.
std::string CollisionKey(std::string_view path);

// True when every byte of `text` is ASCII.
bool IsAscii(std::string_view text);

// `path` in Unicode canonical decomposition (NFD): two names that differ only in
// normalization (NFC vs NFD, in any script) have the same key, and no others.
// ASCII, and bytes that are not valid UTF-8, come back unchanged.
std::string CanonicalKey(std::string_view path);

// Names by CanonicalKey, to find the one spelling of a name that came in another
// Unicode normalization (libarchive reads a tar's or zip's UTF-8 member names back
// in NFC; a Mac writes NFD). Only names that are not ASCII are kept: ASCII has one.
template <typename Id>
class SpellingIndex {
 public:
  void Add(std::string_view name, Id id) {
    if (!IsAscii(name)) by_key_[CanonicalKey(name)].push_back(std::move(id));
  }
  // The one id added under `name`'s canonical decomposition for which `taken(id)` is
  // false; nullopt when there is none, or more than one (which one is meant is unknowable).
  template <typename Taken>
  std::optional<Id> Unique(std::string_view name, const Taken& taken) const {
    if (IsAscii(name)) return std::nullopt;
    auto it = by_key_.find(CanonicalKey(name));
    if (it == by_key_.end()) return std::nullopt;
    std::optional<Id> only;
    for (const Id& id : it->second) {
      if (taken(id)) continue;
      if (only) return std::nullopt;
      only = id;
    }
    return only;
  }

 private:
  std::map<std::string, std::vector<Id>> by_key_;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_PATHS_H_
