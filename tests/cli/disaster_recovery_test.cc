// Disaster recovery on the real binary: a lost catalog rebuilt from one site
// (then every object restores byte-identical and the history is back), a
// lost site resynced (every blob back and verified), and a resync killed
// part way then run again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/library_deposits.h"
#include "tests/util/test_util.h"

namespace cairn {
namespace {

namespace fs = boost::filesystem;
using testing::CheckBlobFiles;
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadTree;
using testing::RunCairn;
using testing::TempDir;

class DisasterRecoveryTest : public ::testing::Test {
 protected:
  void MakeRepo(int files_per_object, size_t size) {
    root_ = (tmp_ / "repo").string();
    auto repo = repo::Repository::Init(root_);
    ASSERT_OK(repo);
    sources_ = {{"acme/photos", tmp_ / "photos"}, {"zeta/letters", tmp_ / "letters"}};
    testing::WriteTree(sources_[0].second, testing::SampleFiles("p", files_per_object, size));
    testing::WriteTree(sources_[1].second, testing::SampleFiles("l", files_per_object / 2, size));
    ASSERT_EQ(testing::DepositFolder(**repo, "acme", "photos", sources_[0].second), 1u);
    ASSERT_EQ(testing::DepositFolder(**repo, "zeta", "letters", sources_[1].second), 1u);
  }

  CommandResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--repo", root_});
    return RunCairn(args);
  }

  fs::path Site(const std::string& name) { return fs::path(root_) / "sites" / name; }

  // Made by the verbs, so that every site keeps the settings (site b's URL) the rebuild reads:
  // tmp_/NAME holding acme/photos (two files).
  void DepositPhotosByTheVerbs(const std::string& name) {
    root_ = (tmp_ / name).string();
    ASSERT_EQ(RunCairn({"init", root_, "-q"}).exit_code, 0);
    ASSERT_EQ(Cairn({"partner", "add", "acme", "-q"}).exit_code, 0);
    sources_ = {{"acme/photos", tmp_ / "photos"}};
    testing::WriteTree(sources_[0].second, testing::SampleFiles("p", 2, 100));
    ASSERT_EQ(Cairn({"deposit", "acme", sources_[0].second.string(), "-q"}).exit_code, 0);
  }

  // One blob of site a removed, then the catalog lost and rebuilt from site a (site b out of
  // reach meanwhile unless `b_reachable`): exit 1, the blob a lacks. Returns the blob's path.
  fs::path LoseABlobOfSiteAAndRebuild(bool b_reachable) {
    fs::path blob;
    for (const auto& e : fs::recursive_directory_iterator(Site("a") / "blobs")) {
      if (fs::is_regular_file(e.path())) blob = e.path();
    }
    fs::remove(blob);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
    if (!b_reachable) fs::rename(Site("b"), tmp_ / "b-away");
    CommandResult rebuilt =
        Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string())});
    EXPECT_EQ(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;  // the blob a lacks
    if (!b_reachable) fs::rename(tmp_ / "b-away", Site("b"));
    return blob;
  }

  // A repository made by the verbs holding acme/obj (4 blobs), its catalog lost and rebuilt
  // from site a while site b was out of reach: the catalog records no copy on b.
  void RebuildFromSiteAWhileSiteBIsAway() {
    root_ = (tmp_ / "repo").string();
    ASSERT_EQ(RunCairn({"init", root_, "-q"}).exit_code, 0);
    ASSERT_EQ(Cairn({"partner", "add", "acme", "-q"}).exit_code, 0);
    testing::WriteTree(tmp_ / "obj", testing::SampleFiles("f", 3, 10));
    ASSERT_EQ(Cairn({"deposit", "acme", (tmp_ / "obj").string(), "-q"}).exit_code, 0);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
    fs::rename(Site("b"), tmp_ / "b-away");
    ASSERT_EQ(
        Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string()), "-q"}).exit_code,
        0);
    fs::rename(tmp_ / "b-away", Site("b"));
  }

  // Restores every object and compares its payload with the deposited folder.
  void ExpectEveryObjectRestores() {
    for (const auto& [ref, src] : sources_) {
      fs::path dest = tmp_ / ("restored-" + src.filename().string());
      CommandResult r = Cairn({"restore", ref, dest.string()});
      ASSERT_EQ(r.exit_code, 0) << ref << ": " << r.err;
      auto want = ReadTree(src);
      auto got = ReadTree(dest / "data");
      EXPECT_EQ(got, want) << ref;
    }
  }

  // A catalog put back from a backup older than the sites: the catalog is backed up (sqlite3
  // .backup), acme/later (three files, from tmp_/later) is deposited, then `deposit` with each
  // of `more`, and the backup is put back in place.
  void PutBackACatalogOlderThanTheSites(const std::vector<std::vector<std::string>>& more = {}) {
    ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0);  // settles the catalog file
    fs::path backup = tmp_ / "catalog-backup.db";
    CommandResult copied = testing::RunProcess(
        {"sqlite3", root_ + "/catalog.db", ".backup '" + backup.string() + "'"});
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
    fs::path later = tmp_ / "later";
    testing::WriteTree(later, testing::SampleFiles("n", 3, 100));
    ASSERT_EQ(Cairn({"deposit", "acme", later.string(), "--id", "later"}).exit_code, 0);
    for (std::vector<std::string> args : more) {
      args.insert(args.begin(), "deposit");
      ASSERT_EQ(Cairn(args).exit_code, 0);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
    fs::copy_file(backup, root_ + "/catalog.db");
  }

  TempDir tmp_;
  std::string root_;
  std::vector<std::pair<std::string, fs::path>> sources_;
};

