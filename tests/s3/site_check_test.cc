// `cairn site add --create-bucket` and `cairn site check` with the real binary on
// the REAL Ceph gateway (tests/util/s3_gateway.h) and on posix sites: every
// check step, wrong credentials named as such, a missing bucket, a bucket
// without the Object Lock the URL asks for, an unsupported layout version, a
// named credentials profile, and no secret ever printed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

class SiteCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    gateway_ = SharedS3Gateway(&log);
    ASSERT_NE(gateway_, nullptr) << "the Ceph gateway did not start:\n" << log;
    CommandResult init = RunCairn({"init", Root()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  std::string Root() const { return (tmp_ / "repo").string(); }

  // cairn with CAIRN_REPO set; `env` ("K=V") replaces variables for this run.
  CommandResult Cairn(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {"env", "CAIRN_REPO=" + Root()};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(CairnBinary().string());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  // The checks of `cairn site check NAME --json`: name -> status.
  std::map<std::string, std::string> Checks(const CommandResult& r) {
    std::map<std::string, std::string> out;
    nlohmann::json json = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << r.out << r.err;
    if (json.is_discarded()) return out;
    for (const auto& check : json["checks"]) out[check["name"]] = check["status"];
    return out;
  }

  void ExpectNoSecret(const CommandResult& r) {
    EXPECT_EQ(r.out.find(gateway_->secret_key), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(gateway_->secret_key), std::string::npos) << r.err;
  }

  const S3Gateway* gateway_ = nullptr;
  TempDir tmp_;
};

TEST_F(SiteCheckTest, CreateBucketThenEveryCheckPasses) {
  std::string url = S3Url(*gateway_, FreshBucketName());
  CommandResult without = Cairn({"site", "add", "s3", url});
  EXPECT_EQ(without.exit_code, 2);
  EXPECT_NE(without.err.find("does not exist"), std::string::npos) << without.err;
  CommandResult added = Cairn({"site", "add", "s3", url, "--create-bucket"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  CommandResult check = Cairn({"site", "check", "s3", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  std::map<std::string, std::string> expected = {
      {"open", "ok"},     {"reachable", "ok"}, {"credentials", "ok"}, {"location", "ok"},
      {"writable", "ok"}, {"layout", "ok"},    {"digests", "ok"},     {"events", "ok"}};
  EXPECT_EQ(Checks(check), expected);
  CommandResult text = Cairn({"site", "check", "s3"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("layout version 2"), std::string::npos) << text.out;
  // This Ceph gateway refuses a wrong payload digest, and the check says so.
  EXPECT_NE(text.out.find("the gateway refuses bytes that miss their SHA-256"), std::string::npos)
      << text.out;
  // The probe object is gone: the bucket holds only the site's own objects.
  auto backend = repo::OpenS3BackendTyped(url);
  ASSERT_OK(backend);
  std::vector<std::string> keys;
  ASSERT_TRUE((*backend)
                  ->List("",
                         [&](const repo::ObjectInfo& info) {
                           keys.push_back(info.key);
                           return Status::OK();
                         })
                  .ok());
  std::sort(keys.begin(), keys.end());
  // Besides its settings records (settings/...), kept on every site.
  std::erase_if(keys, [](const std::string& k) { return k.starts_with("settings/"); });
  EXPECT_EQ(keys, (std::vector<std::string>{"CAIRN-SITE", "README.txt"}));
  ExpectNoSecret(check);
  ExpectNoSecret(text);
  ExpectNoSecret(Cairn({"site", "list", "--json"}));
}

TEST_F(SiteCheckTest, WrongCredentialsAreNamedAndNeverPrinted) {
  std::string url = S3Url(*gateway_, FreshBucketName());
  ASSERT_EQ(Cairn({"site", "add", "s3", url, "--create-bucket"}).exit_code, 0);
  const std::string wrong = "Wr0ngSecretValue-do-not-print";
  CommandResult check =
      Cairn({"site", "check", "s3", "--json"}, {"AWS_SECRET_ACCESS_KEY=" + wrong});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  auto checks = Checks(check);
  EXPECT_EQ(checks["reachable"], "ok");
  EXPECT_EQ(checks["credentials"], "failed");
  EXPECT_EQ(checks["writable"], "skipped");
  EXPECT_NE(check.out.find("credentials refused"), std::string::npos) << check.out;
  EXPECT_EQ(check.out.find(wrong), std::string::npos);
  ExpectNoSecret(check);
  // Adding a site with refused credentials fails clearly, secret-free.
  CommandResult add =
      Cairn({"site", "add", "s3b", S3Url(*gateway_, FreshBucketName()), "--create-bucket"},
            {"AWS_SECRET_ACCESS_KEY=" + wrong});
  EXPECT_EQ(add.exit_code, 2);
  EXPECT_NE(add.err.find("credentials refused"), std::string::npos) << add.err;
  EXPECT_EQ(add.err.find(wrong), std::string::npos);
  ExpectNoSecret(add);
  // No credentials at all: the open step names where it looked.
  CommandResult none =
      Cairn({"site", "check", "s3"}, {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
                                      "AWS_SHARED_CREDENTIALS_FILE=" + (tmp_ / "none").string()});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("no S3 credentials"), std::string::npos) << none.out;
}

TEST_F(SiteCheckTest, MissingBucketAndMissingObjectLockFailTheLocationCheck) {
  std::string bucket = FreshBucketName();
  std::string url = S3Url(*gateway_, bucket);
  ASSERT_EQ(Cairn({"site", "add", "s3", url, "--create-bucket"}).exit_code, 0);
  // Same bucket, another prefix, asking for Object Lock the bucket does not have.
  std::string locked_url = "s3://" + bucket + "/locked?endpoint=" + gateway_->endpoint +
                           "&region=" + gateway_->region + "&object-lock=GOVERNANCE&retain=1d";
  ASSERT_EQ(Cairn({"site", "add", "locked", locked_url}).exit_code, 0);
  CommandResult lock = Cairn({"site", "check", "locked", "--json"});
  EXPECT_EQ(lock.exit_code, 1);
  EXPECT_EQ(Checks(lock)["location"], "failed");
  EXPECT_NE(lock.out.find("no Object Lock"), std::string::npos) << lock.out;
  // A bucket created by --create-bucket for a locking URL has it.
  std::string good_lock = S3Url(*gateway_, FreshBucketName(), "object-lock=GOVERNANCE&retain=1d");
  ASSERT_EQ(Cairn({"site", "add", "worm", good_lock, "--create-bucket"}).exit_code, 0);
  EXPECT_EQ(Cairn({"site", "check", "worm"}).exit_code, 0);
  // The bucket disappears.
  auto backend = repo::OpenS3BackendTyped(url);
  ASSERT_OK(backend);
  ASSERT_OK((*backend)->DeleteBucket());
  CommandResult gone = Cairn({"site", "check", "s3", "--json"});
  EXPECT_EQ(gone.exit_code, 1);
  auto checks = Checks(gone);
  EXPECT_EQ(checks["credentials"], "ok");
  EXPECT_EQ(checks["location"], "failed");
  EXPECT_NE(gone.out.find("does not exist"), std::string::npos) << gone.out;
  EXPECT_EQ(Cairn({"site", "check", "nosuchsite"}).exit_code, 2);
}

TEST_F(SiteCheckTest, PosixSitesUnmountedOrWithUnknownLayoutFail) {
  CommandResult ok = Cairn({"site", "check", "a", "--json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  fs::path site_b = fs::path(Root()) / "sites" / "b";
  WriteFile(site_b / "CAIRN-SITE", "cairn-site 99\nsite-id: b\ncreated: 2026-01-01T00:00:00Z\n");
  CommandResult future = Cairn({"site", "check", "b", "--json"});
  EXPECT_EQ(future.exit_code, 1);
  // Nothing is written into a folder that is not this site (the probe came before the marker).
  EXPECT_EQ(Checks(future)["writable"], "skipped");
  EXPECT_EQ(Checks(future)["layout"], "failed");
  // Another repository's site b mounted here: the layout fails, naming the repository.
  const fs::path other = tmp_ / "other-repo";
  ASSERT_EQ(RunCairn({"init", other.string()}).exit_code, 0);
  fs::remove_all(site_b);
  fs::copy(other / "sites" / "b", site_b, fs::copy_options::recursive);
  // A probe written and removed leaves no file but changes the folder's mtime.
  const auto touched = fs::last_write_time(site_b);
  CommandResult foreign = Cairn({"site", "check", "b", "--json"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_EQ(Checks(foreign)["writable"], "skipped");
  EXPECT_EQ(Checks(foreign)["layout"], "failed");
  EXPECT_NE(foreign.out.find("another repository's site is mounted here"), std::string::npos)
      << foreign.out;
  EXPECT_EQ(fs::last_write_time(site_b), touched) << "something was written into it";
  fs::rename(fs::path(Root()) / "sites" / "a", tmp_ / "a-away");
  CommandResult away = Cairn({"site", "check", "a", "--json"});
  EXPECT_EQ(away.exit_code, 1);
  EXPECT_EQ(Checks(away)["reachable"], "failed");
}

TEST_F(SiteCheckTest, NamedProfileInTheUrlWinsOverTheEnvironment) {
  WriteFile(tmp_ / "credentials",
            "[default]\naws_access_key_id = nobody\n"
            "aws_secret_access_key = nothing\n[archive]\n"
            "aws_access_key_id = " +
                gateway_->access_key + "\naws_secret_access_key = " + gateway_->secret_key + "\n");
  std::string url = S3Url(*gateway_, FreshBucketName(), "profile=archive");
  std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=wrong", "AWS_SECRET_ACCESS_KEY=wrong",
                                  "AWS_SHARED_CREDENTIALS_FILE=" + (tmp_ / "credentials").string()};
  CommandResult add = Cairn({"site", "add", "s3", url, "--create-bucket"}, env);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(Cairn({"site", "check", "s3"}, env).exit_code, 0);
  // Without the file, that profile cannot be found: the open check says so.
  CommandResult missing =
      Cairn({"site", "check", "s3"}, {"AWS_SHARED_CREDENTIALS_FILE=/nonexistent"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("no S3 credentials"), std::string::npos) << missing.out;
  ExpectNoSecret(add);
  ExpectNoSecret(missing);
}

}  // namespace
}  // namespace cairn::testing
