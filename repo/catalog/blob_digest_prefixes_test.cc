// Migrations 13 and 14 (blob digest prefixes, in two tiers): blobs are found
// through their digest's first 8 characters, kept in blob_digests; a catalog
// made by an older binary keeps every row, a digest stays one row, new blobs'
// entries go to the small tier 0 and move to tier 1 in one pass, and a deposit
// into a large catalog writes far fewer pages than through an index on blobs.
#include <gmock/gmock.h>

#include <random>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_sql.h"
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
  // A blob's digest and id never change (its entry in blob_digests would be
  // wrong): to a known digest or to a new one.
  for (const std::string& to : {d, Sha("third")}) {
    Status changed = db.Exec("UPDATE blobs SET sha256 = '" + to + "' WHERE size = 5");
    EXPECT_THAT(changed.ToString(), ::testing::HasSubstr("a blob's sha256 and id do not change"));
  }
  EXPECT_THAT(db.Exec("UPDATE blobs SET id = id + 100 WHERE size = 5").ToString(),
              ::testing::HasSubstr("a blob's sha256 and id do not change"));
  EXPECT_OK(db.Exec("UPDATE blobs SET size = 4 WHERE sha256 = '" + d + "'"));
  // A row deleted takes its entry with it.
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests"), 2);
  ASSERT_OK(db.Exec("DELETE FROM blobs WHERE size = 5"));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests"), 1);

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
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 3 + 26 + 26);

  // Every blob has one entry, under its own prefix and id.
  EXPECT_EQ(QueryInt(*catalog_,
                     "SELECT count(*) FROM blobs b JOIN blob_digests d ON d.blob_id = b.id AND "
                     "d.prefix = substr(b.sha256, 1, 8)"),
            55);
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests"), 55);

  // The lookups go through both tiers' keys, then the blob's row by its id:
  // never a scan of blobs.
  auto plan = db.Prepare("EXPLAIN QUERY PLAN SELECT blob_id FROM " + catalog_sql::BlobIdOf(1));
  ASSERT_OK(plan);
  std::string details;
  while (*plan->Step()) details += plan->Text(3) + "\n";
  EXPECT_THAT(details, ::testing::HasSubstr("SEARCH d USING PRIMARY KEY (tier=? AND prefix=?)"));
  EXPECT_THAT(details, ::testing::HasSubstr("SEARCH b USING INTEGER PRIMARY KEY (rowid=?)"));
  EXPECT_THAT(details, ::testing::Not(::testing::HasSubstr("SCAN")));
  EXPECT_THAT(details, ::testing::Not(::testing::HasSubstr("LIST SUBQUERY")));

  // A version naming a digest that is not lowercase hex is refused whole.
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 55);
  EXPECT_EQ(*catalog_->BlobSize(d), std::optional<uint64_t>(4));
  EXPECT_EQ(*catalog_->BlobOnSite(d, "a"), std::optional<ReplicaState>(ReplicaState::kOk));
  NewVersion bad = MakeVersion("p1", "bad", 1, {"x"});
  std::string upper = Sha("y");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bad.files.push_back(FileEntry{"data/upper", 1, upper});
  Result<int64_t> refused = catalog_->InsertVersion(bad);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << refused.status().ToString();
  EXPECT_THAT(refused.status().ToString(), ::testing::HasSubstr("bad sha256 for data/upper"));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 55);
}

