// A real deposit, then a person's rebuild: follow the shell steps of the
// site's README.txt with bash and coreutils alone (no cairn), and check with
// `cairn bag validate` that the bag they rebuild is valid and holds the files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <sstream>

#include "repo/site_layout.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

// The README's command blocks: runs of lines indented by five or more spaces,
// the first line of a run indented by exactly five.
std::vector<std::string> CommandBlocks(const std::string& readme) {
  std::vector<std::string> blocks;
  std::string current;
  std::istringstream lines(readme);
  for (std::string line; std::getline(lines, line);) {
    bool indented = line.size() > 5 && line.compare(0, 5, "     ") == 0;
    if (indented && (!current.empty() || line[5] != ' ')) {
      current += line.substr(5) + "\n";
      continue;
    }
    if (!current.empty()) blocks.push_back(current);
    current.clear();
  }
  if (!current.empty()) blocks.push_back(current);
  return blocks;
}

// Sets the README's example assignment `name=...` to `value`.
void Assign(std::string* script, const std::string& name, const std::string& value) {
  size_t at = script->find(name + "=");
  ASSERT_NE(at, std::string::npos) << "README has no " << name << "= line";
  size_t end = script->find('\n', at);
  script->replace(at, end - at, name + "='" + value + "'");
}

// The README of each layout: 2 (sites made now), 1 (sites made before, still served).
class SiteReadmeCliTest : public RepoFixture, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    if (GetParam() == 1) MakeLayoutOneSite("b");
  }
};

