// The catalog edited behind Cairn's back (issue 7, "Hostile input: the
// catalog"): a file digest, a tag file digest, replica states and event rows
// changed directly in SQLite (the sqlite3 C API, foreign keys off as any other
// client has them). The next `cairn audit run --all` or `cairn events verify`
// must report each, naming the row or event, and never "repair" good copies
// on the sites by overwriting them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "repo/storage/sha256_stream.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CatalogTamperTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("one").string(), "one");
    Deposit("acme", MakeSourceFolder("two").string(), "two");
  }

  static std::string Sha(const std::string& bytes) { return repo::Sha256Hex(bytes); }

  // Every file on both sites: path -> bytes (to prove nothing good was overwritten).
  std::map<std::string, std::string> SiteFiles() {
    std::map<std::string, std::string> all;
    for (const char* site : {"a", "b"}) {
      for (auto& [path, bytes] : ReadTree(tmp_ / "repo/sites" / site, std::string(site) + "/")) {
        if (path.find("/events/") == std::string::npos) all[path] = bytes;
      }
    }
    return all;
  }
};

TEST_F(CatalogTamperTest, FileDigestEditedToAnotherStoredBlobIsAMismatch) {
  // Point one/a.txt at the blob of two/a.txt: both exist, every copy verifies.
  std::string other = Sha("alpha of two\n");
  EditCatalog("UPDATE files SET blob_id = (SELECT id FROM blobs WHERE sha256 = '" + other +
              "') WHERE path = 'data/a.txt' AND version_id = "
              "(SELECT id FROM versions WHERE object = 'one')");
  auto before = SiteFiles();
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("catalog-mismatch: acme/one@v1 data/a.txt"), std::string::npos)
      << audit.out;
  EXPECT_NE(audit.out.find("files(version_id="), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find(other), std::string::npos) << audit.out;
  EXPECT_EQ(SiteFiles(), before) << "the sites' good copies must not be rewritten";
  CommandResult json = Cairn({"audit", "run", "--all", "--json"});
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out;
  EXPECT_EQ(report["catalog_mismatch"], 1) << json.out;
}

TEST_F(CatalogTamperTest, FileDigestEditedToAnUnknownDigestIsAMismatch) {
  std::string forged(64, 'f');
  EditCatalog("INSERT INTO blobs (sha256, size) SELECT '" + forged +
              "', size FROM files WHERE path = 'data/sub/b.bin' LIMIT 1; "
              "UPDATE files SET blob_id = (SELECT id FROM blobs WHERE sha256 = '" +
              forged + "') WHERE path = 'data/sub/b.bin'");
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("catalog-mismatch"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("data/sub/b.bin"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find(forged), std::string::npos) << audit.out;
}

TEST_F(CatalogTamperTest, FileRowDeletedIsAMismatch) {
  EditCatalog(
      "DELETE FROM files WHERE path = 'data/c d.txt' AND version_id = "
      "(SELECT id FROM versions WHERE object = 'two')");
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("catalog-mismatch: acme/two@v1 data/c d.txt"), std::string::npos)
      << audit.out;
  EXPECT_NE(audit.out.find("missing from the catalog"), std::string::npos) << audit.out;
}

// The audit compared only the files rows with version.pb: a version's empty folders deleted from
// the catalog (a restore would then refuse, restore.catalog-disagrees) or added to it went
// unreported. Each is a catalog-mismatch naming the version_empty_folders row.
TEST_F(CatalogTamperTest, EmptyFolderRowsEditedAreAMismatch) {
  WriteFile(tmp_ / "box/a.txt", "alpha of box\n");
  fs::create_directories(tmp_ / "box/empty");
  fs::create_directories(tmp_ / "box/outer/inner");
  Deposit("acme", (tmp_ / "box").string(), "box");
  CommandResult clean = Cairn({"audit", "run", "--all"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EditCatalog(
      "DELETE FROM version_empty_folders WHERE path = 'data/empty'; "
      "INSERT INTO version_empty_folders (version_id, path) "
      "SELECT id, 'data/forged' FROM versions WHERE object = 'box'");
  auto before = SiteFiles();
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("catalog-mismatch: acme/box@v1 data/empty"), std::string::npos)
      << audit.out;
  EXPECT_NE(audit.out.find("catalog-mismatch: acme/box@v1 data/forged"), std::string::npos)
      << audit.out;
  EXPECT_NE(audit.out.find("version_empty_folders(version_id="), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("an empty folder the version does not hold"), std::string::npos)
      << audit.out;
  EXPECT_EQ(audit.out.find("outer/inner"), std::string::npos) << audit.out;
  EXPECT_EQ(SiteFiles(), before);
  CommandResult json = Cairn({"audit", "run", "--all", "--json"});
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out;
  EXPECT_EQ(report["catalog_mismatch"], 2) << json.out;
}

// Catalog schema 10: a files row names its blob by id. A row whose id names no
// blob (the blobs row deleted behind Cairn's back) must not drop the file from
// what the audit compares or restore writes: it is a mismatch naming the file.
TEST_F(CatalogTamperTest, FileRowNamingAMissingBlobRowIsAMismatchAndRestoreStops) {
  EditCatalog(
      "UPDATE files SET blob_id = 999999 WHERE path = 'data/c d.txt' AND version_id = "
      "(SELECT id FROM versions WHERE object = 'two')");
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("catalog-mismatch: acme/two@v1 data/c d.txt"), std::string::npos)
      << audit.out;
  CommandResult restore = Cairn({"restore", "acme/two", (tmp_ / "out").string()});
  EXPECT_EQ(restore.exit_code, 1) << restore.out << restore.err;
  EXPECT_NE(restore.err.find("c d.txt"), std::string::npos) << restore.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
}

