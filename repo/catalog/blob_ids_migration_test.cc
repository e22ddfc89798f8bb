// Migration 10 (blob ids): a catalog made by the binary before it keeps every
// row, each file and copy pointing at the same content, and works as before.
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using testing::Sha;

class BlobIdsMigrationTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "catalog.db").string(); }

  int64_t Int(const std::string& query) {
    auto n = CatalogTestAccess::Db(*catalog_).QueryInt(query);
    EXPECT_OK(n) << query;
    return n.ok() ? *n : -1;
  }

  cairn::testing::TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
};

// Three blobs inserted out of digest order, one shared by two partners' versions,
// copies in every state column set, a tag file copy and a memo row.
TEST_F(BlobIdsMigrationTest, AVersion9CatalogKeepsEveryFileAndCopy) {
  const std::string da(64, 'a'), db(64, 'b'), dc(64, 'c');
  testing::MakeCatalogAtSchema(
      path(), 9,
      "INSERT INTO sites (id, name, url, created) VALUES (1, 'a', 'file:///a', 1), "
      "(2, 'b', 'file:///b', 1);"
      "INSERT INTO partners (id, created) VALUES ('p1', 1), ('p2', 1);"
      "INSERT INTO objects (partner, object, created) VALUES ('p1', 'one', 1), "
      "('p2', 'two', 1);"
      "INSERT INTO versions (id, partner, object, version, created, file_count, "
      "payload_bytes) VALUES (1, 'p1', 'one', 1, 1, 2, 30), (2, 'p2', 'two', 1, 1, 2, "
      "40);"
      "INSERT INTO blobs (sha256, size) VALUES ('" +
          dc + "', 10), ('" + da + "', 20), ('" + db +
          "', 20);"
          "INSERT INTO files (version_id, path, size, sha256) VALUES "
          "(1, 'data/c', 10, '" +
          dc + "'), (1, 'data/a', 20, '" + da + "'), (2, 'data/a', 20, '" + da +
          "'), (2, 'data/b', 20, '" + db +
          "');"
          "INSERT INTO tag_files (id, version_id, name, size, sha256) VALUES "
          "(5, 1, 'version.pb', 7, '" +
          std::string(64, 'e') +
          "');"
          "INSERT INTO replicas (id, site_id, blob, tag_file_id, state, last_verified, "
          "next_due, detail, read_failures) VALUES "
          "(10, 1, '" +
          dc + "', NULL, 'ok', 11, 22, 'x', 2), (11, 2, '" + dc +
          "', NULL, 'corrupt', 0, 0, 'bad', 0), (12, 1, '" + da +
          "', NULL, 'ok', 0, 0, '', 0), (13, 1, '" + db +
          "', NULL, 'missing', 0, 0, '', 0), (14, 1, NULL, 5, 'ok', 3, 4, '', 0);"
          "INSERT INTO version_copies (version_id, rule, copies_ok) VALUES "
          "(1, '1,2/one-per-site', 1);");
  auto opened = Catalog::Open(path());
  ASSERT_OK(opened);
  catalog_ = std::move(opened).value();
  EXPECT_EQ(*catalog_->SchemaVersion(), LatestSchemaVersion());

  // Ids in digest order; every file keeps its path, size and content.
  EXPECT_EQ(Int("SELECT id FROM blobs WHERE sha256 = '" + da + "'"), 1);
  EXPECT_EQ(Int("SELECT id FROM blobs WHERE sha256 = '" + db + "'"), 2);
  EXPECT_EQ(Int("SELECT id FROM blobs WHERE sha256 = '" + dc + "'"), 3);
  auto one = catalog_->GetVersion("p1", "one", 1, true);
  ASSERT_OK(one);
  ASSERT_EQ(one->files.size(), 2u);
  EXPECT_EQ(one->files[0].path, "data/a");
  EXPECT_EQ(one->files[0].sha256, da);
  EXPECT_EQ(one->files[0].size, 20u);
  EXPECT_EQ(one->files[1].path, "data/c");
  EXPECT_EQ(one->files[1].sha256, dc);
  auto two = catalog_->GetVersion("p2", "two", 1, true);
  ASSERT_OK(two);
  ASSERT_EQ(two->files.size(), 2u);
  EXPECT_EQ(two->files[1].sha256, db);

  // Every copy keeps its id, site, state and times, on the same content.
  auto copies = catalog_->ReplicasOf(1);
  ASSERT_OK(copies);
  std::vector<std::string> seen;
  for (const ReplicaRecord& r : *copies) {
    seen.push_back(r.site + ":" + r.sha256.substr(0, 1) + ":" +
                   std::string(ReplicaStateName(r.state)) + ":" +
                   std::to_string(r.last_verified_micros) + ":" +
                   std::to_string(r.next_due_micros) + ":" + r.detail);
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("a:a:ok:0:0:", "a:c:ok:11:22:x",
                                                    "a:e:ok:3:4:", "b:c:corrupt:0:0:bad"));
  EXPECT_EQ(Int("SELECT read_failures FROM replicas WHERE id = 10"), 2);
  EXPECT_EQ(Int("SELECT blob_id FROM replicas WHERE id = 13"), 2);
  EXPECT_EQ(Int("SELECT tag_file_id FROM replicas WHERE id = 14"), 5);
  EXPECT_EQ(*catalog_->BlobOnSite(db, "a"), ReplicaState::kMissing);

  // Nothing dangles; the indexes and the memo's triggers are there.
  sql::Db& raw = CatalogTestAccess::Db(*catalog_);
  auto check = raw.Prepare("PRAGMA foreign_key_check");
  ASSERT_OK(check);
  EXPECT_FALSE(*check->Step()) << "a row points at nothing";
  EXPECT_EQ(Int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                "'replicas' AND sql IS NOT NULL"),
            4);
  EXPECT_EQ(Int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'files_by_blob'"), 1);
  // (Migration 13 adds one on blobs.)
  EXPECT_EQ(
      Int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'blobs'"), 6);
  EXPECT_EQ(Int("SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%_v2%' OR sql LIKE '%_v4%'"), 0)
      << "a reference to a table name used during the migration";
  EXPECT_EQ(Int("SELECT copies_ok FROM version_copies WHERE version_id = 1"), 1);
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(dc), "b", ReplicaState::kOk, 5, -1, ""));
  EXPECT_EQ(Int("SELECT COUNT(*) FROM version_copies WHERE version_id = 1"), 0)
      << "a copy of version 1 became ok: its memo must go";

  // A new version shares a stored blob by its id and numbers a new one next.
  NewVersion v;
  v.partner = "p1";
  v.object = "three";
  v.version = 1;
  v.files = {FileEntry{"data/a", 20, da}, FileEntry{"data/d", 4, Sha("new!")}};
  v.stored_on = {"a"};
  ASSERT_OK(catalog_->InsertVersion(v));
  EXPECT_EQ(Int("SELECT COUNT(*) FROM blobs"), 4);
  EXPECT_EQ(Int("SELECT id FROM blobs WHERE sha256 = '" + Sha("new!") + "'"), 4);
  auto usage = catalog_->GetUsage();
  ASSERT_OK(usage);
  EXPECT_EQ(usage->unique_blob_bytes, 54u);
}

}  // namespace
}  // namespace cairn::repo
