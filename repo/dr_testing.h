// Test helpers for disaster recovery (segments, catalog rebuild, site
// resync): a real repository (posix sites, SQLite catalog) filled by real
// deposits of folders written on disk. Header-only, for tests.
#ifndef CAIRN_REPO_DR_TESTING_H_
#define CAIRN_REPO_DR_TESTING_H_

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bagit/digest.h"
#include "repo/deposit.h"
#include "repo/events/segments.h"
#include "repo/repository.h"

namespace cairn::repo::drtesting {

namespace fs = boost::filesystem;

inline std::string Sha256OfFile(const fs::path& path) {
  auto digests = bagit::HashFile(path.string(), bagit::Only(bagit::Algorithm::kSha256));
  EXPECT_TRUE(digests.ok()) << path;
  return digests.ok() ? digests->digests[bagit::Algorithm::kSha256] : "";
}

// Writes `files` (relative path -> bytes) under `dir`.
inline void WriteTree(const fs::path& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, bytes] : files) {
    fs::path p = dir / rel;
    fs::create_directories(p.parent_path());
    FILE* f = std::fopen(p.string().c_str(), "wb");
    ASSERT_NE(f, nullptr) << p;
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

// `n` files of distinct content, `size` bytes each, plus one file shared by
// every tree made with the same `shared` text (dedup across objects).
inline std::map<std::string, std::string> SampleFiles(const std::string& tag, int n, size_t size,
                                                      const std::string& shared = "shared\n") {
  std::map<std::string, std::string> files;
  for (int i = 0; i < n; ++i) {
    std::string bytes = tag + " file " + std::to_string(i) + "\n";
    while (bytes.size() < size) bytes += static_cast<char>('a' + (bytes.size() * 7 + i) % 26);
    files["dir" + std::to_string(i % 3) + "/f" + std::to_string(i) + ".txt"] = bytes;
  }
  files["shared.txt"] = shared;
  return files;
}

// Deposits folder `src` as partner/object (adding the partner when new), with
// replication to the other sites, then flushes the event segments (what the
// deposit verb does at its end). Returns the version number.
inline uint32_t DepositFolder(Repository& repo, const std::string& partner,
                              const std::string& object, const fs::path& src) {
  if (!repo.catalog().GetPartner(partner).ok()) {
    EXPECT_TRUE(repo.catalog().AddPartner(partner, partner).ok());
  }
  DepositRequest req;
  req.partner = partner;
  req.source = src.string();
  req.object_id = object;
  req.depositor = "tester";
  req.agent_version = "test";
  auto outcome = Deposit(repo, req);
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  if (!outcome.ok()) return 0;
  EXPECT_FALSE(outcome->refused);
  EXPECT_TRUE(outcome->receipt.has_value());
  auto flushed = FlushEventSegments(repo);
  EXPECT_TRUE(flushed.ok()) << flushed.status().ToString();
  return outcome->receipt ? outcome->receipt->version : 0;
}

// Every regular file under blobs/sha256/ of a posix site folder hashes to its
// name; returns how many there are.
inline size_t CheckBlobFiles(const fs::path& site_root) {
  size_t n = 0;
  fs::path blobs = site_root / "blobs" / "sha256";
  if (!fs::exists(blobs)) return 0;
  for (fs::recursive_directory_iterator it(blobs), end; it != end; ++it) {
    if (!fs::is_regular_file(it->path())) continue;
    EXPECT_EQ(Sha256OfFile(it->path()), it->path().filename().string()) << it->path();
    ++n;
  }
  return n;
}

// Relative path -> bytes of every regular file under `dir`.
inline std::map<std::string, std::string> ReadTree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (!fs::is_regular_file(it->path())) continue;
    std::string rel = fs::relative(it->path(), dir).generic_string();
    FILE* f = std::fopen(it->path().string().c_str(), "rb");
    std::string bytes;
    char buf[65536];
    size_t got;
    while (f && (got = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, got);
    if (f) std::fclose(f);
    out[rel] = bytes;
  }
  return out;
}

}  // namespace cairn::repo::drtesting

#endif  // CAIRN_REPO_DR_TESTING_H_