TEST_F(CatalogTamperTest, TagFileDigestEditedIsCorruptEverywhereAndNotRepairedOverGoodCopies) {
  EditCatalog("UPDATE tag_files SET sha256 = '" + std::string(64, '0') +
              "' WHERE name = 'manifest-sha256.txt' AND version_id = "
              "(SELECT id FROM versions WHERE object = 'one')");
  auto before = SiteFiles();
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("manifest-sha256.txt"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("damaged"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("REPAIRED"), std::string::npos) << audit.out;
  EXPECT_EQ(SiteFiles(), before) << "no good copy may be overwritten";
}

TEST_F(CatalogTamperTest, ReplicaMarkedOkOnASiteThatLacksTheBlobIsFoundMissing) {
  std::string sha = Sha("alpha of one\n");
  fs::path blob = BlobFile("b", "alpha of one\n");
  fs::remove(blob);
  ASSERT_EQ(CopyStates("acme/one", "data/a.txt"), "a:ok b:ok") << "the catalog still claims it";
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out;
  EXPECT_NE(audit.out.find("missing: acme/one@v1 data/a.txt on site b"), std::string::npos)
      << audit.out;
  EXPECT_TRUE(fs::exists(blob)) << "repaired from site a";
  EXPECT_EQ(CopyStates("acme/one", "data/a.txt"), "a:ok b:ok");
}

TEST_F(CatalogTamperTest, ReplicaRowForgedOnAThirdSiteIsFoundMissing) {
  fs::path c = tmp_ / "site-c";
  ASSERT_EQ(Cairn({"site", "add", "c", "file://" + c.string()}).exit_code, 0);
  EditCatalog(
      "INSERT INTO replicas(site_id, blob_id, state) SELECT s.id, b.id, 'ok' FROM sites s "
      "JOIN blobs b ON b.sha256 = '" +
      Sha("alpha of one\n") + "' WHERE s.name = 'c'");
  CommandResult audit = Cairn({"audit", "run", "--all", "--site", "c"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out;
  EXPECT_NE(audit.out.find("missing: acme/one@v1 data/a.txt on site c"), std::string::npos)
      << audit.out;
}

TEST_F(CatalogTamperTest, ReplicaStateEditedFromCorruptToOkIsRecheckedNotTrusted) {
  FlipByte(BlobFile("a", "alpha of two\n"));
  EditCatalog(
      "UPDATE replicas SET state = 'ok', next_due = 9e18 WHERE blob_id = (SELECT id FROM blobs "
      "WHERE sha256 = '" +
      Sha("alpha of two\n") + "')");
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out;
  EXPECT_NE(audit.out.find("corrupt: acme/two@v1 data/a.txt on site a"), std::string::npos)
      << audit.out;
  EXPECT_EQ(ReadFile(BlobFile("a", "alpha of two\n")), "alpha of two\n") << "repaired from b";
}

TEST_F(CatalogTamperTest, EventColumnEditedIsNamedByEventsVerify) {
  ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  EditCatalog("UPDATE events SET outcome = 'failure' WHERE seq = 3");
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  std::string all = verify.out + verify.err;
  EXPECT_NE(all.find("3"), std::string::npos) << all;
  EXPECT_NE(all.find("edited"), std::string::npos) << all;
}

TEST_F(CatalogTamperTest, EventRecordEditedAndEventDeletedAreNamed) {
  EditCatalog("UPDATE events SET event = CAST(event || X'00' AS BLOB) WHERE seq = 4");
  CommandResult edited = Cairn({"events", "verify", "--json"});
  EXPECT_EQ(edited.exit_code, 1) << edited.out;
  EXPECT_NE(edited.out.find("4"), std::string::npos) << edited.out;

  EditCatalog("UPDATE events SET event = substr(event, 1, length(event) - 1) WHERE seq = 4");
  ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0) << "the edit undone";
  EditCatalog("DELETE FROM events WHERE seq = 5");
  CommandResult removed = Cairn({"events", "verify"});
  EXPECT_EQ(removed.exit_code, 1) << removed.out;
  EXPECT_NE((removed.out + removed.err).find("5"), std::string::npos) << removed.out;
}

}  // namespace
}  // namespace cairn::testing
