// Validation and deposit read a bag through the same walker (bagit/bag_walker.h):
// on a bag each used to judge differently, they now give the same verdict and
// the same findings, word for word.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "bagit/validator.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using bagit::Algorithm;
using bagit::Finding;
using bagit::Severity;
using cairn::testing::DepositTest;

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

// Makes `depth` nested folders named `name` under the folder `fd` (taken),
// through file descriptors: their full path is longer than PATH_MAX.
void MakeDeepFolders(int fd, const std::string& name, int depth) {
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(mkdirat(fd, name.c_str(), 0755), 0) << errno;
    int next = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(next, 0) << errno;
    close(fd);
    fd = next;
  }
  close(fd);
}

// Removes the chain MakeDeepFolders made under the folder `fd` (taken).
void RemoveDeepFolders(int fd, const std::string& name) {
  int child = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (child >= 0) RemoveDeepFolders(child, name);
  unlinkat(fd, name.c_str(), AT_REMOVEDIR);
  close(fd);
}

TEST_F(DepositVerdictTest, UnreadableTagEntryInAFolder) {
  // A tag folder whose depths cannot be reached by name (ENAMETOOLONG): it
  // cannot be read whoever runs the test, root included.
  fs::path bag = dir_ / "deep";
  MakeBag(bag, {{"data/a.txt", "a"}}, Algorithm::kSha256);
  fs::create_directories(bag / "extra");
  const std::string name(200, 'd');
  int fd = open((bag / "extra").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  MakeDeepFolders(fd, name, PATH_MAX / 200 + 2);
  // The first entry whose full path no longer fits is the one refused.
  std::string rel = "extra";
  while ((bag / rel).string().size() < PATH_MAX) rel += "/" + name;
  ExpectSameRefusal(bag, rel, "tag.unreadable");
  ExpectNothingStored("acme", "deep");
  RemoveDeepFolders(open((bag / "extra").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), name);
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

}  // namespace
}  // namespace cairn::repo
