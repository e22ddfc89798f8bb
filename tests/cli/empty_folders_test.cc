// End to end with the real `cairn` binary: the empty folders of a deposited folder are in the
// version record on every site, so a catalog rebuilt from one site still knows them, a restore
// after the rebuild makes them, and `cairn show` lists them (text and --json).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class EmptyFoldersCliTest : public RepoFixture {};

TEST_F(EmptyFoldersCliTest, ACatalogRebuiltFromASiteKeepsTheEmptyFolders) {
  WriteFile(tmp_ / "box/kept/a.txt", "alpha\n");
  fs::create_directories(tmp_ / "box/empty");
  fs::create_directories(tmp_ / "box/outer/inner");
  Deposit("acme", (tmp_ / "box").string(), "box");
  // A bag whose tag area holds an empty folder (extra/ beside data/).
  ASSERT_EQ(Cairn({"bag", "create", (tmp_ / "box").string(), (tmp_ / "bag").string()}).exit_code,
            0);
  fs::create_directories(tmp_ / "bag/extra");
  Deposit("acme", (tmp_ / "bag").string(), "bag");

  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "file://" + Root() + "/sites/a"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;

  CommandResult restored = Cairn({"restore", "acme/box", (tmp_ / "out").string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(fs::is_directory(tmp_ / "out/data/empty"));
  EXPECT_TRUE(fs::is_directory(tmp_ / "out/data/outer/inner"));
  EXPECT_EQ(Cairn({"bag", "validate", (tmp_ / "out").string()}).exit_code, 0);

  // Exit 0: the rebuild records the copies the other reachable sites list too.
  CommandResult shown = Cairn({"show", "acme/box", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  nlohmann::json j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["empty_folders"], nlohmann::json({"data/empty", "data/outer/inner"})) << shown.out;
  CommandResult text = Cairn({"show", "acme/box"});
  EXPECT_NE(text.out.find("data/outer/inner/"), std::string::npos) << text.out;

  CommandResult bag = Cairn({"show", "acme/bag", "--json"});
  ASSERT_EQ(bag.exit_code, 0) << bag.out << bag.err;
  EXPECT_EQ(nlohmann::json::parse(bag.out)["empty_folders"],
            nlohmann::json({"data/empty", "data/outer/inner", "extra"}))
      << bag.out;
  ASSERT_EQ(Cairn({"restore", "acme/bag", (tmp_ / "bag-out").string()}).exit_code, 0);
  EXPECT_TRUE(fs::is_directory(tmp_ / "bag-out/extra"));
  EXPECT_EQ(Cairn({"bag", "validate", (tmp_ / "bag-out").string()}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