TEST_F(DisasterRecoveryTest, LostCatalogIsRebuiltFromOneSite) {
  MakeRepo(8, 500);
  std::string history = Cairn({"events"}).out;
  ASSERT_THAT(history, HasSubstr("ingestion"));
  // Refused while the catalog is there and readable.
  CommandResult refused = Cairn({"catalog", "rebuild", "--from", "a"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("refusing"));

  const std::string url = repo::FileUrl(Site("a").string());
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  // A site's name needs the catalog that is gone: its URL is asked for, in one sentence (it
  // quoted the whole "no repository ... cairn init makes a new one" error inside it).
  CommandResult by_name = Cairn({"catalog", "rebuild", "--from", "a"});
  EXPECT_EQ(by_name.exit_code, 2);
  EXPECT_THAT(by_name.err,
              HasSubstr("--from a: the catalog that names the sites is gone (no " + root_ +
                        "/catalog.db): give the site's folder or URL instead, e.g. " + url));
  EXPECT_THAT(by_name.err, Not(HasSubstr("cairn init"))) << by_name.err;
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", url});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  // Partners with objects: the partners restored from the settings are named apart (a partner
  // with none made "partners 2" read as a count short of the 3 restored).
  EXPECT_THAT(rebuilt.out, HasSubstr("partners with objects 2, objects 2, versions 2"));
  EXPECT_THAT(rebuilt.out, HasSubstr("chain verified"));

  ExpectEveryObjectRestores();
  CommandResult events = Cairn({"events"});
  ASSERT_EQ(events.exit_code, 0);
  // The whole history is back (the same lines), then the recovery event.
  EXPECT_THAT(events.out, HasSubstr(history));
  EXPECT_THAT(events.out, HasSubstr("catalog rebuilt from site a"));
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

TEST_F(DisasterRecoveryTest, RebuildIntoANewFolderLeavesTheCatalogAlone) {
  MakeRepo(4, 100);
  fs::path other = tmp_ / "other";
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", "b", "--into", other.string(), "--json"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  auto j = nlohmann::json::parse(rebuilt.out);
  EXPECT_EQ(j["site"], "b");
  EXPECT_EQ(j["versions"], 2);
  EXPECT_TRUE(j["chain_ok"].get<bool>());
  EXPECT_TRUE(fs::exists(other / "catalog.db"));
  CommandResult list = RunCairn({"--repo", other.string(), "events", "verify"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// The catalog lost after a `catalog rebuild --force`: "no repository" said nothing of the
// catalog the rebuild set aside beside it; it names it, and what it is. It named the set-aside
// catalog's -wal file as that catalog (the greatest name of all): never a -wal, -shm or -journal.
TEST_F(DisasterRecoveryTest, NoRepositoryNamesTheCatalogARebuildSetAside) {
  MakeRepo(2, 100);
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  std::string aside;
  for (const auto& entry : fs::directory_iterator(root_)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix = "catalog.db.replaced-";
    if (name.starts_with(prefix) &&
        name.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
      aside = name;
    }
  }
  ASSERT_FALSE(aside.empty());
  // What SQLite keeps beside a catalog moved aside while open in WAL mode.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    if (!fs::exists(root_ + "/" + aside + suffix))
      testing::WriteFile(root_ + "/" + aside + suffix, "");
  }
  CommandResult listed = Cairn({"list"});
  EXPECT_EQ(listed.exit_code, 2);
  EXPECT_THAT(listed.err, HasSubstr("no repository at"));
  EXPECT_THAT(
      listed.err,
      HasSubstr("/" + aside + " is a catalog an earlier `catalog rebuild --force` set aside"));
  EXPECT_THAT(listed.err, Not(HasSubstr("-wal")));
  EXPECT_THAT(listed.err, Not(HasSubstr("-shm")));
  EXPECT_THAT(listed.err, Not(HasSubstr("-journal")));
}

// `--repo` given a site's folder (staff who lost the catalog and point at what is left) was
// told `cairn init` makes a repository there (which init then refuses) and to rebuild "from
// file:///PATH/TO/A/SITE": now it is told that the folder is a site, which repository folder
// --repo names, and the rebuild command from that very site.
TEST_F(DisasterRecoveryTest, RepoGivenASiteFolderSaysItIsASite) {
  MakeRepo(1, 100);
  const std::string site = root_ + "/sites/a";
  CommandResult listed = RunCairn({"--repo", site, "list"});
  EXPECT_EQ(listed.exit_code, 2);
  EXPECT_THAT(listed.err, HasSubstr(site + " is site 'a' of a repository"));
  EXPECT_THAT(listed.err, HasSubstr("catalog rebuild --from file://" + site));
  EXPECT_THAT(listed.err, Not(HasSubstr("cairn init " + site)));
}

// A rebuilt catalog records the copies it read as never verified; `show` called them "ok" (a
// rotten copy too, in text and in --json) until the auditor had checked them. They are
// "unverified" until then, still counted toward the policy (they are on the site); an audit
// makes them ok, or names the rotten one.
TEST_F(DisasterRecoveryTest, ShowCallsTheCopiesOfARebuiltCatalogUnverifiedUntilAudited) {
  MakeRepo(4, 100);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  CommandResult shown = Cairn({"show", "acme/photos", "--json"});
  EXPECT_EQ(shown.exit_code, 1) << shown.err;  // two copies wanted: b's are not known yet
  nlohmann::json doc = nlohmann::json::parse(shown.out);
  ASSERT_FALSE(doc["files"].empty());
  for (const nlohmann::json& f : doc["files"]) {
    ASSERT_EQ(f["copies"].size(), 1u) << f.dump();
    EXPECT_EQ(f["copies"][0]["state"], "unverified") << f.dump();
  }
  EXPECT_EQ(doc["copies_by_site"][0]["ok"], 0) << doc["copies_by_site"].dump();
  EXPECT_EQ(doc["copies_by_site"][0]["unverified"], doc["files"].size() + doc["tag_files"].size());
  EXPECT_EQ(doc["copies_ok"], 1);  // the one copy each, on site a, counts
  CommandResult text = Cairn({"show", "acme/photos"});
  EXPECT_THAT(text.out, HasSubstr("a:unverified"));
  EXPECT_THAT(text.out, HasSubstr("not yet verified"));
  EXPECT_THAT(text.out, Not(HasSubstr("a:ok")));

  ASSERT_EQ(Cairn({"audit", "run", "--all", "--site", "a"}).exit_code, 0);
  doc = nlohmann::json::parse(Cairn({"show", "acme/photos", "--json"}).out);
  for (const nlohmann::json& f : doc["files"]) EXPECT_EQ(f["copies"][0]["state"], "ok");
  EXPECT_EQ(doc["copies_by_site"][0]["unverified"], 0);
}

// A catalog put back from a backup older than the sites: `list` showed acme/photos as v1 with
// its copies "ok" (exit 0), no sign that the sites hold v2 and another object, where show and
// restore say so. It now adds one line naming the site ahead of the catalog and the rebuild
// (exit 1); caught up, the line is gone.
TEST_F(DisasterRecoveryTest, ListOnACatalogOlderThanTheSitesSaysSo) {
  MakeRepo(4, 100);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites(
      {{"acme", (tmp_ / "later").string(), "--id", "photos"}}));  // and photos v2
  CommandResult listed = Cairn({"list"});
  EXPECT_EQ(listed.exit_code, 1) << listed.out << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("acme/photos"));
  EXPECT_THAT(listed.err, HasSubstr("the catalog is behind site a"));
  EXPECT_THAT(listed.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult json = Cairn({"list", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  EXPECT_TRUE(nlohmann::json::parse(json.out).is_array()) << json.out;
  EXPECT_THAT(json.out, Not(HasSubstr("later"))) << "the catalog does not know it";
  EXPECT_THAT(json.err, HasSubstr("the catalog is behind site a"));

  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult caught_up = Cairn({"list"});
  EXPECT_THAT(caught_up.err, Not(HasSubstr("behind"))) << caught_up.err;
  EXPECT_THAT(caught_up.out, HasSubstr("acme/later"));
}

// A catalog put back from a backup older than the sites: a restore that read and verified every
// byte exited 1 ("the new events were not copied": its dissemination event takes a number the
// sites' logs hold for others), and the `catalog rebuild --force` it names then dropped that
// event: the rebuilt catalog took the sites' log, which never held it. The restore now exits 0,
// still warning that the catalog is behind site a, however many restores ran meanwhile (once
// they take the catalog's log past the sites' too); the rebuild carries the replaced catalog's
// restores over after the sites' log, with their ids, and writes them to the sites, so that
// even a catalog rebuilt from a site alone afterwards holds them.
TEST_F(DisasterRecoveryTest, ARestoreOnACatalogBehindTheSitesExitsZeroAndKeepsItsEvent) {
  MakeRepo(4, 100);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites());
  auto restores = [&](const std::string& catalog_root) {
    CommandResult events =
        RunCairn({"--repo", catalog_root, "events", "--type", "dissemination", "--format", "json"});
    EXPECT_EQ(events.exit_code, 0) << events.err;
    std::set<std::string> ids;
    for (const nlohmann::json& e : nlohmann::json::parse(events.out)) {
      if (e.dump().find("restored to") != std::string::npos) ids.insert(e["id"]);
    }
    return ids;
  };
  constexpr int kRestores = 12;  // the later deposit's events are fewer: the logs part
  for (int i = 0; i < kRestores; ++i) {
    SCOPED_TRACE("restore " + std::to_string(i));
    const fs::path out = tmp_ / ("out" + std::to_string(i));
    CommandResult r = Cairn({"restore", "acme/photos@v1", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("warning: the catalog is behind site a")) << r.err;
    EXPECT_THAT(r.err, HasSubstr("cairn catalog rebuild --from a --force")) << r.err;
    EXPECT_THAT(r.err, Not(HasSubstr("new events were not copied"))) << r.err;
    EXPECT_EQ(ReadTree(out / "data"), ReadTree(sources_[0].second));
  }
  const std::set<std::string> made = restores(root_);
  ASSERT_EQ(made.size(), static_cast<size_t>(kRestores));

  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force", "--json"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_EQ(nlohmann::json::parse(rebuilt.out)["events_carried_over"], kRestores) << rebuilt.out;
  EXPECT_EQ(restores(root_), made);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  // On the sites' logs too: a catalog made from site a alone holds them.
  const fs::path other = tmp_ / "from-a";
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--into", other.string()}).exit_code, 0);
  EXPECT_EQ(restores(other.string()), made);
  // Caught up, a restore is plain.
  CommandResult plain = Cairn({"restore", "acme/later", (tmp_ / "later-out").string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.err, Not(HasSubstr("behind"))) << plain.err;
}

// `replicate` on a catalog put back from a backup, with nothing to copy, said "the new events
// were not copied" for each site, though it had recorded none; with copies to make, it made
// them and recorded their events under numbers the sites' logs hold for others (the rebuild
// that catches the catalog up drops them), where a deposit, an audit and a withdrawal are
// refused. It is refused now too, before anything is copied, naming the site and the rebuild.
TEST_F(DisasterRecoveryTest, ReplicateOnACatalogBehindTheSitesIsRefused) {
  MakeRepo(4, 100);
  const fs::path pending = tmp_ / "pending";
  testing::WriteTree(pending, testing::SampleFiles("p", 3, 100));
  CommandResult queued =
      Cairn({"deposit", "acme", pending.string(), "--id", "pending", "--no-replicate"});
  ASSERT_LE(queued.exit_code, 1) << queued.out << queued.err;  // its copies to b wait
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites());
  const std::string events_before = Cairn({"events"}).out;
  const fs::path blobs_b = fs::path(root_) / "sites/b/blobs";
  auto blobs_on_b = [&] {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(blobs_b))
      n += fs::is_regular_file(e.path());
    return n;
  };
  const size_t on_b = blobs_on_b();
  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 2) << replicated.out << replicated.err;
  EXPECT_THAT(replicated.err, HasSubstr("replicate refused, nothing copied")) << replicated.err;
  EXPECT_THAT(replicated.err, HasSubstr("site a holds events up to seq")) << replicated.err;
  EXPECT_THAT(replicated.err, HasSubstr("cairn catalog rebuild --from a --force"))
      << replicated.err;
  EXPECT_THAT(replicated.err, Not(HasSubstr("new events were not copied"))) << replicated.err;
  EXPECT_EQ(Cairn({"events"}).out, events_before) << "no event recorded";
  EXPECT_EQ(blobs_on_b(), on_b) << "nothing copied";
  // Caught up, it runs.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult after = Cairn({"replicate"});
  EXPECT_THAT(after.err, Not(HasSubstr("replicate refused"))) << after.err;
  EXPECT_THAT(after.out, HasSubstr("jobs done")) << after.out;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// `gc` on a catalog put back from a backup (the sites' logs run past it) warned per version
// "bags/acme/later/v1/version.pb (3 files) is not in the catalog: its blobs are kept" and exited
// 0, without a word of the rebuild that catches the catalog up; its deletion events would take
// numbers the sites' logs hold for others, and it judges a version folder without version.pb by
// the catalog's log, which lacks the deposits since. Refused now like replicate and deposit
// (exit 2, nothing removed), naming the site and the rebuild.
TEST_F(DisasterRecoveryTest, GcOnACatalogBehindTheSitesIsRefused) {
  MakeRepo(4, 100);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites());
  const std::string events_before = Cairn({"events"}).out;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"gc", "--grace", "0"}, {"gc", "--dry-run"}}) {
    CommandResult gc = Cairn(args);
    EXPECT_EQ(gc.exit_code, 2) << gc.out << gc.err;
    EXPECT_THAT(gc.err, HasSubstr("gc refused, nothing removed")) << gc.err;
    EXPECT_THAT(gc.err, HasSubstr("site a holds events up to seq")) << gc.err;
    EXPECT_THAT(gc.err, HasSubstr("cairn catalog rebuild --from a --force")) << gc.err;
    EXPECT_THAT(gc.out, Not(HasSubstr("is not in the catalog: its blobs are kept"))) << gc.out;
  }
  EXPECT_EQ(Cairn({"events"}).out, events_before) << "no event recorded";
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult after = Cairn({"gc", "--grace", "0"});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_THAT(after.out, Not(HasSubstr("is not in the catalog"))) << after.out;
}

