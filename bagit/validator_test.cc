// The validator on real directories: the golden bags of tests/fixtures/bags,
// the three modes, links and special files, encodings, hostile sizes.
#include "bagit/validator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "bagit/bag_checker.h"
#include "bagit/paths.h"
#include "bagit/tag_files.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::bagit {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::FixturePath;
using cairn::testing::ReadFile;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;

// Writes a valid bag at `dir`: payload `files` (paths under data/), sha256 and md5
// manifests, bag-info.txt with Payload-Oxum, a sha256 tag manifest.
void MakeBag(const fs::path& dir, const std::map<std::string, std::string>& files,
             const std::string& version = "1.0") {
  fs::create_directories(dir / "data");
  WriteFile(dir / "bagit.txt",
            "BagIt-Version: " + version + "\nTag-File-Character-Encoding: UTF-8\n");
  std::string sha256, md5;
  uint64_t bytes = 0;
  for (const auto& [path, content] : files) {
    WriteFile(dir / path, content);
    AlgorithmSet both = Only(Algorithm::kSha256) | Only(Algorithm::kMd5);
    Digests d = HashBytes(content, both);
    std::string encoded = EncodeManifestPath(path);
    sha256 += d[Algorithm::kSha256] + "  " + encoded + "\n";
    md5 += d[Algorithm::kMd5] + "  " + encoded + "\n";
    bytes += content.size();
  }
  WriteFile(dir / "manifest-sha256.txt", sha256);
  WriteFile(dir / "manifest-md5.txt", md5);
  WriteFile(dir / "bag-info.txt",
            "Source-Organization: Cairn\nPayload-Oxum: " + std::to_string(bytes) + "." +
                std::to_string(files.size()) + "\n");
  std::string tags;
  for (const char* t : {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-md5.txt"}) {
    tags +=
        HashBytes(ReadFile(dir / t), Only(Algorithm::kSha256))[Algorithm::kSha256] + " " + t + "\n";
  }
  WriteFile(dir / "tagmanifest-sha256.txt", tags);
}

Report Validate(const fs::path& bag, ValidationMode mode = ValidationMode::kFull) {
  ValidateOptions options;
  options.mode = mode;
  options.threads = 2;
  Result<Validation> v = ValidateBag(bag.string(), options);
  EXPECT_OK(v);
  return v.ok() ? std::move(v->report) : Report();
}

TEST(GoldenBagsTest, EachBagReportsItsRule) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"oxum-mismatch-and-corrupt-file", {"bag-info.oxum-mismatch", "payload.digest-mismatch"}},
      {"manifest-lists-directory", {"manifest.lists-directory"}},
      {"bad-tagmanifest", {"tagmanifest.digest-mismatch"}},
      {"fetch-names-tag-file", {"fetch.path-outside-data"}},
      {"v1.0-whitespace-before-colon", {"bag-info.whitespace-before-colon"}},
      {"tagmanifest-lists-tagmanifest", {"tagmanifest.lists-tagmanifest"}},
  };
  for (const auto& [name, rules] : expected) {
    Report r = Validate(FixturePath("bags/" + name));
    EXPECT_FALSE(r.valid()) << name;
    for (const std::string& rule : rules)
      EXPECT_TRUE(r.Has(rule)) << name << ": " << rule << "\n" << r.ToText();
  }
  for (const char* name : {"crlf-tag-files", "v0.97-whitespace-before-colon"}) {
    Report r = Validate(FixturePath(std::string("bags/") + name));
    EXPECT_TRUE(r.valid()) << r.ToText();
    EXPECT_EQ(r.warning_count(), 0u) << r.ToText();
  }
}

TEST(GoldenBagsTest, OxumMismatchDoesNotHideWhichFileIsWrong) {
  Report r = Validate(FixturePath("bags/oxum-mismatch-and-corrupt-file"));
  ASSERT_EQ(r.error_count(), 2u) << r.ToText();
  bool named = false;
  for (const Finding& f : r.findings()) named |= f.file == "data/hello.txt";
  EXPECT_TRUE(named);
}

