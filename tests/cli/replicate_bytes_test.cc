// `cairn replicate` said "N copies made (B bytes), P already present and verified", which a tester
// read as B including the bytes of the copies found on the target. B counted only the bytes
// written already (on posix and S3 targets alike); the line now says so: "N copies made (B bytes
// written), P already present and verified (nothing written)". The blobs put on site b by hand
// are found there, and B is the bytes of the bag files alone.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class ReplicateBytesTest : public RepoFixture {};

TEST_F(ReplicateBytesTest, BytesCountOnlyTheCopiesWrittenNotThoseFoundOnTheTarget) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  CommandResult dep = Cairn(
      {"deposit", "acme", MakeSourceFolder("maps").string(), "--id", "maps", "--no-replicate"});
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
  const fs::path a = tmp_ / "repo/sites/a", b = tmp_ / "repo/sites/b";
  // Site b holds every payload blob already (copied by hand), but none of the bag files.
  uint64_t blobs = 0, bag_bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(a / "blobs")) {
    if (!fs::is_regular_file(e.status())) continue;
    const fs::path to = b / fs::relative(e.path(), a);
    fs::create_directories(to.parent_path());
    fs::copy_file(e.path(), to);
    ++blobs;
  }
  for (const auto& e : fs::recursive_directory_iterator(a / "bags/acme/maps")) {
    if (fs::is_regular_file(e.status())) bag_bytes += fs::file_size(e.path());
  }
  ASSERT_EQ(blobs, 3u);
  CommandResult rep = Cairn({"replicate"});
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_THAT(rep.out, HasSubstr("copies made (" + std::to_string(bag_bytes) +
                                 " bytes written), 3 already present and verified (nothing "
                                 "written)"))
      << rep.out;
}

}  // namespace
}  // namespace cairn::testing