// What migrations 13 and 14 are for: new blobs' entries land in few pages. A
// catalog of 100,000 blobs, settled into tier 1, then a version of 3,000 new
// ones: with the unique index on the text digest (schema 12) the same
// transaction wrote 1,909 pages to the WAL (an emulation in Python of
// InsertVersion's statements: the index has about 2,000 leaves, most of which
// got a new entry); with migration 13's index on the prefix, 615 (most of its
// 500 leaves); with tier 0, 172: its few leaves, and the rows appended to
// blobs, files and replicas.
TEST_F(CatalogTest, NewBlobsInALargeCatalogDirtyFewIndexPages) {
  AddSitesAndPartners();
  sql::Db& db = CatalogTestAccess::Db(*catalog_);
  ASSERT_OK(
      db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
              "INSERT INTO blobs (sha256, size) SELECT lower(hex(randomblob(32))), 1 FROM n"));
  // Rows written by hand land in tier 0 too (a trigger). Below 1,048,576
  // entries tier 0 is not merged; past the catalog's settle_at_least (made
  // 65,536 here) and an eighth of all blobs, the next version with a new
  // blob merges it.
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests WHERE tier = 0"), 100000);
  NewVersion first = MakeVersion("p1", "first", 1, {"a first new blob"});
  ASSERT_OK(catalog_->InsertVersion(first));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests WHERE tier = 0"), 100001);
  EXPECT_EQ(QueryInt(*catalog_, "SELECT settle_at_least FROM blob_digest_tiers"), 1048576);
  ASSERT_OK(db.Exec("UPDATE blob_digest_tiers SET settle_at_least = 65536"));
  NewVersion second = MakeVersion("p1", "second", 1, {"a second new blob"});
  ASSERT_OK(catalog_->InsertVersion(second));
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests WHERE tier = 0"), 0);
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests WHERE tier = 1"), 100002);
  EXPECT_EQ(QueryInt(*catalog_, "SELECT settled_through FROM blob_digest_tiers"), 100002);
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
  EXPECT_LT(pages_written, 300) << "pages written to the WAL by one version of 3,000 new blobs";
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blobs"), 103002);
  // 3,000 is below 65,536: no merge.
  EXPECT_EQ(QueryInt(*catalog_, "SELECT count(*) FROM blob_digests WHERE tier = 0"), 3000);
  for (const FileEntry& f : v.files) {
    ASSERT_EQ(*catalog_->BlobSize(f.sha256), std::optional<uint64_t>(1)) << f.path;
  }
}

