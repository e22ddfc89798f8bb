// End to end: `cairn gc` removes a blob no version references only after its
// grace period, says what it would do with --dry-run, records a deletion
// event, and leaves every blob a version holds; the auditor's orphan report
// points at it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CliGcTest : public RepoFixture {};

TEST_F(CliGcTest, RemovesAnUnreferencedBlobAfterTheGracePeriodOnly) {
  fs::path src = MakeSourceFolder("held");
  Deposit("acme", src.string(), "held");
  std::string sha;
  fs::path leftover = PlantUnreferencedBlob("nobody holds these bytes\n", &sha);

  // The auditor's report of the orphan is its first sighting: the grace
  // period starts then (gc_candidates), as at a first gc run.
  CommandResult orphans = CairnAt("2030-01-01T00:00:00Z", {"audit", "run", "--orphans"});
  EXPECT_NE(orphans.out.find("cairn gc"), std::string::npos) << orphans.out << orphans.err;

  // First gc (default grace 24h): kept; the first sighting's time stays.
  CommandResult first = CairnAt("2030-01-01T00:00:00Z", {"gc"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("kept for now: blob " + sha), std::string::npos) << first.out;
  EXPECT_TRUE(fs::exists(leftover));
  // Twelve hours on: still within the grace period.
  CommandResult early = CairnAt("2030-01-01T12:00:00Z", {"gc", "--json"});
  ASSERT_EQ(early.exit_code, 0) << early.err;
  auto report = nlohmann::json::parse(early.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << early.out;
  EXPECT_TRUE(report["removed"].empty()) << early.out;
  EXPECT_TRUE(fs::exists(leftover));
  // A day on: a dry run names it and changes nothing; gc removes it.
  CommandResult dry = CairnAt("2030-01-02T00:00:01Z", {"gc", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove blob " + sha + " from site a"), std::string::npos)
      << dry.out;
  EXPECT_TRUE(fs::exists(leftover));
  CommandResult gc = CairnAt("2030-01-02T00:00:01Z", {"gc"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed blob " + sha + " from site a"), std::string::npos) << gc.out;
  EXPECT_FALSE(fs::exists(leftover));

  // The removal is a PREMIS deletion event naming the blob and the site.
  CommandResult events = Cairn({"events", "--type", "deletion", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  auto list = nlohmann::json::parse(events.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << events.out;
  ASSERT_EQ(list.size(), 1u) << events.out;
  EXPECT_EQ(list[0].value("site", ""), "a");
  EXPECT_NE(list[0].value("detail", "").find(sha), std::string::npos) << events.out;
  // Everything the deposit holds is intact: a full audit finds nothing wrong.
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

// Files Cairn did not write where the site layout allows only its own: `audit run --orphans` said
// nothing of them (exit 0), and one in a version folder the catalog knows was called uncataloged,
// with the advice to rebuild the catalog. Each is now a stray file, named with its site and what
// the layout allows there, and left to the operator (Cairn never removes files it did not
// write): exit 1. The files Cairn writes (an empty folder's list, README.txt, settings, events)
// are not.
TEST_F(CliGcTest, StrayFilesOnTheSitesAreReportedAndLeftToTheOperator) {
  fs::path src = MakeSourceFolder("held");
  fs::create_directories(src / "empty/inside");
  Deposit("acme", src.string(), "held");
  CommandResult clean = Cairn({"audit", "run", "--all", "--orphans"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  const fs::path sites = tmp_ / "repo/sites";
  const std::vector<fs::path> strays = {
      sites / "a/blobs/sha256/stray.txt", sites / "b/blobs/sha256/ab/notahash",
      sites / "b/bags/acme/stray-top.txt", sites / "a/bags/acme/held/v1/extra.txt"};
  for (const fs::path& p : strays) WriteFile(p, "x\n");
  CommandResult audit = Cairn({"audit", "run", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  for (const char* want :
       {"stray-file: on site a: blobs/sha256/stray.txt",
        "stray-file: on site b: "
        "blobs/sha256/ab/notahash",
        "stray-file: on site b: bags/acme/stray-top.txt",
        "stray-file: acme/held@v1 extra.txt on site a: bags/acme/held/v1/extra.txt",
        "4 stray files", "never removes files it did not write"}) {
    EXPECT_NE(audit.out.find(want), std::string::npos) << want << "\n" << audit.out;
  }
  EXPECT_EQ(audit.out.find("UNCATALOGED"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("uncataloged"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("catalog rebuild"), std::string::npos) << audit.out;
  CommandResult json = Cairn({"audit", "run", "--orphans", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out;
  EXPECT_EQ(report["stray_files"], 4) << json.out;
  EXPECT_EQ(report["uncataloged"], 0) << json.out;
  for (const fs::path& p : strays) EXPECT_TRUE(fs::exists(p)) << p;
  for (const fs::path& p : strays) fs::remove(p);
  clean = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
}

// Files and folders at a site's top level, beside blobs/, bags/, events/ and settings/, that the
// layout does not name were never looked at by `audit run --orphans` (exit 0). Each is now a
// stray file (a folder named with its '/', nothing below it read), with its site, left to the
// operator, exit 1 as other stray files; what Cairn itself keeps there is not: CAIRN-SITE,
// README.txt, the temp file of an interrupted atomic write (tmp/), what a repair moved out of a
// key's way (lost-and-found/), and a mount's lost+found/.
TEST_F(CliGcTest, StrayFilesAtASitesTopLevelAreReportedButNotCairnsOwn) {
  fs::path src = MakeSourceFolder("held");
  Deposit("acme", src.string(), "held");
  const fs::path sites = tmp_ / "repo/sites";
  WriteFile(sites / "a/tmp/w-4242-0123456789abcdef.tmp", "an interrupted atomic write");
  WriteFile(sites / "a/lost-and-found/blobs/sha256/ab/x/kept", "moved out of a key's way");
  fs::create_directories(sites / "b/lost+found");
  ASSERT_TRUE(fs::exists(sites / "a/README.txt"));
  ASSERT_TRUE(fs::exists(sites / "a/CAIRN-SITE"));
  ASSERT_TRUE(fs::exists(sites / "a/settings"));
  ASSERT_TRUE(fs::exists(sites / "a/events"));
  CommandResult clean = Cairn({"audit", "run", "--all", "--orphans"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;

  const std::vector<fs::path> strays = {sites / "a/notes.txt", sites / "b/old-backup/x.bin",
                                        sites / "b/.DS_Store"};
  for (const fs::path& p : strays) WriteFile(p, "x\n");
  CommandResult audit = Cairn({"audit", "run", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  for (const char* want :
       {"stray-file: on site a: notes.txt (2 bytes): a file Cairn did not write, at the site's top "
        "level",
        "stray-file: on site b: old-backup/ (a folder): a folder Cairn did not make",
        "stray-file: on site b: .DS_Store (2 bytes)", "3 stray files on sites a, b",
        "STRAY FILES"}) {
    EXPECT_NE(audit.out.find(want), std::string::npos) << want << "\n" << audit.out;
  }
  for (const char* not_stray : {"tmp", "lost", "README", "CAIRN-SITE", "x.bin"}) {
    EXPECT_EQ(audit.out.find(std::string("stray-file: on site a: ") + not_stray), std::string::npos)
        << not_stray << "\n"
        << audit.out;
    EXPECT_EQ(audit.out.find(std::string("stray-file: on site b: ") + not_stray), std::string::npos)
        << not_stray << "\n"
        << audit.out;
  }
  CommandResult json = Cairn({"audit", "run", "--orphans", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out;
  EXPECT_EQ(report["stray_files"], 3) << json.out;
  for (const fs::path& p : strays) EXPECT_TRUE(fs::exists(p)) << p;
}

// The audit history stored a stray file under the uncataloged kind (the catalog's CHECK had no
// other), so `cairn audit report` listed it as "uncataloged", a version the catalog lost, in every
// format. Each is now stored as stray-file (migration 23) and the report lists and counts it so:
// text, --json (findings_by_kind) and HTML.
TEST_F(CliGcTest, TheAuditReportListsAndCountsStrayFilesByTheirOwnKind) {
  fs::path src = MakeSourceFolder("held");
  Deposit("acme", src.string(), "held");
  const fs::path sites = tmp_ / "repo/sites";
  WriteFile(sites / "a/blobs/sha256/stray.txt", "x\n");
  WriteFile(sites / "b/bags/acme/held/v1/extra.txt", "x\n");
  CommandResult audit = Cairn({"audit", "run", "--orphans", "--json"});
  ASSERT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  const int64_t run = nlohmann::json::parse(audit.out)["run_id"];

  CommandResult json = Cairn({"audit", "report", "--run", std::to_string(run), "--json"});
  auto report = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.out << json.err;
  EXPECT_EQ(report["findings_by_kind"], nlohmann::json({{"stray-file", 2}})) << json.out;
  ASSERT_EQ(report["findings"].size(), 2u) << json.out;
  std::set<std::string> paths;
  for (const auto& f : report["findings"]) {
    EXPECT_EQ(f["kind"], "stray-file") << f;
    EXPECT_EQ(f["outcome"], "stray-file") << f;
    paths.insert(f["site"].get<std::string>() + ":" + f["path"].get<std::string>());
  }
  EXPECT_EQ(paths, (std::set<std::string>{"a:blobs/sha256/stray.txt", "b:extra.txt"}));

  CommandResult text = Cairn({"audit", "report", "--run", std::to_string(run)});
  EXPECT_THAT(text.out, ::testing::HasSubstr("findings: 2 (0 repaired): 2 stray-file\n"));
  EXPECT_THAT(text.out,
              ::testing::HasSubstr("stray-file: on site a: blobs/sha256/stray.txt (2 bytes)"));
  EXPECT_THAT(text.out, ::testing::Not(::testing::HasSubstr("uncataloged"))) << text.out;
  CommandResult html = Cairn({"audit", "report", "--run", std::to_string(run), "--format", "html"});
  EXPECT_THAT(html.out, ::testing::HasSubstr("<td id=\"kind-stray-file\">2</td>"));
  EXPECT_THAT(html.out, ::testing::Not(::testing::HasSubstr(">uncataloged<")));
  // The report's exit code is the one it had: stray files are not copies the report fails on.
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
}

TEST_F(CliGcTest, GraceZeroRemovesAtOnce) {
  std::string sha;
  fs::path leftover = PlantUnreferencedBlob("removed at once\n", &sha);
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_FALSE(fs::exists(leftover)) << gc.out;
  EXPECT_EQ(Cairn({"gc", "--grace", "soon"}).exit_code, 2);
}

// `cairn gc` ignored the outcome of copying its deletion events to the sites' logs: with site
// b refusing writes (read-only; the blob is on site a), gc removed the blob, said nothing of the
// events and exited 0, where deposit, replicate, restore and audit run say "the new events were not
// copied: site b: ..." (ReportEventsFlushed) and exit 1. gc now says it as they do, and exits 1.
TEST_F(CliGcTest, SaysWhenItsDeletionEventsWereNotCopiedToASite) {
  std::string sha;
  fs::path leftover = PlantUnreferencedBlob("removed, its event not on site b\n", &sha);
  CommandResult gc = RunCairn(
      {"gc", "--grace", "0"},
      {"CAIRN_REPO=" + Root(), "LD_PRELOAD=" + std::string(CAIRN_SITE_FAULT_SHIM),
       "ASAN_OPTIONS=verify_asan_link_order=0",
       "CAIRN_FAULT_PREFIX=" + (tmp_ / "repo/sites/b").string(), "CAIRN_FAULT_KIND=readonly"});
  EXPECT_EQ(gc.exit_code, 1) << gc.out << gc.err;
  EXPECT_NE(gc.out.find("removed blob " + sha + " from site a"), std::string::npos) << gc.out;
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_NE(gc.err.find("cairn: the new events were not copied: site b"), std::string::npos)
      << gc.err;
  // Once site b takes writes again, the next run catches its log up and says nothing of it.
  CommandResult again = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.err.find("not copied"), std::string::npos) << again.err;
}

// A deposit killed after it wrote tag files of bags/acme/k08/v1/ but before its version.pb left
// that folder for good: gc kept it, `audit run --orphans` advised a catalog rebuild, and every
// `catalog rebuild` exited 1 on it ("no version.pb (an incomplete deposit)"). gc now removes
// such leftovers and says so; the audit and the rebuild name `cairn gc` (the rebuild as a note:
// never a version, nothing lost, exit 0); a folder of a version the catalog lists is kept.
TEST_F(CliGcTest, RemovesTheTagFilesOfADepositKilledBeforeItsVersionRecord) {
  fs::path src = MakeSourceFolder("k08");
  Deposit("acme", src.string(), "kept");
  // The catalog's own version without its record on site b: a damaged copy, not gc's.
  const fs::path kept_b = tmp_ / "repo/sites/b/bags/acme/kept/v1";
  ASSERT_TRUE(fs::remove(kept_b / "version.pb"));
  const fs::path v1 = tmp_ / "repo/sites/a/bags/acme/k08/v1";
  auto files_in = [](const fs::path& dir) {
    int n = 0;
    if (!fs::exists(dir)) return 0;
    for (fs::recursive_directory_iterator it(dir), end; it != end; ++it)
      n += fs::is_regular_file(it->symlink_status());
    return n;
  };
  // Killed at each write in turn until one leaves tag files and no version.pb.
  bool left = false;
  for (int k = 1; k <= 60 && !left; ++k) {
    CommandResult killed = RunCairn(
        {"deposit", "acme", src.string(), "--id", "k08"},
        {"CAIRN_REPO=" + Root(), "CAIRN_CRASH_AT=storage.before-visible:" + std::to_string(k)});
    ASSERT_EQ(killed.exit_code, -1) << "not killed at write " << k << ": " << killed.out;
    left = fs::exists(v1 / "bagit.txt") && !fs::exists(v1 / "version.pb");
  }
  ASSERT_TRUE(left) << "no kill left tag files without version.pb";

  CommandResult orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_THAT(orphans.out, ::testing::HasSubstr("interrupted deposit")) << orphans.out;
  EXPECT_THAT(orphans.out, ::testing::HasSubstr("`cairn gc` removes")) << orphans.out;

  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", "a", "--into", (tmp_ / "r1").string()});
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, ::testing::HasSubstr("acme/k08@v1")) << rebuilt.out;
  EXPECT_THAT(rebuilt.out, ::testing::HasSubstr("cairn gc")) << rebuilt.out;
  EXPECT_THAT(rebuilt.out, ::testing::Not(::testing::HasSubstr("problem: acme/k08")))
      << rebuilt.out;

  CommandResult dry = Cairn({"gc", "--grace", "0", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, ::testing::HasSubstr("would remove the leftovers of an interrupted deposit: "
                                            "site a: bags/acme/k08/v1/"))
      << dry.out;
  EXPECT_GT(files_in(v1), 0);
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_THAT(gc.out, ::testing::HasSubstr("removed the leftovers of an interrupted deposit: "
                                           "site a: bags/acme/k08/v1/"))
      << gc.out;
  EXPECT_EQ(files_in(v1), 0) << gc.out;
  EXPECT_GT(files_in(kept_b), 0) << "the tag files of a version the catalog lists were removed";

  CommandResult again =
      Cairn({"catalog", "rebuild", "--from", "a", "--into", (tmp_ / "r2").string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, ::testing::Not(::testing::HasSubstr("k08"))) << again.out;
  CommandResult deposit = Cairn({"deposit", "acme", src.string(), "--id", "k08", "--json"});
  ASSERT_EQ(deposit.exit_code, 0) << deposit.out << deposit.err;
  EXPECT_EQ(nlohmann::json::parse(deposit.out)["receipt"]["version"], 1) << deposit.out;
}

// A deposit killed after its version.pb reached site a but before its catalog commit (kill -9
// at catalog.before-commit, or a Ctrl-C while a large deposit commits) left that record, its tag
// files and its blobs: gc kept them for ever ("not in the catalog: its blobs are kept"), `audit
// run --orphans` called them lost catalog rows and advised a rebuild, `catalog rebuild --from a`
// brought the never-committed deposit back as a version, and a rebuild from site b called b's
// lack of it a problem. The repository's pending mark (locks/acme/cancelled.pending, with the
// record's SHA-256) says the deposit was interrupted: gc now removes the record, the tag files
// and the blobs nothing else names, with its deletion events; the audit names them as an
// interrupted deposit's; a rebuild in the repository leaves them out with a note; the rerun of
// the deposit still takes version 1.
TEST_F(CliGcTest, RemovesTheLeftoversOfADepositKilledBeforeItsCatalogCommit) {
  fs::path kept_src = MakeSourceFolder("kept");
  Deposit("acme", kept_src.string(), "kept");
  fs::path src = MakeSourceFolder("cancelled");  // "c d.txt" is the same bytes as kept's
  WriteFile(src / "secret.txt", "should never be kept\n");
  const std::string secret_sha = Sha256Of("should never be kept\n");
  const std::string shared_sha = Sha256Of("a name with a space\n");
  const fs::path site_a = tmp_ / "repo/sites/a";
  const fs::path v1 = site_a / "bags/acme/cancelled/v1";
  const fs::path mark = tmp_ / "repo/locks/acme/cancelled.pending";
  CommandResult killed =
      RunCairn({"deposit", "acme", src.string(), "--id", "cancelled"},
               {"CAIRN_REPO=" + Root(), "CAIRN_CRASH_AT=catalog.before-commit:1"});
  ASSERT_EQ(killed.exit_code, -1) << killed.out << killed.err;
  ASSERT_TRUE(fs::exists(v1 / "version.pb"));
  ASSERT_TRUE(fs::exists(mark));
  ASSERT_TRUE(fs::exists(site_a / repo::layout::BlobKey(secret_sha)));

  CommandResult orphans = Cairn({"audit", "run", "--orphans", "--site", "a"});
  EXPECT_THAT(orphans.out, ::testing::HasSubstr("interrupted deposit")) << orphans.out;
  EXPECT_THAT(orphans.out, ::testing::HasSubstr("`cairn gc` removes")) << orphans.out;
  EXPECT_THAT(orphans.out, ::testing::Not(::testing::HasSubstr("rows were lost"))) << orphans.out;
  EXPECT_THAT(orphans.out, ::testing::Not(::testing::HasSubstr("catalog rebuild --from a")))
      << orphans.out;

  CommandResult from_a =
      Cairn({"catalog", "rebuild", "--from", "a", "--into", (tmp_ / "r1").string()});
  EXPECT_EQ(from_a.exit_code, 0) << from_a.out << from_a.err;
  EXPECT_THAT(from_a.out, ::testing::HasSubstr("acme/cancelled@v1")) << from_a.out;
  EXPECT_THAT(from_a.out, ::testing::HasSubstr("cairn gc")) << from_a.out;
  // acme/kept@v1 alone (the rebuilt catalog is not used: its first use would write its
  // recovery event to the sites, ahead of this repository's catalog).
  EXPECT_THAT(from_a.out, ::testing::HasSubstr("objects 1, versions 1,")) << from_a.out;
  CommandResult from_b =
      Cairn({"catalog", "rebuild", "--from", "b", "--into", (tmp_ / "r2").string()});
  EXPECT_EQ(from_b.exit_code, 0) << from_b.out << from_b.err;
  EXPECT_THAT(from_b.out, ::testing::Not(::testing::HasSubstr("problem"))) << from_b.out;

  CommandResult dry = Cairn({"gc", "--grace", "0", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, ::testing::HasSubstr("would remove the leftovers of an interrupted deposit: "
                                            "site a: bags/acme/cancelled/v1/"))
      << dry.out;
  EXPECT_TRUE(fs::exists(v1 / "version.pb"));
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_THAT(gc.out, ::testing::HasSubstr("removed the leftovers of an interrupted deposit: "
                                           "site a: bags/acme/cancelled/v1/"))
      << gc.out;
  EXPECT_THAT(gc.out, ::testing::Not(::testing::HasSubstr("its blobs are kept"))) << gc.out;
  EXPECT_FALSE(fs::exists(v1)) << gc.out;
  EXPECT_FALSE(fs::exists(site_a / repo::layout::BlobKey(secret_sha))) << gc.out;
  EXPECT_TRUE(fs::exists(site_a / repo::layout::BlobKey(shared_sha))) << "kept's blob went";
  EXPECT_FALSE(fs::exists(mark)) << "the mark of leftovers gc removed stayed";
  CommandResult events = Cairn({"events", "acme/cancelled"});
  EXPECT_THAT(events.out, ::testing::HasSubstr("deletion")) << events.out << events.err;
  EXPECT_EQ(Cairn({"restore", "acme/kept", (tmp_ / "out").string()}).exit_code, 0);

  CommandResult rerun = Cairn({"deposit", "acme", src.string(), "--id", "cancelled", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(nlohmann::json::parse(rerun.out)["receipt"]["version"], 1) << rerun.out;
  CommandResult audit = Cairn({"audit", "run", "--all", "--no-repair"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

// The same leftovers without a pending mark that names them (a record the catalog lost: put
// back from a backup) are a version: gc keeps them and the audit advises the rebuild, as
// before; so does a mark whose SHA-256 is not the record's. And the rerun of a killed deposit
// whose leftovers gc did not touch still takes the number back.
TEST_F(CliGcTest, KeepsARecordTheCatalogLacksThatNoPendingMarkNames) {
  fs::path src = MakeSourceFolder("lost");
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  const fs::path v1 = tmp_ / "repo/sites/a/bags/acme/lost/v1";
  const fs::path mark = tmp_ / "repo/locks/acme/lost.pending";
  CommandResult killed =
      RunCairn({"deposit", "acme", src.string(), "--id", "lost"},
               {"CAIRN_REPO=" + Root(), "CAIRN_CRASH_AT=catalog.before-commit:1"});
  ASSERT_EQ(killed.exit_code, -1) << killed.out << killed.err;
  ASSERT_TRUE(fs::exists(v1 / "version.pb"));
  const std::string marked = ReadFile(mark);
  ASSERT_GT(marked.size(), 64u) << marked;
  // Another record's digest: not this one's mark.
  WriteFile(mark, "v1 " + std::string(64, 'a') + "\n");
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_THAT(gc.out, ::testing::HasSubstr("its blobs are kept")) << gc.out;
  EXPECT_TRUE(fs::exists(v1 / "version.pb")) << gc.out;
  fs::remove(mark);
  gc = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_TRUE(fs::exists(v1 / "version.pb")) << gc.out;
  CommandResult orphans = Cairn({"audit", "run", "--orphans", "--site", "a"});
  EXPECT_THAT(orphans.out, ::testing::HasSubstr("catalog rebuild --from a")) << orphans.out;
  CommandResult from_a =
      Cairn({"catalog", "rebuild", "--from", "a", "--into", (tmp_ / "r1").string()});
  EXPECT_EQ(from_a.exit_code, 0) << from_a.out << from_a.err;
  EXPECT_THAT(from_a.out, ::testing::HasSubstr("objects 1, versions 1,")) << from_a.out;

  // The mark back as the killed deposit wrote it: the rerun takes v1 back, as before.
  WriteFile(mark, marked);
  CommandResult rerun = Cairn({"deposit", "acme", src.string(), "--id", "lost", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(nlohmann::json::parse(rerun.out)["receipt"]["version"], 1) << rerun.out;
}

// gc removed a killed deposit's leftover tag files but left their folders on a posix site:
// bags/acme/ghost/v1/ (and its tag folder meta/) stayed, empty, as did bags/acme/ghost/. The
// folders it empties go too, the deepest first; a folder that still holds anything (the
// object's complete v1 beside a leftover v2, the partner's other objects) is kept.
TEST_F(CliGcTest, RemovesTheFoldersItEmptiesAndNoOther) {
  fs::path src = MakeSourceFolder("kept");
  Deposit("acme", src.string(), "kept");
  const fs::path bags = tmp_ / "repo/sites/a/bags/acme";
  WriteFile(bags / "ghost/v1/bagit.txt", "BagIt-Version: 1.0\n");
  WriteFile(bags / "ghost/v1/meta/notes.txt", "left by a killed deposit\n");
  WriteFile(bags / "kept/v2/bagit.txt", "BagIt-Version: 1.0\n");
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_THAT(gc.out, ::testing::HasSubstr("site a: bags/acme/ghost/v1/")) << gc.out;
  EXPECT_THAT(gc.out, ::testing::HasSubstr("site a: bags/acme/kept/v2/")) << gc.out;
  EXPECT_FALSE(fs::exists(bags / "ghost")) << "the folders gc emptied stayed";
  EXPECT_FALSE(fs::exists(bags / "kept/v2"));
  EXPECT_TRUE(fs::exists(bags / "kept/v1/version.pb"));
  EXPECT_TRUE(fs::is_directory(bags));
  CommandResult restored = Cairn({"restore", "acme/kept", (tmp_ / "out").string()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
}

}  // namespace
}  // namespace cairn::testing
