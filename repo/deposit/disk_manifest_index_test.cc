// DiskManifestIndex must answer exactly as the in-memory index: both are fed
// the same manifests (random ones with duplicates, conflicts, paths missing
// from some manifests, names differing only in case) and every answer and
// finding is compared.
#include "repo/deposit/disk_manifest_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using bagit::Algorithm;
using bagit::ManifestIndex;
using bagit::MemoryManifestIndex;
using cairn::testing::TempDir;

constexpr bagit::BagitVersion kDiskIndexV1{1, 0};
constexpr bagit::BagitVersion kDiskIndexV097{0, 97};
constexpr Algorithm kDiskIndexAlgorithms[] = {Algorithm::kSha256, Algorithm::kMd5,
                                              Algorithm::kSha512};

struct IndexLine {
  std::string path;
  std::string digest;
};
// manifests[m] = the lines of manifest m, in file order.
using IndexManifests = std::vector<std::vector<IndexLine>>;

std::string IndexFindings(const bagit::Report& report) {
  std::string out;
  for (const bagit::Finding& f : report.findings()) {
    out += std::to_string(static_cast<int>(f.severity)) + " " + f.ToString() + "\n";
  }
  return out;
}

void FillIndex(ManifestIndex* index, const IndexManifests& manifests,
               const bagit::BagitVersion& version, bagit::Report* report) {
  for (size_t m = 0; m < manifests.size(); ++m) {
    Algorithm a = kDiskIndexAlgorithms[m];
    ASSERT_OK(index->BeginManifest(a, "manifest-" + std::string(bagit::AlgorithmName(a)) + ".txt"));
    uint64_t no = 0;
    for (const IndexLine& l : manifests[m]) index->Add({l.digest, l.path}, ++no, version, report);
    index->EndManifest(version, report);
  }
}

// Random manifests over a small pool of paths and digests, so that paths are
// listed twice (same or different digest), absent from some manifests, and
// differ only in case.
IndexManifests RandomIndexManifests(unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> pool;
  for (int i = 0; i < 40; ++i) pool.push_back("data/f" + std::to_string(i % 25));
  pool.push_back("data/F1");
  pool.push_back("data/f1/x");
  pool.push_back("data/F3");
  IndexManifests manifests(1 + rng() % 3);
  for (size_t m = 0; m < manifests.size(); ++m) {
    size_t hex = bagit::HexLength(kDiskIndexAlgorithms[m]);
    size_t lines = 5 + rng() % 40;
    for (size_t i = 0; i < lines; ++i) {
      std::string path = pool[rng() % pool.size()];
      // Mostly one digest per path, sometimes another one.
      char c = "0123456789abcdef"[(std::hash<std::string>()(path) + (rng() % 5 == 0)) % 16];
      manifests[m].push_back({path, std::string(hex, c)});
    }
  }
  // Most first manifests start in path order (as Cairn writes them: the index
  // enters those lines at once), for a random length, the rest in any order.
  if (seed % 4 != 0) {
    std::vector<IndexLine>& first = manifests[0];
    const size_t sorted = seed % 4 == 1 ? first.size() : rng() % first.size();
    std::stable_sort(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(sorted),
                     [](const IndexLine& a, const IndexLine& b) { return a.path < b.path; });
  }
  return manifests;
}

// A disk index in a database file of its own.
struct DiskIndexInTempDir {
  DiskIndexInTempDir() {
    // As a deposit scratch: no journal, one transaction never committed.
    Result<std::unique_ptr<ScratchStore>> opened = ScratchStore::Open((tmp / "index.db").string());
    EXPECT_OK(opened);
    if (!opened.ok()) return;
    scratch = std::move(opened).value();
    Result<std::unique_ptr<DiskManifestIndex>> made = DiskManifestIndex::Create(scratch.get());
    EXPECT_OK(made);
    if (made.ok()) index = std::move(made).value();
  }
  TempDir tmp;
  std::unique_ptr<ScratchStore> scratch;
  std::unique_ptr<DiskManifestIndex> index;  // destroyed before scratch
};

