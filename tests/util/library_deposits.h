// Test helpers for disaster recovery (segments, catalog rebuild, site
// resync), in the library's and the CLI's tests: a real repository (posix
// sites, SQLite catalog) filled by real deposits, through the library, of
// folders written on disk (WriteTree); sites checked file by file.
#ifndef CAIRN_TESTS_UTIL_LIBRARY_DEPOSITS_H_
#define CAIRN_TESTS_UTIL_LIBRARY_DEPOSITS_H_

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bagit/digest.h"
#include "repo/deposit/deposit.h"
#include "repo/events/segments.h"
#include "repo/site/repository.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

inline std::string Sha256OfFile(const fs::path& path) {
  auto digests = bagit::HashFile(path.string(), bagit::Only(bagit::Algorithm::kSha256));
  EXPECT_OK(digests) << path;
  return digests.ok() ? digests->digests[bagit::Algorithm::kSha256] : "";
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
inline uint32_t DepositFolder(repo::Repository& repository, const std::string& partner,
                              const std::string& object, const fs::path& src) {
  if (!repository.catalog().GetPartner(partner).ok()) {
    EXPECT_OK(repository.catalog().AddPartner(partner, partner));
  }
  repo::DepositRequest req;
  req.partner = partner;
  req.source = src.string();
  req.object_id = object;
  req.depositor = "tester";
  req.agent_version = "test";
  auto outcome = repo::Deposit(repository, req);
  EXPECT_OK(outcome);
  if (!outcome.ok()) return 0;
  EXPECT_FALSE(outcome->refused);
  EXPECT_TRUE(outcome->receipt.has_value());
  auto flushed = repo::FlushEventSegments(repository);
  EXPECT_OK(flushed);
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

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_LIBRARY_DEPOSITS_H_
