// `audit run --orphans` on an S3 site (a bucket prefix) on the REAL Ceph gateway
// (tests/util/s3_gateway.h): objects at the site's top level that the layout does not name
// are stray files, named and never removed; what Cairn itself keeps there (CAIRN-SITE,
// README.txt, settings/, events/, the tmp/ of unfinished writers) is not, nor anything in the
// bucket outside the site's prefix.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

TEST(S3StrayFilesTest, TopLevelStrayObjectsAreReportedAndLeftOnTheBucket) {
  std::string log;
  const S3Gateway* gateway = SharedS3Gateway(&log);
  ASSERT_NE(gateway, nullptr) << "the Ceph gateway did not start:\n" << log;
  TempDir tmp;
  const std::string root = (tmp / "repo").string();
  auto cairn = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"env", "CAIRN_REPO=" + root, CairnBinary().string()});
    return RunProcess(args);
  };
  ASSERT_EQ(cairn({"init", root}).exit_code, 0);
  const std::string bucket = FreshBucketName();
  CommandResult added =
      cairn({"site", "add", "s3", S3Url(*gateway, bucket + "/site"), "--create-bucket"});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  ASSERT_EQ(cairn({"partner", "add", "acme"}).exit_code, 0);  // a settings record on every site

  // The whole bucket, to put what Cairn would never write.
  auto whole = repo::OpenS3BackendTyped(S3Url(*gateway, bucket));
  ASSERT_OK(whole);
  // A writer's part left in tmp/ (a killed writer's temp object) and objects outside
  // the site's prefix are not the site's to report.
  ASSERT_OK((*whole)->Put("site/tmp/w-killed.1", "a part"));
  ASSERT_OK((*whole)->Put("other-app/notes.txt", "not Cairn's"));
  ASSERT_OK((*whole)->Put("sitex", "beside the prefix"));
  CommandResult clean = cairn({"audit", "run", "--orphans", "--site", "s3", "--json"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;

  ASSERT_OK((*whole)->Put("site/notes.txt", "an operator's note\n"));
  ASSERT_OK((*whole)->Put("site/old-backup/x.bin", "xx"));
  CommandResult audit = cairn({"audit", "run", "--orphans", "--site", "s3", "--json"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  nlohmann::json report = nlohmann::json::parse(audit.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << audit.out << audit.err;
  EXPECT_EQ(report["stray_files"], 2) << audit.out;
  std::set<std::string> named;
  for (const auto& f : report["findings"]) {
    EXPECT_EQ(f["kind"], "stray-file") << f;
    EXPECT_EQ(f["site"], "s3") << f;
    named.insert(f["path"].get<std::string>());
  }
  EXPECT_EQ(named, (std::set<std::string>{"notes.txt", "old-backup/"})) << audit.out;
  CommandResult text = cairn({"audit", "run", "--orphans", "--site", "s3"});
  EXPECT_NE(text.out.find("stray-file: on site s3: notes.txt (19 bytes): a file Cairn did not "
                          "write, at the site's top level"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("stray-file: on site s3: old-backup/ (a folder): a folder Cairn did "
                          "not make"),
            std::string::npos)
      << text.out;
  // (site/tmp/w-killed.1 may be gone: Cairn's own cleanup of its writers' temp objects.)
  for (const char* key :
       {"site/notes.txt", "site/old-backup/x.bin", "other-app/notes.txt", "sitex"}) {
    EXPECT_OK((*whole)->Stat(key).status()) << key << " was removed";
  }
}

}  // namespace
}  // namespace cairn::testing
