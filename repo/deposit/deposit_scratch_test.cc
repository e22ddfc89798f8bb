// The deposit's on-disk per-file lists (DepositScratch), the manifests made
// from them, and version.pb written as a stream: the streamed bytes must be
// exactly what SerializeToString gives for the whole record (FORMAT.md).
#include "repo/deposit/deposit_scratch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "bagit/paths.h"
#include "proto/version.pb.h"
#include "repo/deposit/deposit_commit.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo::deposit_internal {
namespace {

namespace fs = cairn::testing::fs;
using cairn::testing::TempDir;

std::string Hex(char c) { return std::string(64, c); }

std::vector<IngestedFile> All(DepositScratch& scratch) {
  std::vector<IngestedFile> files;
  EXPECT_TRUE(scratch
                  .ForEachFile([&](const IngestedFile& f) {
                    files.push_back(f);
                    return Status::OK();
                  })
                  .ok());
  return files;
}

size_t ScratchFiles(const fs::path& root) {
  size_t n = 0;
  if (!fs::exists(root / "tmp")) return 0;
  for (const auto& e : fs::directory_iterator(root / "tmp")) {
    n += e.path().filename().string().starts_with("deposit-") ? 1 : 0;
  }
  return n;
}

TEST(DepositScratchTest, FilesComeBackInByteOrderWithCreatedBlobs) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  ASSERT_OK((*scratch)->AddFile("data/b", 2, Hex('b'), true, "x y"));
  ASSERT_OK((*scratch)->AddFile("data/a/z", 1, Hex('a'), false));
  ASSERT_OK((*scratch)->AddFile("data/\xc3\xa9", 3, Hex('c'), true));
  ASSERT_OK((*scratch)->AddFile("data/a.txt", 4, Hex('d'), false));
  EXPECT_TRUE((*scratch)->AddFile("data/b", 2, Hex('b'), true).IsAlreadyExists());

  std::vector<IngestedFile> files = All(**scratch);
  ASSERT_EQ(files.size(), 4u);
  std::vector<std::string> paths;
  for (const IngestedFile& f : files) paths.push_back(f.path);
  std::vector<std::string> sorted = paths;
  std::sort(sorted.begin(), sorted.end());  // std::string order, as the old in-memory sort
  EXPECT_EQ(paths, sorted);
  EXPECT_EQ(files[2].path, "data/b");
  EXPECT_EQ(files[2].size, 2u);
  EXPECT_EQ(files[2].sha256, Hex('b'));
  EXPECT_EQ(files[2].other_digests, "x y");

  std::vector<std::string> created;
  ASSERT_OK((*scratch)->ForEachCreatedBlob([&](const std::string& s) { created.push_back(s); }));
  std::sort(created.begin(), created.end());
  EXPECT_EQ(created, (std::vector<std::string>{Hex('b'), Hex('c')}));

  EXPECT_EQ(ScratchFiles(tmp.path()), 1u);
  scratch->reset();
  EXPECT_EQ(ScratchFiles(tmp.path()), 0u) << "the scratch file is removed with the deposit";
}

// The catalog insert reads the files by digest (then path): the order of the
// catalog's digest-keyed indexes. Past the scratch's page cache too (a
// sorter spilling to disk), with every file once.
TEST(DepositScratchTest, FilesComeBackByDigestForTheCatalog) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  constexpr int kFiles = 20'000;  // about 3 MB of rows: past the 512 KiB cache
  for (int i = 0; i < kFiles; ++i) {
    // Digests in another order than the paths; every 100th shared by two paths.
    const int d = (i % 100 == 1) ? i - 1 : i;
    const std::string digest = Sha256Hex(std::to_string(d));
    ASSERT_OK((*scratch)->AddFile("data/f" + std::to_string(i), i, digest, true));
  }
  std::vector<std::pair<std::string, std::string>> got;
  ASSERT_OK((*scratch)->ForEachFile(
      [&](const IngestedFile& f) {
        got.emplace_back(f.sha256, f.path);
        EXPECT_EQ(f.size, std::stoull(f.path.substr(6)));
        return Status::OK();
      },
      DepositScratch::Order::kDigest));
  ASSERT_EQ(got.size(), static_cast<size_t>(kFiles));
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
  // The default is still path order (the manifests).
  std::vector<IngestedFile> by_path = All(**scratch);
  ASSERT_EQ(by_path.size(), static_cast<size_t>(kFiles));
  EXPECT_TRUE(
      std::is_sorted(by_path.begin(), by_path.end(),
                     [](const IngestedFile& a, const IngestedFile& b) { return a.path < b.path; }));
}

TEST(DepositScratchTest, CleanupRemovesOnlyScratchNoDepositHolds) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> live = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(live);
  // What a killed deposit leaves: a scratch file nobody locks.
  cairn::testing::WriteFile(tmp / "tmp/deposit-1-2-3.scratch", "left over");
  ASSERT_EQ(ScratchFiles(tmp.path()), 2u);
  DepositScratch::CleanupStale(tmp.path().string());
  EXPECT_FALSE(fs::exists(tmp / "tmp/deposit-1-2-3.scratch"));
  EXPECT_TRUE(fs::exists((*live)->path())) << "a running deposit's scratch is kept";
  ASSERT_OK((*live)->AddFile("data/a", 1, Hex('a'), true));
  EXPECT_EQ(All(**live).size(), 1u);
}

