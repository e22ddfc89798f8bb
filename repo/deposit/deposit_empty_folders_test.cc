// Empty folders of a deposit (a plain folder's, a bag folder's under data/, an archive's folder
// members with nothing below them) are kept with the version and made again by a restore, in
// every output format; a version restored and deposited again keeps them.
#include <gtest/gtest.h>

#include <set>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "repo/deposit/deposit.h"
#include "repo/restore/restore.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositTest;
using cairn::testing::WriteFile;

class EmptyFoldersTest : public DepositTest {
 protected:
  // Restores the latest version of acme/`object` to `name` below the test folder, as `format`.
  fs::path RestoreAs(const std::string& object, const std::string& name, RestoreFormat format,
                     uint32_t version = 0) {
    RestoreRequest req;
    req.partner = "acme";
    req.object = object;
    req.version = version;
    req.dest = (dir_ / name).string();
    req.format = format;
    req.user = "tester";
    Result<RestoreReport> r = Restore(*repo_, req);
    EXPECT_OK(r);
    return dir_ / name;
  }

  // The folders below `dir`, relative to it, that hold nothing at all.
  static std::set<std::string> EmptyFoldersIn(const fs::path& dir) {
    std::set<std::string> out;
    for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
      if (fs::is_directory(it->symlink_status()) && fs::is_empty(it->path())) {
        out.insert(fs::relative(it->path(), dir).generic_string());
      }
    }
    return out;
  }

  // The folder members of the archive at `path`, below its top folder, without the trailing '/'.
  static std::set<std::string> FolderMembersIn(const fs::path& path) {
    std::set<std::string> out;
    auto reader = bagit::ArchiveReader::Open(path.string());
    EXPECT_OK(reader);
    if (!reader.ok()) return out;
    bagit::ArchiveEntry entry;
    while (true) {
      Result<bool> more = (*reader)->Next(&entry);
      EXPECT_OK(more);
      if (!more.ok() || !*more) break;
      if (entry.type != bagit::EntryType::kDirectory) continue;
      std::string p = entry.path;
      while (!p.empty() && p.back() == '/') p.pop_back();
      size_t slash = p.find('/');
      if (slash != std::string::npos) out.insert(p.substr(slash + 1));
    }
    return out;
  }

  const std::set<std::string> kExpected = {"data/empty", "data/outer/inner"};
};

TEST_F(EmptyFoldersTest, APlainFoldersEmptyFoldersComeBackInEveryFormat) {
  WriteFile(dir_ / "src/box/kept/a.txt", "alpha\n");
  fs::create_directories(dir_ / "src/box/empty");
  fs::create_directories(dir_ / "src/box/outer/inner");  // outer holds only an empty folder
  DepositOutcome out = Run("acme", (dir_ / "src/box").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(out.report.warning_count(), 0u) << out.report.ToText();

  EXPECT_EQ(EmptyFoldersIn(RestoreAs("box", "out", RestoreFormat::kDir)), kExpected);
  for (auto [format, name] :
       {std::pair{RestoreFormat::kTar, "out.tar"}, std::pair{RestoreFormat::kTgz, "out.tgz"},
        std::pair{RestoreFormat::kZip, "out.zip"}}) {
    std::set<std::string> members = FolderMembersIn(RestoreAs("box", name, format));
    for (const std::string& folder : kExpected) {
      EXPECT_TRUE(members.contains(folder)) << name << " lacks " << folder;
    }
  }
}

TEST_F(EmptyFoldersTest, ABagFoldersEmptyFolderUnderDataComesBack) {
  MakeBag(dir_ / "bag", {{"data/kept/a.txt", "alpha\n"}}, bagit::Algorithm::kSha256);
  fs::create_directories(dir_ / "bag/data/empty");
  fs::create_directories(dir_ / "bag/data/outer/inner");
  DepositOutcome out = Run("acme", (dir_ / "bag").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_FALSE(out.report.Has("payload.empty-folder")) << out.report.ToText();
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("bag", "out", RestoreFormat::kDir)), kExpected);
}

