// Validation and deposit read a bag through the same walker (bagit/bag_walker.h):
// on a bag each used to judge differently, they now give the same verdict and
// the same findings, word for word.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "bagit/dir_list.h"
#include "bagit/validator.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deep_folders.h"
#include "tests/util/deposit_fixture.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using bagit::Algorithm;
using bagit::Finding;
using bagit::Severity;
using cairn::testing::DepositTest;
using cairn::testing::FirstPathPastPathMax;
using cairn::testing::MakeDeepFolders;
using cairn::testing::RemoveDeepFolders;
using cairn::testing::WriteFile;

// The errors of a report as "file: rule: message" lines.
std::vector<std::string> Errors(const bagit::Report& report) {
  std::vector<std::string> out;
  for (const Finding& f : report.findings()) {
    if (f.severity == Severity::kError) out.push_back(f.ToString());
  }
  return out;
}

class DepositVerdictTest : public DepositTest {
 protected:
  // Validates and deposits `source`; both must refuse it with the same errors,
  // which must include `rule` naming `file`.
  void ExpectSameRefusal(const fs::path& source, const std::string& file, const std::string& rule) {
    Result<bagit::Validation> v = bagit::ValidateBag(source.string(), bagit::ValidateOptions{});
    ASSERT_OK(v);
    DepositOutcome d = Run("acme", source.string());
    EXPECT_FALSE(v->report.valid()) << v->report.ToText();
    EXPECT_TRUE(d.refused) << d.report.ToText();
    EXPECT_EQ(Errors(v->report), Errors(d.report));
    bool named = false;
    for (const Finding& f : d.report.findings()) {
      named |= f.severity == Severity::kError && f.rule == rule && f.file == file;
    }
    EXPECT_TRUE(named) << rule << " on " << file << "\n" << d.report.ToText();
  }
};

// Adds a regular member `name` holding `content`.
void AddMember(bagit::ArchiveWriter* writer, const std::string& name, const std::string& content) {
  ASSERT_OK(writer->BeginFile(name, content.size()));
  ASSERT_OK(
      writer->WriteData(std::as_bytes(std::span<const char>(content.data(), content.size()))));
}

