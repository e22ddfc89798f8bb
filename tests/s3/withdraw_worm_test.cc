// Issue 18 on the real Ceph gateway: a purge meets an S3 site with Object Lock. The posix sites
// lose the version's bytes; the locked site keeps every locked key, the withdrawal shows
// `waiting-retention` with the reason in `withdraw list` (and `withdraw run` exits 1 saying
// so): never reported purged while bytes remain, never a silent failure. The locked site has
// its tombstone all the same.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "repo/site_layout.h"
#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class WithdrawWormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    gateway_ = SharedS3Gateway(&log);
    ASSERT_NE(gateway_, nullptr) << "the Ceph gateway did not start:\n" << log;
    ASSERT_EQ(RunCairn({"init", Root()}).exit_code, 0);
  }
  std::string Root() const { return (tmp_ / "repo").string(); }
  CommandResult Cairn(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {"env", "CAIRN_REPO=" + Root()};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(CairnBinary().string());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  TempDir tmp_;
  const S3Gateway* gateway_ = nullptr;
};

TEST_F(WithdrawWormTest, PurgeWaitsForObjectLockRetention) {
  const std::string url = S3Url(*gateway_, FreshBucketName(), "object-lock=GOVERNANCE&retain=1d");
  CommandResult added = Cairn({"site", "add", "worm", url, "--create-bucket"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  WriteFile(tmp_ / "policy.textpb", "copies: 3\n");
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  WriteFile(tmp_ / "src/a.txt", "only in this version\n");
  CommandResult dep = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "box"});
  ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
  CommandResult rep = Cairn({"replicate", "--wait"});
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  auto worm = repo::OpenS3BackendTyped(url);
  ASSERT_OK(worm);
  const std::string record = repo::layout::VersionRecordKey("acme", "box", 1);
  ASSERT_OK((*worm)->Stat(record).status()) << "the locked site holds the version";

  ASSERT_EQ(Cairn({"withdraw", "request", "acme/box", "--reason", "takedown", "--purge"}).exit_code,
            0);
  // A second person: an operator principal with a token.
  ASSERT_EQ(Cairn({"principal", "add", "otto", "--role", "operator"}).exit_code, 0);
  CommandResult token = Cairn({"token", "create", "otto"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  CommandResult approve = Cairn({"withdraw", "approve", "1", "--as", "otto"},
                                {"CAIRN_TOKEN=" + token.out.substr(0, token.out.find('\n'))});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.out, HasSubstr("waiting-retention"));
  EXPECT_THAT(approve.out, HasSubstr("Object Lock"));

  CommandResult list = Cairn({"withdraw", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json w = nlohmann::json::parse(list.out)[0];
  EXPECT_EQ(w["state"], "waiting-retention");
  EXPECT_THAT(w["detail"].get<std::string>(), HasSubstr("worm: "));
  // The posix sites lost the version; the locked one keeps it, with its tombstone.
  EXPECT_FALSE(fs::exists(Root() + "/sites/a/" + record));
  EXPECT_FALSE(fs::exists(Root() + "/sites/b/" + record));
  EXPECT_OK((*worm)->Stat(record).status());
  auto tombstone = (*worm)->ReadAll(repo::layout::TombstoneKey("acme", "box", 1));
  ASSERT_OK(tombstone);
  EXPECT_THAT(*tombstone, HasSubstr("Approved-By: otto\n"));
  // The retry (the daemon's, or by hand) still waits, and says so.
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("Object Lock"));
  EXPECT_EQ(nlohmann::json::parse(Cairn({"withdraw", "list", "--json"}).out)[0]["state"],
            "waiting-retention");
  // Nothing counts the waiting copies: the version is gone from the catalog, restore refuses.
  CommandResult restore = Cairn({"restore", "acme/box", (tmp_ / "out").string()});
  EXPECT_NE(restore.exit_code, 0);
  EXPECT_THAT(restore.err, HasSubstr("is withdrawn since"));
}

}  // namespace
}  // namespace cairn::testing
