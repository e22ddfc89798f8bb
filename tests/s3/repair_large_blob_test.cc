// `cairn audit run` repairing corrupt blobs on an S3 site on the REAL Ceph
// gateway (tests/util/s3_gateway.h), through the real binary: a blob large
// enough to go up as a multipart upload is repaired on the first sweep like a
// small one, and the bucket and the catalog agree afterwards (a second sweep
// finds nothing). Found by hand: the damaged large blob was removed and the
// good copy never written (the S3 writer had decided at its first part that
// the key existed, and sent nothing).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "repo/site_layout.h"
#include "repo/storage/s3_backend.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_repo_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

std::string SeededBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

class S3RepairTest : public S3RepoFixture {
 protected:
  nlohmann::json Json(const CommandResult& r) {
    nlohmann::json json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << r.out << r.err;
    return json;
  }

  // Adds site s3 (a fresh bucket, 5 MiB parts) beside a under a two-copy policy and deposits
  // `files` as q/s2 on both; `url` is the site's.
  void DepositOnAAndS3(const std::map<std::string, std::string>& files, std::string* url) {
    *url = S3Url(*gateway_, FreshBucketName(), "part-size=5MiB");
    ASSERT_EQ(Cairn({"site", "add", "s3", *url, "--create-bucket"}).exit_code, 0);
    WriteFile(tmp_ / "policy.textpb", "copies: 2 sites: \"a\" sites: \"s3\"\n");
    ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0);
    ASSERT_EQ(Cairn({"partner", "add", "q"}).exit_code, 0);
    WriteTree(tmp_ / "src", files);
    CommandResult deposited = Cairn({"deposit", "q", (tmp_ / "src").string(), "--id", "s2"});
    ASSERT_EQ(deposited.exit_code, 0) << deposited.out << deposited.err;
    CommandResult replicated = Cairn({"replicate", "--wait"});
    ASSERT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  }
};

TEST_F(S3RepairTest, CorruptMultipartBlobIsReplacedOnTheFirstSweep) {
  // 5 MiB parts: the 11 MiB file goes up in three parts, the 1 MiB one in one PUT.
  const std::map<std::string, std::string> files = {{"large.bin", SeededBytes(11u << 20, 1)},
                                                    {"small.bin", SeededBytes(1u << 20, 2)}};
  std::string url;
  ASSERT_NO_FATAL_FAILURE(DepositOnAAndS3(files, &url));

  // Each blob overwritten on the bucket with other bytes of the same size.
  auto bucket = repo::OpenS3BackendTyped(url);
  ASSERT_OK(bucket);
  uint64_t seed = 10;
  for (const auto& [name, bytes] : files) {
    const std::string key = repo::layout::BlobKey(repo::Sha256Hex(bytes));
    ASSERT_OK((*bucket)->Put(key, SeededBytes(bytes.size(), ++seed))) << name;
  }

  CommandResult audit = Cairn({"audit", "run", "--all", "--json"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;  // findings, all repaired
  nlohmann::json report = Json(audit);
  EXPECT_EQ(report["corrupt"], 2) << audit.out;
  EXPECT_EQ(report["repaired"], 2) << audit.out;
  for (const auto& [name, bytes] : files) {
    const std::string key = repo::layout::BlobKey(repo::Sha256Hex(bytes));
    auto back = (*bucket)->ReadAll(key);
    ASSERT_OK(back) << name << " is not on the bucket after its repair";
    EXPECT_TRUE(*back == bytes) << name << ": read back " << back->size() << " bytes";
  }
  // The catalog says what the bucket holds: nothing left to find or repair.
  CommandResult again = Cairn({"audit", "run", "--all", "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  nlohmann::json second = Json(again);
  EXPECT_EQ(second["corrupt"], 0) << again.out;
  EXPECT_EQ(second["missing"], 0) << again.out;
  EXPECT_EQ(second["repaired"], 0) << again.out;
}

// A copy the audit found damaged on S3 (not repaired: --no-repair) is copied again by
// `cairn replicate` from the other site, whose copy got damaged too since it was last checked:
// the replacement's bytes are not the blob's, and the damaged S3 object must be left as it was.
// It was removed first (the S3 writer could not tell the bytes were wrong before its commit): the
// next audit called the copy missing, its bytes gone.
TEST_F(S3RepairTest, ADamagedObjectIsKeptWhenTheCopyToReplaceItIsDamagedToo) {
  const std::map<std::string, std::string> files = {{"large.bin", SeededBytes(11u << 20, 3)},
                                                    {"small.bin", SeededBytes(1u << 20, 4)}};
  std::string url;
  ASSERT_NO_FATAL_FAILURE(DepositOnAAndS3(files, &url));

  auto bucket = repo::OpenS3BackendTyped(url);
  ASSERT_OK(bucket);
  std::map<std::string, std::string> rotten;  // key -> the S3 object's damaged bytes
  for (const auto& [name, bytes] : files) {
    const std::string key = repo::layout::BlobKey(repo::Sha256Hex(bytes));
    rotten[key] = bytes;
    rotten[key][bytes.size() - 5] ^= 1;
    ASSERT_OK((*bucket)->Put(key, rotten[key])) << name;
  }
  CommandResult audit = Cairn({"audit", "run", "--all", "--site", "s3", "--no-repair", "--json"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_EQ(Json(audit)["corrupt"], 2) << audit.out;
  for (const auto& [name, bytes] : files) {
    const fs::path on_a = tmp_ / "repo/sites/a" / repo::layout::BlobKey(repo::Sha256Hex(bytes));
    std::string damaged = bytes;
    damaged[7] ^= 1;
    fs::remove(on_a);
    WriteFile(on_a, damaged);
  }

  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 1) << replicated.out << replicated.err;
  EXPECT_NE(replicated.err.find("the damaged copy is kept"), std::string::npos)
      << replicated.out << replicated.err;
  for (const auto& [key, bytes] : rotten) {
    auto kept = (*bucket)->ReadAll(key);
    EXPECT_OK(kept) << key << ": the damaged object was removed for bytes that were wrong too";
    if (kept.ok()) EXPECT_TRUE(*kept == bytes) << key << " was changed";
  }
  // The next audit finds both copies of each blob damaged, none missing.
  CommandResult again = Cairn({"audit", "run", "--all", "--no-repair", "--json"});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  nlohmann::json second = Json(again);
  EXPECT_EQ(second["corrupt"], 4) << again.out;
  EXPECT_EQ(second["missing"], 0) << again.out;
}

}  // namespace
}  // namespace cairn::testing