// The same manifests read into both indexes, and what each reported.
struct BothIndexes {
  BothIndexes(const IndexManifests& manifests, const bagit::BagitVersion& version) {
    FillIndex(&memory, manifests, version, &memory_report);
    if (disk_fixture.index) FillIndex(disk_fixture.index.get(), manifests, version, &disk_report);
  }
  DiskManifestIndex* disk() { return disk_fixture.index.get(); }
  MemoryManifestIndex memory;
  bagit::Report memory_report;
  DiskIndexInTempDir disk_fixture;
  bagit::Report disk_report;
};

// Every answer of `disk` equals that of `memory`.
void ExpectSameIndexAnswers(const ManifestIndex& memory, const ManifestIndex& disk,
                            const IndexManifests& manifests) {
  ASSERT_EQ(disk.size(), memory.size());
  ASSERT_EQ(disk.manifest_count(), memory.manifest_count());
  std::vector<std::string> paths = {"data/absent", "data/f", "data/f1x"};
  for (const auto& lines : manifests) {
    for (const IndexLine& l : lines) paths.push_back(l.path);
  }
  for (const std::string& p : paths) {
    std::optional<ManifestIndex::EntryId> id = memory.Find(p);
    ASSERT_EQ(disk.Find(p), id) << p;
    if (!id) continue;
    EXPECT_EQ(disk.path(*id), p);
    EXPECT_EQ(disk.listed_mask(*id), memory.listed_mask(*id)) << p;
    EXPECT_EQ(disk.seen(*id), memory.seen(*id)) << p;
    bagit::Digests computed;
    for (int m = 0; m < memory.manifest_count(); ++m) {
      Algorithm a = memory.manifest_algorithm(m);
      EXPECT_EQ(disk.HexDigest(*id, a), memory.HexDigest(*id, a)) << p;
      // Right for the first manifest listing it, maybe wrong for the others.
      computed[a] = memory.HexDigest(*id, memory.manifest_algorithm(0));
      computed[a].resize(bagit::HexLength(a), 'a');
    }
    EXPECT_EQ(disk.Mismatches(*id, computed), memory.Mismatches(*id, computed)) << p;
    for (const std::string& q : paths) {
      if (std::optional<ManifestIndex::EntryId> other = memory.Find(q)) {
        EXPECT_EQ(disk.SameDigests(*id, *other), memory.SameDigests(*id, *other)) << p << " " << q;
      }
    }
  }
  auto views = [](const ManifestIndex& index) {
    std::vector<std::tuple<ManifestIndex::EntryId, std::string, uint32_t, bool>> out;
    index.ForEach([&](const ManifestIndex::EntryView& e) {
      out.emplace_back(e.id, std::string(e.path), e.listed, e.seen);
    });
    return out;
  };
  EXPECT_EQ(views(disk), views(memory));
  auto groups = [](const ManifestIndex& index) {
    std::vector<std::vector<ManifestIndex::EntryId>> out;
    index.ForEachCollisionCandidates(
        [&](const std::vector<ManifestIndex::EntryId>& g) { out.push_back(g); });
    return out;
  };
  EXPECT_EQ(groups(disk), groups(memory));
}

TEST(DiskManifestIndexTest, AnswersAsTheMemoryIndexOnRandomManifests) {
  int with_findings = 0;
  for (unsigned seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    IndexManifests manifests = RandomIndexManifests(seed);
    const bagit::BagitVersion& version = seed % 2 ? kDiskIndexV1 : kDiskIndexV097;
    BothIndexes both(manifests, version);
    MemoryManifestIndex& memory = both.memory;
    const bagit::Report& memory_report = both.memory_report;
    DiskManifestIndex* disk = both.disk();
    ASSERT_TRUE(disk);
    const bagit::Report& disk_report = both.disk_report;
    ASSERT_OK(disk->status());
    EXPECT_EQ(IndexFindings(disk_report), IndexFindings(memory_report));
    if (!memory_report.findings().empty()) ++with_findings;
    ExpectSameIndexAnswers(memory, *disk, manifests);
    // Seen marks, as the checker sets them while hashing.
    for (const std::string p : {"data/f1", "data/F3", "data/f7"}) {
      if (std::optional<ManifestIndex::EntryId> id = memory.Find(p)) {
        memory.MarkSeen(*id);
        disk->MarkSeen(*id);
      }
    }
    ExpectSameIndexAnswers(memory, *disk, manifests);
  }
  EXPECT_GT(with_findings, 30) << "the random manifests must exercise the duplicate rules";
}

