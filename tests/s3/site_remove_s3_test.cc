// `cairn site remove` of an S3 site on the REAL Ceph gateway (tests/util/s3_gateway.h), beside
// the fixture's posix sites a and b, through the real binary: refused while the bucket holds the
// last good copy of files (--force too), removed once a and b hold verified copies again, the
// bucket's objects left as they are, and a catalog rebuilt from posix site a without it.
#include <gmock/gmock.h>

#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SiteRemoveS3Test : public S3RepoFixture {
 protected:
  // The keys of the bucket of `url`, read through the S3 backend.
  std::vector<std::string> BucketKeys(const std::string& url) {
    std::vector<std::string> keys;
    auto backend = repo::OpenS3BackendTyped(url);
    EXPECT_OK(backend);
    if (!backend.ok()) return keys;
    EXPECT_OK((*backend)->List("", [&](const repo::ObjectInfo& info) {
      keys.push_back(info.key);
      return Status::OK();
    }));
    return keys;
  }
};

TEST_F(SiteRemoveS3Test, RefusedWhileItHoldsTheLastGoodCopyThenRemovedAndNotRebuilt) {
  const std::string url = AddS3SiteHoldingMaps();
  const fs::path policy = PolicyFile();

  // The payload copies on a and b lost, found so by audits that could not read the bucket (wrong
  // key): s3 now holds the only good copy of each payload file.
  for (const char* site : {"a", "b"}) fs::remove_all(tmp_ / "repo/sites" / site / "blobs");
  for (const char* site : {"a", "b"}) {
    CommandResult audited = RunCairn({"audit", "run", "--site", site, "--all"},
                                     {"CAIRN_REPO=" + Root(), "AWS_SECRET_ACCESS_KEY=wrong"});
    EXPECT_EQ(audited.exit_code, 1) << audited.out << audited.err;
  }
  CommandResult needed = Cairn({"site", "remove", "s3"});
  EXPECT_EQ(needed.exit_code, 2) << needed.out << needed.err;
  EXPECT_THAT(needed.err, HasSubstr("without site s3, the default policy: copies: 3"));
  WriteFile(policy, "copies: 2\n");
  ASSERT_EQ(Cairn({"policy", "set", policy.string()}).exit_code, 0);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"site", "remove", "s3"},
                                               {"site", "remove", "s3", "--force"},
                                               {"site", "remove", "s3", "--dry-run"}}) {
    CommandResult refused = Cairn(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("site s3 holds the last good copy of"));
    EXPECT_THAT(refused.err, HasSubstr("acme/maps@v1 data/"));
    EXPECT_THAT(refused.err, HasSubstr("site s3 was not removed"));
  }
  EXPECT_THAT(Cairn({"site", "list"}).out, HasSubstr("s3 "));

  // Repaired from the bucket by the next audits: then s3 may go.
  for (const char* site : {"a", "b"}) {
    CommandResult repaired = Cairn({"audit", "run", "--site", site, "--all"});
    EXPECT_NE(repaired.exit_code, 2) << repaired.out << repaired.err;
    EXPECT_THAT(repaired.out, HasSubstr("REPAIRED from site "));  // s3 for a, either for b
  }
  const std::vector<std::string> keys_before = BucketKeys(url);
  CommandResult removed = Cairn({"site", "remove", "s3"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_THAT(removed.out, HasSubstr("removed site s3 s3://"));
  EXPECT_THAT(removed.out, HasSubstr("the files on s3 were left as they are"));
  EXPECT_EQ(BucketKeys(url), keys_before);  // nothing in the bucket written or deleted
  EXPECT_THAT(Cairn({"site", "list"}).out, Not(HasSubstr("s3 ")));
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  CommandResult restored = Cairn({"restore", "acme/maps", (tmp_ / "out").string()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;

  // A catalog rebuilt from posix site a: sites a and b, not s3.
  const std::string sites = SitesRebuiltFrom("a", tmp_ / "rebuilt");
  EXPECT_THAT(sites, HasSubstr("b "));
  EXPECT_THAT(sites, Not(HasSubstr("s3 ")));
}

}  // namespace
}  // namespace cairn::testing
