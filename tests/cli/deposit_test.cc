// End to end: the real `cairn` binary runs init, site list, deposit (folder,
// bag folder, tar, zip), refused deposits, and a deposit killed part way then
// run again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "bagit/digest.h"
#include "repo/site/repository.h"
#include "tests/cli/holey_bag.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deep_folders.h"
#include "tests/util/test_util.h"

extern char** environ;

namespace cairn::testing {
namespace {

class CliDepositTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = (tmp_.path() / "repo").string();
    CommandResult init = RunCairn({"init", repo_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto repo = repo::Repository::Open(repo_);
    ASSERT_OK(repo);
    ASSERT_OK((*repo)->catalog().AddPartner("acme", "Acme"));
  }

  CommandResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--repo", repo_});
    return RunCairn(args);
  }

  fs::path Site(const std::string& name) const { return fs::path(repo_) / "sites" / name; }

  // Every blob file on the site, checked against its own name.
  size_t Blobs(const std::string& site) {
    fs::path root = Site(site) / "blobs";
    if (!fs::exists(root)) return 0;
    size_t n = 0;
    for (fs::recursive_directory_iterator it(root), end; it != end; ++it) {
      if (!fs::is_regular_file(it->status())) continue;
      auto d = bagit::HashFile(it->path().string(), bagit::Only(bagit::Algorithm::kSha256));
      EXPECT_TRUE(d.ok() && d->digests[bagit::Algorithm::kSha256] == it->path().filename().string())
          << it->path();
      ++n;
    }
    return n;
  }

  size_t TempFiles() {
    size_t n = 0;
    for (const char* site : {"a", "b"}) {
      if (!fs::is_directory(Site(site) / "tmp")) continue;
      for (fs::directory_iterator it(Site(site) / "tmp"), end; it != end; ++it) ++n;
    }
    return n;
  }

  TempDir tmp_;
  std::string repo_;
};

TEST_F(CliDepositTest, InitMakesTwoSitesAndSiteListShowsThem) {
  EXPECT_TRUE(fs::exists(Site("a") / "CAIRN-SITE"));
  EXPECT_TRUE(fs::exists(Site("b") / "README.txt"));
  CommandResult again = RunCairn({"init", repo_});
  EXPECT_EQ(again.exit_code, 2) << "init must refuse a non-empty folder";
  CommandResult list = Cairn({"site", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto sites = nlohmann::json::parse(list.out);
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0]["name"], "a");
  EXPECT_EQ(sites[0]["url"], "file://" + Site("a").string());
  CommandResult add = Cairn({"site", "add", "c", "file://" + (tmp_.path() / "c").string()});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  EXPECT_TRUE(fs::exists(tmp_.path() / "c/CAIRN-SITE"));
  // Another site's place is refused.
  CommandResult steal = Cairn({"site", "add", "d", "file://" + Site("a").string()});
  EXPECT_EQ(steal.exit_code, 2);
}

// init's "next: export CAIRN_REPO=..." line, followed once, made `cairn init` with that
// variable set (or `--repo`) answer "REPO is required": the repository the global option and
// the variable name is the one init makes when no REPO follows it.
TEST_F(CliDepositTest, InitTakesTheRepositoryFromRepoOrCairnRepo) {
  const fs::path by_env = tmp_.path() / "by-env";
  CommandResult env_init = RunCairn({"init"}, {"CAIRN_REPO=" + by_env.string()});
  EXPECT_EQ(env_init.exit_code, 0) << env_init.err;
  EXPECT_TRUE(fs::exists(by_env / "catalog.db"));
  const fs::path by_flag = tmp_.path() / "by-flag";
  CommandResult flag_init = RunCairn({"--repo", by_flag.string(), "init"});
  EXPECT_EQ(flag_init.exit_code, 0) << flag_init.err;
  EXPECT_TRUE(fs::exists(by_flag / "sites/b/CAIRN-SITE"));
  // Neither: a usage error that says how to name it.
  CommandResult none = RunCairn({"init"}, {"CAIRN_REPO="});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("cairn init REPO"), std::string::npos) << none.err;
}