TEST(ValidatorTest, ModesCompletenessOnlyAndFast) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/a.txt", "alpha"}, {"data/b/c.txt", "gamma"}});
  EXPECT_TRUE(Validate(tmp.path()).valid());
  WriteFile(tmp / "data/a.txt", "ALPHA");  // same size, different bytes
  Report full = Validate(tmp.path());
  EXPECT_TRUE(full.Has("payload.digest-mismatch"));
  EXPECT_EQ(full.error_count(), 2u);  // one per manifest (sha256, md5)
  Report completeness = Validate(tmp.path(), ValidationMode::kCompletenessOnly);
  EXPECT_TRUE(completeness.valid()) << completeness.ToText();
  EXPECT_EQ(completeness.mode, ValidationMode::kCompletenessOnly);
  EXPECT_NE(completeness.ToText().find("no file was hashed"), std::string::npos);
  Report fast = Validate(tmp.path(), ValidationMode::kFast);
  EXPECT_TRUE(fast.valid());
  EXPECT_NE(fast.ToText().find("Payload-Oxum only"), std::string::npos);

  fs::remove(tmp / "data/b/c.txt");
  EXPECT_TRUE(Validate(tmp.path(), ValidationMode::kCompletenessOnly).Has("payload.missing"));
  Report fast_missing = Validate(tmp.path(), ValidationMode::kFast);
  EXPECT_TRUE(fast_missing.Has("bag-info.oxum-mismatch"));
  EXPECT_FALSE(fast_missing.Has("payload.missing"));
}

// A folder under data/ with no file below it: no manifest can list it, so the
// contents keep the deepest empty ones (a deposit stores them with the
// version); the bag stays valid, with nothing to warn about.
TEST(ValidatorTest, EmptyPayloadFoldersAreKeptInTheContents) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/kept/a.txt", "alpha"}, {"data/kept/deep/b.txt", "beta"}});
  fs::create_directories(tmp / "data/empty");
  fs::create_directories(tmp / "data/outer/inner");
  fs::create_directories(tmp / "data/kept/deep/also-empty");
  Result<Validation> v = ValidateBag(tmp.path().string(), ValidateOptions{});
  ASSERT_OK(v);
  EXPECT_TRUE(v->report.valid()) << v->report.ToText();
  EXPECT_EQ(v->report.warning_count(), 0u) << v->report.ToText();
  EXPECT_EQ(
      v->contents->empty_folders,
      (std::vector<std::string>{"data/empty", "data/kept/deep/also-empty", "data/outer/inner"}));
  // A name that cannot be a payload path is refused, as a file's would be.
  fs::create_directories(tmp / "data/back\\slash");
  Report refused = Validate(tmp.path());
  EXPECT_TRUE(refused.Has("path.backslash")) << refused.ToText();
  EXPECT_FALSE(refused.valid());
}

TEST(ValidatorTest, SymlinkToOutsideIsRefusedAndNeverFollowed) {
  TempDir tmp;
  fs::path outside = tmp / "secret.txt";
  WriteFile(outside, "secret");
  fs::path bag = tmp / "bag";
  MakeBag(bag, {{"data/a.txt", "alpha"}, {"data/link", "secret"}});
  fs::remove(bag / "data/link");
  fs::create_symlink(outside, bag / "data/link");  // manifest digest matches the outside file
  Report r = Validate(bag);
  EXPECT_FALSE(r.valid());
  EXPECT_TRUE(r.Has("payload.symlink")) << r.ToText();
  EXPECT_FALSE(r.Has("payload.missing")) << "the link is reported once, as a link";
}

