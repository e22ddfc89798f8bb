// The catalog on real SQLite files: migrations, reopening, sites, partners,
// policies, versions and replicas.
#include "repo/catalog/catalog.h"

#include <gmock/gmock.h>

#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;
using ::testing::HasSubstr;

TEST_F(CatalogTest, MigratesFromEmptyAndReopens) {
  auto v = catalog_->SchemaVersion();
  ASSERT_OK(v);
  EXPECT_EQ(*v, LatestSchemaVersion());
  {
    auto mode = CatalogTestAccess::Db(*catalog_).Prepare("PRAGMA journal_mode");
    ASSERT_OK(mode);
    ASSERT_TRUE(*mode->Step());
    EXPECT_EQ(mode->Text(0), "wal");
  }  // an unfinished statement would hold the next write's transaction open
  ASSERT_OK(catalog_->AddSite("a", "file:///x/a", ""));
  catalog_.reset();

  CatalogOptions options;
  options.create_if_missing = false;
  auto again = Catalog::Open(path(), options);
  ASSERT_OK(again);
  auto sites = (*again)->ListSites();
  ASSERT_OK(sites);
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].name, "a");
}

TEST_F(CatalogTest, MissingFileNotCreatedWhenAsked) {
  CatalogOptions options;
  options.create_if_missing = false;
  auto r = Catalog::Open((dir_.path() / "nope.db").string(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_FALSE(boost::filesystem::exists(dir_.path() / "nope.db"));
}

TEST_F(CatalogTest, NewerCatalogIsAClearError) {
  ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec("PRAGMA user_version = 999"));
  catalog_.reset();
  auto r = Catalog::Open(path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("schema version 999"));
  EXPECT_THAT(r.status().message(), HasSubstr("upgrade cairn"));
}

TEST_F(CatalogTest, NotACatalogIsCorruption) {
  cairn::testing::WriteFile(dir_.path() / "junk.db", std::string(4096, 'x'));
  auto r = Catalog::Open((dir_.path() / "junk.db").string());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("junk.db"));
}

