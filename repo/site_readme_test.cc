// Follows the words of the site README.txt: extracts its shell recipe, runs it
// with a PATH that holds only coreutils (and bash), and checks that the bag it
// rebuilds is the bag that was stored, byte for byte, and validates.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "bagit/digest.h"
#include "bagit/validator.h"
#include "repo/site/site.h"
#include "repo/storage/backends.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::ReadFile;
using cairn::testing::RunProcess;
using cairn::testing::TempDir;

// The README's shell blocks, in order: a block starts with a line indented by
// exactly 5 spaces and goes on while lines are indented by at least 5.
std::vector<std::string> ShellBlocks(std::string_view readme) {
  std::vector<std::string> blocks;
  std::istringstream in{std::string(readme)};
  std::string line, block;
  while (std::getline(in, line)) {
    bool starts_block = line.starts_with("     ") && line.size() > 5 && line[5] != ' ';
    if (line.starts_with("     ") && (starts_block || !block.empty())) {
      block += line.substr(5) + "\n";
    } else if (!block.empty()) {
      blocks.push_back(block);
      block.clear();
    }
  }
  if (!block.empty()) blocks.push_back(block);
  return blocks;
}

// Replaces the README's example "NAME=..." line with NAME='value'.
void SetVariable(std::string& script, const std::string& name, const std::string& value) {
  size_t at = script.find(name + "=");
  ASSERT_NE(at, std::string::npos) << name;
  size_t end = script.find('\n', at);
  script.replace(at, end - at, name + "='" + value + "'");
}

// A PATH folder holding only the coreutils commands a person needs, and bash.
fs::path CoreutilsOnlyPath(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* tool :
       {"bash", "cp", "rm", "mkdir", "sha256sum", "cut", "cat", "md5sum", "sha1sum", "sha512sum"}) {
    for (const char* bin : {"/usr/bin/", "/bin/"}) {
      if (fs::exists(fs::path(bin) / tool)) {
        fs::create_symlink(fs::path(bin) / tool, dir / tool);
        break;
      }
    }
  }
  return dir;
}

struct HandMadeBag {
  std::map<std::string, std::string> payload;  // real path -> bytes
  std::map<std::string, std::string> tags;     // tag file -> bytes
  std::map<std::string, std::string> added;    // tag files Cairn adds on the site
};

std::string EncodePath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%')
      out += "%25";
    else if (c == '\n')
      out += "%0A";
    else if (c == '\r')
      out += "%0D";
    else
      out += c;
  }
  return out;
}

HandMadeBag MakeHandMadeBag(const std::map<std::string, std::string>& payload) {
  HandMadeBag bag;
  bag.payload = payload;
  uint64_t bytes = 0;
  std::string manifest;
  for (const auto& [path, content] : payload) {
    manifest += Sha256Hex(content) + "  " + EncodePath(path) + "\n";
    bytes += content.size();
  }
  bag.tags["bagit.txt"] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  bag.tags["bag-info.txt"] =
      "Source-Organization: Acme Museum\nPayload-Oxum: " + std::to_string(bytes) + "." +
      std::to_string(payload.size()) + "\n";
  bag.tags["manifest-sha256.txt"] = manifest;
  std::string tagmanifest;
  for (const auto& [name, content] : bag.tags)
    tagmanifest += Sha256Hex(content) + "  " + name + "\n";
  bag.tags["tagmanifest-sha256.txt"] = tagmanifest;
  return bag;
}

void Store(Site& site, const std::string& object, const HandMadeBag& bag) {
  for (const auto& [path, content] : bag.payload) {
    ASSERT_OK(site.PutBlob(Sha256Hex(content), content)) << path;
  }
  for (const auto& [name, content] : bag.tags) {
    ASSERT_OK(site.PutTagFile("acme", object, 1, name, content)) << name;
  }
  for (const auto& [name, content] : bag.added) {
    ASSERT_OK(site.PutTagFile("acme", object, 1, name, content)) << name;
  }
  ASSERT_OK(site.PutVersionRecord("acme", object, 1, "not part of the bag"));
}

// Runs the README's steps (every block before its audit of the blobs) for
// bags/acme/<object>/v1 into `dest`.
cairn::testing::CommandResult FollowReadme(const fs::path& site_root, const std::string& object,
                                           const fs::path& dest, const fs::path& path_dir) {
  std::vector<std::string> blocks = ShellBlocks(ReadFile(site_root / "README.txt"));
  EXPECT_GE(blocks.size(), 5u);
  std::string script = "set -u\n";
  for (const std::string& block : blocks) {
    if (block.find("DAMAGED") != std::string::npos) break;
    script += block;
  }
  SetVariable(script, "SITE", site_root.string());
  SetVariable(script, "VERSION", "bags/acme/" + object + "/v1");
  SetVariable(script, "DEST", dest.string());
  return RunProcess({(path_dir / "bash").string(), "-c", script},
                    {"PATH=" + path_dir.string(), "LC_ALL=C"});
}

class ReadmeRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto site =
        Site::Init(std::move(OpenBackend("file://" + (dir_ / "site").string())).value(), "site-a");
    ASSERT_OK(site);
    site_ = std::move(site).value();
    path_dir_ = CoreutilsOnlyPath(dir_ / "bin");
  }

  void ExpectRebuilt(const HandMadeBag& bag, const fs::path& dest) {
    for (const auto& [path, content] : bag.payload)
      EXPECT_EQ(ReadFile(dest / path), content) << path;
    for (const auto& [name, content] : bag.tags) EXPECT_EQ(ReadFile(dest / name), content) << name;
    EXPECT_FALSE(fs::exists(dest / "version.pb"));
    for (const auto& [name, content] : bag.added) EXPECT_FALSE(fs::exists(dest / name)) << name;
    auto validation = bagit::ValidateBag(dest.string(), bagit::ValidateOptions{});
    ASSERT_OK(validation);
    EXPECT_TRUE(validation->report.valid()) << validation->report.ToText(false);
  }

  TempDir dir_;
  std::unique_ptr<Site> site_;
  fs::path path_dir_;
};

