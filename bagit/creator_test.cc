#include "bagit/creator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <random>
#include <sstream>

#include "bagit/archive.h"
#include "bagit/validator.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;
namespace fs = boost::filesystem;

// Every file and folder below `root` with its content ("<dir>" for folders).
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (fs::recursive_directory_iterator it(root), end; it != end; ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    fs::file_status st = fs::symlink_status(it->path());
    if (fs::is_symlink(st)) {
      out[rel] = "<link " + fs::read_symlink(it->path()).string() + ">";
      it.disable_recursion_pending();
    } else if (fs::is_directory(st)) {
      out[rel] = "<dir>";
    } else {
      out[rel] = ReadFile(it->path());
    }
  }
  return out;
}

// A small source folder with nested folders, an empty folder and an empty file.
void MakeSource(const fs::path& src) {
  WriteFile(src / "a.txt", "alpha\n");
  WriteFile(src / "sub" / "b.bin", std::string(3000, '\x07'));
  WriteFile(src / "sub" / "deeper" / "c.txt", "gamma");
  WriteFile(src / "empty.txt", "");
  fs::create_directories(src / "empty-dir");
}

void ExpectValid(const std::string& bag) {
  ValidateOptions options;
  Result<Validation> v = ValidateBag(bag, options);
  ASSERT_OK(v);
  EXPECT_TRUE(v->report.valid()) << v->report.ToText();
  EXPECT_EQ(v->report.warning_count(), 0u) << v->report.ToText();
  // The one empty folder a bag of MakeSource's folder may have: the bag keeps it as a folder,
  // which no manifest can list.
  for (const std::string& folder : v->contents->empty_folders) {
    EXPECT_EQ(folder, "data/empty-dir");
  }
}

// The manifest of `algorithm` as path -> digest (paths still encoded).
std::map<std::string, std::string> ReadManifest(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadFile(file));
  std::string line;
  while (std::getline(in, line)) {
    size_t sep = line.find("  ");
    out[line.substr(sep + 2)] = line.substr(0, sep);
  }
  return out;
}

std::vector<std::string> Siblings(const fs::path& dir) {
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir), end; it != end; ++it) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CreatorTest, DirectoryBagWithDefaultSha512) {
  TempDir tmp;
  MakeSource(tmp / "src");
  auto before = Snapshot(tmp / "src");
  CreateOptions options;
  options.info.push_back({"Source-Organization", "Example Archive"});
  options.bagging_date = "2026-01-02";
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), options);
  ASSERT_OK(bag);
  EXPECT_EQ(Snapshot(tmp / "src"), before) << "the source was changed";
  EXPECT_EQ(bag->payload_files, 4u);
  EXPECT_EQ(bag->payload_bytes, 6u + 3000 + 5);
  EXPECT_EQ(Siblings(tmp.path()), (std::vector<std::string>{"bag", "src"}));

  EXPECT_EQ(ReadFile(tmp / "bag" / "bagit.txt"),
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  EXPECT_EQ(ReadFile(tmp / "bag" / "bag-info.txt"),
            "Bagging-Date: 2026-01-02\nPayload-Oxum: 3011.4\nBag-Software-Agent: Cairn\n"
            "Source-Organization: Example Archive\n");
  EXPECT_TRUE(fs::is_directory(tmp / "bag" / "data" / "empty-dir"));
  EXPECT_EQ(ReadFile(tmp / "bag" / "data" / "sub" / "deeper" / "c.txt"), "gamma");

  auto manifest = ReadManifest(tmp / "bag" / "manifest-sha512.txt");
  ASSERT_EQ(manifest.size(), 4u);
  EXPECT_EQ(manifest["data/a.txt"],
            HashBytes("alpha\n", Only(Algorithm::kSha512))[Algorithm::kSha512]);
  EXPECT_EQ(manifest["data/empty.txt"],
            HashBytes("", Only(Algorithm::kSha512))[Algorithm::kSha512]);
  auto tags = ReadManifest(tmp / "bag" / "tagmanifest-sha512.txt");
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags["manifest-sha512.txt"], HashBytes(ReadFile(tmp / "bag" / "manifest-sha512.txt"),
                                                   Only(Algorithm::kSha512))[Algorithm::kSha512]);
  EXPECT_EQ(tags.count("bag-info.txt"), 1u);
  EXPECT_FALSE(fs::exists(tmp / "bag" / "manifest-sha256.txt"));
  ExpectValid((tmp / "bag").string());
}