// `manifests` (BagIt 1.0) read into both indexes: the disk index reports `findings`
// findings, the same as in memory, holds `entries` paths and answers as in memory.
void ExpectIndexedLikeInMemory(const IndexManifests& manifests, size_t findings, size_t entries) {
  BothIndexes both(manifests, kDiskIndexV1);
  DiskManifestIndex* disk = both.disk();
  ASSERT_TRUE(disk);
  ASSERT_OK(disk->status());
  EXPECT_EQ(both.disk_report.findings().size(), findings) << IndexFindings(both.disk_report);
  EXPECT_EQ(IndexFindings(both.disk_report), IndexFindings(both.memory_report));
  EXPECT_EQ(disk->size(), entries);
  ExpectSameIndexAnswers(both.memory, *disk, manifests);
}

// A first manifest in path order, then lines out of order that repeat paths of
// its ordered start (same and other digests) and of each other.
TEST(DiskManifestIndexTest, AnOrderedStartThenRepeatsAreReportedLikeInMemory) {
  std::string a(64, 'a'), b(64, 'b'), c(32, 'c');
  IndexManifests manifests = {{{"data/a", a},
                               {"data/b", a},
                               {"data/c", a},
                               {"data/d", a},
                               {"data/b", a},
                               {"data/c", b},
                               {"data/e", a},
                               {"data/b", b},
                               {"data/A", a}},
                              {{"data/c", c}, {"data/e", c}, {"data/f", c}}};
  ExpectIndexedLikeInMemory(manifests, 3, 7);
}

// Listed folder by folder (as bagit-python and most tools write): "data/a-b/..." sorts
// before "data/a/..." but comes after it; the lines after it are in order again.
TEST(DiskManifestIndexTest, AManifestListedFolderByFolderIsIndexedLikeInMemory) {
  std::string a(64, 'a'), b(64, 'b');
  IndexManifests manifests = {{{"data/a/x", a},
                               {"data/a/y", a},
                               {"data/a-b/z", a},
                               {"data/b", a},
                               {"data/c", a},
                               {"data/a-b/z", b},
                               {"data/b", a},
                               {"data/d", a},
                               {"data/a/x", a}}};
  ExpectIndexedLikeInMemory(manifests, 3, 6);
}

TEST(DiskManifestIndexTest, DuplicatesAndConflictsAreReportedLikeInMemory) {
  std::string a(64, 'a'), b(64, 'b'), c(32, 'c'), d(32, 'd');
  IndexManifests manifests = {
      {{"data/y", a}, {"data/x", a}, {"data/x", a}, {"data/y", b}, {"data/z", a}},
      {{"data/x", c}, {"data/x", d}, {"data/w", c}, {"data/w", c}}};
  BothIndexes both(manifests, kDiskIndexV1);
  const MemoryManifestIndex& memory = both.memory;
  const bagit::Report& memory_report = both.memory_report;
  DiskManifestIndex* disk = both.disk();
  ASSERT_TRUE(disk);
  const bagit::Report& disk_report = both.disk_report;
  ASSERT_EQ(disk_report.findings().size(), 4u) << IndexFindings(disk_report);
  EXPECT_EQ(IndexFindings(disk_report), IndexFindings(memory_report));
  // In a later manifest, a path of an earlier one: at once, with the line of
  // the first listing. New paths: when the manifest ends, in path order.
  EXPECT_EQ(disk_report.findings()[2].rule, "manifest.duplicate-conflict");
  EXPECT_EQ(disk_report.findings()[2].line, 2u);
  EXPECT_EQ(disk_report.findings()[3].file, "manifest-md5.txt");
  EXPECT_EQ(disk_report.findings()[3].line, 4u);
  EXPECT_EQ(disk->size(), 4u);
  ExpectSameIndexAnswers(memory, *disk, manifests);
}

}  // namespace
}  // namespace cairn::repo