TEST_F(ReadmeRestore, PlainBagRebuildsAndPassesSha256sumCheck) {
  HandMadeBag bag = MakeHandMadeBag({{"data/a.txt", "alpha\n"},
                                     {"data/copy-of-a.txt", "alpha\n"},
                                     {"data/images/scan 01.tif", std::string(300000, '\x7f')},
                                     {"data/empty", ""}});
  Store(*site_, "plain", bag);
  fs::path dest = dir_ / "rebuilt";
  auto run = FollowReadme(dir_ / "site", "plain", dest, path_dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("bagit.txt: OK"), std::string::npos)
      << "step 3 must have run: " << run.out;
  ExpectRebuilt(bag, dest);
  // The manifest check a person would run afterwards.
  auto check =
      RunProcess({"bash", "-c", "cd '" + dest.string() + "' && sha256sum -c manifest-sha256.txt"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ReadmeRestore, PercentEncodedNamesAreDecoded) {
  HandMadeBag bag = MakeHandMadeBag({{"data/100% done.txt", "percent\n"},
                                     {"data/line\nbreak.txt", "newline\n"},
                                     {"data/ok.txt", "ok\n"}});
  Store(*site_, "tricky", bag);
  fs::path dest = dir_ / "rebuilt";
  auto run = FollowReadme(dir_ / "site", "tricky", dest, path_dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("OK: data/100% done.txt"), std::string::npos) << run.out;
  ExpectRebuilt(bag, dest);
}

TEST_F(ReadmeRestore, Md5OnlyBagLosesWhatCairnAdded) {
  // The depositor's bag has MD5 manifests only; Cairn stored a sha256 manifest
  // beside it (listed in cairn-added.txt) to map paths to blobs.
  std::map<std::string, std::string> payload = {{"data/a.txt", "alpha\n"},
                                                {"data/sub/b.txt", "beta\n"}};
  HandMadeBag bag = MakeHandMadeBag(payload);
  auto md5 = [](const std::string& bytes) {
    return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kMd5))[bagit::Algorithm::kMd5];
  };
  bag.added[std::string(layout::kSha256ManifestName)] = bag.tags["manifest-sha256.txt"];
  bag.added[std::string(layout::kCairnAddedListName)] = "manifest-sha256.txt\n";
  bag.tags.erase("manifest-sha256.txt");
  bag.tags.erase("tagmanifest-sha256.txt");
  std::string manifest;
  for (const auto& [path, content] : payload) manifest += md5(content) + "  " + path + "\n";
  bag.tags["manifest-md5.txt"] = manifest;
  std::string tagmanifest;
  for (const auto& [name, content] : bag.tags) tagmanifest += md5(content) + "  " + name + "\n";
  bag.tags["tagmanifest-md5.txt"] = tagmanifest;
  Store(*site_, "md5", bag);
  fs::path dest = dir_ / "rebuilt";
  auto run = FollowReadme(dir_ / "site", "md5", dest, path_dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("manifest-md5.txt: OK"), std::string::npos) << run.out;
  ExpectRebuilt(bag, dest);
}

// The bag's empty folders, which its manifests cannot list, are listed by Cairn in
// cairn-empty-folders.txt (encoded as manifest paths); the recipe made none of them.
TEST_F(ReadmeRestore, EmptyFoldersAreMadeAgain) {
  HandMadeBag bag = MakeHandMadeBag({{"data/a.txt", "alpha\n"}});
  bag.added[std::string(layout::kEmptyFoldersListName)] =
      "data/empty\ndata/outer/inner\ndata/100%25 full\ndata/line%0Abreak\nextra\n";
  bag.added[std::string(layout::kCairnAddedListName)] =
      std::string(layout::kEmptyFoldersListName) + "\n";
  Store(*site_, "folders", bag);
  fs::path dest = dir_ / "rebuilt";
  auto run = FollowReadme(dir_ / "site", "folders", dest, path_dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("FAILED"), std::string::npos) << run.out;
  for (const char* folder :
       {"data/empty", "data/outer/inner", "data/100% full", "data/line\nbreak", "extra"}) {
    EXPECT_TRUE(fs::is_directory(dest / folder)) << folder;
    EXPECT_TRUE(fs::is_empty(dest / folder)) << folder;
  }
  ExpectRebuilt(bag, dest);
}

TEST_F(ReadmeRestore, ADamagedBlobIsReportedByTheRecipe) {
  HandMadeBag bag = MakeHandMadeBag({{"data/a.txt", "alpha\n"}, {"data/b.txt", "beta\n"}});
  Store(*site_, "damaged", bag);
  std::string digest = Sha256Hex("beta\n");
  cairn::testing::WriteFile(dir_ / "site" / layout::BlobKey(digest), "BETA\n");
  auto run = FollowReadme(dir_ / "site", "damaged", dir_ / "rebuilt", path_dir_);
  EXPECT_NE(run.out.find("FAILED: data/b.txt"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("OK: data/a.txt"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace cairn::repo
