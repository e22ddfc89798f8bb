// `cairn usage` with the real binary: two partners deposit one identical
// 1 MiB file and one file of their own; the shared bytes are stored once per
// site and each partner is charged exactly half of them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class UsageCliTest : public RepoFixture {
 protected:
  // Sum of the sizes of the tag files of partner/object as `cairn show` lists them.
  uint64_t TagBytes(const std::string& ref) {
    CommandResult r = Cairn({"show", ref, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    uint64_t sum = 0;
    nlohmann::json show = nlohmann::json::parse(r.out);
    for (const auto& t : show["tag_files"]) sum += t["size"].get<uint64_t>();
    EXPECT_GT(sum, 0u);
    return sum;
  }
};

TEST_F(UsageCliTest, SharedBytesAreSplitEvenlyBetweenThePartnersHoldingThem) {
  const std::string shared(1 << 20, 's');
  const std::string own_a = "acme's own file\n";
  const std::string own_b = "the other museum's own, longer file\n";
  WriteFile(tmp_ / "acme-src/shared.bin", shared);
  WriteFile(tmp_ / "acme-src/own.txt", own_a);
  WriteFile(tmp_ / "bmus-src/shared.bin", shared);
  WriteFile(tmp_ / "bmus-src/own.txt", own_b);
  Deposit("acme", (tmp_ / "acme-src").string(), "set");
  Deposit("bmus", (tmp_ / "bmus-src").string(), "set");

  CommandResult r = Cairn({"usage", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto usage = nlohmann::json::parse(r.out);
  ASSERT_EQ(usage["partners"].size(), 2u);
  const auto& a = usage["partners"][0];
  const auto& b = usage["partners"][1];
  EXPECT_EQ(a["partner"], "acme");
  EXPECT_EQ(b["partner"], "bmus");
  EXPECT_EQ(a["files"], 2);
  EXPECT_EQ(a["logical_bytes"], (1 << 20) + own_a.size());
  EXPECT_EQ(a["unique_bytes"], (1 << 20) + own_a.size());
  EXPECT_EQ(a["fair_bytes"].get<double>(),
            static_cast<double>((1 << 19) + own_a.size() + TagBytes("acme/set")));
  EXPECT_EQ(b["fair_bytes"].get<double>(),
            static_cast<double>((1 << 19) + own_b.size() + TagBytes("bmus/set")));
  // Two verified copies of everything: stored is twice the fair share.
  EXPECT_EQ(a["stored_bytes"].get<double>(), 2 * a["fair_bytes"].get<double>());
  EXPECT_EQ(usage["unique_blob_bytes"], (1 << 20) + own_a.size() + own_b.size());
  EXPECT_EQ(usage["logical_bytes"], 2 * (1 << 20) + own_a.size() + own_b.size());
  ASSERT_EQ(usage["sites"].size(), 2u);
  for (const auto& site : usage["sites"]) {
    EXPECT_EQ(site["blobs"], 3);  // the shared blob once, two own files
    EXPECT_EQ(site["blob_bytes"], (1 << 20) + own_a.size() + own_b.size());
  }
  CommandResult text = Cairn({"usage"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("size/k"), std::string::npos) << text.out;
  EXPECT_NE(Cairn({"usage", "--help"}).out.find("size/k"), std::string::npos);

  // One partner's figures: its own entry only, the same numbers.
  CommandResult one = Cairn({"usage", "bmus", "--json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto own = nlohmann::json::parse(one.out);
  ASSERT_EQ(own["partners"].size(), 1u);
  EXPECT_EQ(own["partners"][0], b);
  EXPECT_FALSE(own.contains("sites"));
  CommandResult one_text = Cairn({"usage", "acme"});
  EXPECT_EQ(one_text.exit_code, 0);
  EXPECT_NE(one_text.out.find("acme"), std::string::npos) << one_text.out;
  EXPECT_EQ(one_text.out.find("bmus"), std::string::npos) << one_text.out;
  CommandResult unknown = Cairn({"usage", "zz"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("partner zz"), std::string::npos) << unknown.err;
  ASSERT_EQ(Cairn({"partner", "add", "newcomer"}).exit_code, 0);
  CommandResult empty = Cairn({"usage", "newcomer", "--json"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(nlohmann::json::parse(empty.out)["partners"][0]["files"], 0);
}

}  // namespace
}  // namespace cairn::testing
