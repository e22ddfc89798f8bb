// Issue 15: a plain folder that happens to hold a bagit.txt is read as a bag
// and refused (it is not a valid one); the refusal names the flag that says
// what is meant (--as-folder), and with it the folder is deposited as plain
// files, its bagit.txt included, and restored byte for byte. --as-bag says the
// other thing, and is refused for a folder that is no bag.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DepositAsFolderTest : public RepoFixture {};

TEST_F(DepositAsFolderTest, AFolderHoldingBagitTxtNeedsAsFolderAndThenKeepsIt) {
  fs::path src = tmp_ / "notes";
  WriteFile(src / "bagit.txt", "my notes on the BagIt spec\n");
  WriteFile(src / "a.txt", "alpha\n");
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);

  CommandResult plain = Cairn({"deposit", "acme", src.string()});
  EXPECT_EQ(plain.exit_code, 1) << plain.out << plain.err;
  EXPECT_THAT(plain.err, HasSubstr("bagit.txt"));
  EXPECT_THAT(plain.err, HasSubstr("--as-folder")) << plain.err;
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/a/bags/acme"));

  CommandResult as_folder = Cairn({"deposit", "acme", src.string(), "--as-folder"});
  ASSERT_EQ(as_folder.exit_code, 0) << as_folder.out << as_folder.err;
  fs::path out = tmp_ / "out";
  CommandResult restored = Cairn({"restore", "acme/notes", out.string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadTree(out / "data"), ReadTree(src));
  EXPECT_NE(ReadFile(out / "bagit.txt"), ReadFile(src / "bagit.txt"));  // Cairn's own

  // --as-bag: what is meant is a bag; a folder without bagit.txt is not one.
  fs::path folder = MakeSourceFolder("plain");
  CommandResult as_bag = Cairn({"deposit", "acme", folder.string(), "--as-bag"});
  EXPECT_EQ(as_bag.exit_code, 2) << as_bag.out << as_bag.err;
  EXPECT_THAT(as_bag.err, HasSubstr("--as-bag"));
  CommandResult both = Cairn({"deposit", "acme", src.string(), "--as-bag", "--as-folder"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

// A real bag refused for its own errors (a file its manifest lists is missing) is not offered
// --as-folder: that would store the broken bag as plain files, with exit 0.
TEST_F(DepositAsFolderTest, ABrokenBagIsNotOfferedAsFolder) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path bag = tmp_ / "bag";
  ASSERT_EQ(RunCairn({"bag", "create", MakeSourceFolder("b").string(), bag.string()}).exit_code, 0);
  fs::path victim;
  for (fs::recursive_directory_iterator it(bag / "data"), end; it != end; ++it) {
    if (fs::is_regular_file(it->status())) victim = it->path();
  }
  ASSERT_FALSE(victim.empty());
  fs::remove(victim);
  CommandResult refused = Cairn({"deposit", "acme", bag.string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("payload.missing")) << refused.err;
  EXPECT_THAT(refused.err, Not(HasSubstr("--as-folder"))) << refused.err;
}

}  // namespace
}  // namespace cairn::testing