TEST(CreatorTest, SeveralAlgorithmsAndManyFilesOnSeveralThreads) {
  TempDir tmp;
  std::mt19937 gen(5);
  for (int i = 0; i < 120; ++i) {
    std::string name = "d" + std::to_string(i % 7) + "/f" + std::to_string(i);
    WriteFile(tmp / "src" / name,
              std::string(gen() % 5000 + (i == 3 ? (3 << 20) : 0), 'a' + i % 26));
  }
  CreateOptions options;
  for (Algorithm a : {Algorithm::kMd5, Algorithm::kSha1, Algorithm::kSha256, Algorithm::kSha512}) {
    options.algorithms.set(static_cast<size_t>(a));
  }
  options.threads = 3;
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), options);
  ASSERT_OK(bag);
  EXPECT_EQ(bag->algorithms.size(), 4u);
  for (const char* alg : {"md5", "sha1", "sha256", "sha512"}) {
    EXPECT_EQ(ReadManifest(tmp / "bag" / ("manifest-" + std::string(alg) + ".txt")).size(), 120u);
    EXPECT_EQ(ReadManifest(tmp / "bag" / ("tagmanifest-" + std::string(alg) + ".txt")).size(), 6u);
  }
  // tag_files: bagit, bag-info, 4 manifests, 4 tag manifests.
  EXPECT_EQ(bag->tag_files.size(), 10u);
  ExpectValid((tmp / "bag").string());
}

TEST(CreatorTest, NamesNeedingPercentEncoding) {
  TempDir tmp;
  WriteFile(tmp / "src" / "line\nbreak.txt", "newline");
  WriteFile(tmp / "src" / "100%.txt", "percent");
  WriteFile(tmp / "src" / "cr\rname", "carriage");
  WriteFile(tmp / "src" / "caf\xc3\xa9 %0A.txt", "literal");
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), {});
  ASSERT_OK(bag);
  auto manifest = ReadManifest(tmp / "bag" / "manifest-sha512.txt");
  EXPECT_EQ(manifest.count("data/line%0Abreak.txt"), 1u);
  EXPECT_EQ(manifest.count("data/100%25.txt"), 1u);
  EXPECT_EQ(manifest.count("data/cr%0Dname"), 1u);
  EXPECT_EQ(manifest.count("data/caf\xc3\xa9 %250A.txt"), 1u);
  ExpectValid((tmp / "bag").string());
}

class CreatorArchiveTest : public ::testing::TestWithParam<BagFormat> {};

