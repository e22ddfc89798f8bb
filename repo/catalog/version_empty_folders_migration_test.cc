// Migration 21 (a version's empty folders): a catalog made by the binary before it keeps its
// versions, which read back with no empty folder (none was kept then), and takes new versions'
// empty folders, held to the payload path rules.
#include <gtest/gtest.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

TEST(VersionEmptyFoldersMigrationTest, AVersion20CatalogKeepsItsVersionsAndTakesEmptyFolders) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  {
    auto db = sql::Db::Open(path, true, 1000);
    ASSERT_OK(db);
    for (const Migration& m : AllMigrations()) {
      if (m.version > 20) break;
      ASSERT_OK(db->Exec(m.sql)) << m.name;
    }
    ASSERT_OK(db->Exec("PRAGMA user_version = 20"));
    ASSERT_OK(db->Exec("INSERT INTO partners (id, name, created) VALUES ('acme', 'Acme', 1)"));
    ASSERT_OK(db->Exec("INSERT INTO objects (partner, object, created) VALUES ('acme', 'box', 1)"));
    ASSERT_OK(
        db->Exec("INSERT INTO versions (partner, object, version, created, depositor, file_count, "
                 "payload_bytes) VALUES ('acme', 'box', 1, 1, 'ann', 0, 0)"));
  }
  auto catalog = Catalog::Open(path);
  ASSERT_OK(catalog);
  EXPECT_EQ(*(*catalog)->SchemaVersion(), LatestSchemaVersion());
  Result<VersionInfo> old = (*catalog)->GetVersion("acme", "box", 1, true);
  ASSERT_OK(old);
  EXPECT_TRUE(old->empty_folders.empty());

  NewVersion v2;
  v2.partner = "acme";
  v2.object = "box";
  v2.version = 2;
  v2.empty_folders = {"data/a/b", "data/c"};
  ASSERT_OK((*catalog)->InsertVersion(v2));
  Result<VersionInfo> got = (*catalog)->GetVersion("acme", "box", std::nullopt, false);
  ASSERT_OK(got);
  EXPECT_EQ(got->version, 2u);
  EXPECT_EQ(got->empty_folders, (std::vector<std::string>{"data/a/b", "data/c"}));

  for (std::vector<std::string> bad :
       {std::vector<std::string>{"data/../x"}, std::vector<std::string>{"/data/x"},
        std::vector<std::string>{"data"}, std::vector<std::string>{"data/x", "data/x"}}) {
    NewVersion v3 = v2;
    v3.version = 3;
    v3.empty_folders = bad;
    EXPECT_EQ((*catalog)->InsertVersion(v3).status().code(), Code::kInvalidArgument) << bad[0];
  }
  EXPECT_EQ((*catalog)->GetVersion("acme", "box", std::nullopt, false)->version, 2u);
}

}  // namespace
}  // namespace cairn::repo