// A payload manifest after payload already checked against an earlier one: refused where the
// archive cannot be read ahead (compressed); an uncompressed tar of the same members is read
// ahead, both manifests check the payload, and it is stored.
TEST_F(DepositVerdictTest, ManifestAfterPayloadInAnArchive) {
  for (bagit::ArchiveFormat format : {bagit::ArchiveFormat::kTarGz, bagit::ArchiveFormat::kTar}) {
    bool gz = format == bagit::ArchiveFormat::kTarGz;
    fs::path archive = dir_ / (gz ? "late.tgz" : "late.tar");
    auto writer = bagit::ArchiveWriter::Create(archive.string(), format);
    ASSERT_OK(writer);
    auto line = [](Algorithm a) {
      return bagit::HashBytes("hello", bagit::Only(a))[a] + "  data/hello.txt\n";
    };
    AddMember(writer->get(), "late/bagit.txt",
              "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
    AddMember(writer->get(), "late/manifest-md5.txt", line(Algorithm::kMd5));
    AddMember(writer->get(), "late/data/hello.txt", "hello");
    AddMember(writer->get(), "late/manifest-sha256.txt", line(Algorithm::kSha256));
    ASSERT_OK((*writer)->Finish());
    if (gz) {
      ExpectSameRefusal(archive, "manifest-sha256.txt", "archive.manifest-after-payload");
      ExpectNothingStored("acme", "late");
    } else {
      DepositOutcome d = Run("acme", archive.string());
      ASSERT_TRUE(d.receipt) << d.report.ToText();
      EXPECT_EQ(d.receipt->files, 1u);
    }
  }
}

TEST_F(DepositVerdictTest, UnreadableTagEntryInAFolder) {
  // A tag folder whose depths cannot be reached by name (ENAMETOOLONG): it
  // cannot be read whoever runs the test, root included. The one walker names it
  // by its rule, source.path-too-long, for validation and deposit alike.
  fs::path bag = dir_ / "deep";
  MakeBag(bag, {{"data/a.txt", "a"}}, Algorithm::kSha256);
  fs::create_directories(bag / "extra");
  const std::string name(200, 'd');
  MakeDeepFolders(bag / "extra", name, PATH_MAX / 200 + 2);
  // The first entry whose full path no longer fits is the one refused.
  const std::string rel = FirstPathPastPathMax(bag, "extra", name);
  ExpectSameRefusal(bag, rel, std::string(bagit::kPathTooLongRule));
  ExpectNothingStored("acme", "deep");
  RemoveDeepFolders(bag / "extra", name);
}

TEST_F(DepositVerdictTest, LinkedBagitTxtInAFolder) {
  // Deposit used to skip a bagit.txt that is not a regular file without naming
  // it; the one walker names it, as validation always did.
  fs::path bag = dir_ / "linked";
  MakeBag(bag, {{"data/a.txt", "a"}}, Algorithm::kSha256);
  fs::rename(bag / "bagit.txt", dir_ / "bagit.txt");
  fs::create_symlink(dir_ / "bagit.txt", bag / "bagit.txt");
  ExpectSameRefusal(bag, "bagit.txt", "tag.symlink");
  ExpectNothingStored("acme", "linked");
}

// Every finding of a report as "file: rule: message" lines, sorted: a bag's
// payload files are checked on several threads, so their findings come in
// the order the files finish.
std::vector<std::string> Findings(const bagit::Report& report) {
  std::vector<std::string> out;
  for (const Finding& f : report.findings()) out.push_back(f.ToString());
  std::sort(out.begin(), out.end());
  return out;
}

class ManifestIndexPlaceTest : public DepositTest {
 protected:
  // Deposits `source` as `object` with `memory_bytes` for the manifest index.
  DepositOutcome RunWith(const fs::path& source, const std::string& object, uint64_t memory_bytes) {
    DepositRequest request;
    request.partner = "acme";
    request.source = source.string();
    request.object_id = object;
    request.manifest_memory_bytes = memory_bytes;
    return Run(std::move(request));
  }
};

// A bag's manifests are indexed in memory when three times their size fits in
// DepositRequest::manifest_memory_bytes, in the scratch file otherwise: a bag
// with every kind of manifest fault is refused with the same findings, word
// for word, either way.
TEST_F(ManifestIndexPlaceTest, ABagsFaultsAreFoundTheSameInMemoryAndOnDisk) {
  fs::path bag = dir_ / "faulty";
  MakeBag(bag, {{"data/a.txt", "a"}, {"data/b.txt", "b"}, {"data/c.txt", "c"}, {"data/D.txt", "D"}},
          Algorithm::kSha256);
  WriteFile(bag / "data/b.txt", "B");  // digest mismatch
  fs::remove(bag / "data/c.txt");      // listed, missing
  WriteFile(bag / "data/e.txt", "e");  // not listed
  WriteFile(bag / "data/d.txt", "d");  // differs from data/D.txt only in case
  std::string sha256 = cairn::testing::ReadFile(bag / "manifest-sha256.txt");
  // A path listed twice, and a second manifest listing a path of its own.
  WriteFile(bag / "manifest-sha256.txt",
            sha256 + bagit::HashBytes("a", bagit::Only(Algorithm::kSha256))[Algorithm::kSha256] +
                "  data/a.txt\n");
  WriteFile(
      bag / "manifest-md5.txt",
      bagit::HashBytes("a", bagit::Only(Algorithm::kMd5))[Algorithm::kMd5] + "  data/a.txt\n" +
          bagit::HashBytes("d", bagit::Only(Algorithm::kMd5))[Algorithm::kMd5] + "  data/d.txt\n");
  const uint64_t manifest_bytes =
      fs::file_size(bag / "manifest-sha256.txt") + fs::file_size(bag / "manifest-md5.txt");

  DepositOutcome memory = RunWith(bag, "faulty", 3 * manifest_bytes);
  DepositOutcome disk = RunWith(bag, "faulty", 3 * manifest_bytes - 1);
  EXPECT_TRUE(memory.manifest_index_in_memory);
  EXPECT_FALSE(disk.manifest_index_in_memory);
  ASSERT_TRUE(memory.refused);
  ASSERT_TRUE(disk.refused);
  EXPECT_EQ(Findings(memory.report), Findings(disk.report));
  for (const char* rule :
       {"payload.digest-mismatch", "payload.missing", "payload.not-in-manifest",
        "payload.not-in-every-manifest", "manifest.duplicate", "payload.name-collision"}) {
    EXPECT_TRUE(disk.report.Has(rule)) << rule << "\n" << disk.report.ToText();
  }
  ExpectNothingStored("acme", "faulty");
}

// A folder's generated manifests go through the same check either way, and the
// bag stored is the same, byte for byte (its manifests' digests).
TEST_F(ManifestIndexPlaceTest, AFolderIsBaggedTheSameInMemoryAndOnDisk) {
  for (int i = 0; i < 50; ++i) {
    WriteFile(dir_ / "src/f" / std::to_string(i % 7) / ("n" + std::to_string(i)),
              "file " + std::to_string(i));
  }
  WriteFile(dir_ / "src/f/Case.txt", "x");
  WriteFile(dir_ / "src/f/case.txt", "y");  // a warning from the check of the index
  DepositOutcome memory =
      RunWith(dir_ / "src/f", "in-memory", DepositRequest{}.manifest_memory_bytes);
  DepositOutcome disk = RunWith(dir_ / "src/f", "on-disk", 0);
  ASSERT_TRUE(memory.receipt) << memory.report.ToText();
  ASSERT_TRUE(disk.receipt) << disk.report.ToText();
  EXPECT_TRUE(memory.manifest_index_in_memory);
  EXPECT_FALSE(disk.manifest_index_in_memory);
  EXPECT_EQ(memory.receipt->files, 52u);
  EXPECT_EQ(memory.receipt->manifest_digests, disk.receipt->manifest_digests);
  EXPECT_EQ(Findings(memory.report), Findings(disk.report));
  EXPECT_FALSE(memory.report.findings().empty());
}

}  // namespace
}  // namespace cairn::repo
