// Builders of hostile deposit inputs for tests/hostile: archives with any
// member type and any raw name (through libarchive, so links, devices, "..",
// absolute names and bytes that are not UTF-8 can be written), streamed
// generated members (a gigabyte of zeros never sits in memory), and bag text.
#ifndef CAIRN_TESTS_HOSTILE_HOSTILE_INPUTS_H_
#define CAIRN_TESTS_HOSTILE_HOSTILE_INPUTS_H_

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bagit/digest.h"

namespace cairn::testing::hostile {

// One archive member. `generate` (when set) streams `size` bytes in chunks
// instead of `content`.
struct Member {
  std::string path;  // raw bytes, written as given
  unsigned type = AE_IFREG;
  std::string content;
  std::string link;  // symlink target, or the member a hard link names
  bool hardlink = false;
  uint64_t size = 0;  // with generate
  std::function<std::string(uint64_t offset, size_t n)> generate;
};

enum class Kind { kTar, kTarGz, kZip };

// Writes `members` in order to `path`; returns "" or libarchive's error.
inline std::string WriteArchive(const std::string& path, Kind kind,
                                const std::vector<Member>& members) {
  struct archive* a = archive_write_new();
  if (kind == Kind::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    // Names go in as raw bytes (a name that is not UTF-8 is the point of some cases).
    archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY");
    if (kind == Kind::kTarGz) {
      archive_write_add_filter_gzip(a);
      archive_write_set_filter_option(a, "gzip", "compression-level", "1");
    }
  }
  std::string error;
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    error = archive_error_string(a);
    archive_write_free(a);
    return error;
  }
  for (const Member& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, m.path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (m.hardlink) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_copy_hardlink(e, m.link.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, m.type);
      if (m.type == AE_IFLNK) archive_entry_copy_symlink(e, m.link.c_str());
      if (m.type == AE_IFCHR) archive_entry_set_rdevmajor(e, 1), archive_entry_set_rdevminor(e, 5);
      uint64_t size = m.generate ? m.size : m.content.size();
      archive_entry_set_size(e, m.type == AE_IFREG ? static_cast<la_int64_t>(size) : 0);
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) error = archive_error_string(a);
    archive_entry_free(e);
    if (!error.empty()) break;
    if (m.type != AE_IFREG || m.hardlink) continue;
    if (m.generate) {
      for (uint64_t done = 0; done < m.size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(1 << 20, m.size - done));
        std::string chunk = m.generate(done, n);
        if (archive_write_data(a, chunk.data(), chunk.size()) < 0) {
          error = archive_error_string(a);
          break;
        }
        done += n;
      }
    } else if (!m.content.empty() &&
               archive_write_data(a, m.content.data(), m.content.size()) < 0) {
      error = archive_error_string(a);
    }
    if (!error.empty()) break;
  }
  if (error.empty() && archive_write_close(a) != ARCHIVE_OK) error = archive_error_string(a);
  archive_write_free(a);
  return error;
}

inline std::string Sha256(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

inline constexpr const char* kBagitTxt = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

// The members of a small valid bag under `top`/ (bagit.txt, manifest listing
// `payload` path -> bytes, the payload), to which a case adds its hostile part.
inline std::vector<Member> SmallBag(const std::string& top,
                                    const std::vector<std::pair<std::string, std::string>>& payload,
                                    const std::string& extra_manifest_lines = "") {
  std::string manifest;
  for (const auto& [path, bytes] : payload) manifest += Sha256(bytes) + "  " + path + "\n";
  manifest += extra_manifest_lines;
  std::vector<Member> members{{top + "/bagit.txt", AE_IFREG, kBagitTxt},
                              {top + "/manifest-sha256.txt", AE_IFREG, manifest}};
  for (const auto& [path, bytes] : payload) members.push_back({top + "/" + path, AE_IFREG, bytes});
  return members;
}

}  // namespace cairn::testing::hostile

#endif  // CAIRN_TESTS_HOSTILE_HOSTILE_INPUTS_H_
