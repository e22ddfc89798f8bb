// End to end (issue 14 "Permissions and locks"): the repository folder and
// every file Cairn makes in it (catalog and its -wal/-shm, locks, scratch,
// holder records) and on its posix sites (markers, blobs, tag files, event
// segments, settings) are private - 0700 folders, 0600 files - whatever the
// umask; `cairn init --group NAME` shares them with that group instead
// (setgid 2770 folders, 0660 files), and later files follow.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

// cairn under a permissive umask (000), to show no mode is left to the umask.
CommandResult LaxUmask(const std::vector<std::string>& args, const std::string& repo) {
  std::vector<std::string> argv{"sh", "-c", "umask 000; exec \"$0\" \"$@\"",
                                CairnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {"CAIRN_REPO=" + repo});
}

struct Mode {
  unsigned bits = 0;
  gid_t gid = 0;
};

Mode ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
  return Mode{static_cast<unsigned>(st.st_mode & 07777), st.st_gid};
}

std::string Octal(unsigned m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", m);
  return buf;
}

// Every folder and file below `root` (root included) has `dir_mode`/`file_mode`.
void ExpectModes(const fs::path& root, unsigned dir_mode, unsigned file_mode,
                 const std::string& when) {
  SCOPED_TRACE(when);
  EXPECT_EQ(Octal(ModeOf(root).bits), Octal(dir_mode)) << root;
  int files = 0;
  for (fs::recursive_directory_iterator it(root), end; it != end; ++it) {
    const fs::path& p = it->path();
    if (fs::is_directory(it->symlink_status())) {
      EXPECT_EQ(Octal(ModeOf(p).bits), Octal(dir_mode)) << p;
    } else {
      ++files;
      EXPECT_EQ(Octal(ModeOf(p).bits), Octal(file_mode)) << p;
    }
  }
  EXPECT_GT(files, 5);
}

class CliPermissionsTest : public ::testing::Test {
 protected:
  fs::path Repo() const { return tmp_.path() / "repo"; }
  fs::path Source() {
    fs::path src = tmp_.path() / "src";
    WriteFile(src / "a.txt", "alpha\n");
    WriteFile(src / "sub/b.txt", "beta\n");
    return src;
  }
  TempDir tmp_;
};

TEST_F(CliPermissionsTest, RepositoryAndSitesArePrivateWhateverTheUmask) {
  CommandResult init = LaxUmask({"init", Repo().string()}, Repo().string());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ExpectModes(Repo(), 0700, 0600, "after init");
  ASSERT_EQ(LaxUmask({"partner", "add", "acme"}, Repo().string()).exit_code, 0);
  CommandResult dep = LaxUmask(
      {"deposit", "acme", Source().string(), "--id", "one", "--no-replicate"}, Repo().string());
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
  ExpectModes(Repo(), 0700, 0600, "after deposit");
  CommandResult rep = LaxUmask({"replicate", "--wait"}, Repo().string());
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  ExpectModes(Repo(), 0700, 0600, "after replicate");
  EXPECT_TRUE(fs::exists(Repo() / "sites/b/bags/acme/one/v1/bagit.txt"));
}

TEST_F(CliPermissionsTest, TheCatalogsWalAndShmAreCreatedPrivate) {
  ASSERT_EQ(LaxUmask({"init", Repo().string()}, Repo().string()).exit_code, 0);
  // Remove the companions so the next open makes them afresh, then keep the
  // catalog open (a WAL reader) while they exist.
  for (const char* f : {"catalog.db-wal", "catalog.db-shm"}) fs::remove(Repo() / f);
  ASSERT_EQ(LaxUmask({"partner", "add", "acme"}, Repo().string()).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((Repo() / "catalog.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "SELECT count(*) FROM partners", nullptr, nullptr, nullptr),
            SQLITE_OK);
  for (const char* f : {"catalog.db", "catalog.db-wal", "catalog.db-shm"}) {
    if (fs::exists(Repo() / f)) EXPECT_EQ(Octal(ModeOf(Repo() / f).bits), "0600") << f;
  }
  EXPECT_TRUE(fs::exists(Repo() / "catalog.db-shm"));
  sqlite3_close(db);
}

TEST_F(CliPermissionsTest, InitGroupSharesEverythingWithThatGroup) {
  // A group this test may chgrp to: one of the process's groups.
  const gid_t gid = getegid();
  const group* g = getgrgid(gid);
  ASSERT_NE(g, nullptr);
  const std::string name = g->gr_name;
  CommandResult init = LaxUmask({"init", Repo().string(), "--group", name}, Repo().string());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_EQ(LaxUmask({"partner", "add", "acme"}, Repo().string()).exit_code, 0);
  CommandResult dep =
      LaxUmask({"deposit", "acme", Source().string(), "--id", "one"}, Repo().string());
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
  ExpectModes(Repo(), 02770, 0660, "after init --group and a deposit");
  EXPECT_EQ(ModeOf(Repo() / "catalog.db").gid, gid);
  EXPECT_EQ(ModeOf(Repo() / "sites/b/CAIRN-SITE").gid, gid);
  // An unknown group is refused, and nothing is made.
  CommandResult bad =
      LaxUmask({"init", (tmp_.path() / "other").string(), "--group", "no-such-group-cairn"},
               (tmp_.path() / "other").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("no group no-such-group-cairn"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace cairn::testing
