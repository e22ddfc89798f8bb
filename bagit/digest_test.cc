#include "bagit/digest.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::TempDir;
using cairn::testing::WriteFile;

AlgorithmSet All() { return AlgorithmSet().set(); }

TEST(DigestTest, KnownVectorsOfAbc) {
  Digests d = HashBytes("abc", All());
  EXPECT_EQ(d[Algorithm::kMd5], "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(d[Algorithm::kSha1], "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(d[Algorithm::kSha224], "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
  EXPECT_EQ(d[Algorithm::kSha256],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d[Algorithm::kSha384],
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358ba"
            "eca134c825a7");
  EXPECT_EQ(d[Algorithm::kSha512],
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
            "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(DigestTest, KnownVectorsOfEmptyInput) {
  Digests d = HashBytes("", All());
  EXPECT_EQ(d[Algorithm::kMd5], "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(d[Algorithm::kSha1], "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(d[Algorithm::kSha256],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(d[Algorithm::kSha512],
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318"
            "d2877eec2f63b931bd47417a81a538327af927da3e");
}

TEST(DigestTest, OnlyRequestedAlgorithmsAreComputed) {
  Digests d = HashBytes("abc", Only(Algorithm::kSha256));
  EXPECT_EQ(d[Algorithm::kSha256].size(), 64u);
  EXPECT_TRUE(d[Algorithm::kMd5].empty());
  EXPECT_TRUE(d[Algorithm::kSha512].empty());
}

TEST(DigestTest, SplitUpdatesEqualOneUpdateAndFinishResets) {
  MultiHasher hasher(All());
  hasher.Update("a");
  hasher.Update("");
  hasher.Update("bc");
  EXPECT_EQ(hasher.bytes(), 3u);
  Digests split = hasher.Finish();
  EXPECT_EQ(hasher.bytes(), 0u);
  EXPECT_EQ(split.hex, HashBytes("abc", All()).hex);
  // Reused after Finish(): starts from scratch.
  hasher.Update("abc");
  EXPECT_EQ(hasher.Finish().hex, split.hex);
}

TEST(DigestTest, ParseAlgorithmNormalisesNames) {
  EXPECT_EQ(ParseAlgorithm("SHA-256"), Algorithm::kSha256);
  EXPECT_EQ(ParseAlgorithm("sha256"), Algorithm::kSha256);
  EXPECT_EQ(ParseAlgorithm("SHA512"), Algorithm::kSha512);
  EXPECT_EQ(ParseAlgorithm("md5"), Algorithm::kMd5);
  EXPECT_EQ(ParseAlgorithm("MD-5"), Algorithm::kMd5);
  EXPECT_EQ(ParseAlgorithm("Sha-1"), Algorithm::kSha1);
  EXPECT_EQ(ParseAlgorithm("sha-224"), Algorithm::kSha224);
  EXPECT_EQ(ParseAlgorithm("SHA-384"), Algorithm::kSha384);
  EXPECT_EQ(ParseAlgorithm("sha3-256"), std::nullopt);
  EXPECT_EQ(ParseAlgorithm("sha 256"), std::nullopt);
  EXPECT_EQ(ParseAlgorithm(""), std::nullopt);
  for (size_t i = 0; i < kAlgorithmCount; ++i) {
    auto a = static_cast<Algorithm>(i);
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(a)), a);
    EXPECT_EQ(HashBytes("x", Only(a))[a].size(), HexLength(a));
  }
}

std::string RandomData(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

TEST(DigestTest, HashFileSpanningSeveralReadsMatchesHashBytes) {
  TempDir dir;
  // 2.5 read chunks: exercises full reads and a short last read.
  std::string content = RandomData(kReadChunk * 5 / 2, 7);
  WriteFile(dir / "big.bin", content);
  Result<FileDigests> r = HashFile((dir / "big.bin").string(), All());
  ASSERT_OK(r);
  EXPECT_EQ(r->size, content.size());
  EXPECT_EQ(r->digests.hex, HashBytes(content, All()).hex);
}

TEST(DigestTest, HashFileOfEmptyFile) {
  TempDir dir;
  WriteFile(dir / "empty", "");
  Result<FileDigests> r = HashFile((dir / "empty").string(), Only(Algorithm::kMd5));
  ASSERT_OK(r);
  EXPECT_EQ(r->size, 0u);
  EXPECT_EQ(r->digests[Algorithm::kMd5], "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, HashFileErrorsNameThePath) {
  TempDir dir;
  std::string missing = (dir / "missing.txt").string();
  Result<FileDigests> r = HashFile(missing, All());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find(missing), std::string::npos);

  Result<FileDigests> d = HashFile(dir.path().string(), All());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(dir.path().string()), std::string::npos);
}

TEST(DigestTest, ParallelHasherMatchesSingleThreadResults) {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 300; ++i) {
    // Mostly small files, a few over one read chunk.
    size_t size = i % 50 == 0 ? kReadChunk + 17 * i : static_cast<size_t>(i * 37);
    std::string name = "f";
    name += std::to_string(i);
    std::string path = (dir / name).string();
    WriteFile(path, RandomData(size, i));
    paths.push_back(path);
  }
  paths.push_back((dir / "absent").string());
  AlgorithmSet algs = Only(Algorithm::kSha256).set(static_cast<size_t>(Algorithm::kMd5));

  std::mutex mu;
  std::map<std::string, FileDigests> results;
  std::vector<std::string> failures;
  {
    ParallelHasher hasher(algs, 3, [&](const std::string& path, Result<FileDigests> r) {
      std::lock_guard lock(mu);
      if (r.ok()) {
        results[path] = *r;
      } else {
        failures.push_back(path);
      }
    });
    for (const std::string& p : paths) hasher.Submit(p);
    hasher.Wait();
    std::lock_guard lock(mu);
    EXPECT_EQ(results.size() + failures.size(), paths.size());
  }
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], (dir / "absent").string());
  for (size_t i = 0; i + 1 < paths.size(); ++i) {
    Result<FileDigests> single = HashFile(paths[i], algs);
    ASSERT_OK(single);
    ASSERT_EQ(results.count(paths[i]), 1u) << paths[i];
    EXPECT_EQ(results[paths[i]].size, single->size);
    EXPECT_EQ(results[paths[i]].digests.hex, single->digests.hex) << paths[i];
  }
}

TEST(DigestTest, ParallelHasherCanBeReusedAfterWaitAndDestroyedWithWork) {
  TempDir dir;
  WriteFile(dir / "a", "abc");
  std::atomic<int> count{0};
  {
    ParallelHasher hasher(
        Only(Algorithm::kSha1), 0, [&](const std::string&, Result<FileDigests> r) {
          EXPECT_OK(r);
          EXPECT_EQ(r->digests[Algorithm::kSha1], "a9993e364706816aba3e25717850c26c9cd0d89d");
          ++count;
        });
    hasher.Wait();  // nothing submitted: returns at once
    for (int i = 0; i < 10; ++i) hasher.Submit((dir / "a").string());
    hasher.Wait();
    EXPECT_EQ(count.load(), 10);
    for (int i = 0; i < 500; ++i) hasher.Submit((dir / "a").string());
    // The destructor waits for these.
  }
  EXPECT_EQ(count.load(), 510);
}

}  // namespace
}  // namespace cairn::bagit
