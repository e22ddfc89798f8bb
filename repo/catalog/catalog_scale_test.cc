// A version of 200,000 files: one transaction to insert, one range scan to
// read back (what `cairn show` of such an object costs).
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;

// Distinct digests spread like real ones: blobs are found by their first 8
// characters (blob_digests.prefix), and digests alike there (zero-padded
// numbers) would all share one prefix.
std::string FakeSha(size_t i) { return testing::Sha("file " + std::to_string(i)); }

TEST_F(CatalogTest, TwoHundredThousandFileVersion) {
  AddSitesAndPartners();
  constexpr size_t kFiles = 200'000;
  NewVersion v;
  v.partner = "p1";
  v.object = "big";
  v.version = 1;
  v.stored_on = {"a"};
  v.files.reserve(kFiles);
  for (size_t i = 0; i < kFiles; ++i) {
    v.files.push_back(FileEntry{"data/dir" + std::to_string(i % 100) + "/f" + std::to_string(i),
                                i % 4096, FakeSha(i)});
  }
  v.tag_files.push_back(TagFileEntry{0, "manifest-sha256.txt", 123, FakeSha(kFiles)});
  auto id = catalog_->InsertVersion(v);
  ASSERT_OK(id);

  auto got = catalog_->GetVersion("p1", "big", std::nullopt, true);
  ASSERT_OK(got);
  ASSERT_EQ(got->files.size(), kFiles);
  EXPECT_EQ(got->file_count, kFiles);
  for (size_t i = 1; i < got->files.size(); ++i) {
    ASSERT_LT(got->files[i - 1].path, got->files[i].path);
  }
  EXPECT_EQ(*catalog_->MinOkCopies(*id), 1u);
  auto usage = catalog_->GetUsage();
  ASSERT_OK(usage);
  EXPECT_EQ(usage->partners[0].files, kFiles);

  // The show query reads the version's rows through the primary key, not a scan.
  auto plan = CatalogTestAccess::Db(*catalog_).Prepare(
      "EXPLAIN QUERY PLAN SELECT f.path, f.size, b.sha256 FROM files f JOIN blobs b ON b.id = "
      "f.blob_id WHERE f.version_id = 1 ORDER BY f.path");
  ASSERT_OK(plan);
  std::string details;
  while (*plan->Step()) details += plan->Text(3) + "\n";
  EXPECT_THAT(details, ::testing::HasSubstr("USING PRIMARY KEY"));
  EXPECT_THAT(details, ::testing::Not(::testing::HasSubstr("TEMP B-TREE")));
}

}  // namespace
}  // namespace cairn::repo
