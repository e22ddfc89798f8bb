// Issue 15: trusted witness keys (`events trust add`) are settings kept on
// every site, so that after the catalog is lost, `catalog rebuild --from SITE`
// trusts them again: a witness signed by the key still verifies without
// --key, the rebuild names the key among what it restored, and a key no
// longer trusted does not come back.
#include <gmock/gmock.h>

#include "repo/site/repository.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class WitnessKeysSettingsTest : public RepoFixture {
 protected:
  void LoseTheCatalog() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  }
  std::vector<std::string> TrustedKeys() {
    CommandResult list = Cairn({"events", "trust", "list", "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    std::vector<std::string> keys;
    for (const auto& k : nlohmann::json::parse(list.out)) keys.push_back(k["public_key"]);
    return keys;
  }
};

TEST_F(WitnessKeysSettingsTest, TrustedKeysComeBackWithARebuiltCatalog) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  fs::path key = tmp_ / "w.pem", pub = tmp_ / "w.pub.pem", witness = tmp_ / "head.json";
  fs::path old_key = tmp_ / "old.pem", old_pub = tmp_ / "old.pub.pem";
  ASSERT_EQ(Cairn({"events", "keygen", key.string(), pub.string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "keygen", old_key.string(), old_pub.string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "trust", "add", pub.string(), "--label", "notary"}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "trust", "add", old_pub.string(), "--label", "retired"}).exit_code, 0);
  std::vector<std::string> before = TrustedKeys();
  ASSERT_EQ(before.size(), 2u);
  std::string retired;
  for (const auto& k : nlohmann::json::parse(Cairn({"events", "trust", "list", "--json"}).out)) {
    if (k["label"] == "retired") retired = k["public_key"];
  }
  ASSERT_EQ(Cairn({"events", "trust", "remove", retired}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "head", "--sign", key.string(), "--out", witness.string()}).exit_code,
            0);
  // Kept on the sites, as settings records.
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/a/settings/witness-keys"));

  LoseTheCatalog();
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl((tmp_ / "repo/sites/a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("trusted witness key")) << rebuilt.out;
  EXPECT_THAT(rebuilt.out, HasSubstr("notary")) << rebuilt.out;

  std::vector<std::string> after = TrustedKeys();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_THAT(after, Not(::testing::Contains(retired)));
  // The signed witness verifies again without --key: its signer is trusted.
  CommandResult verify = Cairn({"events", "verify", "--witness", witness.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace cairn::testing
