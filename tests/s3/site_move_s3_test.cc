// `cairn site move` of an S3 site on the REAL Ceph gateway (tests/util/s3_gateway.h), through
// the real binary: a bucket lost (here: a new bucket that holds nothing) is refused without
// --empty, taken with --empty --create-bucket, filled by `site resync` and audited good; another
// site's bucket is refused.
#include <gmock/gmock.h>

#include "tests/util/s3_repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class SiteMoveS3Test : public S3RepoFixture {};

TEST_F(SiteMoveS3Test, ALostBucketIsReplacedByANewOneAndResyncFillsIt) {
  const std::string url = AddS3SiteHoldingMaps();

  // Another site's bucket is no place for s3.
  const std::string other = S3Url(*gateway_, FreshBucketName());
  ASSERT_EQ(Cairn({"site", "add", "s3b", other, "--create-bucket"}).exit_code, 0);
  CommandResult taken = Cairn({"site", "move", "s3", other});
  EXPECT_EQ(taken.exit_code, 2) << taken.out << taken.err;
  EXPECT_THAT(taken.err, HasSubstr("is already Cairn site 's3b', not 's3'")) << taken.err;

  // The bucket lost: a new one, empty, not made yet.
  const std::string fresh = S3Url(*gateway_, FreshBucketName());
  CommandResult refused = Cairn({"site", "move", "s3", fresh});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("holds no copy of site s3")) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("--empty` (with --create-bucket for a new bucket)"))
      << refused.err;
  EXPECT_THAT(Cairn({"site", "list"}).out, HasSubstr(url.substr(0, url.find('?'))));

  CommandResult moved = Cairn({"site", "move", "s3", fresh, "--empty", "--create-bucket"});
  ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  EXPECT_THAT(moved.out, HasSubstr("next: cairn site resync s3")) << moved.out;
  CommandResult resync = Cairn({"site", "resync", "s3"});
  EXPECT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  CommandResult audit = Cairn({"audit", "run", "--site", "s3", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("0 corrupt, 0 missing")) << audit.out;
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_THAT(list.out, HasSubstr("3/3 ok")) << list.out;
}

}  // namespace
}  // namespace cairn::testing