TEST(ValidatorTest, FifoAndTagSymlinkAreRefusedWithoutBeingOpened) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/a.txt", "alpha"}});
  ASSERT_EQ(mkfifo((tmp / "data/pipe").c_str(), 0600), 0);  // opening it would block
  fs::create_symlink("/etc/passwd", tmp / "extra-tag.txt");
  Report r = Validate(tmp.path());
  EXPECT_TRUE(r.Has("payload.special-file")) << r.ToText();
  EXPECT_TRUE(r.Has("tag.symlink")) << r.ToText();
  // A bagit.txt that is a link to a good bagit.txt elsewhere is still not followed.
  WriteFile(tmp / "real-bagit.txt", ReadFile(tmp / "bagit.txt"));
  fs::remove(tmp / "bagit.txt");
  fs::create_symlink(tmp / "real-bagit.txt", tmp / "bagit.txt");
  Report linked = Validate(tmp.path());
  EXPECT_TRUE(linked.Has("bag.bagit-txt-missing")) << linked.ToText();
  bool named = false;
  for (const Finding& f : linked.findings())
    named |= f.file == "bagit.txt" && f.rule == "tag.symlink";
  EXPECT_TRUE(named) << linked.ToText();
}

TEST(ValidatorTest, PercentEncodedNamesAndEveryManifest) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/50%.txt", "x"}, {"data/two\nlines", "y"}, {"data/plain", "z"}});
  EXPECT_NE(ReadFile(tmp / "manifest-sha256.txt").find("data/50%25.txt"), std::string::npos);
  Report r = Validate(tmp.path());
  EXPECT_TRUE(r.valid()) << r.ToText();
  // BagIt 1.0: a file missing from one manifest is an error even if another lists it.
  std::string md5 = ReadFile(tmp / "manifest-md5.txt");
  WriteFile(tmp / "manifest-md5.txt", md5.substr(md5.find('\n') + 1));
  Report partial = Validate(tmp.path(), ValidationMode::kCompletenessOnly);
  EXPECT_TRUE(partial.Has("payload.not-in-every-manifest")) << partial.ToText();
}

// RFC 8493 section 3: valid means complete. A file still to be fetched makes
// the bag incomplete, so invalid, unless the caller allows fetching later.
TEST(ValidatorTest, HoleyBagIsIncompleteSoInvalidUnlessFetchIsAllowed) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/here.txt", "here"}, {"data/there.txt", "there"}});
  fs::remove(tmp / "data/there.txt");
  WriteFile(tmp / "bag-info.txt", "Source-Organization: Cairn\n");
  fs::remove(tmp / "tagmanifest-sha256.txt");  // bag-info.txt changed
  WriteFile(tmp / "fetch.txt", "https://example.org/there.txt 5 data/there.txt\n");
  for (ValidationMode mode : {ValidationMode::kFull, ValidationMode::kCompletenessOnly}) {
    Report r = Validate(tmp.path(), mode);
    EXPECT_FALSE(r.valid()) << r.ToText();
    EXPECT_FALSE(r.complete);
    ASSERT_EQ(r.error_count(), 1u) << r.ToText();
    EXPECT_EQ(r.findings()[0].rule, "complete.fetch-not-retrieved");
    EXPECT_EQ(r.findings()[0].file, "data/there.txt");
    EXPECT_EQ(r.findings()[0].severity, Severity::kError);
  }
  ValidateOptions allow;
  allow.allow_fetch = true;
  Result<Validation> later = ValidateBag(tmp.path().string(), allow);
  ASSERT_OK(later);
  EXPECT_TRUE(later->report.valid()) << later->report.ToText();
  EXPECT_FALSE(later->report.complete);
  EXPECT_TRUE(later->report.Has("complete.fetch-not-retrieved"));
  EXPECT_NE(later->report.ToText().find("incomplete"), std::string::npos);
  // --fast does not look at payload names: it says so rather than pass silently.
  Report fast = Validate(tmp.path(), ValidationMode::kFast);
  EXPECT_TRUE(fast.Has("fast.fetch-unchecked")) << fast.ToText();
  // Fetched: complete and valid, fetch.txt and all.
  WriteFile(tmp / "data/there.txt", "there");
  Report fetched = Validate(tmp.path());
  EXPECT_TRUE(fetched.valid()) << fetched.ToText();
  EXPECT_TRUE(fetched.complete);
  WriteFile(tmp / "fetch.txt", "https://example.org/x 5 data/unlisted.txt\n");
  EXPECT_TRUE(Validate(tmp.path()).Has("fetch.not-in-manifest"));
}