TEST_P(CreatorArchiveTest, SerializedBagValidatesAndHasTheRightLayout) {
  TempDir tmp;
  MakeSource(tmp / "src");
  WriteFile(tmp / "src" / "odd 100%\nname", "x");
  // NFD names (as a Mac writes them): the archive keeps their bytes, but libarchive reads a
  // name marked UTF-8 (a pax header's, a zip's) back in NFC, so they matched no manifest line
  // and Cairn refused its own archive. They are taken under their manifests' names, said once.
  const std::string nfd = "Cafe\xcc\x81.txt";
  const std::string hangul = "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab";
  WriteFile(tmp / "src" / nfd, "decomposed");
  WriteFile(tmp / "src" / hangul / "x", "hangul");
  const char* ext = GetParam() == BagFormat::kTar   ? ".tar"
                    : GetParam() == BagFormat::kZip ? ".zip"
                                                    : ".tgz";
  std::string dest = (tmp / (std::string("my-bag") + ext)).string();
  CreateOptions options;
  options.format = GetParam();
  options.algorithms = Only(Algorithm::kSha256).set(static_cast<size_t>(Algorithm::kMd5));
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), dest, options);
  ASSERT_OK(bag);
  EXPECT_EQ(bag->top_folder, "my-bag");
  EXPECT_EQ(Siblings(tmp.path()), (std::vector<std::string>{std::string("my-bag") + ext, "src"}));
  {
    Result<Validation> v = ValidateBag(dest, ValidateOptions{});
    ASSERT_OK(v);
    EXPECT_TRUE(v->report.valid()) << v->report.ToText();
    for (const Finding& f : v->report.findings()) {
      EXPECT_EQ(f.rule, "archive.name-normalized") << v->report.ToText();
    }
    EXPECT_EQ(v->contents->empty_folders, std::vector<std::string>{"data/empty-dir"});
    EXPECT_TRUE(v->report.Has("archive.name-normalized")) << v->report.ToText();
  }
  if (GetParam() == BagFormat::kTar) {  // the bytes written are the NFD ones
    EXPECT_NE(ReadFile(dest).find("my-bag/data/" + nfd), std::string::npos);
  }

  auto reader = ArchiveReader::Open(dest);
  ASSERT_OK(reader);
  std::vector<std::string> names;
  ArchiveEntry entry;
  while (*(*reader)->Next(&entry)) names.push_back(entry.path);
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[0], "my-bag/");
  EXPECT_EQ(names[1], "my-bag/bagit.txt");
  EXPECT_EQ(names[2], "my-bag/bag-info.txt");
  EXPECT_NE(std::find(names.begin(), names.end(), "my-bag/data/empty-dir/"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "my-bag/data/odd 100%\nname"), names.end());
  // As libarchive reads them back: in NFC.
  EXPECT_NE(std::find(names.begin(), names.end(), "my-bag/data/Caf\xc3\xa9.txt"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "my-bag/data/\xed\x95\x9c/x"), names.end());
  EXPECT_EQ(names.back(), "my-bag/tagmanifest-sha256.txt");
}

INSTANTIATE_TEST_SUITE_P(Formats, CreatorArchiveTest,
                         ::testing::Values(BagFormat::kTar, BagFormat::kTarGz, BagFormat::kZip));

TEST(CreatorTest, SymlinksAndSpecialFilesAreRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  MakeSource(tmp / "src");
  fs::create_symlink("a.txt", tmp / "src" / "sub" / "link-to-a");
  ASSERT_EQ(::mkfifo((tmp / "src" / "pipe").c_str(), 0644), 0);
  for (BagFormat format : {BagFormat::kDirectory, BagFormat::kZip}) {
    CreateOptions options;
    options.format = format;
    std::string dest = (tmp / (format == BagFormat::kZip ? "bag.zip" : "bag")).string();
    Result<CreatedBag> bag = CreateBag((tmp / "src").string(), dest, options);
    ASSERT_FALSE(bag.ok());
    EXPECT_EQ(bag.status().code(), Code::kInvalidArgument);
    EXPECT_NE(bag.status().message().find("'sub/link-to-a': is a symlink"), std::string::npos)
        << bag.status().message();
    EXPECT_NE(bag.status().message().find("'pipe': is a device, fifo or socket"),
              std::string::npos);
    EXPECT_EQ(Siblings(tmp.path()), (std::vector<std::string>{"src"})) << "something was written";
  }
}

