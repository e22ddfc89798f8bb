// SyncSettings on real posix sites: what a change of a setting costs on each site.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"
#include "repo/site_layout.h"
#include "repo/storage/forwarding_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::TempDir;

// Counts the reads of settings records on the wrapped site.
class CountingSettingsReads : public ForwardingBackend {
 public:
  CountingSettingsReads(std::unique_ptr<StorageBackend> inner, size_t* reads)
      : ForwardingBackend(std::move(inner)), reads_(reads) {}
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override {
    if (key.starts_with(layout::kSettingsPrefix)) ++*reads_;
    return ForwardingBackend::Read(key, offset, length, sink);
  }

 private:
  size_t* reads_;
};

class SettingsSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK(repo.value()->catalog().AddPartner("p" + std::to_string(i), ""));
    }
    ASSERT_OK(SyncSettings(**repo));
    SetBackendWrapperForTesting(
        [this](std::string_view url,
               std::unique_ptr<StorageBackend> inner) -> std::unique_ptr<StorageBackend> {
          if (!url.ends_with("/a")) return inner;
          return std::make_unique<CountingSettingsReads>(std::move(inner), &reads_);
        });
    auto opened = Repository::Open((tmp_ / "repo").string());
    ASSERT_OK(opened);
    repo_ = std::move(opened).value();
  }
  void TearDown() override { SetBackendWrapperForTesting({}); }

  // The settings records on site `name`.
  size_t Records(const std::string& name) {
    size_t n = 0;
    for (fs::recursive_directory_iterator it(tmp_ / "repo/sites" / name / "settings"), end;
         it != end; ++it) {
      if (fs::is_regular_file(it->path())) ++n;
    }
    return n;
  }

  TempDir tmp_;
  size_t reads_ = 0;
  std::unique_ptr<Repository> repo_;
};

// Every change of a setting read every record of every site back to compare it with the
// catalog's (23 here, one a partner, site and default policy), whatever changed: the cost of
// a change grew with the settings a repository holds (every withdrawal ever requested, every
// hold). A record at the version the catalog noted there with the value it wants is not read
// again: a change costs the record it changes, written once per site.
TEST_F(SettingsSyncTest, AChangeReadsAndWritesOnlyTheRecordItChanges) {
  const size_t before = Records("a");
  ASSERT_EQ(before, 23u);
  ASSERT_OK(repo_->catalog().AddPartner("new", ""));
  auto synced = SyncSettings(*repo_);
  ASSERT_OK(synced);
  EXPECT_EQ(synced->records_written, 2u) << "one record, on each of the two sites";
  EXPECT_TRUE(synced->errors.empty());
  EXPECT_EQ(Records("a"), before + 1);
  EXPECT_EQ(reads_, 0u) << "records the catalog knows the site holds were read again";

  // A catalog that does not know what the sites hold (upgraded from before migration 22) reads
  // them once, and writes none of them again.
  ASSERT_OK(CatalogTestAccess::ForgetSettingsSeenValues(repo_->catalog()));
  reads_ = 0;
  ASSERT_OK(repo_->catalog().AddPartner("newer", ""));
  auto upgraded = SyncSettings(*repo_);
  ASSERT_OK(upgraded);
  EXPECT_EQ(upgraded->records_written, 2u);
  EXPECT_EQ(reads_, before + 1);
  reads_ = 0;
  ASSERT_OK(repo_->catalog().AddPartner("newest", ""));
  ASSERT_OK(SyncSettings(*repo_));
  EXPECT_EQ(reads_, 0u);
  EXPECT_EQ(Records("a"), before + 3);
}

}  // namespace
}  // namespace cairn::repo
