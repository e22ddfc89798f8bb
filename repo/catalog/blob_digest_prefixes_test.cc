// Migration 13 (blob digest prefixes): blobs are found through an index of
// their digest's first 8 characters; a catalog made by the binary before keeps
// every row, a digest stays one row, and a deposit into a large catalog writes
// far fewer pages than through the old unique index on the whole digest.
#include <gmock/gmock.h>

#include <random>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;
using testing::Sha;

int64_t QueryInt(Catalog& catalog, const std::string& query) {
  auto n = CatalogTestAccess::Db(catalog).QueryInt(query);
  EXPECT_OK(n) << query;
  return n.ok() ? *n : -1;
}

std::string RandomDigest(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string d(64, '0');
  for (char& c : d) c = kHex[rng() % 16];
  return d;
}

TEST_F(CatalogTest, ADigestIsStoredOnceAndLookedUpThroughItsPrefix) {
  AddSitesAndPartners();
  sql::Db& db = CatalogTestAccess::Db(*catalog_);
  const std::string d = Sha("once");
  // Listed twice in one version, then again by another: one row.
  NewVersion first = MakeVersion("p1", "first", 1, {"once", "once"});
  first.stored_on = {"a"};
  ASSERT_OK(catalog_->InsertVersion(first));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs WHERE sha256 = '" + d + "'"), 1);
  ASSERT_OK(db.Exec("INSERT INTO blobs (sha256, size) VALUES ('" + Sha("other") + "', 5)"));
  Status to_known = db.Exec("UPDATE blobs SET sha256 = '" + d + "' WHERE size = 5");
  EXPECT_THAT(to_known.ToString(), ::testing::HasSubstr("UNIQUE constraint failed: blobs.sha256"));
  EXPECT_OK(db.Exec("UPDATE blobs SET size = 4 WHERE sha256 = '" + d + "'"));

  // Digests sharing their first 8 characters are told apart.
  const std::string twin = d.substr(0, 8) + std::string(56, d[8] == '0' ? '1' : '0');
  NewVersion second = MakeVersion("p1", "second", 1, {"once"});
  second.stored_on = {"a"};
  second.files.push_back(FileEntry{"data/twin", 9, twin});
  ASSERT_OK(catalog_->InsertVersion(second));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs WHERE sha256 = '" + d + "'"), 1);
  EXPECT_EQ(QueryInt(*catalog_,
                     "SELECT count(*) FROM blobs WHERE digest_prefix = '" + d.substr(0, 8) + "'"),
            2);
  EXPECT_EQ(*catalog_->BlobSize(twin), std::optional<uint64_t>(9));

  // Known and new blobs in turn, in a first and in a later version (each
  // starts on its own path: insert if new, or look up first): every file gets
  // its own digest's row, and each digest one row.
  for (uint32_t version : {1u, 2u}) {
    NewVersion mixed;
    mixed.partner = "p1";
    mixed.object = "mixed";
    mixed.version = version;
    mixed.stored_on = {"a"};
    for (int i = 0; i < 40; ++i) {
      const std::string content = (i % 3 == 0 ? "known " : "new " + std::to_string(version) + " ") +
                                  std::to_string(i % 3 == 0 ? 0 : i);
      mixed.files.push_back(FileEntry{"data/" + std::to_string(i), content.size(), Sha(content)});
    }
    ASSERT_OK(catalog_->InsertVersion(mixed));
    auto got = catalog_->GetVersion("p1", "mixed", version, true);
    ASSERT_OK(got);
    ASSERT_EQ(got->files.size(), 40u);
    for (const FileEntry& f : got->files) {
      const int i = std::stoi(f.path.substr(5));
      const std::string content = (i % 3 == 0 ? "known " : "new " + std::to_string(version) + " ") +
                                  std::to_string(i % 3 == 0 ? 0 : i);
      EXPECT_EQ(f.sha256, Sha(content)) << f.path;
    }
    EXPECT_EQ(QueryInt(*catalog_,
                       "SELECT count(*) FROM blobs GROUP BY sha256 ORDER BY 1 DESC "
                       "LIMIT 1"),
              1);
  }
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 3 + 1 + 26 + 26);

  // The lookups go through the prefix's index, not a scan of blobs.
  auto plan = db.Prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM blobs WHERE digest_prefix = substr(?1, 1, 8) AND "
      "sha256 = ?1");
  ASSERT_OK(plan);
  std::string details;
  while (*plan->Step()) details += plan->Text(3) + "\n";
  EXPECT_THAT(details,
              ::testing::HasSubstr("USING INDEX blobs_by_digest_prefix (digest_prefix=?)"));

  // A version naming a digest that is not lowercase hex is refused whole.
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 56);
  EXPECT_EQ(*catalog_->BlobSize(d), std::optional<uint64_t>(4));
  EXPECT_EQ(*catalog_->BlobOnSite(d, "a"), std::optional<ReplicaState>(ReplicaState::kOk));
  NewVersion bad = MakeVersion("p1", "bad", 1, {"x"});
  std::string upper = Sha("y");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bad.files.push_back(FileEntry{"data/upper", 1, upper});
  Result<int64_t> refused = catalog_->InsertVersion(bad);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << refused.status().ToString();
  EXPECT_THAT(refused.status().ToString(), ::testing::HasSubstr("bad sha256 for data/upper"));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 56);
}