TEST(CreatorTest, FollowSymlinksOnlyInsideTheSource) {
  TempDir tmp;
  MakeSource(tmp / "src");
  WriteFile(tmp / "outside.txt", "secret");
  fs::create_symlink("../a.txt", tmp / "src" / "sub" / "link-to-a");
  fs::create_symlink("sub", tmp / "src" / "link-to-sub");
  CreateOptions options;
  options.follow_symlinks = true;
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), options);
  ASSERT_OK(bag);
  EXPECT_EQ(ReadFile(tmp / "bag" / "data" / "sub" / "link-to-a"), "alpha\n");
  EXPECT_EQ(ReadFile(tmp / "bag" / "data" / "link-to-sub" / "deeper" / "c.txt"), "gamma");
  EXPECT_FALSE(fs::is_symlink(tmp / "bag" / "data" / "sub" / "link-to-a"));
  ExpectValid((tmp / "bag").string());

  fs::create_symlink("../outside.txt", tmp / "src" / "escape");
  fs::create_symlink("..", tmp / "src" / "sub" / "loop");
  Result<CreatedBag> refused = CreateBag((tmp / "src").string(), (tmp / "bag2").string(), options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("'escape': is a symlink whose target is missing or "
                                            "outside"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("'sub/loop'"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp / "bag2"));
}

TEST(CreatorTest, EmptySourceMakesAValidEmptyBag) {
  TempDir tmp;
  fs::create_directories(tmp / "src");
  for (BagFormat format : {BagFormat::kDirectory, BagFormat::kTarGz}) {
    CreateOptions options;
    options.format = format;
    std::string dest = (tmp / (format == BagFormat::kDirectory ? "bag" : "bag.tgz")).string();
    Result<CreatedBag> bag = CreateBag((tmp / "src").string(), dest, options);
    ASSERT_OK(bag);
    EXPECT_EQ(bag->payload_files, 0u);
    ExpectValid(dest);
  }
  EXPECT_TRUE(fs::is_empty(tmp / "bag" / "data"));
  EXPECT_NE(ReadFile(tmp / "bag" / "bag-info.txt").find("Payload-Oxum: 0.0\n"), std::string::npos);
  EXPECT_EQ(ReadFile(tmp / "bag" / "manifest-sha512.txt"), "");
}

TEST(CreatorTest, ExistingDestinationIsRefusedButAnEmptyFolderIsUsed) {
  TempDir tmp;
  MakeSource(tmp / "src");
  WriteFile(tmp / "full" / "keep.txt", "mine");
  Result<CreatedBag> full = CreateBag((tmp / "src").string(), (tmp / "full").string(), {});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(ReadFile(tmp / "full" / "keep.txt"), "mine");

  WriteFile(tmp / "file.zip", "not mine to overwrite");
  CreateOptions zip;
  zip.format = BagFormat::kZip;
  EXPECT_EQ(CreateBag((tmp / "src").string(), (tmp / "file.zip").string(), zip).status().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(ReadFile(tmp / "file.zip"), "not mine to overwrite");

  fs::create_directories(tmp / "empty");
  Result<CreatedBag> into_empty = CreateBag((tmp / "src").string(), (tmp / "empty").string(), {});
  ASSERT_OK(into_empty);
  ExpectValid((tmp / "empty").string());

  Result<CreatedBag> inside =
      CreateBag((tmp / "src").string(), (tmp / "src" / "sub" / "bag").string(), {});
  ASSERT_FALSE(inside.ok());
  EXPECT_NE(inside.status().message().find("inside the source"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp / "src" / "sub" / "bag"));

  EXPECT_TRUE(
      CreateBag((tmp / "missing").string(), (tmp / "x").string(), {}).status().IsNotFound());
}

TEST(CreatorTest, InPlaceMovesContentIntoData) {
  TempDir tmp;
  MakeSource(tmp / "src");
  WriteFile(tmp / "src" / "data" / "old.txt", "a folder named data");
  WriteFile(tmp / "src" / "bagit.txt", "a payload file named like a tag file");
  CreateOptions options;
  options.in_place = true;
  options.algorithms = Only(Algorithm::kSha256);
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), "", options);
  ASSERT_OK(bag);
  EXPECT_EQ(Siblings(tmp / "src"),
            (std::vector<std::string>{"bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt",
                                      "tagmanifest-sha256.txt"}));
  EXPECT_EQ(ReadFile(tmp / "src" / "data" / "data" / "old.txt"), "a folder named data");
  EXPECT_EQ(ReadFile(tmp / "src" / "data" / "bagit.txt"), "a payload file named like a tag file");
  EXPECT_EQ(ReadFile(tmp / "src" / "data" / "sub" / "deeper" / "c.txt"), "gamma");
  ExpectValid((tmp / "src").string());
}

