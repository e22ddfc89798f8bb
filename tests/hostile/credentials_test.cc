// Credentials never leak (issue 6 and 7): with a repository holding a posix
// site and an S3 site on the real Ceph gateway, every command that touches S3
// (site add/list/check, deposit, replicate, show, restore from S3, audit,
// usage, events in every format, events verify, catalog rebuild from the S3
// site) and the failing paths (a wrong secret, keys pasted into the URL) run;
// then their stdout and stderr, the catalog files, every file of the
// repository and of the restores, and every object in the bucket are searched
// for the access key and the secret: neither may appear anywhere.
#include <gtest/gtest.h>

#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/repo_fixture.h"
#include "tests/util/s3_gateway.h"

namespace cairn::testing {
namespace {

class CredentialsTest : public RepoFixture {
 protected:
  // Runs cairn (with the gateway's keys in its environment, as every S3 user
  // has them) and keeps everything it printed.
  CommandResult Run(const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) {
    CommandResult r = RunCairn(args, env);
    // Only what cairn printed (some arguments carry the keys on purpose).
    transcript_ += r.out + r.err;
    return r;
  }
  CommandResult InRepo(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--repo", Root()});
    return Run(args, env);
  }

  // Fails for every place `secret` occurs in `haystack` (named `where`).
  void ExpectAbsent(const std::string& haystack, const std::string& where) {
    for (const auto& [name, secret] : secrets_) {
      EXPECT_EQ(haystack.find(secret), std::string::npos)
          << "the " << name << " appears in " << where;
    }
  }

  std::string transcript_;
  std::vector<std::pair<std::string, std::string>> secrets_;
};

TEST_F(CredentialsTest, KeysAppearInNoOutputEventCatalogOrSiteObject) {
  std::string log;
  const S3Gateway* gateway = SharedS3Gateway(&log);
  ASSERT_NE(gateway, nullptr) << "the Ceph gateway did not start:\n" << log;
  ASSERT_GE(gateway->access_key.size(), 8u);
  ASSERT_GE(gateway->secret_key.size(), 16u);
  secrets_ = {{"access key", gateway->access_key}, {"secret key", gateway->secret_key}};
  const std::string bucket = FreshBucketName();
  const std::string url = S3Url(*gateway, bucket);
  auto backend = repo::OpenS3BackendTyped(url);
  ASSERT_OK(backend);
  ASSERT_OK((*backend)->CreateBucket(false));

  // Keys pasted into the URL are refused, and not echoed.
  std::string with_keys = "s3://" + gateway->access_key + ":" + gateway->secret_key + "@" + bucket +
                          url.substr(url.find('?'));
  CommandResult pasted = InRepo({"site", "add", "bad", with_keys});
  EXPECT_NE(pasted.exit_code, 0) << "credentials in a URL must be refused";
  std::string query_keys =
      url + "&access_key=" + gateway->access_key + "&secret_key=" + gateway->secret_key;
  CommandResult in_query = InRepo({"site", "add", "bad2", query_keys});
  EXPECT_NE(in_query.exit_code, 0) << "credentials in a URL query must be refused";

  ASSERT_EQ(InRepo({"site", "add", "s3", url}).exit_code, 0) << transcript_;
  WriteFile(tmp_ / "policy.textpb", "copies: 2 sites: \"a\" sites: \"s3\"\n");
  ASSERT_EQ(InRepo({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0)
      << transcript_;
  ASSERT_EQ(InRepo({"partner", "add", "acme"}).exit_code, 0);
  ASSERT_EQ(InRepo({"deposit", "acme", MakeSourceFolder("one").string(), "--id", "one"}).exit_code,
            0)
      << transcript_;
  ASSERT_EQ(
      InRepo({"deposit", "acme", MakeSourceFolder("two").string(), "--id", "two", "--no-replicate"})
          .exit_code,
      0)
      << transcript_;
  EXPECT_EQ(InRepo({"replicate", "--wait", "--json"}).exit_code, 0) << transcript_;
  InRepo({"site", "list"});
  InRepo({"site", "list", "--json"});
  InRepo({"site", "check", "s3"});
  InRepo({"list", "--json"});
  InRepo({"show", "acme/one", "--json"});
  EXPECT_EQ(InRepo({"restore", "acme/one", (tmp_ / "restored").string(), "--site", "s3"}).exit_code,
            0)
      << transcript_;
  EXPECT_EQ(InRepo({"restore", "acme/two", (tmp_ / "restored.tgz").string(), "--site", "s3",
                    "--format", "tgz"})
                .exit_code,
            0)
      << transcript_;
  EXPECT_EQ(InRepo({"audit", "run", "--all", "--orphans", "--json"}).exit_code, 0) << transcript_;
  InRepo({"audit", "run", "--all", "--site", "s3"});
  InRepo({"usage", "--json"});
  for (const char* format : {"text", "json", "premis"}) InRepo({"events", "--format", format});
  EXPECT_EQ(InRepo({"events", "verify"}).exit_code, 0) << transcript_;
  InRepo({"events", "head"});

  // A wrong secret: 403 named as a credentials problem, neither secret printed.
  const std::string wrong = "WrongSecret" + gateway->secret_key.substr(0, 4) + "0123456789abcdef";
  secrets_.push_back({"wrong secret", wrong});
  CommandResult denied =
      InRepo({"audit", "run", "--all", "--site", "s3"}, {"AWS_SECRET_ACCESS_KEY=" + wrong});
  EXPECT_NE(denied.exit_code, 0) << denied.out << denied.err;
  InRepo({"site", "check", "s3"}, {"AWS_SECRET_ACCESS_KEY=" + wrong});
  InRepo({"restore", "acme/one", (tmp_ / "denied").string(), "--site", "s3"},
         {"AWS_SECRET_ACCESS_KEY=" + wrong});

  // The catalog rebuilt from the S3 site alone.
  EXPECT_EQ(
      Run({"catalog", "rebuild", "--from", url, "--into", (tmp_ / "rebuilt").string()}).exit_code,
      0)
      << transcript_;
  Run({"--repo", (tmp_ / "rebuilt").string(), "events", "--format", "json"});

  ExpectAbsent(transcript_, "the commands' output");
  // Every file: catalog (and its WAL), sites, restores, the rebuilt repository.
  size_t files = 0;
  for (fs::recursive_directory_iterator it(tmp_.path()), end; it != end; ++it) {
    if (!fs::is_regular_file(it->symlink_status())) continue;
    ExpectAbsent(ReadFile(it->path()), it->path().string());
    ++files;
  }
  EXPECT_GT(files, 20u);
  // Every object in the bucket.
  size_t objects = 0;
  Status listed = (*backend)->List("", [&](const repo::ObjectInfo& info) {
    auto bytes = (*backend)->ReadAll(info.key);
    EXPECT_OK(bytes) << info.key;
    if (bytes.ok()) ExpectAbsent(*bytes, "s3 object " + info.key);
    ExpectAbsent(info.key, "an s3 key name");
    ++objects;
    return Status::OK();
  });
  EXPECT_OK(listed);
  EXPECT_GT(objects, 10u);
}

}  // namespace
}  // namespace cairn::testing