TEST_F(CatalogTest, SitesAndPartners) {
  AddSitesAndPartners();
  EXPECT_TRUE(catalog_->AddSite("a", "file:///y", "").status().IsAlreadyExists());
  EXPECT_EQ(catalog_->AddSite("../evil", "file:///y", "").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(catalog_->AddPartner("p1", "again").status().IsAlreadyExists());
  EXPECT_EQ(catalog_->AddPartner("", "x").status().code(), Code::kInvalidArgument);
  auto site = catalog_->GetSite("c");
  ASSERT_OK(site);
  EXPECT_EQ(site->region, "us");
  EXPECT_EQ(site->created_micros, clock_.NowMicros());
  EXPECT_THAT(catalog_->GetSite("zz").status().message(), HasSubstr("zz"));
  auto partners = catalog_->ListPartners();
  ASSERT_OK(partners);
  ASSERT_EQ(partners->size(), 2u);
  EXPECT_EQ((*partners)[1].name, "Partner Two");
  EXPECT_TRUE(catalog_->GetPartner("nobody").status().IsNotFound());
}

TEST_F(CatalogTest, PoliciesStoredCheckedAndResolved) {
  AddSitesAndPartners();
  auto builtin = catalog_->EffectivePolicy("p1");
  ASSERT_OK(builtin);
  EXPECT_EQ(builtin->copies(), 2u);

  ASSERT_OK(catalog_->SetPolicy({std::string(kDefaultPolicyScope), "copies: 3", "d", ""}));
  ASSERT_OK(catalog_->SetPolicy({"p2", "copies: 1 sites: \"c\"", "p2.textpb", ""}));
  EXPECT_EQ(catalog_->EffectivePolicy("p1")->copies(), 3u);
  EXPECT_EQ(catalog_->EffectivePolicy("p2")->copies(), 1u);
  EXPECT_EQ(catalog_->GetPolicy("p2")->text, "copies: 1 sites: \"c\"");

  Status unknown_site =
      catalog_->SetPolicy({"p1", "copies: 2 sites: \"a\" sites: \"s3\"", "f", ""});
  EXPECT_THAT(unknown_site.message(), HasSubstr("no site named \"s3\""));
  Status typo = catalog_->SetPolicy({"p1", "copies: 2\ncopys: 3", "f.textpb", ""});
  EXPECT_THAT(typo.message(), HasSubstr("f.textpb:2:"));
  EXPECT_TRUE(catalog_->GetPolicy("p1").status().IsNotFound());  // nothing stored
  EXPECT_TRUE(catalog_->SetPolicy({"ghost", "copies: 1", "g", ""}).IsNotFound());
  EXPECT_TRUE(catalog_->EffectivePolicy("ghost").status().IsNotFound());
}

TEST_F(CatalogTest, VersionsRoundTrip) {
  AddSitesAndPartners();
  EXPECT_EQ(*catalog_->NextVersion("p1", "obj"), 1u);
  NewVersion v1 = MakeVersion("p1", "obj", 1, {"alpha", "beta"});
  v1.stored_on = {"a"};
  v1.fixity_interval_micros = 90 * kMicrosPerDay;
  proto::Event ingest;
  ingest.set_type("ingestion");
  v1.events.push_back(ingest);
  proto::Job job;
  job.set_kind(proto::JOB_KIND_REPLICATE);
  job.set_partner("p1");
  job.set_object("obj");
  job.set_version(1);
  job.set_target_site("b");
  v1.jobs.push_back(job);
  auto id1 = catalog_->InsertVersion(v1);
  ASSERT_OK(id1);
  EXPECT_GT(v1.tag_files[0].id, 0);
  EXPECT_EQ(*catalog_->NextVersion("p1", "obj"), 2u);
  EXPECT_TRUE(catalog_->InsertVersion(v1).status().IsAlreadyExists());

  NewVersion v2 = MakeVersion("p1", "obj", 2, {"alpha", "gamma", "delta"});
  ASSERT_OK(catalog_->InsertVersion(v2));

  auto latest = catalog_->GetVersion("p1", "obj", std::nullopt, true);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->version, 2u);
  EXPECT_EQ(latest->file_count, 3u);
  EXPECT_EQ(latest->payload_bytes, 5u + 5u + 5u);
  ASSERT_EQ(latest->files.size(), 3u);
  EXPECT_EQ(latest->files[0].path, "data/0.txt");
  EXPECT_EQ(latest->files[0].sha256, testing::Sha("alpha"));
  ASSERT_EQ(latest->tag_files.size(), 2u);
  EXPECT_EQ(latest->tag_files[0].name, "bagit.txt");

  auto first = catalog_->GetVersion("p1", "obj", 1, false);
  ASSERT_OK(first);
  EXPECT_TRUE(first->files.empty());
  EXPECT_EQ(first->depositor, "tester");
  EXPECT_THAT(catalog_->GetVersion("p1", "obj", 7, false).status().message(),
              HasSubstr("p1/obj@v7"));

  auto objects = catalog_->ListObjects("");
  ASSERT_OK(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].latest_version, 2u);
  EXPECT_EQ((*objects)[0].version_count, 2u);
  EXPECT_TRUE(catalog_->ListObjects("p2")->empty());
  EXPECT_EQ(catalog_->ListVersions("p1", "obj")->size(), 2u);

  // Events and jobs went in with the version.
  auto events = catalog_->ListEvents({});
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].partner(), "p1");
  EXPECT_EQ((*events)[0].version(), 1u);
  EXPECT_EQ(catalog_->CountJobs()->queued, 1u);

  // Replicas: version 1 is on site a (2 blobs + 2 tag files, ok).
  auto replicas = catalog_->ReplicasOf(*id1);
  ASSERT_OK(replicas);
  ASSERT_EQ(replicas->size(), 4u);
  for (const ReplicaRecord& r : *replicas) {
    EXPECT_EQ(r.site, "a");
    EXPECT_EQ(r.state, ReplicaState::kOk);
    EXPECT_EQ(r.next_due_micros, clock_.NowMicros() + 90 * kMicrosPerDay);
  }
  EXPECT_EQ(*catalog_->MinOkCopies(*id1), 1u);
  EXPECT_EQ(*catalog_->MinOkCopies(latest->id), 0u);  // "alpha" is on a, the rest nowhere
}

