// A version the catalog forgot (issue 14, item 11): its rows deleted from
// SQLite while its version.pb and tag files are still on every site. The
// orphans pass (`cairn audit run --orphans`) lists each site's bags/ and
// reports every record with no catalog version, naming partner, object,
// version and site and how to bring it back; and a version.pb missing from a
// site that should hold it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class ForgottenVersionTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    fs::path source = MakeSourceFolder("one");
    Deposit("acme", source.string(), "one");
    WriteFile(source / "a.txt", "alpha, second version\n");
    Deposit("acme", source.string(), "one");
  }
};

TEST_F(ForgottenVersionTest, AVersionDeletedFromTheCatalogIsReportedOnEverySite) {
  const std::string v2 = "(SELECT id FROM versions WHERE object = 'one' AND version = 2)";
  EditCatalog(
      "DELETE FROM replicas WHERE tag_file_id IN (SELECT id FROM tag_files WHERE version_id = " +
      v2 + ")");
  EditCatalog("DELETE FROM tag_files WHERE version_id = " + v2);
  EditCatalog("DELETE FROM files WHERE version_id = " + v2);
  EditCatalog("DELETE FROM versions WHERE object = 'one' AND version = 2");
  ASSERT_TRUE(fs::exists(tmp_ / "repo/sites/a/bags/acme/one/v2/version.pb"));

  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  for (const char* site : {"a", "b"}) {
    EXPECT_NE(audit.out.find(std::string("uncataloged: acme/one@v2 version.pb on site ") + site),
              std::string::npos)
        << site << ":\n"
        << audit.out;
    EXPECT_NE(audit.out.find(std::string("uncataloged: acme/one@v2 bagit.txt on site ") + site),
              std::string::npos)
        << site << ":\n"
        << audit.out;
  }
  EXPECT_NE(audit.out.find("catalog rebuild"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("acme/one@v1"), std::string::npos) << "v1 is known: " << audit.out;

  CommandResult json = Cairn({"audit", "run", "--orphans", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out;
  ASSERT_TRUE(report["uncataloged"].is_number()) << json.out;
  EXPECT_GE(report["uncataloged"].get<int>(), 4) << json.out;
  bool named = false;
  for (const auto& f : report["findings"]) {
    if (f["kind"] == "uncataloged" && f["path"] == "version.pb" && f["site"] == "b") {
      EXPECT_EQ(f["partner"], "acme");
      EXPECT_EQ(f["object"], "one");
      EXPECT_EQ(f["version"], 2);
      named = true;
    }
  }
  EXPECT_TRUE(named) << json.out;
}

TEST_F(ForgottenVersionTest, AVersionRecordMissingFromASiteThatShouldHoldItIsReported) {
  fs::remove(tmp_ / "repo/sites/b/bags/acme/one/v1/version.pb");
  // Nothing is due: only the orphans pass can see it.
  CommandResult audit = Cairn({"audit", "run", "--due", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find("missing: acme/one@v1 version.pb on site b"), std::string::npos)
      << audit.out;
  EXPECT_EQ(audit.out.find("uncataloged"), std::string::npos) << audit.out;
}

TEST_F(ForgottenVersionTest, AnIntactRepositoryHasNoUncatalogedRecords) {
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace cairn::testing