TEST_P(SiteReadmeCliTest, CoreutilsAloneRebuildADepositedBag) {
  fs::path folder = MakeSourceFolder("letters");
  // Empty folders, which the bag's manifests cannot list: the recipe made none of them.
  fs::create_directories(folder / "empty");
  fs::create_directories(folder / "outer/100% inner");
  Deposit("acme", folder.string(), "letters");
  fs::path site = tmp_ / "repo/sites/b";  // the replica, not the first site
  ASSERT_EQ(ReadFile(site / "CAIRN-SITE").substr(0, 12),
            "cairn-site " + std::to_string(GetParam()));
  const std::string levels = GetParam() == 1 ? "*/*/*" : "*/*";
  ASSERT_NE(ReadFile(site / "README.txt").find("for f in " + levels + "; do"), std::string::npos);
  std::vector<std::string> blocks = CommandBlocks(ReadFile(site / "README.txt"));
  ASSERT_GE(blocks.size(), 5u);
  std::string script = "set -eu\n";
  for (const std::string& block : blocks) {
    if (block.find("DAMAGED") != std::string::npos) break;  // the audit of every blob, below
    script += block;
  }
  fs::path dest = tmp_ / "by-hand";
  Assign(&script, "SITE", site.string());
  Assign(&script, "VERSION", "bags/acme/letters/v1");
  Assign(&script, "DEST", dest.string());

  fs::path bin = tmp_ / "coreutils-only";
  fs::create_directories(bin);
  for (std::string tool :
       {"bash", "cp", "rm", "mkdir", "cat", "cut", "sha256sum", "sha512sum", "sha1sum", "md5sum"}) {
    for (std::string dir : {"/usr/bin/", "/bin/"}) {
      if (fs::exists(dir + tool)) {
        fs::create_symlink(dir + tool, bin / tool);
        break;
      }
    }
  }
  CommandResult run =
      RunProcess({(bin / "bash").string(), "-c", script}, {"PATH=" + bin.string(), "LC_ALL=C"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;

  CommandResult valid = Cairn({"bag", "validate", dest.string()});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  std::map<std::string, std::string> rebuilt = ReadTree(dest);
  for (const auto& [path, bytes] : ReadTree(folder, "data/"))
    EXPECT_EQ(rebuilt[path], bytes) << path;
  EXPECT_EQ(rebuilt.count("version.pb"), 0u);
  EXPECT_EQ(rebuilt.count(std::string(repo::layout::kEmptyFoldersListName)), 0u);
  EXPECT_EQ(rebuilt.count(std::string(repo::layout::kCairnAddedListName)), 0u);
  for (const char* empty : {"data/empty", "data/outer/100% inner"}) {
    EXPECT_TRUE(fs::is_directory(dest / empty) && fs::is_empty(dest / empty)) << empty;
  }
  // And it is the same bag cairn restore gives.
  ASSERT_EQ(Cairn({"restore", "acme/letters", (tmp_ / "by-cairn").string()}).exit_code, 0);
  EXPECT_EQ(ReadTree(tmp_ / "by-cairn"), rebuilt);

  // The README's audit of every blob: silent on good blobs (a glob of the wrong
  // depth would name itself DAMAGED), loud on a damaged one.
  std::string audit;
  for (const std::string& block : blocks) {
    if (block.find("DAMAGED") != std::string::npos) audit = "SITE=x\n" + block;
  }
  ASSERT_FALSE(audit.empty());
  Assign(&audit, "SITE", site.string());
  CommandResult clean =
      RunProcess({(bin / "bash").string(), "-c", audit}, {"PATH=" + bin.string(), "LC_ALL=C"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.out, "") << clean.out;
  const std::string bytes = ReadTree(folder, "data/").begin()->second;
  const std::string sha =
      bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  fs::path blob = site / repo::layout::BlobKey(sha, GetParam());
  ASSERT_TRUE(fs::exists(blob)) << blob;
  FlipByte(blob);
  CommandResult loud =
      RunProcess({(bin / "bash").string(), "-c", audit}, {"PATH=" + bin.string(), "LC_ALL=C"});
  EXPECT_NE(loud.out.find("DAMAGED: " + repo::layout::BlobKey(sha, GetParam()).substr(13)),
            std::string::npos)
      << loud.out;
}

INSTANTIATE_TEST_SUITE_P(Layouts, SiteReadmeCliTest, ::testing::Values(2, 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Layout" + std::to_string(info.param);
                         });

// A site made before the empty-folders change kept the README.txt it was made with: its by-hand
// recipe had no step that makes a bag's empty folders from cairn-empty-folders.txt, so a person
// following it rebuilt such a bag without them, for ever (README.txt was written once, at
// Site::Init). The next write of each site's event log (here a deposit) brings it up to date:
// replaced whole (a new file renamed over the old, never rewritten in place), and said once.
using SiteReadmeUpdateTest = RepoFixture;

ino_t Inode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST_F(SiteReadmeUpdateTest, AnOldReadmeIsBroughtUpToDateOnceAtTheNextWrite) {
  const std::string old_text =
      ReadFile(FixturePath("site-readme-layout2-before-empty-folders.txt"));
  ASSERT_EQ(old_text.find("cairn-empty-folders.txt"), std::string::npos);
  std::map<std::string, ino_t> inodes;
  for (const char* site : {"a", "b"}) {
    WriteFile(tmp_ / "repo/sites" / site / "README.txt", old_text);
    inodes[site] = Inode(tmp_ / "repo/sites" / site / "README.txt");
  }
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  CommandResult first = Cairn({"deposit", "acme", MakeSourceFolder("one").string(), "--id", "one"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  for (const char* site : {"a", "b"}) {
    SCOPED_TRACE(site);
    const fs::path readme = tmp_ / "repo/sites" / site / "README.txt";
    EXPECT_EQ(ReadFile(readme), repo::layout::SiteReadmeText(2));
    EXPECT_NE(Inode(readme), inodes[site]) << "replaced by a rename, not rewritten in place";
    EXPECT_NE(first.err.find("site " + std::string(site) + ": README.txt brought up to date"),
              std::string::npos)
        << first.err;
  }
  EXPECT_NE(first.err.find("step 3"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("cairn-empty-folders.txt"), std::string::npos) << first.err;
  EXPECT_EQ(fs::exists(tmp_ / "repo/sites/a/tmp")
                ? std::distance(fs::recursive_directory_iterator(tmp_ / "repo/sites/a/tmp"), {})
                : 0,
            0)
      << "no temp file left";

  CommandResult second =
      Cairn({"deposit", "acme", MakeSourceFolder("two").string(), "--id", "two"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(second.err.find("README.txt"), std::string::npos) << "said once: " << second.err;
}

}  // namespace
}  // namespace cairn::testing
