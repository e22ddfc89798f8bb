// A repository made by `cairn init` (RepoFixture) beside the shared Ceph gateway
// (tests/util/s3_gateway.h), for the CLI tests of S3 sites: the gateway is started first, and a
// test that cannot have it fails, never skips.
#ifndef CAIRN_TESTS_UTIL_S3_REPO_FIXTURE_H_
#define CAIRN_TESTS_UTIL_S3_REPO_FIXTURE_H_

#include <string>

#include "tests/util/repo_fixture.h"
#include "tests/util/s3_gateway.h"

namespace cairn::testing {

class S3RepoFixture : public RepoFixture {
 protected:
  void SetUp() override {
    std::string log;
    gateway_ = SharedS3Gateway(&log);
    ASSERT_NE(gateway_, nullptr) << "the Ceph gateway did not start:\n" << log;
    RepoFixture::SetUp();
  }

  // Site "s3" on a fresh bucket, the default policy `copies: 3` (a, b and s3), and acme/maps
  // deposited and replicated to all three. Returns the site's URL.
  std::string AddS3SiteHoldingMaps() {
    const std::string url = S3Url(*gateway_, FreshBucketName());
    EXPECT_EQ(Cairn({"site", "add", "s3", url, "--create-bucket"}).exit_code, 0);
    WriteFile(PolicyFile(), "copies: 3\n");
    EXPECT_EQ(Cairn({"policy", "set", PolicyFile().string()}).exit_code, 0);
    Deposit("acme", MakeSourceFolder("maps").string(), "maps");
    EXPECT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
    return url;
  }
  // The default policy's file AddS3SiteHoldingMaps set.
  fs::path PolicyFile() const { return tmp_ / "three.textpb"; }

  const S3Gateway* gateway_ = nullptr;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_S3_REPO_FIXTURE_H_