// What migration 13 is for: new blobs' index entries land in few pages. A
// catalog of 100,000 blobs, then a version of 3,000 new ones: with the unique
// index on the text digest (schema 12) the same transaction wrote 1,909 pages
// to the WAL (an emulation in Python of InsertVersion's statements: the index
// has about 2,000 leaves, most of which got a new entry); with the prefix, 615
// here and 591 in the emulation (the prefix index's leaves, and the rows
// appended to blobs, files and replicas).
TEST_F(CatalogTest, NewBlobsInALargeCatalogDirtyFewIndexPages) {
  AddSitesAndPartners();
  sql::Db& db = CatalogTestAccess::Db(*catalog_);
  ASSERT_OK(
      db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
              "INSERT INTO blobs (sha256, size) SELECT lower(hex(randomblob(32))), 1 FROM n"));
  ASSERT_OK(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  NewVersion v;
  v.partner = "p1";
  v.object = "many";
  v.version = 1;
  v.stored_on = {"a"};
  std::mt19937_64 rng(1913);
  for (int i = 0; i < 3000; ++i) {
    v.files.push_back(FileEntry{"data/f" + std::to_string(i), 1, RandomDigest(rng)});
  }
  ASSERT_OK(catalog_->InsertVersion(v));
  auto frames = db.Prepare("PRAGMA wal_checkpoint(PASSIVE)");
  ASSERT_OK(frames);
  ASSERT_TRUE(*frames->Step());
  const int64_t pages_written = frames->Int(1);
  EXPECT_GT(pages_written, 50);  // the version's rows at least
  EXPECT_LT(pages_written, 900) << "pages written to the WAL by one version of 3,000 new blobs";
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 103000);
}

// A catalog of schema 12 keeps every blob's id, its files and copies; its
// digests are found by prefix; foreign keys are on again after.
TEST(BlobDigestPrefixesMigrationTest, AVersion12CatalogKeepsEveryBlobAndFindsItByDigest) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  const std::string da(64, 'a'), db(64, 'b'), dc = Sha("c");
  testing::MakeCatalogAtSchema(
      path, 12,
      "INSERT INTO sites (id, name, url, created) VALUES (1, 'a', 'file:///a', 1);"
      "INSERT INTO partners (id, created) VALUES ('p1', 1);"
      "INSERT INTO objects (partner, object, created) VALUES ('p1', 'one', 1);"
      "INSERT INTO versions (id, partner, object, version, created, file_count, "
      "payload_bytes) VALUES (1, 'p1', 'one', 1, 1, 3, 60);"
      "INSERT INTO blobs (id, sha256, size) VALUES (7, '" +
          dc + "', 10), (3, '" + da + "', 20), (5, '" + db +
          "', 30);"
          "INSERT INTO files (version_id, path, size, blob_id) VALUES "
          "(1, 'data/a', 20, 3), (1, 'data/b', 30, 5), (1, 'data/c', 10, 7);"
          "INSERT INTO replicas (id, site_id, blob_id, state, last_verified, next_due) VALUES "
          "(20, 1, 3, 'ok', 1, 2), (21, 1, 5, 'corrupt', 1, 2), (22, 1, 7, 'ok', 1, 2);");
  auto opened = Catalog::Open(path);
  ASSERT_OK(opened);
  std::unique_ptr<Catalog> catalog = std::move(opened).value();
  EXPECT_EQ(*catalog->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(*catalog, "SELECT id FROM blobs WHERE sha256 = '" + da + "'"), 3);
  EXPECT_EQ(QueryInt(*catalog, "SELECT id FROM blobs WHERE sha256 = '" + dc + "'"), 7);
  EXPECT_EQ(*catalog->BlobSize(db), std::optional<uint64_t>(30));
  EXPECT_EQ(*catalog->BlobOnSite(db, "a"), std::optional<ReplicaState>(ReplicaState::kCorrupt));
  auto one = catalog->GetVersion("p1", "one", 1, true);
  ASSERT_OK(one);
  ASSERT_EQ(one->files.size(), 3u);
  EXPECT_EQ(one->files[2].path, "data/c");
  EXPECT_EQ(one->files[2].sha256, dc);
  EXPECT_EQ(QueryInt(*catalog,
                     "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_autoindex_blobs_1'"),
            0);
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%blobs_v3%'"), 0)
      << "a reference to the name used during the migration";
  EXPECT_EQ(QueryInt(*catalog,
                     "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = "
                     "'blobs'"),
            1);
  EXPECT_EQ(QueryInt(*catalog, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM blobs WHERE digest_prefix = '" +
                                   dc.substr(0, 8) + "' AND sha256 = '" + dc + "'"),
            1);
  // The files still point at their blobs through the rebuilt table.
  EXPECT_FALSE(CatalogTestAccess::Db(*catalog).Exec("DELETE FROM blobs WHERE id = 3").ok());
}

// A damaged catalog (a file row whose blob row is gone) still migrates: the
// migration only refuses to add such rows.
TEST(BlobDigestPrefixesMigrationTest, ACatalogWithAMissingBlobRowStillMigrates) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  testing::MakeCatalogAtSchema(
      path, 12,
      "INSERT INTO partners (id, created) VALUES ('p1', 1);"
      "INSERT INTO objects (partner, object, created) VALUES ('p1', 'one', 1);"
      "INSERT INTO versions (id, partner, object, version, created, file_count, "
      "payload_bytes) VALUES (1, 'p1', 'one', 1, 1, 2, 2);"
      "INSERT INTO blobs (id, sha256, size) VALUES (1, '" +
          Sha("x") +
          "', 1);"
          "PRAGMA foreign_keys = OFF;"
          "INSERT INTO files (version_id, path, size, blob_id) VALUES (1, 'data/x', 1, 1), "
          "(1, 'data/gone', 1, 99);");
  auto opened = Catalog::Open(path);
  ASSERT_OK(opened);
  EXPECT_EQ(*(*opened)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(**opened, "SELECT count(*) FROM pragma_foreign_key_check"), 1);
}

}  // namespace
}  // namespace cairn::repo