// Tier 0 is merged once it holds an eighth of all blobs and at least the
// catalog's settle_at_least (1,048,576; 65,536 here, for a smaller test), by
// the next version with a new blob; a version of known blobs only leaves it.
// Every digest is found before, between and after.
TEST_F(CatalogTest, TierZeroIsMergedAtAnEighthOfAllBlobs) {
  AddSitesAndPartners();
  sql::Db& db = CatalogTestAccess::Db(*catalog_);
  ASSERT_OK(db.Exec("UPDATE blob_digest_tiers SET settle_at_least = 65536"));
  auto add_rows = [&](int n) {
    return db.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
        std::to_string(n) +
        ") INSERT INTO blobs (sha256, size) SELECT lower(hex(randomblob(32))), 1 FROM n");
  };
  auto insert = [&](const std::string& object, const std::vector<std::string>& contents) {
    NewVersion v = MakeVersion("p1", object, 1, contents);
    v.stored_on = {"a"};
    return catalog_->InsertVersion(v).status();
  };
  auto tier = [&](int t) {
    return QueryInt(*catalog_,
                    "SELECT count(*) FROM blob_digests WHERE tier = " + std::to_string(t));
  };
  ASSERT_OK(add_rows(500000));
  ASSERT_OK(insert("a", {"one"}));
  EXPECT_EQ(tier(0), 0);
  EXPECT_EQ(tier(1), 500001);
  // 70,000 more: past 65,536 but below an eighth of 570,002 (71,250).
  ASSERT_OK(add_rows(70000));
  ASSERT_OK(insert("b", {"two"}));
  EXPECT_EQ(tier(0), 70001);
  // 20,000 more: 90,001 of 590,002, past an eighth; but a version whose
  // blobs are all known merges nothing.
  ASSERT_OK(add_rows(20000));
  ASSERT_OK(insert("c", {"one", "two"}));
  EXPECT_EQ(tier(0), 90001);
  EXPECT_EQ(*catalog_->BlobSize(Sha("two")), std::optional<uint64_t>(3));
  ASSERT_OK(insert("d", {"three"}));
  EXPECT_EQ(tier(0), 0);
  EXPECT_EQ(tier(1), 590003);
  EXPECT_EQ(QueryInt(*catalog_, "SELECT settled_through FROM blob_digest_tiers"), 590003);
  for (const char* content : {"one", "two", "three"}) {
    EXPECT_EQ(*catalog_->BlobOnSite(Sha(content), "a"),
              std::optional<ReplicaState>(ReplicaState::kOk))
        << content;
  }
  EXPECT_EQ(QueryInt(*catalog_,
                     "SELECT count(*) FROM blobs b JOIN blob_digests d ON d.blob_id = b.id AND "
                     "d.prefix = substr(b.sha256, 1, 8)"),
            590003);
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
                     "'blobs' AND name IN ('blob_digests_insert', 'blob_digests_delete', "
                     "'blobs_digest_fixed')"),
            3);
  EXPECT_EQ(QueryInt(*catalog,
                     "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = "
                     "'blobs'"),
            3);
  // Migration 14: the three digests in tier 1, in the order of their prefixes.
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM blob_digests WHERE tier = 1"), 3);
  EXPECT_EQ(QueryInt(*catalog, "SELECT settled_through FROM blob_digest_tiers"), 7);
  EXPECT_EQ(QueryInt(*catalog,
                     "SELECT count(*) FROM sqlite_schema WHERE name = 'blobs_by_digest_prefix'"),
            0);
  EXPECT_EQ(QueryInt(*catalog, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(QueryInt(*catalog, "SELECT count(*) FROM blobs WHERE digest_prefix = '" +
                                   dc.substr(0, 8) + "' AND sha256 = '" + dc + "'"),
            1);
  // The files still point at their blobs through the rebuilt table.
  EXPECT_FALSE(CatalogTestAccess::Db(*catalog).Exec("DELETE FROM blobs WHERE id = 3").ok());
}

// A catalog of schema 13 (migration 13's index on blobs) keeps every blob,
// each in tier 1; the index is gone; a new blob goes to tier 0.
TEST(BlobDigestPrefixesMigrationTest, AVersion13CatalogSettlesEveryDigestInTierOne) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  const std::string dc = Sha("c"), dd = Sha("d");
  testing::MakeCatalogAtSchema(
      path, 13,
      "INSERT INTO sites (id, name, url, created) VALUES (1, 'a', 'file:///a', 1);"
      "INSERT INTO partners (id, created) VALUES ('p1', 1);"
      "INSERT INTO objects (partner, object, created) VALUES ('p1', 'one', 1);"
      "INSERT INTO versions (id, partner, object, version, created, file_count, "
      "payload_bytes) VALUES (1, 'p1', 'one', 1, 1, 2, 2);"
      "INSERT INTO blobs (id, sha256, size) VALUES (7, '" +
          dc + "', 1), (3, '" + dd +
          "', 1);"
          "INSERT INTO files (version_id, path, size, blob_id) VALUES "
          "(1, 'data/c', 1, 7), (1, 'data/d', 1, 3);"
          "INSERT INTO replicas (id, site_id, blob_id, state, last_verified, next_due) VALUES "
          "(20, 1, 7, 'ok', 1, 2), (21, 1, 3, 'missing', 1, 2);");
  auto opened = Catalog::Open(path);
  ASSERT_OK(opened);
  Catalog& catalog = **opened;
  EXPECT_EQ(*catalog.SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(catalog, "SELECT count(*) FROM blob_digests WHERE tier = 1"), 2);
  EXPECT_EQ(QueryInt(catalog, "SELECT blob_id FROM blob_digests WHERE prefix = '" +
                                  dc.substr(0, 8) + "' AND tier = 1"),
            7);
  EXPECT_EQ(QueryInt(catalog, "SELECT settled_through FROM blob_digest_tiers"), 7);
  EXPECT_EQ(QueryInt(catalog,
                     "SELECT count(*) FROM sqlite_schema WHERE name IN ('blobs_by_digest_prefix', "
                     "'blobs_digest_unique_update')"),
            0);
  EXPECT_EQ(*catalog.BlobOnSite(dd, "a"), std::optional<ReplicaState>(ReplicaState::kMissing));
  EXPECT_EQ(*catalog.BlobSize(dc), std::optional<uint64_t>(1));
  ASSERT_OK(catalog.AddPartner("p2", "Partner Two"));
  NewVersion next;
  next.partner = "p2";
  next.object = "two";
  next.version = 1;
  next.stored_on = {"a"};
  next.files = {FileEntry{"data/c", 1, dc}, FileEntry{"data/e", 1, Sha("e")}};
  ASSERT_OK(catalog.InsertVersion(next));
  EXPECT_EQ(QueryInt(catalog, "SELECT blob_id FROM blob_digests WHERE tier = 0"), 8);
  EXPECT_EQ(QueryInt(catalog, "SELECT count(*) FROM blobs"), 3);
  EXPECT_EQ(*catalog.BlobOnSite(dc, "a"), std::optional<ReplicaState>(ReplicaState::kOk));
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