// ReplicasOf lists by site, then the blobs by digest, then the tag files by
// name (replication and resync take each item's sites in this order).
TEST_F(CatalogTest, ReplicasOfListsBySiteThenBlobsByDigestThenTagFilesByName) {
  AddSitesAndPartners();
  NewVersion v = MakeVersion("p1", "obj", 1, {"x", "y", "z", "w"});
  v.stored_on = {"b"};
  auto id = catalog_->InsertVersion(v);
  ASSERT_OK(id);
  std::vector<std::string> digests;
  for (const std::string& content : {"x", "y", "z", "w"}) {
    digests.push_back(testing::Sha(content));
    ASSERT_OK(
        catalog_->SetReplicaState(ReplicaRef::Blob(digests.back()), "a", ReplicaState::kOk, 1, 2));
  }
  for (const TagFileEntry& t : v.tag_files) {
    ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::TagFile(t.id), "a", ReplicaState::kOk, 1, 2));
  }
  std::sort(digests.begin(), digests.end());
  std::vector<std::string> expected;
  for (const std::string site : {"a", "b"}) {
    for (const std::string& d : digests) expected.push_back(site + " blob " + d);
    expected.push_back(site + " tag bagit.txt");
    expected.push_back(site + " tag manifest-sha256.txt");
  }
  auto replicas = catalog_->ReplicasOf(*id);
  ASSERT_OK(replicas);
  std::vector<std::string> got;
  for (const ReplicaRecord& r : *replicas) {
    got.push_back(r.site + (r.ref.kind == ReplicaRef::Kind::kBlob ? " blob " + r.ref.blob
                                                                  : " tag " + r.tag_name));
  }
  EXPECT_EQ(got, expected);
}

TEST_F(CatalogTest, ReplicaStatesAndBlobs) {
  AddSitesAndPartners();
  NewVersion v = MakeVersion("p1", "obj", 1, {"x"});
  v.stored_on = {"a"};
  auto id = catalog_->InsertVersion(v);
  ASSERT_OK(id);
  const std::string sha = testing::Sha("x");
  EXPECT_TRUE(catalog_->BlobExists(sha));
  EXPECT_EQ(catalog_->BlobSize(sha)->value(), 1u);
  EXPECT_FALSE(catalog_->BlobExists(testing::Sha("y")));
  EXPECT_EQ(catalog_->BlobOnSite(sha, "a")->value(), ReplicaState::kOk);
  EXPECT_FALSE(catalog_->BlobOnSite(sha, "b")->has_value());

  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(sha), "b", ReplicaState::kPending, -1, -1));
  EXPECT_EQ(catalog_->BlobOnSite(sha, "b")->value(), ReplicaState::kPending);
  ASSERT_TRUE(catalog_
                  ->SetReplicaState(ReplicaRef::Blob(sha), "a", ReplicaState::kCorrupt, 5, -1,
                                    "wrong bytes")
                  .ok());
  ASSERT_TRUE(
      catalog_
          ->SetReplicaState(ReplicaRef::TagFile(v.tag_files[0].id), "b", ReplicaState::kOk, 7, 8)
          .ok());
  auto replicas = catalog_->ReplicasOf(*id);
  ASSERT_OK(replicas);
  int corrupt = 0, tag_on_b = 0;
  for (const ReplicaRecord& r : *replicas) {
    if (r.state == ReplicaState::kCorrupt) {
      ++corrupt;
      EXPECT_EQ(r.detail, "wrong bytes");
      EXPECT_EQ(r.last_verified_micros, 5);
      EXPECT_GT(r.next_due_micros, 0);  // kept
    }
    if (r.site == "b" && r.ref.kind == ReplicaRef::Kind::kTagFile) {
      ++tag_on_b;
      EXPECT_EQ(r.tag_name, "bagit.txt");
      EXPECT_EQ(r.next_due_micros, 8);
    }
  }
  EXPECT_EQ(corrupt, 1);
  EXPECT_EQ(tag_on_b, 1);
  EXPECT_TRUE(
      catalog_->SetReplicaState(ReplicaRef::Blob(sha), "zz", ReplicaState::kOk, 1, 1).IsNotFound());
  EXPECT_TRUE(
      catalog_
          ->SetReplicaState(ReplicaRef::Blob(testing::Sha("unknown")), "a", ReplicaState::kOk, 1, 1)
          .IsNotFound());
}