// A catalog put back from a backup older than the sites: what it lacks is not "not found"
// but on the sites. `show` and `restore` of an object or version only the sites hold say which
// site holds it, that the catalog is behind, and how to rebuild it; after the rebuild both work.
TEST_F(DisasterRecoveryTest, ACatalogOlderThanTheSitesSaysSoAndHowToCatchUp) {
  MakeRepo(4, 100);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites(
      {{"acme", (tmp_ / "later").string(), "--id", "photos"}}));  // and photos v2
  const fs::path later = tmp_ / "later";

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", "acme/later"},
        std::vector<std::string>{"restore", "acme/later", (tmp_ / "out1").string()},
        std::vector<std::string>{"show", "acme/photos@v2"},
        std::vector<std::string>{"restore", "acme/photos@v2", (tmp_ / "out2").string()}}) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1];
    std::string version = args[1] == "acme/later" ? "v1" : "v2";
    std::string object = args[1].substr(0, args[1].find('@'));
    EXPECT_THAT(r.err, HasSubstr("sites a and b hold " + object + " " + version)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("the catalog is older than the sites")) << r.err;
    EXPECT_THAT(r.err, HasSubstr("cairn catalog rebuild --from a --force")) << r.err;
  }
  EXPECT_FALSE(fs::exists(tmp_ / "out1"));
  // The latest version of an object the catalog knows an older version of: the sites' latest,
  // not silently the catalog's (before, v1 was restored with exit 1 for an events warning only).
  CommandResult latest = Cairn({"restore", "acme/photos", (tmp_ / "out3").string()});
  EXPECT_EQ(latest.exit_code, 2) << latest.out << latest.err;
  EXPECT_THAT(latest.err, HasSubstr("restore of the latest version of acme/photos refused, "
                                    "nothing written: the catalog's latest is v1, but sites a "
                                    "and b hold acme/photos v2"))
      << latest.err;
  EXPECT_THAT(latest.err, HasSubstr("cairn catalog rebuild --from a --force")) << latest.err;
  EXPECT_THAT(latest.err, HasSubstr("or ask for acme/photos@v1 by its number")) << latest.err;
  // Said once (the hint was appended a second time), and no word of events it never made.
  const std::string said = "the catalog is older than the sites";
  EXPECT_EQ(latest.err.find(said), latest.err.rfind(said)) << latest.err;
  EXPECT_THAT(latest.err, Not(HasSubstr("new events were not copied"))) << latest.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out3"));
  // `show` of the latest said v1 as the latest, exit 0: refused as restore is.
  CommandResult latest_shown = Cairn({"show", "acme/photos"});
  EXPECT_EQ(latest_shown.exit_code, 2) << latest_shown.out << latest_shown.err;
  EXPECT_THAT(latest_shown.err,
              HasSubstr("show of the latest version of acme/photos refused, nothing "
                        "written: the catalog's latest is v1, but sites a and b hold "
                        "acme/photos v2"))
      << latest_shown.err;
  EXPECT_EQ(Cairn({"show", "acme/photos@v1"}).exit_code, 0);
  // By its number, the catalog's v1 is restored (exit 0: its dissemination event stays in the
  // catalog, which the rebuild named carries over; the warning names the site it is behind).
  EXPECT_EQ(Cairn({"restore", "acme/photos@v1", (tmp_ / "out4").string()}).exit_code, 0);
  EXPECT_TRUE(fs::exists(tmp_ / "out4" / "bagit.txt"));
  // A new version of an object whose later versions only the sites hold is refused, nothing
  // stored: its events would take numbers the sites' logs hold for others, and the catch-up
  // rebuild would not have them.
  CommandResult refused = Cairn({"deposit", "acme", later.string(), "--id", "photos"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("a new version of acme/photos refused, nothing stored: sites "
                                     "a and b hold acme/photos v2: the catalog is older than the "
                                     "sites"))
      << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("cairn catalog rebuild --from a --force")) << refused.err;
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(Site(site) / "bags/acme/photos/v3")) << site;
  }
  // So is a new object: nothing of it is on the sites, but their event logs run past the
  // catalog's, and the deposit's events would take numbers they hold for others.
  fs::path fresh = tmp_ / "fresh";
  testing::WriteTree(fresh, testing::SampleFiles("f", 2, 100));
  CommandResult refused_new = Cairn({"deposit", "acme", fresh.string(), "--id", "fresh"});
  EXPECT_EQ(refused_new.exit_code, 2) << refused_new.out << refused_new.err;
  EXPECT_THAT(refused_new.err, HasSubstr("the deposit of acme/fresh refused, nothing stored: site "
                                         "a holds events up to seq "))
      << refused_new.err;
  EXPECT_THAT(refused_new.err, HasSubstr("cairn catalog rebuild --from a --force"))
      << refused_new.err;
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(Site(site) / "bags/acme/fresh")) << site;
  }
  // An object no site holds either is plainly unknown.
  CommandResult unknown = Cairn({"show", "acme/never"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, ::testing::Not(HasSubstr("older than the sites"))) << unknown.err;

  // An audit would record its checks under numbers the sites' logs hold for others, which the
  // rebuild then dropped without a word: refused, nothing checked or recorded.
  const std::string events_before = Cairn({"events"}).out;
  CommandResult audited = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audited.exit_code, 2) << audited.out << audited.err;
  EXPECT_THAT(audited.err, HasSubstr("audit refused, nothing checked: site a holds events up to"))
      << audited.err;
  EXPECT_THAT(audited.err, HasSubstr("cairn catalog rebuild --from a --force")) << audited.err;
  EXPECT_EQ(Cairn({"events"}).out, events_before);
  // site check named the audit as the repair, which refuses here: it names the rebuild.
  CommandResult checked = Cairn({"site", "check", "a"});
  EXPECT_NE(checked.exit_code, 0);
  EXPECT_THAT(checked.out + checked.err, HasSubstr("cairn catalog rebuild --from a --force"))
      << checked.out << checked.err;
  EXPECT_THAT(checked.out + checked.err, Not(HasSubstr("audit run --all` repairs")))
      << checked.out << checked.err;

  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0) << "caught up, the sweep runs";
  EXPECT_EQ(Cairn({"restore", "acme/later", (tmp_ / "out1").string()}).exit_code, 0);
  EXPECT_EQ(ReadTree(tmp_ / "out1" / "data"), ReadTree(later));
  // The rebuild knows site a's copies only (and, the sites of this repository keeping no
  // settings, site a only); its next steps bring site b back.
  CommandResult added = Cairn({"site", "add", "b", repo::FileUrl(Site("b").string())});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  CommandResult replicated = Cairn({"replicate", "--wait"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  CommandResult shown = Cairn({"show", "acme/photos@v2"});
  EXPECT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("acme/photos@v2"));
  // Caught up: the deposit refused before goes through, as the next number.
  CommandResult again = Cairn({"deposit", "acme", later.string(), "--id", "photos", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["receipt"]["id"], "acme/photos@v3") << again.out;
  CommandResult fresh_again = Cairn({"deposit", "acme", fresh.string(), "--id", "fresh"});
  EXPECT_EQ(fresh_again.exit_code, 0) << fresh_again.out << fresh_again.err;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// A catalog rebuilt from a site that was away for a deposit: the version only the other site
// holds is not in the rebuilt catalog, and the rebuild says so (exit 1, naming the version, the
// site holding it and the rebuild that takes it in) instead of exiting 0 while every later
// check passes. The rebuild it names brings the version back, and its copy to the site that
// missed it.
TEST_F(DisasterRecoveryTest, RebuildFromASiteThatMissedAVersionNamesIt) {
  // Made by the CLI, which keeps the sites and partners as settings records on every site.
  root_ = (tmp_ / "repo").string();
  ASSERT_EQ(RunCairn({"init", root_}).exit_code, 0);
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  testing::WriteTree(tmp_ / "photos", testing::SampleFiles("p", 4, 100));
  ASSERT_EQ(Cairn({"deposit", "acme", (tmp_ / "photos").string()}).exit_code, 0);
  fs::rename(Site("b"), tmp_ / "b-away");
  fs::path changed = tmp_ / "photos" / "new.txt";
  testing::WriteFile(changed, "deposited while site b was away\n");
  CommandResult v2 = Cairn({"deposit", "acme", (tmp_ / "photos").string(), "--id", "photos"});
  ASSERT_EQ(v2.exit_code, 1) << v2.out << v2.err;  // stored on a; the copy to b pending
  fs::rename(tmp_ / "b-away", Site("b"));
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);

  CommandResult from_b = Cairn({"catalog", "rebuild", "--from", "file://" + Site("b").string()});
  EXPECT_EQ(from_b.exit_code, 1) << from_b.out << from_b.err;
  const std::string said = from_b.out + from_b.err;
  EXPECT_THAT(said, HasSubstr("acme/photos@v2 is on site a but not on site b, so not in this "
                              "catalog"));
  EXPECT_THAT(said, HasSubstr("cairn catalog rebuild --from a --force")) << said;
  EXPECT_THAT(Cairn({"show", "acme/photos@v2"}).err, HasSubstr("site a holds acme/photos v2"));

  CommandResult from_a = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  EXPECT_EQ(from_a.exit_code, 0) << from_a.out << from_a.err;
  ASSERT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/photos/v2/version.pb"));
  fs::path out = tmp_ / "v2";
  ASSERT_EQ(Cairn({"restore", "acme/photos", out.string()}).exit_code, 0);
  EXPECT_EQ(ReadTree(out / "data"), ReadTree(tmp_ / "photos"));
}

// A site that lost one version's version.pb (its tag files and blobs there): the rebuild from it
// said both "acme/photos@v1: no version.pb (an incomplete deposit)" and "acme/photos@v1 is on
// site b but not on site a (a missed it while it was away)", two reasons, neither true. It now
// says once what is so: site a holds the version without its record, which site b holds.
TEST_F(DisasterRecoveryTest, RebuildFromASiteThatLostAVersionRecordSaysSoOnce) {
  root_ = (tmp_ / "repo").string();
  ASSERT_EQ(RunCairn({"init", root_}).exit_code, 0);
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  testing::WriteTree(tmp_ / "photos", testing::SampleFiles("p", 4, 100));
  ASSERT_EQ(Cairn({"deposit", "acme", (tmp_ / "photos").string(), "--id", "photos"}).exit_code, 0);
  ASSERT_TRUE(fs::remove(Site("a") / "bags/acme/photos/v1/version.pb"));

  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", "a", "--into", (tmp_ / "new").string()});
  EXPECT_EQ(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  const std::string said = rebuilt.out + rebuilt.err;
  EXPECT_THAT(said, Not(HasSubstr("an incomplete deposit"))) << said;
  EXPECT_THAT(said, Not(HasSubstr("missed it while it was away"))) << said;
  EXPECT_THAT(said, HasSubstr("acme/photos@v1: site a holds its folder but no readable version.pb, "
                              "which site b holds"))
      << said;
  const std::string once = "acme/photos@v1";
  EXPECT_EQ(said.find("problem: " + once), said.rfind("problem: " + once)) << said;
  EXPECT_THAT(said, HasSubstr("cairn catalog rebuild --from b --force")) << said;
}

TEST_F(DisasterRecoveryTest, LostSiteIsResyncedAndVerified) {
  MakeRepo(10, 2000);
  auto before = ReadTree(Site("b"));
  fs::remove_all(Site("b"));
  CommandResult resync = Cairn({"site", "resync", "b", "--init", "--json"});
  ASSERT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  auto j = nlohmann::json::parse(resync.out);
  EXPECT_TRUE(j["complete"].get<bool>());
  EXPECT_TRUE(j["initialised"].get<bool>());
  EXPECT_EQ(j["failed"], 0);
  auto after = ReadTree(Site("b"));
  for (const auto& [rel, bytes] : before) {
    if (rel.starts_with("events/") || rel == "CAIRN-SITE") continue;
    EXPECT_EQ(after[rel], bytes) << rel;
  }
  // sha256sum of every blob equals its name, and b holds as many as a.
  EXPECT_EQ(CheckBlobFiles(Site("b")), CheckBlobFiles(Site("a")));
  EXPECT_GT(CheckBlobFiles(Site("b")), 10u);
  // Restoring from b alone works.
  CommandResult r = Cairn({"restore", "acme/photos", (tmp_ / "from-b").string(), "--site", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadTree(tmp_ / "from-b" / "data"), ReadTree(sources_[0].second));
  CommandResult events = Cairn({"events", "--type", "recovery"});
  EXPECT_THAT(events.out, HasSubstr("site resync"));
}

// A deposit made while site b was lost queues b's copies for replication; `site resync b
// --init` copied only the versions with copies on b, said "complete" (exit 0), and b stayed
// without that version until the replication back-off passed. Now the resync makes them too.
TEST_F(DisasterRecoveryTest, ResyncMakesTheCopiesQueuedWhileTheSiteWasLost) {
  MakeRepo(4, 100);
  fs::remove_all(Site("b"));
  fs::path late = tmp_ / "late";
  testing::WriteTree(late, testing::SampleFiles("late", 3, 100));
  CommandResult deposited = Cairn({"deposit", "acme", late.string(), "--id", "late"});
  ASSERT_EQ(deposited.exit_code, 1) << deposited.err;  // stored; b's copies owed
  CommandResult resync = Cairn({"site", "resync", "b", "--init", "--json"});
  ASSERT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  auto j = nlohmann::json::parse(resync.out);
  EXPECT_TRUE(j["complete"].get<bool>());
  EXPECT_GT(j["replicated"].get<uint64_t>(), 0u) << resync.out;
  EXPECT_EQ(j["replication_left"], 0);
  EXPECT_EQ(CheckBlobFiles(Site("b")), CheckBlobFiles(Site("a")));
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out;
  CommandResult r = Cairn({"restore", "acme/late", (tmp_ / "late-from-b").string(), "--site", "b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadTree(tmp_ / "late-from-b" / "data"), ReadTree(late));
}

// The blob of one file moved off site a, the catalog lost and rebuilt from site a: the rebuilt
// catalog knew no copy but a's (missing), so `replicate` and `site resync b` failed with "no site
// holds a good copy", `audit run --all` called it DAMAGED with no good copy left anywhere, and
// `audit run --site b --all` checked "0 of 0" copies (exit 0), though site b held every byte.
// The rebuild now records what the other reachable sites list of each version (never
// verified); and a repair that knows no good copy looks for the blob by its digest on every
// site (b out of reach during the rebuild), verifies it, records that copy and repairs from it.
TEST_F(DisasterRecoveryTest, ABlobTheRebuiltSiteLacksIsRepairedFromTheOtherSitesCopy) {
  ASSERT_NO_FATAL_FAILURE(DepositPhotosByTheVerbs("repo"));
  fs::path blob = LoseABlobOfSiteAAndRebuild(true);
  CommandResult b_audit = Cairn({"audit", "run", "--site", "b", "--all"});
  EXPECT_EQ(b_audit.exit_code, 0) << b_audit.out << b_audit.err;
  EXPECT_THAT(b_audit.out, Not(HasSubstr("0 of 0 copies checked"))) << b_audit.out;
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;  // found missing, repaired
  EXPECT_THAT(audit.out, HasSubstr("repaired from site b")) << audit.out;
  EXPECT_THAT(audit.out, Not(HasSubstr("DAMAGED"))) << audit.out;
  EXPECT_TRUE(fs::exists(blob));
  CommandResult replicated = Cairn({"replicate", "--wait", "--wait-timeout", "30s"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0);

  // Site b out of reach while the catalog is rebuilt: the catalog knows no good copy of the blob.
  blob = LoseABlobOfSiteAAndRebuild(false);
  audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("repaired from site b")) << audit.out;
  EXPECT_THAT(audit.out, Not(HasSubstr("DAMAGED"))) << audit.out;
  EXPECT_TRUE(fs::exists(blob));
  replicated = Cairn({"replicate", "--wait", "--wait-timeout", "30s"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out;
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0);
  ExpectEveryObjectRestores();
}

// One blob lost from site a, the catalog rebuilt from a while b was out of reach: the catalog
// knew no good copy of that blob, and `replicate` and `site resync a` failed with "no site holds
// a good copy" (exit 1), though site b held it under its digest. Like the audit's repair, they
// now ask the other sites for it by its key, copy it (read back and verified) and record b's
// copy.
TEST_F(DisasterRecoveryTest, ReplicateAndResyncFindTheBlobAnotherSiteHoldsUnrecorded) {
  for (const bool resync : {false, true}) {
    SCOPED_TRACE(resync ? "site resync a" : "replicate --wait");
    ASSERT_NO_FATAL_FAILURE(DepositPhotosByTheVerbs(resync ? "repo-resync" : "repo"));
    fs::path blob = LoseABlobOfSiteAAndRebuild(false);
    CommandResult made = resync ? Cairn({"site", "resync", "a"})
                                : Cairn({"replicate", "--wait", "--wait-timeout", "30s"});
    EXPECT_EQ(made.exit_code, 0) << made.out << made.err;
    EXPECT_THAT(made.out + made.err, Not(HasSubstr("holds a good copy"))) << made.out << made.err;
    if (!resync) {
      // Replication to b verified and recorded b's copies; the audit repairs a's from b.
      CommandResult orphans = Cairn({"audit", "run", "--all", "--orphans"});
      EXPECT_THAT(orphans.out, Not(HasSubstr("unrecorded-copy: "))) << orphans.out;
      EXPECT_THAT(orphans.out, HasSubstr("repaired from site b")) << orphans.out;
    }
    EXPECT_TRUE(fs::exists(blob)) << blob;
    CommandResult audit = Cairn({"audit", "run", "--all"});
    EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  }
}

// Reported: after a catalog rebuild from site b while site a had lost a blob, `cairn replicate`
// recorded b's copy but did not put a's back (only the next audit did). Not so on main since the
// rebuild records what every reachable site lists (3026cb1): a's lost copy is queued and
// replicate makes it; the next audit finds every copy ok, none to repair (test only).
TEST_F(DisasterRecoveryTest, ReplicateAfterARebuildFromBPutsBackTheBlobSiteALost) {
  ASSERT_NO_FATAL_FAILURE(DepositPhotosByTheVerbs("repo"));
  fs::path blob;
  for (const auto& e : fs::recursive_directory_iterator(Site("a") / "blobs")) {
    if (fs::is_regular_file(e.path())) blob = e.path();
  }
  ASSERT_TRUE(fs::remove(blob));
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("b").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  CommandResult replicated = Cairn({"replicate", "--wait", "--wait-timeout", "30s"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_THAT(replicated.out, HasSubstr("1 copies made")) << replicated.out;
  EXPECT_TRUE(fs::exists(blob)) << blob;
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr(" 0 missing, 0 repaired")) << audit.out;
}

// A catalog rebuilt from site a while site b was out of reach: `audit run --orphans` called
// every blob on b an orphan ("the catalog does not list", gc candidates), exit 1, though the
// catalog holds their versions and b's version.pb names them. They are copies the catalog does
// not record yet, named with the `cairn replicate --wait` that records them; none is an orphan.
TEST_F(DisasterRecoveryTest, CopiesTheRebuiltCatalogDoesNotRecordYetAreNotOrphans) {
  ASSERT_NO_FATAL_FAILURE(RebuildFromSiteAWhileSiteBIsAway());
  CommandResult orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_THAT(orphans.out, Not(HasSubstr("orphan blob"))) << orphans.out;
  EXPECT_THAT(orphans.out, Not(HasSubstr("orphan: "))) << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("does not record yet")) << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("cairn replicate --wait")) << orphans.out;
  CommandResult gc = Cairn({"gc", "--grace", "0", "--dry-run"});
  EXPECT_THAT(gc.out, HasSubstr("0 would be removed")) << gc.out;
  CommandResult replicated = Cairn({"replicate", "--wait", "--wait-timeout", "30s"});
  ASSERT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_EQ(orphans.exit_code, 0) << orphans.out << orphans.err;
  EXPECT_THAT(orphans.out, Not(HasSubstr("does not record yet"))) << orphans.out;
}

// The same copies, not yet recorded, were counted as uncataloged: the summary called them
// versions the catalog does not list and the closing UNCATALOGED paragraph advised `catalog
// rebuild`, though the catalog holds every version. They have their own count
// (`unrecorded_copies` in --json) and advice (`cairn replicate --wait` records them); the
// uncataloged banner stays for versions the catalog does not know. The audit history stored them
// as uncataloged too (catalog migration 23 gives them their kind).
TEST_F(DisasterRecoveryTest, CopiesNotRecordedYetHaveTheirOwnCategoryNotUncataloged) {
  ASSERT_NO_FATAL_FAILURE(RebuildFromSiteAWhileSiteBIsAway());
  CommandResult orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_EQ(orphans.exit_code, 1) << orphans.out << orphans.err;
  EXPECT_THAT(orphans.out, Not(HasSubstr("UNCATALOGED"))) << orphans.out;
  EXPECT_THAT(orphans.out, Not(HasSubstr("catalog rebuild"))) << orphans.out;
  EXPECT_THAT(orphans.out, Not(HasSubstr("that the catalog does not list"))) << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("4 copies on site b that the catalog does not record yet"))
      << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("NOT RECORDED YET")) << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("unrecorded-copy: ")) << orphans.out;
  CommandResult json = Cairn({"audit", "run", "--orphans", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["unrecorded_copies"], 4) << json.out;
  EXPECT_EQ(report["uncataloged"], 0) << json.out;
  for (const nlohmann::json& f : report["findings"]) {
    EXPECT_EQ(f["kind"], "unrecorded-copy") << f.dump();
  }
  // The audit history stores and counts them by their kind (it stored them as uncataloged).
  CommandResult history = Cairn(
      {"audit", "report", "--run", std::to_string(report["run_id"].get<int64_t>()), "--json"});
  nlohmann::json stored = nlohmann::json::parse(history.out, nullptr, false);
  ASSERT_FALSE(stored.is_discarded()) << history.out << history.err;
  EXPECT_EQ(stored["findings_by_kind"], nlohmann::json({{"unrecorded-copy", 4}})) << history.out;
  for (const nlohmann::json& f : stored["findings"]) {
    EXPECT_EQ(f["kind"], "unrecorded-copy") << f.dump();
  }
  // A version the catalog does not know at all (its version.pb there: tag files alone are an
  // interrupted deposit's, which gc removes) keeps the uncataloged banner and its advice.
  testing::WriteFile(Site("b") / "bags" / "acme" / "ghost" / "v1" / "bagit.txt", "x\n");
  testing::WriteFile(Site("b") / "bags" / "acme" / "ghost" / "v1" / "version.pb", "x");
  orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_THAT(orphans.out, HasSubstr("UNCATALOGED")) << orphans.out;
  EXPECT_THAT(orphans.out, HasSubstr("2 tag files, version records or blobs")) << orphans.out;
}

// A catalog put back from a backup, used a while (its restores' events take the sites' log's
// numbers, so the sweep is no longer refused), then `audit run --orphans`: every blob of a
// version deposited after the backup was an "orphan" (and a gc candidate), though gc keeps them
// (it reads the sites' version records). Now they are uncataloged: the blobs of that version,
// named with its version.pb and the rebuild that brings it back; none is an orphan.
TEST_F(DisasterRecoveryTest, OrphansOfACatalogFromABackupAreTheSitesNewerVersionNotOrphans) {
  MakeRepo(4, 100);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites());
  CommandResult audit;
  for (int restores = 0; restores < 20; ++restores) {
    audit = Cairn({"audit", "run", "--orphans", "--json"});
    if (audit.exit_code != 2) break;  // refused while the sites' logs run past the catalog
    (void)Cairn(
        {"restore", "acme/photos@v1", (tmp_ / ("out" + std::to_string(restores))).string()});
  }
  ASSERT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  auto j = nlohmann::json::parse(audit.out);
  EXPECT_EQ(j["orphans"], 0) << audit.out;
  EXPECT_EQ(j["orphans_known"], 0) << audit.out;
  std::map<std::string, size_t> blobs_by_site;
  for (const auto& f : j["findings"]) {
    EXPECT_NE(f["kind"], "orphan") << f.dump();
    if (f["kind"] != "uncataloged" || f["sha256"] == "") continue;
    const std::string site = f["site"];
    ++blobs_by_site[site];
    EXPECT_EQ(f["partner"], "acme");
    EXPECT_EQ(f["object"], "later");
    EXPECT_EQ(f["version"], 1);
    EXPECT_THAT(f["path"].get<std::string>(), ::testing::StartsWith("data/"));
    const std::string detail = f["detail"];
    EXPECT_THAT(detail, HasSubstr("bags/acme/later/v1/version.pb")) << detail;
    EXPECT_THAT(detail, HasSubstr("not an orphan")) << detail;
    EXPECT_THAT(detail, HasSubstr("cairn catalog rebuild --from " + site)) << detail;
  }
  EXPECT_EQ(blobs_by_site["a"], 3u) << audit.out;
  EXPECT_EQ(blobs_by_site["b"], 3u) << audit.out;
  // Not made gc candidates either: the next sweep does not count them as orphans known.
  CommandResult again = Cairn({"audit", "run", "--orphans", "--json"});
  auto j2 = nlohmann::json::parse(again.out);
  EXPECT_EQ(j2["orphans"], 0) << again.out;
  EXPECT_EQ(j2["orphans_known"], 0) << again.out;
}

// From a catalog put back from a backup (another site's log runs past it, or, once the old
// catalog wrote events of its own, disagrees with it), `site resync b --init` made b again
// from the old catalog: without the versions site a holds, with the catalog's diverged log,
// and exit 0. Now it is refused, nothing written, naming the rebuild.
TEST_F(DisasterRecoveryTest, ResyncFromACatalogOlderThanTheSitesIsRefused) {
  MakeRepo(4, 100);
  // The settings (site b among them) on every site, as `cairn init` leaves them (MakeRepo
  // makes the repository through the library).
  ASSERT_EQ(Cairn({"partner", "add", "mit"}).exit_code, 0);
  ASSERT_NO_FATAL_FAILURE(PutBackACatalogOlderThanTheSites());
  // Its own events (a restore's) do not undo it.
  (void)Cairn({"restore", "acme/photos@v1", (tmp_ / "old-restore").string()});
  fs::remove_all(Site("b"));
  CommandResult resync = Cairn({"site", "resync", "b", "--init"});
  EXPECT_EQ(resync.exit_code, 2) << resync.out << resync.err;
  EXPECT_THAT(resync.err, HasSubstr("site resync b refused, nothing written: site a"));
  EXPECT_THAT(resync.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_FALSE(fs::exists(Site("b")));
  // The way it names works: the rebuilt catalog knows `later`, and b gets it.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult again = Cairn({"site", "resync", "b", "--init"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(CheckBlobFiles(Site("b")), CheckBlobFiles(Site("a")));
}

size_t CountFiles(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (fs::is_regular_file(it->path())) ++n;
  }
  return n;
}

TEST_F(DisasterRecoveryTest, KilledResyncFinishesOnRerunWithoutDoubleCounting) {
  MakeRepo(600, 64);
  fs::remove_all(Site("b"));
  pid_t pid = testing::StartCairn(
      {"--repo", root_, "site", "resync", "b", "--init", "--threads", "1"}, "/dev/null");
  ASSERT_GT(pid, 0);
  // Kill it once some blobs are back, well before all are.
  fs::path blobs = Site("b") / "blobs";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountFiles(blobs) < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the resync finished before it could be killed";

  // Files that survived the kill; nothing half-written is visible under a real name.
  size_t present = 0;
  for (const auto& [rel, bytes] : ReadTree(Site("b"))) {
    if (rel.starts_with("blobs/") || rel.starts_with("bags/")) ++present;
  }
  CheckBlobFiles(Site("b"));
  auto catalog = repo::Catalog::Open(root_ + "/catalog.db");
  ASSERT_OK(catalog);
  auto total = repo::CatalogTestAccess::Db(**catalog).QueryInt(
      "SELECT COUNT(*) FROM replicas r JOIN sites s ON s.id = r.site_id WHERE s.name = 'b'");
  ASSERT_OK(total);
  ASSERT_LT(present, static_cast<size_t>(*total));

  CommandResult rerun = Cairn({"site", "resync", "b", "--init", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  auto j = nlohmann::json::parse(rerun.out);
  EXPECT_TRUE(j["complete"].get<bool>());
  EXPECT_FALSE(j["initialised"].get<bool>());
  EXPECT_EQ(j["files_checked"], *total);
  EXPECT_EQ(j["copied"].get<int64_t>(), *total - static_cast<int64_t>(present));
  EXPECT_EQ(j["present"].get<int64_t>(), static_cast<int64_t>(present));
  EXPECT_EQ(CheckBlobFiles(Site("b")), CheckBlobFiles(Site("a")));
  auto replicas = repo::CatalogTestAccess::Db(**catalog).QueryInt(
      "SELECT COUNT(*) FROM replicas r JOIN sites s ON s.id = r.site_id WHERE s.name = 'b' "
      "AND r.state = 'ok'");
  EXPECT_EQ(*replicas, *total);
  auto jobs = repo::CatalogTestAccess::Db(**catalog).QueryInt(
      "SELECT COUNT(*) FROM jobs WHERE kind = 'JOB_KIND_REPAIR'");
  EXPECT_EQ(*jobs, 0);
  ExpectEveryObjectRestores();
}

// `catalog rebuild --from a` with the catalog gone gave the example `file:///srv/cairn/sites/a`
// for the URL to give instead; the repository's own site of that name is known: its URL is
// the example now.
TEST_F(DisasterRecoveryTest, RebuildFromANameWithTheCatalogGoneGivesTheSitesOwnUrl) {
  root_ = (tmp_ / "repo").string();
  ASSERT_EQ(RunCairn({"init", root_}).exit_code, 0);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  CommandResult r = Cairn({"catalog", "rebuild", "--from", "a"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("e.g. file://" + (fs::absolute(Site("a")).lexically_normal()).string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("/srv/cairn"), std::string::npos) << r.err;
}

// Site b was lost and `site resync b --init` ran while site a, the only source, was an
// unmounted share: exit 1, "run cairn site resync b again". Once a was mounted again, the reruns
// did nothing for 30 s ("0 copied ... versions left in the queue: run cairn site resync b
// again", exit 1): the repairs that failed waited out their backoff. The person resyncing a site
// asks for its repairs now: they are tried at once.
TEST_F(DisasterRecoveryTest, ResyncRerunAfterTheSourceIsBackRepairsAtOnce) {
  DepositPhotosByTheVerbs("repo");
  fs::remove_all(Site("b"));
  const std::string marker = testing::ReadFile(Site("a") / "CAIRN-SITE");
  fs::remove(Site("a") / "CAIRN-SITE");
  CommandResult away = Cairn({"site", "resync", "b", "--init"});
  ASSERT_EQ(away.exit_code, 1) << away.out << away.err;
  EXPECT_FALSE(fs::exists(Site("b") / "bags/acme/photos/v1/version.pb"));

  testing::WriteFile(Site("a") / "CAIRN-SITE", marker);
  const auto started = std::chrono::steady_clock::now();
  CommandResult rerun = Cairn({"site", "resync", "b"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_THAT(rerun.out + rerun.err, Not(HasSubstr("left in the queue")));
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/photos/v1/version.pb"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));  // no backoff
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0);
}

// After `catalog rebuild`, `policy show` said the partner's policy was set at the rebuild's
// time: the rebuilt catalog keeps the time its record on the site was written.
TEST_F(DisasterRecoveryTest, ARebuiltPolicyKeepsTheTimeItWasSet) {
  DepositPhotosByTheVerbs("repo");
  testing::WriteFile(tmp_ / "two.textpb", "copies: 2\n");
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "two.textpb").string(), "--partner", "acme"}).exit_code,
            0);
  CommandResult before = Cairn({"policy", "show", "acme", "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const std::string set = nlohmann::json::parse(before.out).value("updated", "");
  ASSERT_FALSE(set.empty()) << before.out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the times are in seconds
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  CommandResult after = Cairn({"policy", "show", "acme", "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(nlohmann::json::parse(after.out).value("updated", ""), set) << after.out;
}

// A version.pb on site a whose depositor became bytes of invalid UTF-8: Cairn names the record
// and what it does about it, and the protobuf library's own "[libprotobuf ERROR ...] String
// field ... contains invalid UTF-8" line no longer comes with it on stderr.
TEST_F(DisasterRecoveryTest, ADamagedRecordIsNamedByCairnNotByTheProtobufLibrary) {
  DepositPhotosByTheVerbs("repo");
  const fs::path record = Site("a") / "bags/acme/photos/v1/version.pb";
  std::string bytes = testing::ReadFile(record);
  const size_t at = bytes.find("local:");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 6, "\xff\xfe\xfd\xfc\xfb\xfa");
  fs::permissions(record, fs::add_perms | fs::owner_write);
  testing::WriteFile(record, bytes);
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out + audit.err, HasSubstr("version.pb"));
  EXPECT_THAT(audit.err, Not(HasSubstr("libprotobuf")));
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  testing::WriteFile(record, bytes);  // as damaged again, whatever the audit repaired
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string())});
  EXPECT_THAT(rebuilt.out + rebuilt.err,
              HasSubstr("acme/photos@v1: site a holds its folder but no readable version.pb, "
                        "which site b holds"));
  EXPECT_THAT(rebuilt.out + rebuilt.err, Not(HasSubstr("missed it while it was away")));
  EXPECT_THAT(rebuilt.err, Not(HasSubstr("libprotobuf")));
}

}  // namespace
}  // namespace cairn
