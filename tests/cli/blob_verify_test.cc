// End to end (issue 14, item 2): a deposit that finds its blob already on the
// site reads it back; a damaged one is replaced with the depositor's bytes and
// the repair is recorded, never re-stamped good.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CliBlobVerifyTest : public RepoFixture {
 protected:
  static std::string Sha256Of(const std::string& bytes) {
    return bagit::HashBytes(bytes,
                            bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  }
  // The "TYPE OUTCOME" of each event of `object` on site a whose detail names
  // blob `sha`, in order.
  std::vector<std::string> BlobEventsOnA(const std::string& object, const std::string& sha) {
    CommandResult events = Cairn({"events", object, "--json"});
    EXPECT_EQ(events.exit_code, 0) << events.err;
    auto list = nlohmann::json::parse(events.out, nullptr, false);
    EXPECT_TRUE(list.is_array()) << events.out;
    std::vector<std::string> found;
    if (!list.is_array()) return found;
    for (const auto& e : list) {
      if (e.value("detail", "").find(sha) == std::string::npos || e.value("site", "") != "a") {
        continue;
      }
      found.push_back(e.value("type", "") + " " + e.value("outcome", ""));
    }
    return found;
  }
};

TEST_F(CliBlobVerifyTest, DepositReplacesADamagedBlobItFindsAlreadyStored) {
  fs::path src = MakeSourceFolder("one");
  Deposit("acme", src.string(), "first");
  const std::string binary = ReadFile(src / "sub/b.bin");
  const std::string sha = Sha256Of(binary);
  fs::path blob = BlobFile("a", binary);
  FlipByte(blob);
  ASSERT_NE(Sha256Of(ReadFile(blob)), sha);

  // The same bytes deposited as another object.
  Deposit("acme", src.string(), "second");

  // The deposit read the blob back and put the depositor's good bytes in place.
  EXPECT_EQ(Sha256Of(ReadFile(blob)), sha) << "site a still holds the damaged blob";
  EXPECT_EQ(CopyStates("acme/second", "data/sub/b.bin"), "a:ok b:ok");
  // What it did is recorded: the failed check and the recovery, naming blob and site.
  std::vector<std::string> events = BlobEventsOnA("acme/second", sha);
  EXPECT_THAT(events, ::testing::Contains("fixity check failure"));
  EXPECT_THAT(events, ::testing::Contains("recovery success"));
  // Every copy now verifies: a full audit finds nothing.
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

// A new version of the same object hashes its small files and reads their
// stored blobs back before copying anything (repo/deposit, ReuseStored): a
// damaged one is written over all the same, and the repair recorded.
TEST_F(CliBlobVerifyTest, ANewVersionReplacesADamagedBlobOfItsObject) {
  fs::path src = MakeSourceFolder("again");
  Deposit("acme", src.string(), "again");
  const std::string binary = ReadFile(src / "sub/b.bin");
  const std::string sha = Sha256Of(binary);
  fs::path blob = BlobFile("a", binary);
  FlipByte(blob);

  Deposit("acme", src.string(), "again");  // version 2, the same files

  EXPECT_EQ(Sha256Of(ReadFile(blob)), sha) << "site a still holds the damaged blob";
  EXPECT_EQ(CopyStates("acme/again", "data/sub/b.bin"), "a:ok b:ok");
  std::vector<std::string> events = BlobEventsOnA("acme/again", sha);
  EXPECT_THAT(events, ::testing::Contains("fixity check failure"));
  EXPECT_THAT(events, ::testing::Contains("recovery success"));
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

TEST_F(CliBlobVerifyTest, DepositReplacesADamagedBlobTheCatalogDoesNotKnow) {
  // A blob left on the site by nobody the catalog knows (a killed deposit), then damaged:
  // a deposit of those bytes must not adopt it as it is.
  fs::path src = tmp_ / "src-lone";
  const std::string bytes = std::string(5000, 'L') + "lone file\n";
  WriteFile(src / "lone.txt", bytes);
  const std::string sha = Sha256Of(bytes);
  fs::path blob = tmp_ / "repo/sites/a" / repo::layout::BlobKey(sha);
  std::string damaged = bytes;
  damaged[10] ^= 0x01;
  WriteFile(blob, damaged);

  Deposit("acme", src.string(), "lone");
  EXPECT_EQ(Sha256Of(ReadFile(blob)), sha) << "the deposit adopted a damaged blob";
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace cairn::testing
