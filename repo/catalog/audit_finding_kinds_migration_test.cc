// Migration 23 (the orphans pass's own finding kinds): a catalog made by the binary before it,
// whose audit history stored copies not recorded yet and stray files under the uncataloged kind,
// keeps every row and id; those two take their own kinds by the detail the orphans pass wrote,
// every other finding keeps its kind, and new rows of the new kinds are accepted.
#include <gtest/gtest.h>

#include <map>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_audit.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

// Details as audit/orphans.cc wrote them before this migration (stored as uncataloged).
const char kUnrecorded[] =
    "blob on the site (6 bytes): blobs/sha256/ab/abcd, a file of a version the catalog holds, "
    "whose copy on site b the catalog does not record yet (rebuilt while the site was out of "
    "reach?): not an orphan, `cairn gc` keeps it; `cairn replicate --wait` verifies and records "
    "the copies the policies want on site b";
const char kStrayBlob[] =
    "blobs/sha256/stray.txt (2 bytes): a file Cairn did not write, where the layout allows only "
    "blobs, each named by the SHA-256 of its bytes; Cairn never removes files it did not write: "
    "look at it, then move or remove it yourself";
const char kStrayInVersion[] =
    "bags/acme/box/v1/extra.txt (2 bytes): a file Cairn did not write, in the folder of a version "
    "the catalog knows; Cairn never removes files it did not write: look at it, then move or "
    "remove it yourself";
// A version the catalog lost (stays uncataloged), and a blob of one.
const char kLostVersion[] =
    "bags/acme/gone/v1/version.pb (90 bytes) is on site a, but the catalog has no such version "
    "(its rows were lost or deleted): bring it back with `cairn catalog rebuild --from a`";
const char kLostBlob[] =
    "blob on the site (6 bytes) that the catalog does not list: blobs/sha256/cd/cdef; it is "
    "data/x of acme/gone v1, a version whose record the site holds (bags/acme/gone/v1/version.pb) "
    "and the catalog does not know (put back from a backup, or rebuilt from a site that lagged): "
    "not an orphan, `cairn gc` keeps it. Bring the catalog up to date with `cairn catalog rebuild "
    "--from a`";

TEST(AuditFindingKindsMigrationTest,
     AVersion22HistoryGivesUnrecordedCopiesAndStrayFilesTheirKinds) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  {
    auto db = sql::Db::Open(path, true, 1000);
    ASSERT_OK(db);
    for (const Migration& m : AllMigrations()) {
      if (m.version > 22) break;
      ASSERT_OK(db->Exec(m.sql)) << m.name;
    }
    ASSERT_OK(db->Exec("PRAGMA user_version = 22"));
    ASSERT_OK(db->Exec(
        "INSERT INTO audit_runs (id, started, finished, state) VALUES (5, 10, 20, 'done')"));
    auto insert = db->Prepare(
        "INSERT INTO audit_findings (id, run_id, kind, partner, object, version, path, site, "
        "sha256, detail) VALUES (?, 5, ?, ?, ?, ?, ?, ?, ?, ?)");
    ASSERT_OK(insert);
    struct Row {
      int id;
      const char *kind, *partner, *object;
      int version;
      const char *path, *site, *sha256, *detail;
    };
    for (const Row& r : std::initializer_list<Row>{
             {11, "uncataloged", "", "", 0, "", "b", "abcd", kUnrecorded},
             {12, "uncataloged", "", "", 0, "blobs/sha256/stray.txt", "a", "", kStrayBlob},
             {13, "uncataloged", "acme", "box", 1, "extra.txt", "a", "", kStrayInVersion},
             {14, "uncataloged", "acme", "gone", 1, "version.pb", "a", "", kLostVersion},
             {15, "uncataloged", "acme", "gone", 1, "data/x", "a", "cdef", kLostBlob},
             {16, "corrupt", "acme", "box", 1, "data/y", "b", "ef01", "sha256 mismatch"},
         }) {
      insert->Reset();
      insert->Bind(1, int64_t{r.id})
          .Bind(2, r.kind)
          .Bind(3, r.partner)
          .Bind(4, r.object)
          .Bind(5, int64_t{r.version})
          .Bind(6, r.path)
          .Bind(7, r.site)
          .Bind(8, r.sha256)
          .Bind(9, r.detail);
      ASSERT_OK(insert->Run());
    }
  }
  auto catalog = Catalog::Open(path);
  ASSERT_OK(catalog);
  EXPECT_EQ(*(*catalog)->SchemaVersion(), LatestSchemaVersion());
  Result<std::vector<AuditFindingRecord>> rows = (*catalog)->ListAuditFindings(5, 0);
  ASSERT_OK(rows);
  std::map<std::string, std::string> kind_by_detail;
  for (const AuditFindingRecord& r : *rows) kind_by_detail[r.detail] = r.kind;
  ASSERT_EQ(kind_by_detail.size(), 6u);
  EXPECT_EQ(kind_by_detail[kUnrecorded], "unrecorded-copy");
  EXPECT_EQ(kind_by_detail[kStrayBlob], "stray-file");
  EXPECT_EQ(kind_by_detail[kStrayInVersion], "stray-file");
  EXPECT_EQ(kind_by_detail[kLostVersion], "uncataloged");
  EXPECT_EQ(kind_by_detail[kLostBlob], "uncataloged");
  EXPECT_EQ(kind_by_detail["sha256 mismatch"], "corrupt");
  for (const AuditFindingRecord& r : *rows) {
    if (r.detail == kStrayInVersion) {
      EXPECT_EQ(r.partner, "acme");
      EXPECT_EQ(r.path, "extra.txt");
      EXPECT_EQ(r.site, "a");
    }
  }

  // New rows of the new kinds go in through the sweep's recorder; an unknown kind is still
  // refused.
  auto recorder = (*catalog)->OpenAuditRecorder();
  ASSERT_OK(recorder);
  Result<int64_t> run = (*recorder)->StartRun("", 30);
  ASSERT_OK(run);
  AuditFindingRecord stray;
  stray.kind = "stray-file";
  stray.site = "a";
  stray.path = "README.md";
  stray.detail = "README.md (2 bytes): a file Cairn did not write";
  AuditFindingRecord unrecorded = stray;
  unrecorded.kind = "unrecorded-copy";
  AuditFindingRecord bogus = stray;
  bogus.kind = "bogus";
  EXPECT_FALSE((*recorder)->FinishRun(*run, 40, "done", "{}", {}, {}, {&bogus, 1}).ok());
  const AuditFindingRecord both[] = {stray, unrecorded};
  ASSERT_OK((*recorder)->FinishRun(*run, 40, "done", "{}", {}, {}, both));
  Result<std::vector<AuditFindingRecord>> added = (*catalog)->ListAuditFindings(*run, 0);
  ASSERT_OK(added);
  ASSERT_EQ(added->size(), 2u);
  EXPECT_EQ((*added)[0].kind, "stray-file");
  EXPECT_EQ((*added)[1].kind, "unrecorded-copy");
}

}  // namespace
}  // namespace cairn::repo
