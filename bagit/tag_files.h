// Readers for the BagIt tag files: bagit.txt, bag-info.txt, manifests, tag
// manifests and fetch.txt (RFC 8493, versions 0.93 to 1.0).
//
// Tag files may be huge (a manifest of a million files), so text is decoded and
// split into lines as a stream: TagTextDecoder turns the declared encoding into
// UTF-8 chunk by chunk, LineSplitter cuts lines (LF, CR or CRLF) and refuses a
// line longer than kMaxTagLine. The line parsers then record every problem in a
// Report (file, line, rule) and keep going.
#ifndef CAIRN_BAGIT_TAG_FILES_H_
#define CAIRN_BAGIT_TAG_FILES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/digest.h"
#include "bagit/report.h"
#include "bagit/status.h"

namespace cairn::bagit {

// Longest tag-file line accepted (a path plus a 128-character digest fits easily).
inline constexpr size_t kMaxTagLine = 64 * 1024;

// `s` with ASCII letters in lower case (labels and digests compare so).
std::string AsciiLower(std::string_view s);
// Largest bagit.txt, bag-info.txt and profile file held in memory.
inline constexpr size_t kMaxSmallTagFile = 8 * 1024 * 1024;
// Most elements accepted in bag-info.txt (rule bag-info.too-many-elements): far
// beyond any real bag's metadata, and it bounds what a hostile file can make
// the parser, the catalog and every report hold.
inline constexpr size_t kMaxBagInfoElements = 10'000;

struct BagitVersion {
  int major = 1;
  int minor = 0;
  bool AtLeast1() const { return major >= 1; }
  std::string ToString() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// What bagit.txt declares.
struct BagitDeclaration {
  BagitVersion version;
  std::string encoding = "UTF-8";  // Tag-File-Character-Encoding, as declared
  bool version_known = false;      // false: the version line was unreadable (1.0 rules apply)
};

// Parses bagit.txt: exactly two lines, in order, "BagIt-Version: M.N" (0.93 to
// 0.97 or 1.0) and "Tag-File-Character-Encoding: ENC"; no BOM; LF, CR or CRLF.
// Records errors in `report` (rules bagit.*) and returns what could be read.
BagitDeclaration ParseBagitTxt(std::string_view bytes, Report* report);

// Decodes tag-file bytes in the declared encoding (any name iconv knows: UTF-8,
// ISO-8859-1, UTF-16 with a BOM, UTF-16LE, ...) into UTF-8, chunk by chunk.
class TagTextDecoder {
 public:
  // InvalidArgument if the encoding is unknown.
  static Result<std::unique_ptr<TagTextDecoder>> Create(std::string_view encoding);
  ~TagTextDecoder();
  // Appends the UTF-8 form of `bytes` to *out. A byte-order mark at the start is
  // removed (bom_seen() tells). InvalidArgument on bytes invalid in the encoding.
  Status Feed(std::string_view bytes, std::string* out);
  // InvalidArgument if the input ended in the middle of a character.
  Status Finish();
  bool bom_seen() const { return bom_seen_; }

 private:
  TagTextDecoder() = default;
  void* cd_ = nullptr;   // iconv_t; null for UTF-8 (passed through)
  std::string pending_;  // undecoded tail of the previous chunk
  bool started_ = false;
  bool bom_seen_ = false;
};

// Cuts decoded text into lines ending in LF, CR or CRLF (the last line may have
// no terminator). Lines are numbered from 1.
class LineSplitter {
 public:
  using LineFn = std::function<void(uint64_t line_no, std::string_view line)>;
  explicit LineSplitter(LineFn on_line, size_t max_line = kMaxTagLine)
      : on_line_(std::move(on_line)), max_line_(max_line) {}
  // InvalidArgument "line N is longer than M bytes" once a line grows too long;
  // the caller reports it and stops feeding.
  Status Feed(std::string_view text);
  Status Finish();
  uint64_t lines() const { return line_no_; }

 private:
  LineFn on_line_;
  size_t max_line_;
  std::string partial_;
  bool pending_cr_ = false;
  uint64_t line_no_ = 0;
};

// One "Label: value" element of bag-info.txt (continuation lines joined with a space).
struct BagInfoEntry {
  std::string label;
  std::string value;
  uint64_t line = 0;
};

// The parsed bag-info.txt.
struct BagInfo {
  std::vector<BagInfoEntry> entries;
  // Payload-Oxum "octets.streamcount", when present once and well formed.
  std::optional<uint64_t> oxum_bytes;
  std::optional<uint64_t> oxum_files;
  // Values of `label` (case-insensitive), in file order.
  std::vector<std::string> Values(std::string_view label) const;
};

// Parses bag-info.txt (already decoded to UTF-8). Rules: every element is
// "Label: value"; lines starting with space or tab continue the previous value;
// whitespace before the colon is allowed only before 1.0; Payload-Oxum at most
// once and "digits.digits"; at most kMaxBagInfoElements elements (the rest is
// not read). Findings go to `report` under `file`.
BagInfo ParseBagInfo(std::string_view text, const BagitVersion& version, std::string_view file,
                     Report* report);

// One line of a manifest or tag manifest, already checked.
struct ParsedManifestLine {
  std::string digest;  // lower-case hex
  std::string path;    // decoded (%25, %0A, %0D), "./" removed
};

// Parses "<digest> <path>" (one or more spaces or tabs between). Findings:
// manifest.malformed, manifest.bad-digest (wrong length or not hex), path.* (see
// paths.h), manifest.md5sum-star and manifest.dot-slash (warnings). nullopt when
// the line cannot be used; blank lines are skipped silently with nullopt.
std::optional<ParsedManifestLine> ParseManifestLine(std::string_view line, Algorithm algorithm,
                                                    std::string_view file, uint64_t line_no,
                                                    Report* report);

// One line of fetch.txt.
struct FetchEntry {
  std::string url;
  std::optional<uint64_t> length;  // nullopt for "-"
  std::string path;                // decoded, checked
  uint64_t line = 0;
};

// Parses "<url> <length|-> <path>". Findings: fetch.malformed, fetch.bad-length,
// fetch.path-outside-data (fetch may only name payload files), path.*.
std::optional<FetchEntry> ParseFetchLine(std::string_view line, std::string_view file,
                                         uint64_t line_no, Report* report);

// Kinds of tag files, by name at the top of the bag.
enum class TagKind { kBagitTxt, kBagInfo, kFetch, kManifest, kTagManifest, kOther };
// Classifies a bag-relative tag-file path; for (tag) manifests sets *algorithm
// (nullopt when the algorithm is unknown, e.g. "manifest-foo.txt").
TagKind ClassifyTagFile(std::string_view path, std::optional<Algorithm>* algorithm);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_TAG_FILES_H_