TEST(CreatorTest, InPlaceRefusalLeavesTheFolderAsItWas) {
  TempDir tmp;
  MakeSource(tmp / "src");
  fs::create_symlink("a.txt", tmp / "src" / "link");
  auto before = Snapshot(tmp / "src");
  CreateOptions options;
  options.in_place = true;
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), "", options);
  ASSERT_FALSE(bag.ok());
  EXPECT_EQ(Snapshot(tmp / "src"), before);

  fs::remove(tmp / "src" / "link");
  before = Snapshot(tmp / "src");
  // An unreadable file fails the hashing pass, before anything moves.
  if (::geteuid() != 0) {
    fs::permissions(tmp / "src" / "a.txt", fs::no_perms);
    ASSERT_FALSE(CreateBag((tmp / "src").string(), "", options).ok());
    fs::permissions(tmp / "src" / "a.txt", fs::owner_read | fs::owner_write);
    EXPECT_EQ(Snapshot(tmp / "src"), before);
  }
  options.format = BagFormat::kZip;
  EXPECT_EQ(CreateBag((tmp / "src").string(), "", options).status().code(), Code::kInvalidArgument);
}

TEST(CreatorTest, InfoArgumentsAreChecked) {
  Result<InfoField> ok = ParseInfoArgument("Contact-Name:  Ada Lovelace");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->label, "Contact-Name");
  EXPECT_EQ(ok->value, "Ada Lovelace");
  EXPECT_OK(ParseInfoArgument("External-Description:"));
  EXPECT_OK(ParseInfoArgument("Time: 12:30"));
  EXPECT_FALSE(ParseInfoArgument("no colon here").ok());
  EXPECT_FALSE(ParseInfoArgument(": value").ok());
  EXPECT_FALSE(ParseInfoArgument(" Label: value").ok());
  EXPECT_FALSE(ParseInfoArgument("Label : value").ok());
  EXPECT_FALSE(ParseInfoArgument("Label: two\nlines").ok());
  EXPECT_FALSE(ParseInfoArgument("La\tbel: v").ok());
  EXPECT_NE(ParseInfoArgument("Label : v").status().message().find("whitespace"),
            std::string::npos);

  TempDir tmp;
  WriteFile(tmp / "src" / "a", "a");
  CreateOptions options;
  options.info.push_back({"Payload-Oxum", "1.1"});
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), options);
  ASSERT_FALSE(bag.ok());
  EXPECT_NE(bag.status().message().find("Payload-Oxum"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp / "bag"));
}

TEST(CreatorTest, NonUtf8NamesAreRefused) {
  TempDir tmp;
  WriteFile(tmp / "src" / "latin1-caf\xe9.txt", "x");
  WriteFile(tmp / "src" / "back\\slash", "x");
  Result<CreatedBag> bag = CreateBag((tmp / "src").string(), (tmp / "bag").string(), {});
  ASSERT_FALSE(bag.ok());
  EXPECT_NE(bag.status().message().find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(bag.status().message().find("back\\slash"), std::string::npos)
      << bag.status().message();
  EXPECT_FALSE(fs::exists(tmp / "bag"));
}

}  // namespace
}  // namespace cairn::bagit
