// `cairn bag create` end to end: the real binary makes bags; the bags are
// checked by `cairn bag validate` and independently by coreutils (sha256sum,
// md5sum), GNU tar and unzip.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

void MakeSource(const fs::path& src) {
  WriteFile(src / "report.txt", "annual report\n");
  WriteFile(src / "images" / "scan 001.tif", std::string(70000, '\x42'));
  WriteFile(src / "images" / "nested" / "notes.md", "# notes\n");
  WriteFile(src / "empty.dat", "");
}

// Runs `script` with sh in folder `dir` ($0 is the folder).
CommandResult ShellIn(const fs::path& dir, const std::string& script) {
  return RunProcess({"sh", "-c", "cd \"$0\" && " + script, dir.string()});
}

TEST(BagCreateCli, DirectoryBagVerifiesWithCoreutilsAndCairn) {
  TempDir tmp;
  MakeSource(tmp / "src");
  CommandResult r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "bag").string(),
                              "--algorithm", "SHA-256", "--algorithm", "md5", "--info",
                              "Source-Organization: Example Museum", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 files"), std::string::npos) << r.out;

  // Independent check: coreutils verify both manifests and the tag manifests.
  CommandResult sums = ShellIn(tmp / "bag",
                               "sha256sum --strict -c manifest-sha256.txt && "
                               "md5sum --strict -c manifest-md5.txt && "
                               "sha256sum --strict -c tagmanifest-sha256.txt && "
                               "md5sum --strict -c tagmanifest-md5.txt");
  EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;
  EXPECT_NE(sums.out.find("data/images/scan 001.tif: OK"), std::string::npos) << sums.out;

  std::string info = ReadFile(tmp / "bag" / "bag-info.txt");
  EXPECT_NE(info.find("Payload-Oxum: 70022.4\n"), std::string::npos) << info;
  EXPECT_NE(info.find("Source-Organization: Example Museum\n"), std::string::npos);
  EXPECT_NE(info.find("Bag-Software-Agent: Cairn "), std::string::npos);

  CommandResult v = RunCairn({"bag", "validate", (tmp / "bag").string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // A byte changed in the payload: coreutils and cairn both notice.
  WriteFile(tmp / "bag" / "data" / "report.txt", "annual rePort\n");
  EXPECT_NE(ShellIn(tmp / "bag", "sha256sum --quiet -c manifest-sha256.txt").exit_code, 0);
  EXPECT_EQ(RunCairn({"bag", "validate", (tmp / "bag").string()}).exit_code, 1);
}

TEST(BagCreateCli, SerializedBagsOpenWithStandardTools) {
  TempDir tmp;
  MakeSource(tmp / "src");
  for (const std::string name : {"bag.tar", "bag.tgz", "bag.zip"}) {
    fs::path dest = tmp / name;
    CommandResult r = RunCairn({"bag", "create", (tmp / "src").string(), dest.string(),
                                "--algorithm", "sha256", "--json"});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["top_folder"], "bag");
    EXPECT_EQ(j["payload_oxum"], "70022.4");
    EXPECT_EQ(RunCairn({"bag", "validate", dest.string()}).exit_code, 0) << name;

    fs::path out = tmp / ("x-" + name);
    fs::create_directories(out);
    std::string unpack = name == "bag.zip" ? "unzip -q \"$1\"" : "tar -xf \"$1\"";
    CommandResult x =
        RunProcess({"sh", "-c",
                    "cd \"$0\" && " + unpack +
                        " && cd bag && sha256sum --strict -c "
                        "manifest-sha256.txt && sha256sum --strict -c tagmanifest-sha256.txt",
                    out.string(), dest.string()});
    EXPECT_EQ(x.exit_code, 0) << name << ": " << x.out << x.err;
    EXPECT_TRUE(fs::is_directory(out / "bag" / "data" / "images" / "nested")) << name;
  }
  // --format wins over the name; the archive gets exactly the name given.
  CommandResult r = RunCairn(
      {"bag", "create", (tmp / "src").string(), (tmp / "plain").string(), "--format", "zip"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(tmp / "plain"));
  EXPECT_EQ(RunProcess({"unzip", "-tq", (tmp / "plain").string()}).exit_code, 0);
}

TEST(BagCreateCli, NamesNeedingEncodingValidate) {
  TempDir tmp;
  WriteFile(tmp / "src" / "two\nlines.txt", "a");
  WriteFile(tmp / "src" / "50% off.txt", "b");
  CommandResult r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "bag.tgz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CommandResult v = RunCairn({"bag", "validate", (tmp / "bag.tgz").string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "bag").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string manifest = ReadFile(tmp / "bag" / "manifest-sha512.txt");
  EXPECT_NE(manifest.find("  data/two%0Alines.txt\n"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("  data/50%25 off.txt\n"), std::string::npos) << manifest;
  EXPECT_EQ(RunCairn({"bag", "validate", (tmp / "bag").string()}).exit_code, 0);
}

TEST(BagCreateCli, SymlinkInSourceIsRefusedAndNothingIsWritten) {
  TempDir tmp;
  MakeSource(tmp / "src");
  fs::create_symlink("/etc/passwd", tmp / "src" / "images" / "passwd");
  CommandResult r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "bag").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("images/passwd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("symlink"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "bag"));
  // Even when followed, a link leaving the source is refused.
  r = RunCairn(
      {"bag", "create", (tmp / "src").string(), (tmp / "bag.tar").string(), "--follow-symlinks"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("outside the source"), std::string::npos) << r.err;
  size_t entries = 0;
  for (fs::directory_iterator it(tmp.path()), end; it != end; ++it) ++entries;
  EXPECT_EQ(entries, 1u) << "only src/ may be there";
}

TEST(BagCreateCli, EmptySourceAndExistingDestination) {
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  CommandResult r = RunCairn({"bag", "create", (tmp / "empty").string(), (tmp / "bag").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RunCairn({"bag", "validate", (tmp / "bag").string()}).exit_code, 0);
  EXPECT_NE(ReadFile(tmp / "bag" / "bag-info.txt").find("Payload-Oxum: 0.0"), std::string::npos);

  // DEST exists (the bag just made): refused, untouched.
  std::string before = ReadFile(tmp / "bag" / "bag-info.txt");
  r = RunCairn({"bag", "create", (tmp / "empty").string(), (tmp / "bag").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(tmp / "bag" / "bag-info.txt"), before);
}

TEST(BagCreateCli, BadArgumentsCannotRun) {
  TempDir tmp;
  MakeSource(tmp / "src");
  CommandResult r = RunCairn(
      {"bag", "create", (tmp / "src").string(), (tmp / "b").string(), "--info", "No colon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("No colon"), std::string::npos) << r.err;
  r = RunCairn(
      {"bag", "create", (tmp / "src").string(), (tmp / "b").string(), "--algorithm", "crc32"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("crc32"), std::string::npos) << r.err;
  r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "b").string(), "--format", "rar"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp / "b"));
}

// A repeatable option takes one value each time it is given, so it may come before SRC and
// DEST (`cairn bag create --algorithm sha256 src bag.tar`); it used to take SRC and DEST as
// more algorithms.
TEST(BagCreateCli, RepeatableOptionsBeforeThePositionalsTakeOneValueEach) {
  TempDir tmp;
  MakeSource(tmp / "src");
  CommandResult r =
      RunCairn({"bag", "create", "--algorithm", "sha256", "--info", "Source-Organization: Museum",
                "--algorithm=md5", (tmp / "src").string(), (tmp / "bag.tar").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(tmp / "bag.tar"));
  CommandResult listed = RunProcess({"tar", "tf", (tmp / "bag.tar").string()});
  EXPECT_NE(listed.out.find("manifest-sha256.txt"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("manifest-md5.txt"), std::string::npos) << listed.out;
  EXPECT_EQ(RunCairn({"bag", "validate", (tmp / "bag.tar").string()}).exit_code, 0);
}

TEST(BagCreateCli, InPlace) {
  TempDir tmp;
  MakeSource(tmp / "src");
  CommandResult r =
      RunCairn({"bag", "create", (tmp / "src").string(), "--in-place", "--algorithm", "sha256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(tmp / "src" / "data" / "report.txt"), "annual report\n");
  EXPECT_FALSE(fs::exists(tmp / "src" / "report.txt"));
  CommandResult sums = ShellIn(tmp / "src", "sha256sum --strict -c manifest-sha256.txt");
  EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;
  EXPECT_EQ(RunCairn({"bag", "validate", (tmp / "src").string()}).exit_code, 0);
}

// Issue 15: arguments that cannot be right are refused before anything is
// read or written, with exit 2 and the reason.
TEST(BagCreateCli, ContradictoryOrBadArgumentsExitTwoAndTouchNothing) {
  TempDir tmp;
  MakeSource(tmp / "src");
  CommandResult format = RunCairn(
      {"bag", "create", (tmp / "src").string(), (tmp / "out.zip").string(), "--format", "tar"});
  EXPECT_EQ(format.exit_code, 2) << format.err;
  EXPECT_NE(format.err.find("disagrees"), std::string::npos) << format.err;
  EXPECT_FALSE(fs::exists(tmp / "out.zip"));

  // An extension naming an archive format bag create does not write: it used to write a folder
  // named out.rar.
  for (const std::string dest : {"out.rar", "out.7z", "out.tar.bz2"}) {
    CommandResult r = RunCairn({"bag", "create", (tmp / "src").string(), (tmp / dest).string()});
    EXPECT_EQ(r.exit_code, 2) << dest << ": " << r.err;
    EXPECT_NE(r.err.find("bag create does not write"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rule create.dest-format"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / dest)) << dest;
  }

  for (const char* info : {"no colon", "Payload-Oxum: 1.1", "Label : spaced", ": empty"}) {
    CommandResult r =
        RunCairn({"bag", "create", (tmp / "src").string(), (tmp / "bag").string(), "--info", info});
    EXPECT_EQ(r.exit_code, 2) << info << ": " << r.err;
    EXPECT_NE(r.err.find("--info"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp / "bag")) << info;
  }

  ASSERT_EQ(RunCairn({"bag", "create", (tmp / "src").string(), "--in-place"}).exit_code, 0);
  const std::string manifest = ReadFile(tmp / "src" / "manifest-sha512.txt");
  CommandResult again = RunCairn({"bag", "create", (tmp / "src").string(), "--in-place"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("already a bag"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(tmp / "src" / "data" / "data")) << "the bag was buried in data/";
  EXPECT_EQ(ReadFile(tmp / "src" / "manifest-sha512.txt"), manifest);
}

}  // namespace
}  // namespace cairn::testing