TEST(DepositScratchTest, ManifestIsGeneratedInPathOrderForEachAlgorithm) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  bagit::AlgorithmSet kept =
      bagit::Only(bagit::Algorithm::kMd5) | bagit::Only(bagit::Algorithm::kSha512);
  ASSERT_OK((*scratch)->AddFile("data/z z", 1, Hex('2'), true, "md5z sha512z"));
  ASSERT_OK((*scratch)->AddFile("data/a", 1, Hex('1'), true, "md5a sha512a"));
  for (auto [algorithm, a, z] : std::vector<std::tuple<bagit::Algorithm, std::string, std::string>>{
           {bagit::Algorithm::kSha256, Hex('1'), Hex('2')},
           {bagit::Algorithm::kMd5, "md5a", "md5z"},
           {bagit::Algorithm::kSha512, "sha512a", "sha512z"}}) {
    std::string text;
    bagit::ByteSource source = ManifestSource(scratch->get(), algorithm, kept);
    ASSERT_OK(source([&](std::span<const std::byte> chunk) {
      text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      return Status::OK();
    }));
    EXPECT_EQ(text, a + "  data/a\n" + z + "  " + bagit::EncodeManifestPath("data/z z") + "\n");
  }
}

TEST(DepositScratchTest, HeldPayloadKeepsEveryDigestInItsPlaceEvenEmptyOnes) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  bagit::Digests first;  // only sha256 and sha512 computed: the others stay empty
  first[bagit::Algorithm::kSha256] = Hex('a');
  first[bagit::Algorithm::kSha512] = std::string(128, 'b');
  bagit::Digests second;
  for (size_t a = 0; a < bagit::kAlgorithmCount; ++a) second.hex[a] = std::string(8, 'c' + a);
  ASSERT_OK((*scratch)->HoldPayload("data/one", 3, first));
  ASSERT_OK((*scratch)->HoldPayload("data/two", 5, second));
  std::vector<std::tuple<std::string, uint64_t, bagit::Digests>> held;
  ASSERT_TRUE(
      (*scratch)
          ->ForEachHeldPayload([&](const std::string& path, uint64_t size,
                                   const bagit::Digests& d) { held.emplace_back(path, size, d); })
          .ok());
  ASSERT_EQ(held.size(), 2u);  // in the order held, not path order
  EXPECT_EQ(std::get<0>(held[0]), "data/one");
  EXPECT_EQ(std::get<1>(held[0]), 3u);
  EXPECT_EQ(std::get<2>(held[0]).hex, first.hex);
  EXPECT_EQ(std::get<0>(held[1]), "data/two");
  EXPECT_EQ(std::get<2>(held[1]).hex, second.hex);
  // The same join as other_digests: NthDigest reads any place back.
  std::string joined = JoinDigests(first, bagit::AlgorithmSet().set());
  EXPECT_EQ(NthDigest(joined, static_cast<size_t>(bagit::Algorithm::kSha512)),
            std::string(128, 'b'));
  EXPECT_EQ(NthDigest(joined, 0), "");
  EXPECT_EQ(NthDigest("x y", 5), "");
}

TEST(DepositScratchTest, StreamedVersionRecordIsByteIdenticalToSerializeToString) {
  TempDir tmp;
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  proto::VersionRecord record;
  record.set_partner("acme");
  record.set_object("photos");
  record.set_version(300);
  record.set_depositor("ana");
  record.set_created_unix_micros(1700000000123456);
  record.set_agent_version("0.1");
  proto::VersionRecord whole = record;
  // Enough files that the stream is handed on in several chunks.
  uint64_t bytes = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string path = "data/dir " + std::to_string(i % 7) + "/f\xc3\xa9" + std::to_string(i);
    uint64_t size = uint64_t{1} << (i % 40);
    std::string sha = Hex("0123456789abcdef"[i % 16]);
    ASSERT_OK((*scratch)->AddFile(path, size, sha, false));
    bytes += size;
  }
  (void)(*scratch)->ForEachFile([&](const IngestedFile& f) {
    proto::VersionFile* vf = whole.add_files();
    vf->set_path(f.path);
    vf->set_size(f.size);
    vf->set_sha256(f.sha256);
    return Status::OK();
  });
  for (proto::VersionRecord* r : {&record, &whole}) {
    r->set_file_count(5000);
    r->set_payload_bytes(bytes);
    for (const char* name : {"bagit.txt", "manifest-sha256.txt"}) {
      proto::TagFile* t = r->add_tag_files();
      t->set_name(name);
      t->set_size(42);
      t->set_sha256(Hex('e'));
    }
  }
  std::string expected;
  ASSERT_TRUE(whole.SerializeToString(&expected));
  std::string streamed;
  int chunks = 0;
  ASSERT_OK(StreamVersionRecord(record, scratch->get(), [&](std::string_view chunk) {
    ++chunks;
    streamed += chunk;
    return Status::OK();
  }));
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(streamed == expected)
      << "streamed " << streamed.size() << " bytes, expected " << expected.size();
  proto::VersionRecord parsed;
  ASSERT_TRUE(parsed.ParseFromString(streamed));
  EXPECT_EQ(parsed.files_size(), 5000);

  // No files: still the same bytes.
  TempDir empty_dir;
  Result<std::unique_ptr<DepositScratch>> empty = DepositScratch::Create(empty_dir.path().string());
  ASSERT_OK(empty);
  proto::VersionRecord no_files = record;
  no_files.set_file_count(0);
  no_files.set_payload_bytes(0);
  std::string out;
  ASSERT_OK(StreamVersionRecord(no_files, empty->get(), [&](std::string_view c) {
    out += c;
    return Status::OK();
  }));
  EXPECT_EQ(out, no_files.SerializeAsString());
}

}  // namespace
}  // namespace cairn::repo::deposit_internal
