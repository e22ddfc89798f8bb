// What cairn says of an S3 site that does not answer or has lost its bucket, on the REAL Ceph
// gateway: only what it knows. A tombstone written to the site by an earlier round is not "not
// written" because the site is down now; a bucket that is gone is named so by the audit, as
// `site check` names it, not as a site without its CAIRN-SITE marker.
//
// The first test stops the radosgw of a gateway of its own (the shared one is never stopped).
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
using ::testing::Not;

class SiteDownMessagesTest : public ::testing::Test {
 protected:
  // It names withdrawal 1: numbered in sequence by cairn-testing (repo/test_hooks.h).
  void SetUp() override { setenv("CAIRN_SEQUENTIAL_NUMBERS", "1", 1); }

  std::string Root() const { return (tmp_ / "repo").string(); }
  CommandResult Cairn(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        "env", "CAIRN_REPO=" + Root(), "AWS_ACCESS_KEY_ID=" + gateway_.access_key,
        "AWS_SECRET_ACCESS_KEY=" + gateway_.secret_key, "AWS_REGION=" + gateway_.region};
    argv.push_back(CairnBinary().string());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  // A repository with posix sites a and b and the S3 site s3 at `url`, acme/box on all three.
  void DepositOnThreeSites(const std::string& url) {
    ASSERT_EQ(Cairn({"init", Root()}).exit_code, 0);
    CommandResult added = Cairn({"site", "add", "s3", url, "--create-bucket"});
    ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
    WriteFile(tmp_ / "policy.textpb", "copies: 3\n");
    ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0);
    ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
    WriteFile(tmp_ / "src/a.txt", "a file on three sites\n");
    CommandResult dep = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "box"});
    ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
    CommandResult rep = Cairn({"replicate", "--wait"});
    ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  }
  std::unique_ptr<repo::S3Backend> Bucket(const std::string& url) {
    auto config = repo::ParseS3Url(url);
    EXPECT_OK(config);
    return std::make_unique<repo::S3Backend>(
        *config, repo::S3Credentials{gateway_.access_key, gateway_.secret_key, ""});
  }

  TempDir tmp_;
  S3Gateway gateway_;
};

// The tester's case: a withdrawal approved while every site was up (its tombstone on each),
// then the gateway down: every `withdraw run` said "tombstone not written on s3" of a tombstone
// that is there. It now says the tombstone was not checked, the site not answering.
TEST_F(SiteDownMessagesTest, WithdrawRunWithTheGatewayDownSaysTheTombstoneWasNotChecked) {
  const std::string dir = (tmp_ / "gw").string();
  std::string log;
  ASSERT_TRUE(StartPrivateS3Gateway(dir, &gateway_, &log)) << "the Ceph gateway did not start:\n"
                                                           << log;
  struct Stop {
    std::string dir;
    ~Stop() { StopPrivateS3Gateway(dir); }
  } stop{dir};
  const std::string url = S3Url(gateway_, FreshBucketName());
  ASSERT_NO_FATAL_FAILURE(DepositOnThreeSites(url));
  ASSERT_EQ(Cairn({"principal", "add", "otto", "--role", "operator"}).exit_code, 0);
  CommandResult token = Cairn({"token", "create", "otto"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ASSERT_EQ(Cairn({"withdraw", "request", "acme/box", "--reason", "takedown"}).exit_code, 0);
  CommandResult approved = RunProcess(
      {"env", "CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + token.out.substr(0, token.out.find('\n')),
       "AWS_ACCESS_KEY_ID=" + gateway_.access_key, "AWS_SECRET_ACCESS_KEY=" + gateway_.secret_key,
       "AWS_REGION=" + gateway_.region, CairnBinary().string(), "withdraw", "approve", "1", "--as",
       "otto"});
  ASSERT_EQ(approved.exit_code, 0) << approved.out << approved.err;
  ASSERT_OK(Bucket(url)->ReadAll(repo::layout::TombstoneKey("acme", "box", 1)));

  ASSERT_EQ(RunProcess({OpsScript("ceph-rgw-gateway.sh"), "stop", dir}).exit_code, 0);
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;  // a site is down: still a problem
  EXPECT_THAT(run.err, Not(HasSubstr("tombstone not written on s3"))) << run.err;
  EXPECT_THAT(run.err, HasSubstr("withdrawal 1: tombstone not checked on s3")) << run.err;
  EXPECT_THAT(run.err, HasSubstr("did not answer")) << run.err;

  ASSERT_EQ(RunProcess({OpsScript("ceph-rgw-gateway.sh"), "start", dir}).exit_code, 0);
  CommandResult back = Cairn({"withdraw", "run"});
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
}

// A site whose bucket was deleted: `site check` said "bucket ... does not exist", the audit "no
// CAIRN-SITE marker: not mounted, lost, or never initialised". The audit now names the missing
// bucket and how to make it again, in site check's words.
TEST_F(SiteDownMessagesTest, AuditOfASiteWhoseBucketIsGoneNamesTheMissingBucket) {
  std::string log;
  const S3Gateway* shared = SharedS3Gateway(&log);
  ASSERT_NE(shared, nullptr) << "the Ceph gateway did not start:\n" << log;
  gateway_ = *shared;
  const std::string url = S3Url(gateway_, FreshBucketName());
  ASSERT_NO_FATAL_FAILURE(DepositOnThreeSites(url));
  ASSERT_OK(Bucket(url)->DeleteBucket());

  CommandResult check = Cairn({"site", "check", "s3"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_THAT(check.out + check.err, HasSubstr("does not exist"));
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out + audit.err, Not(HasSubstr("no CAIRN-SITE marker"))) << audit.out;
  EXPECT_THAT(audit.out + audit.err, HasSubstr("does not exist")) << audit.out;
  EXPECT_THAT(audit.out + audit.err,
              HasSubstr("cairn site resync NAME --create-bucket` for a site"))
      << audit.out;
  EXPECT_THAT(audit.out, Not(HasSubstr("corrupt: "))) << audit.out;
}

}  // namespace
}  // namespace cairn::testing