TEST_F(CatalogTest, InsertVersionIsAllOrNothing) {
  AddSitesAndPartners();
  NewVersion v = MakeVersion("p1", "obj", 1, {"one", "two"});
  v.files[1].path = v.files[0].path;  // duplicate path: refused
  Status s = catalog_->InsertVersion(v).status();
  EXPECT_THAT(s.message(), HasSubstr("listed twice"));
  EXPECT_TRUE(catalog_->ListObjects("")->empty());
  EXPECT_FALSE(catalog_->BlobExists(testing::Sha("one")));
  NewVersion nobody = MakeVersion("nobody", "o", 1, {"z"});
  EXPECT_TRUE(catalog_->InsertVersion(nobody).status().IsNotFound());
  NewVersion bad_site = MakeVersion("p1", "obj", 1, {"z"});
  bad_site.stored_on = {"nowhere"};
  EXPECT_TRUE(catalog_->InsertVersion(bad_site).status().IsNotFound());
  EXPECT_TRUE(catalog_->ListObjects("")->empty());
}

// Migration 3 (unreadable copies) on a catalog that already holds rows: the
// replicas and audit_findings tables are rebuilt with their rows, ids and
// indexes, replicas gain read_failures = 0, and the new states and finding
// kinds are accepted.
class MigrationUnreadableTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "catalog.db").string(); }
  cairn::testing::TempDir dir_;
};

TEST_F(MigrationUnreadableTest, RowsOfAVersion2CatalogSurviveAndNewStatesAreAccepted) {
  testing::MakeCatalogAtSchema(
      path(), 2,
      "INSERT INTO sites (id, name, url, region, created) VALUES (7, 'a', 'file:///x/a', '', 1);"
      "INSERT INTO blobs (sha256, size) VALUES ('" +
          std::string(64, 'a') +
          "', 5);"
          "INSERT INTO replicas (id, site_id, blob, state, last_verified, next_due, detail) "
          "VALUES (42, 7, '" +
          std::string(64, 'a') +
          "', 'corrupt', 11, 22, 'why');"
          "INSERT INTO audit_runs (id, started) VALUES (3, 1);"
          "INSERT INTO audit_findings (id, run_id, kind, site, detail) "
          "VALUES (9, 3, 'missing', 'a', 'gone');");
  auto catalog = Catalog::Open(path());
  ASSERT_OK(catalog);
  sql::Db& db = CatalogTestAccess::Db(**catalog);
  auto row = db.Prepare(
      "SELECT id, site_id, state, last_verified, next_due, detail, read_failures FROM replicas");
  ASSERT_OK(row);
  ASSERT_TRUE(*row->Step());
  EXPECT_EQ(row->Int(0), 42);
  EXPECT_EQ(row->Int(1), 7);
  EXPECT_EQ(row->Text(2), "corrupt");
  EXPECT_EQ(row->Int(3), 11);
  EXPECT_EQ(row->Int(4), 22);
  EXPECT_EQ(row->Text(5), "why");
  EXPECT_EQ(row->Int(6), 0);
  row->Reset();
  EXPECT_OK(db.Exec("UPDATE replicas SET state = 'unreadable', read_failures = 3"));
  EXPECT_FALSE(db.Exec("UPDATE replicas SET state = 'bogus'").ok()) << "the CHECK is kept";
  EXPECT_EQ(*db.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                         "tbl_name = 'replicas'"),
            4);
  EXPECT_EQ(*db.QueryInt("SELECT COUNT(*) FROM audit_findings WHERE id = 9 AND run_id = 3 AND "
                         "kind = 'missing' AND detail = 'gone'"),
            1);
  EXPECT_OK(
      db.Exec("INSERT INTO audit_findings (run_id, kind) VALUES (3, 'unreadable'), "
              "(3, 'uncataloged')"));
  EXPECT_FALSE(db.Exec("INSERT INTO audit_findings (run_id, kind) VALUES (3, 'bogus')").ok());
}

}  // namespace
}  // namespace cairn::repo