// A depositor whose share was not mounted deposited its empty mount point as the object's next
// version: stored with 0 files, exit 0, and the empty version became the latest (what a plain
// restore gives back). A plain folder that holds no file is refused (source.empty, nothing
// stored), locally and against a server alike; --allow-empty stores an empty version on purpose.
TEST_F(CliDepositTest, AFolderHoldingNoFileIsRefusedUnlessAllowed) {
  WriteFile(tmp_.path() / "share/maps/a.tif", "alpha");
  ASSERT_EQ(Cairn({"deposit", "acme", (tmp_.path() / "share/maps").string()}).exit_code, 0);
  const fs::path unmounted = tmp_.path() / "mnt/maps";
  fs::create_directories(unmounted / "empty-subfolder");
  CommandResult refused = Cairn({"deposit", "acme", unmounted.string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("source.empty"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("nothing was stored"), std::string::npos) << refused.err;
  CommandResult list = Cairn({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out)[0]["latest_version"], 1) << list.out;
  CommandResult allowed = Cairn({"deposit", "acme", unmounted.string(), "--allow-empty"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  list = Cairn({"list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(list.out)[0]["latest_version"], 2) << list.out;
}

TEST_F(CliDepositTest, FolderThenTarAndZipOfTheSameContent) {
  WriteFile(tmp_.path() / "photos/a.txt", "alpha");
  WriteFile(tmp_.path() / "photos/deep/b.txt", "beta");
  CommandResult dep = Cairn({"deposit", "acme", (tmp_.path() / "photos").string()});
  ASSERT_EQ(dep.exit_code, 0) << dep.err << dep.out;
  EXPECT_NE(dep.out.find("acme/photos v1"), std::string::npos) << dep.out;
  EXPECT_EQ(Blobs("a"), 2u);
  EXPECT_EQ(Blobs("b"), 2u);

  for (const char* format : {"tar", "zip"}) {
    std::string archive = (tmp_.path() / (std::string("photos.") + format)).string();
    CommandResult made = RunCairn({"bag", "create", (tmp_.path() / "photos").string(), archive,
                                   "--format", format, "--algorithm", "sha256"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    CommandResult json = Cairn({"deposit", "acme", archive, "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err << json.out;
    auto receipt = nlohmann::json::parse(json.out)["receipt"];
    EXPECT_EQ(receipt["object"], "photos");
    EXPECT_EQ(receipt["files"], 2);
    EXPECT_EQ(receipt["bytes_stored"], 0) << "same files: nothing new to store";
    EXPECT_EQ(receipt["copies"][1]["pending"], 0);
  }
  EXPECT_EQ(Blobs("a"), 2u);
  EXPECT_EQ(Blobs("b"), 2u);
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/photos/v3/version.pb"));
}

// --info before PARTNER and SOURCE takes one value each time (it used to swallow both).
TEST_F(CliDepositTest, InfoBeforeThePositionalsTakesOneValueEach) {
  WriteFile(tmp_.path() / "letters/a.txt", "alpha");
  CommandResult dep =
      Cairn({"deposit", "--info", "Source-Organization: Example Museum", "--info",
             "Contact-Name: A. Archivist", "acme", (tmp_.path() / "letters").string()});
  ASSERT_EQ(dep.exit_code, 0) << dep.err << dep.out;
  EXPECT_NE(dep.out.find("acme/letters v1"), std::string::npos) << dep.out;
  std::string info = ReadFile(Site("a") / "bags/acme/letters/v1/bag-info.txt");
  EXPECT_NE(info.find("Source-Organization: Example Museum\n"), std::string::npos) << info;
  EXPECT_NE(info.find("Contact-Name: A. Archivist\n"), std::string::npos) << info;
}

TEST_F(CliDepositTest, RefusedDepositsExitOneAndStoreNothing) {
  // A bag with a corrupt payload file.
  WriteFile(tmp_.path() / "src/x.txt", "original");
  CommandResult made =
      RunCairn({"bag", "create", (tmp_.path() / "src").string(), (tmp_.path() / "bag").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  WriteFile(tmp_.path() / "bag/data/x.txt", "ORIGINAL");
  CommandResult bad = Cairn({"deposit", "acme", (tmp_.path() / "bag").string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("data/x.txt"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("payload.digest-mismatch"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("refused: 1 error; nothing was stored"), std::string::npos) << bad.err;

  // Issue 15: an unknown partner could not run (2), naming the partner.
  CommandResult unknown = Cairn({"deposit", "nobody", (tmp_.path() / "src").string()});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no partner nobody"), std::string::npos) << unknown.err;

  CommandResult missing = Cairn({"deposit", "acme", (tmp_.path() / "nowhere").string()});
  EXPECT_EQ(missing.exit_code, 2);

  EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));
  EXPECT_FALSE(fs::exists(Site("b") / "bags/acme"));
  EXPECT_EQ(Blobs("a") + Blobs("b"), 0u);
  EXPECT_EQ(TempFiles(), 0u);
  CommandResult list = Cairn({"list", "--json"});
  if (list.exit_code == 0) {
    EXPECT_EQ(nlohmann::json::parse(list.out).size(), 0u) << list.out;
  }
}

// A folder inside the source deeper than PATH_MAX was refused as 'source.unreadable: ... File
// name too long', as if a permission were missing. It is refused by its own rule,
// source.path-too-long, naming the first entry whose path no longer fits and the limit (exit 1,
// a refused deposit, as for a symlink in the source); a SOURCE that is itself longer is a command
// that could not run (exit 2), naming the same rule.
TEST_F(CliDepositTest, APathLongerThanPathMaxIsRefusedByItsRule) {
  const fs::path src = tmp_.path() / "src";
  WriteFile(src / "a.txt", "alpha\n");
  const std::string name(200, 'd');
  MakeDeepFolders(src, name, PATH_MAX / 200 + 2);
  const std::string rel = FirstPathPastPathMax(src, name, name);

  CommandResult r = Cairn({"deposit", "acme", src.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: " + rel + ": source.path-too-long: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("PATH_MAX"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("source.unreadable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused: 1 error; nothing was stored"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));

  CommandResult whole = Cairn({"deposit", "acme", (src / rel).string(), "--id", "deep"});
  EXPECT_EQ(whole.exit_code, 2) << whole.err;
  EXPECT_NE(whole.err.find("PATH_MAX"), std::string::npos) << whole.err;
  EXPECT_NE(whole.err.find("source.path-too-long"), std::string::npos) << whole.err;
  EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));

  RemoveDeepFolders(src, name);
}

// A bag folder holding a folder deeper than PATH_MAX was reported as payload.unreadable (in
// data/) or tag.unreadable (beside it), "File name too long", as if a permission were missing.
// `bag validate` and a deposit of the bag folder name it by the rule a plain folder's deposit
// names it by, source.path-too-long, with the path and the limit (exit 1: an invalid bag, a
// refused deposit, nothing stored).
TEST_F(CliDepositTest, ABagFolderPathLongerThanPathMaxIsNamedByItsRule) {
  const fs::path src = tmp_.path() / "src";
  WriteFile(src / "a.txt", "alpha\n");
  const std::string name(200, 'd');
  for (const std::string top : {"data", "extra"}) {
    SCOPED_TRACE(top);
    const fs::path bag = tmp_.path() / ("deep-" + top);
    ASSERT_EQ(RunCairn({"bag", "create", src.string(), bag.string()}).exit_code, 0);
    fs::create_directories(bag / top / "deep");
    MakeDeepFolders(bag / top / "deep", name, PATH_MAX / 200 + 2);
    const std::string rel = FirstPathPastPathMax(bag, top + "/deep/" + name, name);

    CommandResult valid = RunCairn({"bag", "validate", bag.string()});
    EXPECT_EQ(valid.exit_code, 1) << valid.out << valid.err;
    const std::string said = valid.out + valid.err;
    EXPECT_NE(said.find(rel + ": source.path-too-long: "), std::string::npos) << said;
    EXPECT_NE(said.find("PATH_MAX"), std::string::npos) << said;
    EXPECT_EQ(said.find(".unreadable"), std::string::npos) << said;

    CommandResult r = Cairn({"deposit", "acme", bag.string(), "--id", "deep"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("error: " + rel + ": source.path-too-long: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(".unreadable"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));

    RemoveDeepFolders(bag / top / "deep", name);
  }
}

// Two payload files whose names differ only in Unicode normalization (é precomposed, U+00E9,
// and e + combining acute, U+0301) were stored with a warning; but they are one name on macOS
// and Windows, and Cairn's own tar, tgz and zip restores of the version held one file twice
// (libarchive reads names back in NFC): bags its own `bag validate` called invalid. Such a
// deposit is refused (exit 1, a refused deposit, nothing stored), naming both files by their
// code points and the rule, from a folder and from a bag folder; `bag validate` of the bag still
// warns only (payload.name-collision: RFC 8493 allows them).
TEST_F(CliDepositTest, NamesThatDifferOnlyInUnicodeNormalizationAreRefused) {
  const fs::path src = tmp_.path() / "twins";
  WriteFile(src / "caf\xc3\xa9.txt", "precomposed\n");
  WriteFile(src / "cafe\xcc\x81.txt", "decomposed\n");
  WriteFile(src / "other.txt", "other\n");
  ASSERT_EQ(
      RunCairn({"bag", "create", src.string(), (tmp_.path() / "twins-bag").string()}).exit_code, 0);
  for (const fs::path& source : {src, tmp_.path() / "twins-bag"}) {
    SCOPED_TRACE(source.string());
    CommandResult r = Cairn({"deposit", "acme", source.string(), "--id", "twins"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("payload.normalization-twin"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("data/caf<U+00E9>.txt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("data/cafe<U+0301>.txt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));
    EXPECT_EQ(Blobs("a") + Blobs("b"), 0u);
  }
  CommandResult valid = RunCairn({"bag", "validate", (tmp_.path() / "twins-bag").string()});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE((valid.out + valid.err).find("payload.name-collision"), std::string::npos)
      << valid.out << valid.err;
  // Names that differ in case only are kept apart by every tar and zip reader: still a warning.
  const fs::path cased = tmp_.path() / "cased";
  WriteFile(cased / "Readme.txt", "upper\n");
  WriteFile(cased / "readme.txt", "lower\n");
  CommandResult kept = Cairn({"deposit", "acme", cased.string()});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_NE(kept.err.find("payload.name-collision"), std::string::npos) << kept.err;
}

// The same refusal beyond Latin letters: names were grouped for the check by a key that knew
// only the decompositions of U+00C0..U+017F, so a Hangul syllable (U+AC00) beside its conjoining
// jamo (U+1100 U+1161), or the Angstrom sign (U+212B) beside Å (U+00C5, and A + U+030A), were
// stored (one name on macOS, and in Cairn's own tar or zip restore). Each set is refused, from a
// folder and from a bag folder, naming every file by its code points.
TEST_F(CliDepositTest, NormalizationTwinsOfEveryScriptAreRefused) {
  struct Twins {
    std::string label;
    std::vector<std::pair<std::string, std::string>> names;  // file name, its code points
  };
  const std::vector<Twins> cases = {
      {"hangul",
       {{"\xea\xb0\x80.txt", "<U+AC00>.txt"},
        {"\xe1\x84\x80\xe1\x85\xa1.txt", "<U+1100><U+1161>.txt"}}},
      {"angstrom",
       {{"\xc3\x85.txt", "<U+00C5>.txt"},
        {"A\xcc\x8a.txt", "A<U+030A>.txt"},
        {"\xe2\x84\xab.txt", "<U+212B>.txt"}}},
  };
  for (const Twins& twins : cases) {
    SCOPED_TRACE(twins.label);
    const fs::path src = tmp_.path() / twins.label;
    for (const auto& [name, points] : twins.names) WriteFile(src / name, points + "\n");
    const fs::path bag = tmp_.path() / (twins.label + "-bag");
    ASSERT_EQ(RunCairn({"bag", "create", src.string(), bag.string()}).exit_code, 0);
    for (const fs::path& source : {src, bag}) {
      SCOPED_TRACE(source.string());
      CommandResult r = Cairn({"deposit", "acme", source.string(), "--id", twins.label});
      EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
      EXPECT_NE(r.err.find("payload.normalization-twin"), std::string::npos) << r.err;
      for (const auto& [name, points] : twins.names) {
        EXPECT_NE(r.err.find("data/" + points), std::string::npos) << points << "\n" << r.err;
      }
      EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));
      EXPECT_EQ(Blobs("a") + Blobs("b"), 0u);
    }
    CommandResult valid = RunCairn({"bag", "validate", bag.string()});
    EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
    EXPECT_NE((valid.out + valid.err).find("payload.name-collision"), std::string::npos)
        << valid.out << valid.err;
  }
}

// A holey bag (a manifest line whose file is absent, named only in fetch.txt)
// is not complete, so not valid (RFC 8493 section 3): refused whole, as a
// folder and as an archive, naming the file; nothing is stored.
TEST_F(CliDepositTest, HoleyBagIsRefusedNamingTheFileAndStoresNothing) {
  fs::path bag = tmp_.path() / "holey";
  MakeHoleyBag(bag);
  fs::path tar = tmp_.path() / "holey.tar";
  ASSERT_EQ(RunProcess({"tar", "-cf", tar.string(), "-C", tmp_.path().string(), "holey"}).exit_code,
            0);
  for (const fs::path& source : {bag, tar}) {
    SCOPED_TRACE(source.string());
    CommandResult r = Cairn({"deposit", "acme", source.string(), "--id", "holey"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(kHoleyBagAbsentPath), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("complete.fetch-not-retrieved"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));
  EXPECT_FALSE(fs::exists(Site("b") / "bags/acme"));
  EXPECT_EQ(Blobs("a") + Blobs("b"), 0u);
  EXPECT_EQ(TempFiles(), 0u);
  CommandResult list = Cairn({"list", "--json"});
  if (list.exit_code == 0) {
    EXPECT_EQ(nlohmann::json::parse(list.out).size(), 0u) << list.out;
  }
}

TEST_F(CliDepositTest, NoReplicateLeavesJobsThatReplicateDrains) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  WriteFile(tmp_.path() / "obj/b.txt", "b");
  CommandResult dep =
      Cairn({"deposit", "acme", (tmp_.path() / "obj").string(), "--no-replicate", "--json"});
  ASSERT_EQ(dep.exit_code, 0) << dep.err;
  auto receipt = nlohmann::json::parse(dep.out)["receipt"];
  EXPECT_EQ(receipt["copies"][1]["site"], "b");
  EXPECT_GT(receipt["copies"][1]["pending"].get<int>(), 0);
  EXPECT_EQ(Blobs("b"), 0u);
  EXPECT_FALSE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));
  CommandResult rep = Cairn({"replicate", "--json"});
  ASSERT_EQ(rep.exit_code, 0) << rep.err << rep.out;
  auto summary = nlohmann::json::parse(rep.out);
  EXPECT_EQ(summary["jobs_done"], 1);
  EXPECT_EQ(summary["queued"], 0);
  EXPECT_EQ(Blobs("b"), 2u);
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));
  EXPECT_EQ(ReadFile(Site("b") / "bags/acme/obj/v1/manifest-sha256.txt"),
            ReadFile(Site("a") / "bags/acme/obj/v1/manifest-sha256.txt"));
}

// Issue 15: a deposit stored on its first site whose copies could not be made
// (site b's marker is gone: not mounted) is not "done": exit 1, the site and
// the reason named, the copies queued; once b is back, replicate completes it.
TEST_F(CliDepositTest, StoredWithCopiesPendingExitsOneAndSaysWhy) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  const std::string marker = ReadFile(Site("b") / "CAIRN-SITE");
  fs::remove(Site("b") / "CAIRN-SITE");
  CommandResult dep = Cairn({"deposit", "acme", (tmp_.path() / "obj").string()});
  EXPECT_EQ(dep.exit_code, 1) << dep.out << dep.err;
  EXPECT_NE(dep.out.find("acme/obj v1"), std::string::npos) << dep.out;
  EXPECT_NE(dep.err.find("still pending"), std::string::npos) << dep.err;
  EXPECT_NE(dep.err.find("site b"), std::string::npos) << dep.err;
  EXPECT_TRUE(fs::exists(Site("a") / "bags/acme/obj/v1/version.pb"));

  CommandResult json = Cairn({"deposit", "acme", (tmp_.path() / "obj").string(), "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["stored"], true) << json.out;

  WriteFile(Site("b") / "CAIRN-SITE", marker);
  // --wait: the failed job is retried after its backoff instead of left queued.
  CommandResult rep = Cairn({"replicate", "--wait"});
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));
}

// Disaster-recovery staff mounted site b's share again after its copies had failed and ran
// `cairn replicate`: it made nothing, exited 1 and said the copies wait "for retry at" the end of
// their backoff (30 s after one failure, hours after a long outage), though b answered. The
// copies owed to a site that opens now are tried at once; one still down keeps its backoff.
TEST_F(CliDepositTest, ReplicateMakesTheCopiesOfASiteMountedAgainAtOnce) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  const std::string marker = ReadFile(Site("b") / "CAIRN-SITE");
  fs::remove(Site("b") / "CAIRN-SITE");
  ASSERT_EQ(Cairn({"deposit", "acme", (tmp_.path() / "obj").string()}).exit_code, 1);
  CommandResult still_down = Cairn({"replicate"});
  EXPECT_EQ(still_down.exit_code, 1) << still_down.out << still_down.err;
  EXPECT_NE(still_down.err.find("retry at"), std::string::npos) << still_down.err;
  EXPECT_FALSE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));

  WriteFile(Site("b") / "CAIRN-SITE", marker);
  const auto started = std::chrono::steady_clock::now();
  CommandResult rep = Cairn({"replicate"});
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_EQ(rep.err.find("retry at"), std::string::npos) << rep.err;
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));
  EXPECT_EQ(Blobs("b"), Blobs("a"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));  // no backoff
}

// Site b's whole folder was gone (a lost disk, or a share unmounted from an empty mount point):
// the deposit said "root folder is missing or not a folder (not mounted?)" and "cairn replicate
// retries them", and `cairn replicate` could never make them. The way forward is the one a site
// without its marker gets: mount it, or make it again with `cairn site resync b --init`.
TEST_F(CliDepositTest, ASiteWhoseFolderIsGoneIsGivenTheWayForward) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  fs::remove_all(Site("b"));
  CommandResult dep = Cairn({"deposit", "acme", (tmp_.path() / "obj").string()});
  EXPECT_EQ(dep.exit_code, 1) << dep.out << dep.err;
  EXPECT_NE(dep.err.find("`cairn site resync b --init`"), std::string::npos) << dep.err;
  CommandResult rep = Cairn({"replicate"});
  EXPECT_EQ(rep.exit_code, 1) << rep.out << rep.err;
  EXPECT_NE(rep.err.find("`cairn site resync b --init`"), std::string::npos) << rep.err;
  CommandResult resync = Cairn({"site", "resync", "b", "--init"});
  EXPECT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  EXPECT_TRUE(fs::exists(Site("b") / "bags/acme/obj/v1/version.pb"));
}

// A deposit whose file is already stored (another object holds the same bytes) counted site
// b's copy as verified because the catalog recorded it, though it had been lost since: exit 0,
// "site b: N verified" and a replication event saying every copy was read back, while only site a
// held the bytes; with site a lost the acknowledged deposit could not be restored. A copy the
// catalog records is now checked to be there before it counts, and copied again if it is not.
TEST_F(CliDepositTest, AStoredFileLostFromASiteSinceIsCopiedAgainNotCounted) {
  std::string bytes(50000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919) >> 5);
  WriteFile(tmp_.path() / "one/d.bin", bytes);
  WriteFile(tmp_.path() / "two/d.bin", bytes);
  CommandResult first = Cairn({"deposit", "acme", (tmp_.path() / "one").string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string sha =
      bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  const fs::path blob_b = Site("b") / "blobs/sha256" / sha.substr(0, 2) / sha;
  ASSERT_TRUE(fs::exists(blob_b));
  fs::remove(blob_b);

  CommandResult second = Cairn({"deposit", "acme", (tmp_.path() / "two").string()});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(fs::exists(blob_b)) << "site b's lost copy was counted, not made again";
  CommandResult events = Cairn({"events", "acme/two"});
  EXPECT_NE(events.out.find("copied again"), std::string::npos) << events.out;

  // The disaster a two-copy policy must survive: site a lost.
  fs::remove_all(Site("a") / "blobs");
  CommandResult restore = Cairn({"restore", "acme/two", (tmp_.path() / "out").string()});
  EXPECT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(ReadFile(tmp_.path() / "out/data/d.bin") == bytes) << "restored bytes differ";
}

// A deposit whose file another object already stored, made while site b was unmounted (its
// folder there without the marker), said "site b: 1 verified, N pending" and counted that copy
// in --json, though nothing was read from b: the catalog's record of the earlier version was
// taken as this deposit's check. If b was lost rather than unmounted, the receipt counted a copy
// that did not exist. Copies on a site still short of some count only if this deposit verified
// them there (the reused one is checked when replication reaches b, and copied if it is gone).
TEST_F(CliDepositTest, AReusedCopyOnASiteThatCouldNotBeOpenedIsPendingNotVerified) {
  WriteFile(tmp_.path() / "one/shared.txt", "shared\n");
  WriteFile(tmp_.path() / "two/shared.txt", "shared\n");
  WriteFile(tmp_.path() / "two/new.txt", "new\n");
  ASSERT_EQ(Cairn({"deposit", "acme", (tmp_.path() / "one").string()}).exit_code, 0);
  const std::string sha = bagit::HashBytes(
      "shared\n", bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  fs::rename(Site("b"), tmp_.path() / "b.away");
  fs::create_directories(Site("b"));  // the mount point of an unmounted share

  CommandResult second = Cairn({"deposit", "acme", (tmp_.path() / "two").string(), "--json"});
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  nlohmann::json receipt = nlohmann::json::parse(second.out, nullptr, false);
  ASSERT_FALSE(receipt.is_discarded()) << second.out << second.err;
  bool saw_b = false;
  for (const nlohmann::json& c : receipt["receipt"]["copies"]) {
    if (c["site"] != "b") continue;
    saw_b = true;
    EXPECT_EQ(c["ok"], 0) << c.dump() << " (nothing was read from site b)";
    EXPECT_EQ(c["pending"], 7) << c.dump();  // 2 blobs, 5 tag files (bag-info, manifests)
  }
  EXPECT_TRUE(saw_b) << second.out;

  // Site b was lost, not unmounted: the copy the receipt did not count is made again.
  fs::remove_all(Site("b"));
  fs::rename(tmp_.path() / "b.away", Site("b"));
  const fs::path blob_b = Site("b") / "blobs/sha256" / sha.substr(0, 2) / sha;
  ASSERT_TRUE(fs::exists(blob_b));
  fs::remove(blob_b);
  // --wait: the job that failed while b was unmounted runs after its backoff (30 s).
  CommandResult rep = Cairn({"replicate", "--wait"});
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_TRUE(fs::exists(blob_b)) << "the lost copy on b was not made again";
}

// A deposit when site b's folder is there without its CAIRN-SITE marker (an unmounted share)
// said "site b: N copies pending (queued; cairn replicate retries them)", though no replicate
// can succeed there; and one whose FIRST site has no marker exited 2 saying only "not mounted,
// lost, or never initialised". Both now give the way forward `site resync` gives: mount it, or
// `cairn site resync NAME --init`.
TEST_F(CliDepositTest, ASiteWithoutItsMarkerIsNamedWithTheWayForward) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  fs::remove_all(Site("b"));
  fs::create_directories(Site("b"));  // the mount point of a share not mounted
  CommandResult dep = Cairn({"deposit", "acme", (tmp_.path() / "obj").string()});
  EXPECT_EQ(dep.exit_code, 1) << dep.out << dep.err;
  EXPECT_NE(dep.err.find("site b: "), std::string::npos) << dep.err;
  EXPECT_NE(dep.err.find("mount it"), std::string::npos) << dep.err;
  EXPECT_NE(dep.err.find("cairn site resync b --init"), std::string::npos) << dep.err;
  EXPECT_EQ(dep.err.find("cairn replicate retries them)"), std::string::npos) << dep.err;

  fs::remove_all(Site("a"));
  fs::create_directories(Site("a"));
  CommandResult first = Cairn({"deposit", "acme", (tmp_.path() / "obj").string(), "--id", "o2"});
  EXPECT_EQ(first.exit_code, 2) << first.out << first.err;
  EXPECT_NE(first.err.find("not mounted, lost, or never initialised"), std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("cairn site resync a --init"), std::string::npos) << first.err;
}

TEST_F(CliDepositTest, EmptyObjectIdIsRefused) {
  WriteFile(tmp_.path() / "obj/a.txt", "a");
  CommandResult dep = Cairn({"deposit", "acme", (tmp_.path() / "obj").string(), "--id", ""});
  EXPECT_EQ(dep.exit_code, 2) << dep.out;
  EXPECT_NE(dep.err.find("--id"), std::string::npos) << dep.err;
  EXPECT_FALSE(fs::exists(Site("a") / "bags/acme"));
}

// Starts the cairn binary and kills it with SIGKILL as soon as `ready()` holds
// (polled every millisecond, for at most 30 s); true if it was still running
// then, so it died part way. A fixed delay raced the machine's speed: a fast
// runner finished the deposit before the kill.
bool RunAndKillWhen(const std::vector<std::string>& args, const std::function<bool()>& ready) {
  std::vector<std::string> argv = {CairnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

TEST_F(CliDepositTest, KilledDepositRerunCompletesAndLeavesNoTempFiles) {
  std::string big(1 << 20, '\0');
  for (int i = 0; i < 48; ++i) {
    for (size_t j = 0; j < big.size(); j += 4096) big[j] = static_cast<char>(i + j / 4096);
    WriteFile(tmp_.path() / "big" / ("f" + std::to_string(i) + ".bin"), big);
  }
  std::string src = (tmp_.path() / "big").string();
  // Killed once the first of the 48 blobs is on site a: the deposit is
  // storing, with most of its work still ahead.
  fs::path blobs = Site("a") / "blobs";
  auto first_blob_stored = [&blobs] {
    boost::system::error_code ec;
    for (fs::recursive_directory_iterator it(blobs, ec), end; !ec && it != end; it.increment(ec)) {
      if (fs::is_regular_file(it->path(), ec)) return true;
    }
    return false;
  };
  ASSERT_TRUE(RunAndKillWhen({"--repo", repo_, "deposit", "acme", src, "--threads", "1"},
                             first_blob_stored))
      << "the deposit finished before it could be killed";
  auto repo = repo::Repository::Open(repo_);
  ASSERT_OK(repo);
  bool committed = (*repo)->catalog().GetVersion("acme", "big", std::nullopt, false).ok();
  if (!committed) {
    // Nothing in the catalog: the object is not listed.
    CommandResult show = Cairn({"show", "acme/big"});
    EXPECT_NE(show.exit_code, 0) << show.out;
    // version.pb is written last (FORMAT.md): a kill between it and the
    // catalog commit leaves a version complete on the site, every blob with it.
    if (fs::exists(Site("a") / "bags/acme/big/v1/version.pb")) {
      EXPECT_EQ(Blobs("a"), 48u);
    }
  }
  CommandResult rerun = Cairn({"deposit", "acme", src, "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  auto receipt = nlohmann::json::parse(rerun.out)["receipt"];
  EXPECT_EQ(receipt["version"], committed ? 2 : 1);
  EXPECT_EQ(receipt["files"], 48);
  EXPECT_EQ(Blobs("a"), 48u);
  EXPECT_EQ(Blobs("b"), 48u);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(CliDepositTest, ConcurrentDepositsOfOneObjectGetSuccessiveVersions) {
  // Three depositors send different content as the same object at once: each
  // gets its own version, and each version restores as its own source.
  constexpr int kDepositors = 3;
  std::string payload(256 * 1024, 'x');
  for (int i = 0; i < kDepositors; ++i) {
    fs::path src = tmp_.path() / ("src" + std::to_string(i));
    WriteFile(src / "id.txt", "depositor " + std::to_string(i) + "\n");
    for (int j = 0; j < 16; ++j) {
      payload[j] = static_cast<char>('a' + i);
      WriteFile(src / ("part" + std::to_string(j) + ".bin"), payload);
    }
  }
  std::vector<CommandResult> results(kDepositors);
  std::vector<std::thread> threads;
  for (int i = 0; i < kDepositors; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Cairn({"deposit", "acme", (tmp_.path() / ("src" + std::to_string(i))).string(),
                          "--id", "shared", "--json"});
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<int> versions;
  for (int i = 0; i < kDepositors; ++i) {
    ASSERT_EQ(results[i].exit_code, 0) << results[i].err << results[i].out;
    int version = nlohmann::json::parse(results[i].out)["receipt"]["version"];
    versions.insert(version);
    fs::path out = tmp_.path() / ("restored" + std::to_string(i));
    CommandResult restore =
        Cairn({"restore", "acme/shared@v" + std::to_string(version), out.string()});
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_EQ(ReadFile(out / "data/id.txt"), "depositor " + std::to_string(i) + "\n");
    CommandResult valid = RunCairn({"bag", "validate", out.string()});
    EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  }
  EXPECT_EQ(versions, (std::set<int>{1, 2, 3}));
}

}  // namespace
}  // namespace cairn::testing