TEST(ValidatorTest, MissingDataAndNotABag) {
  TempDir tmp;
  MakeBag(tmp.path(), {});
  EXPECT_TRUE(Validate(tmp.path()).valid()) << "an empty payload is a valid bag";
  fs::remove_all(tmp / "data");
  EXPECT_TRUE(Validate(tmp.path()).Has("bag.data-missing"));
  Result<Validation> missing = ValidateBag((tmp / "nope").string(), ValidateOptions{});
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(ValidatorTest, HostileSizesAreRefusedWithFileAndLine) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/a.txt", "alpha"}});
  // A 10 MB manifest line.
  std::string manifest = ReadFile(tmp / "manifest-sha256.txt");
  WriteFile(tmp / "manifest-sha256.txt",
            manifest + std::string(64, 'a') + "  data/" + std::string(10 << 20, 'x') + "\n");
  // A bag-info.txt of a million lines.
  std::string info;
  for (int i = 0; i < 1000000; ++i) info += "Label: value\n";
  WriteFile(tmp / "bag-info.txt", info);
  Report r = Validate(tmp.path());
  bool line_named = false;
  for (const Finding& f : r.findings()) {
    if (f.rule == "tag.line-too-long") {
      EXPECT_EQ(f.file, "manifest-sha256.txt");
      EXPECT_EQ(f.line, 2u);
      line_named = true;
    }
  }
  EXPECT_TRUE(line_named) << r.ToText();
  EXPECT_TRUE(r.Has("tag.too-large")) << r.ToText();
}

TEST(ValidatorTest, OversizedBagInfoIsNotReadToItsEnd) {
  // A bag-info.txt that would go on for 1 GiB: the checker refuses it and
  // stops pulling bytes soon after the 8 MiB limit, and the tag manifests are
  // not compared with the digest of the part it read.
  Report report;
  BagContents contents;
  BagChecker checker(ValidateOptions{}, &report, &contents);
  uint64_t delivered = 0;
  const std::string chunk(1 << 20, 'x');
  ByteSource huge = [&](const ChunkSink& sink) -> Status {
    for (int i = 0; i < 1024; ++i) {
      delivered += chunk.size();
      CAIRN_RETURN_IF_ERROR(sink(std::as_bytes(std::span<const char>(chunk))));
    }
    return Status::OK();
  };
  ASSERT_OK(checker.TagFile("bag-info.txt", huge));
  EXPECT_TRUE(report.Has("tag.too-large")) << report.ToText();
  EXPECT_TRUE(checker.oversized_tag());
  EXPECT_LE(delivered, kMaxSmallTagFile + chunk.size());
  const TagFileRecord* record = contents.FindTagFile("bag-info.txt");
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE(record->digests[Algorithm::kSha256].empty());
}

TEST(ValidatorTest, ContentsServeDeposit) {
  TempDir tmp;
  MakeBag(tmp.path(), {{"data/a.txt", "alpha"}, {"data/b.txt", "beta"}});
  Result<Validation> v = ValidateBag(tmp.path().string(), ValidateOptions{});
  ASSERT_OK(v);
  ASSERT_TRUE(v->report.valid());
  const BagContents& c = *v->contents;
  EXPECT_EQ(c.declaration.version.ToString(), "1.0");
  EXPECT_EQ(c.bag_info.Values("Source-Organization"), std::vector<std::string>{"Cairn"});
  ASSERT_EQ(c.manifests->size(), 2u);
  auto id = c.manifests->Find("data/a.txt");
  ASSERT_TRUE(id);
  EXPECT_EQ(c.manifests->HexDigest(*id, Algorithm::kSha256),
            HashBytes("alpha", Only(Algorithm::kSha256))[Algorithm::kSha256]);
  const TagFileRecord* info = c.FindTagFile("bag-info.txt");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(
      info->digests[Algorithm::kSha256],
      HashBytes(ReadFile(tmp / "bag-info.txt"), Only(Algorithm::kSha256))[Algorithm::kSha256]);
  EXPECT_EQ(c.tag_files.size(), 5u);
}

}  // namespace
}  // namespace cairn::bagit