TEST_F(EmptyFoldersTest, ATarsFolderMemberWithNothingBelowItComesBack) {
  MakeBag(dir_ / "bag", {{"data/kept/a.txt", "alpha\n"}}, bagit::Algorithm::kSha256);
  auto writer =
      bagit::ArchiveWriter::Create((dir_ / "box.tar").string(), bagit::ArchiveFormat::kTar);
  ASSERT_OK(writer);
  auto add = [&](const std::string& rel) {
    std::string bytes = cairn::testing::ReadFile(dir_ / "bag" / rel);
    ASSERT_OK((*writer)->BeginFile("box/" + rel, bytes.size()));
    ASSERT_OK(
        (*writer)->WriteData(std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))));
  };
  for (const char* tag :
       {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"}) {
    add(tag);
  }
  ASSERT_OK((*writer)->AddDirectory("box/data/"));
  ASSERT_OK((*writer)->AddDirectory("box/data/empty/"));
  ASSERT_OK((*writer)->AddDirectory("box/data/outer/"));
  ASSERT_OK((*writer)->AddDirectory("box/data/outer/inner/"));
  ASSERT_OK((*writer)->AddDirectory("box/data/kept/"));
  add("data/kept/a.txt");
  ASSERT_OK((*writer)->Finish());

  DepositOutcome out = Run("acme", (dir_ / "box.tar").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_FALSE(out.report.Has("payload.empty-folder")) << out.report.ToText();
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("box", "out", RestoreFormat::kDir)), kExpected);
  std::set<std::string> members = FolderMembersIn(RestoreAs("box", "out.tar", RestoreFormat::kTar));
  for (const std::string& folder : kExpected) EXPECT_TRUE(members.contains(folder)) << folder;
}

// An empty folder of a bag's tag area (extra/ beside data/, meta/sub/ beside meta/mods.xml) was
// dropped: kept with the version as the payload's are, made again in a folder and in an archive,
// from a bag folder and from a tar's folder members.
TEST_F(EmptyFoldersTest, ABagsEmptyTagFoldersComeBack) {
  MakeBag(dir_ / "bag", {{"data/kept/a.txt", "alpha\n"}}, bagit::Algorithm::kSha256);
  fs::create_directories(dir_ / "bag/extra");
  WriteFile(dir_ / "bag/meta/mods.xml", "<mods/>\n");
  fs::create_directories(dir_ / "bag/meta/sub");
  fs::create_directories(dir_ / "bag/data/empty");
  const std::set<std::string> expected = {"data/empty", "extra", "meta/sub"};
  DepositOutcome out = Run("acme", (dir_ / "bag").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("bag", "out", RestoreFormat::kDir)), expected);
  EXPECT_EQ(cairn::testing::ReadFile(dir_ / "out/meta/mods.xml"), "<mods/>\n");
  std::set<std::string> members = FolderMembersIn(RestoreAs("bag", "out.tgz", RestoreFormat::kTgz));
  for (const std::string& folder : expected) EXPECT_TRUE(members.contains(folder)) << folder;

  // The same bag as a tar whose folder members name them.
  auto writer =
      bagit::ArchiveWriter::Create((dir_ / "box.tar").string(), bagit::ArchiveFormat::kTar);
  ASSERT_OK(writer);
  auto add = [&](const std::string& rel) {
    std::string bytes = cairn::testing::ReadFile(dir_ / "bag" / rel);
    ASSERT_OK((*writer)->BeginFile("box/" + rel, bytes.size()));
    ASSERT_OK(
        (*writer)->WriteData(std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))));
  };
  for (const char* tag : {"bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                          "tagmanifest-sha256.txt", "meta/mods.xml"}) {
    add(tag);
  }
  for (const char* folder : {"box/extra/", "box/meta/", "box/meta/sub/", "box/data/",
                             "box/data/empty/", "box/data/kept/"}) {
    ASSERT_OK((*writer)->AddDirectory(folder));
  }
  add("data/kept/a.txt");
  ASSERT_OK((*writer)->Finish());
  DepositOutcome tar = Run("acme", (dir_ / "box.tar").string());
  ASSERT_TRUE(tar.receipt) << tar.report.ToText();
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("box", "box-out", RestoreFormat::kDir)), expected);
}

// Restored, then deposited again as a bag folder and as the restored tar: the same structure.
TEST_F(EmptyFoldersTest, AVersionRestoredAndDepositedAgainKeepsItsEmptyFolders) {
  WriteFile(dir_ / "src/box/kept/a.txt", "alpha\n");
  fs::create_directories(dir_ / "src/box/empty");
  fs::create_directories(dir_ / "src/box/outer/inner");
  ASSERT_TRUE(Run("acme", (dir_ / "src/box").string()).receipt);
  fs::path restored = RestoreAs("box", "v1", RestoreFormat::kDir);
  fs::path tar = RestoreAs("box", "v1.tar", RestoreFormat::kTar);

  DepositRequest again;
  again.partner = "acme";
  again.source = restored.string();
  again.object_id = "box";
  DepositOutcome v2 = Run(again);
  ASSERT_TRUE(v2.receipt) << v2.report.ToText();
  EXPECT_EQ(v2.receipt->version, 2u);
  again.source = tar.string();
  DepositOutcome v3 = Run(again);
  ASSERT_TRUE(v3.receipt) << v3.report.ToText();
  EXPECT_EQ(v3.receipt->version, 3u);
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("box", "v2", RestoreFormat::kDir, 2)), kExpected);
  EXPECT_EQ(EmptyFoldersIn(RestoreAs("box", "v3", RestoreFormat::kDir, 3)), kExpected);
}

}  // namespace
}  // namespace cairn::repo
