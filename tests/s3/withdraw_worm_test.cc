// Issue 18 on the real Ceph gateway: a purge meets an S3 site with Object Lock. The posix sites
// lose the version's bytes; the locked site keeps every locked key, the withdrawal shows
// `waiting-retention` with the reason in `withdraw list` (and `withdraw run` exits 1 saying
// so): never reported purged while bytes remain, never a silent failure. The locked site has
// its tombstone all the same.
#include <gmock/gmock.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "bagit/digest.h"
#include "bagit/time_text.h"
#include "repo/site_layout.h"
#include "repo/storage/s3_backend.h"
#include "repo/storage/s3_xml.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class WithdrawWormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // It names withdrawal 1: numbered in sequence by cairn-testing (repo/test_hooks.h).
    setenv("CAIRN_SEQUENTIAL_NUMBERS", "1", 1);
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
  // Deposits acme/box (one file) with copies on the posix sites and on a new Object Lock
  // site at `url`, asks its purge, and approves it as a second person (exit code of approve).
  CommandResult DepositThenWithdrawAndApprove(const std::string& url) {
    CommandResult added = Cairn({"site", "add", "worm", url, "--create-bucket"});
    EXPECT_EQ(added.exit_code, 0) << added.out << added.err;
    WriteFile(tmp_ / "policy.textpb", "copies: 3\n");
    EXPECT_EQ(Cairn({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0);
    EXPECT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
    WriteFile(tmp_ / "src/a.txt", "only in this version\n");
    CommandResult dep = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "box"});
    EXPECT_EQ(dep.exit_code, 0) << dep.out << dep.err;
    CommandResult rep = Cairn({"replicate", "--wait"});
    EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
    EXPECT_EQ(
        Cairn({"withdraw", "request", "acme/box", "--reason", "takedown", "--purge"}).exit_code, 0);
    // A second person: an operator principal with a token.
    EXPECT_EQ(Cairn({"principal", "add", "otto", "--role", "operator"}).exit_code, 0);
    CommandResult token = Cairn({"token", "create", "otto"});
    EXPECT_EQ(token.exit_code, 0) << token.err;
    return Cairn({"withdraw", "approve", "1", "--as", "otto"},
                 {"CAIRN_TOKEN=" + token.out.substr(0, token.out.find('\n'))});
  }
  TempDir tmp_;
  const S3Gateway* gateway_ = nullptr;
};

// Every stored version and delete marker in the bucket under `prefix`, as "KEY VERSION-ID".
std::vector<std::string> StoredVersions(repo::S3Backend& backend, const std::string& prefix) {
  repo::S3Request list;
  list.query = {{"prefix", backend.ObjectName(prefix)}, {"versions", ""}};
  auto answer = backend.http().Send(list);
  EXPECT_OK(answer);
  std::vector<std::string> out;
  if (!answer.ok()) return out;
  EXPECT_EQ(answer->status, 200) << answer->body;
  for (const char* tag : {"Version", "DeleteMarker"}) {
    for (std::string_view v : repo::XmlElements(answer->body, tag)) {
      out.push_back(repo::XmlText(v, "Key") + " " + repo::XmlText(v, "VersionId"));
    }
  }
  return out;
}

TEST_F(WithdrawWormTest, PurgeWaitsForObjectLockRetention) {
  const std::string url = S3Url(*gateway_, FreshBucketName(), "object-lock=GOVERNANCE&retain=1d");
  auto worm = repo::OpenS3BackendTyped(url);
  ASSERT_OK(worm);
  const std::string record = repo::layout::VersionRecordKey("acme", "box", 1);
  CommandResult approve = DepositThenWithdrawAndApprove(url);
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.out, HasSubstr("waiting-retention"));
  EXPECT_THAT(approve.out, HasSubstr("Object Lock"));

  CommandResult list = Cairn({"withdraw", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json w = nlohmann::json::parse(list.out)[0];
  EXPECT_EQ(w["state"], "waiting-retention");
  EXPECT_THAT(w["detail"].get<std::string>(), HasSubstr("worm: "));
  // The posix sites lost the version; the locked one keeps its bytes (hidden under a delete
  // marker until the retention ends), with its tombstone.
  EXPECT_FALSE(fs::exists(Root() + "/sites/a/" + record));
  EXPECT_FALSE(fs::exists(Root() + "/sites/b/" + record));
  EXPECT_TRUE((*worm)->Stat(record).status().IsNotFound());
  EXPECT_EQ(StoredVersions(**worm, record).size(), 2u) << "the version and its delete marker";
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

// A file a later version reuses must stay locked as long as that version's own files on every
// site: the first site's copy had its retention extended, but a site the copy was replicated to
// kept the first version's date (the catalog recorded the copy, so replication skipped it), so
// its bytes could be deleted there while the later version still counted on them.
TEST_F(WithdrawWormTest, AFileALaterVersionReusesIsKeptLockedForItOnEverySite) {
  const std::string url = S3Url(*gateway_, FreshBucketName(), "object-lock=GOVERNANCE&retain=1d");
  ASSERT_EQ(Cairn({"site", "add", "worm", url, "--create-bucket"}).exit_code, 0);
  WriteFile(tmp_ / "policy.textpb", "copies: 3\n");
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "policy.textpb").string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  const std::string text = "the same bytes in two objects\n";
  WriteFile(tmp_ / "one/a.txt", text);
  WriteFile(tmp_ / "two/a.txt", text);
  CommandResult first = Cairn({"deposit", "acme", (tmp_ / "one").string()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto worm = repo::OpenS3BackendTyped(url);
  ASSERT_OK(worm);
  const std::string blob = repo::layout::BlobKey(
      bagit::HashBytes(text, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256]);
  auto until = [&] {
    repo::S3Request retention;
    retention.object = (*worm)->ObjectName(blob);
    retention.query = {{"retention", ""}};
    auto answer = (*worm)->http().Send(retention);
    EXPECT_OK(answer);
    if (!answer.ok()) return std::string();
    EXPECT_EQ(answer->status, 200) << answer->body;
    return repo::XmlText(answer->body, "RetainUntilDate").substr(0, 19);
  };
  const std::string before = until();
  ASSERT_FALSE(before.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CommandResult second = Cairn({"deposit", "acme", (tmp_ / "two").string()});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_GT(until(), before) << "the reused blob keeps the first version's retention";
}

// Once the retention ends, the daemon's retry (here `withdraw run`) removes every version of
// the purged keys from the locked site: no byte left behind a delete marker, the withdrawal
// purged with its deletion event; the tombstone, written once, stays.
TEST_F(WithdrawWormTest, PurgeCompletesOnceTheRetentionEnds) {
  const std::string url = S3Url(*gateway_, FreshBucketName(), "object-lock=GOVERNANCE&retain=15s");
  CommandResult approve = DepositThenWithdrawAndApprove(url);
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.out, HasSubstr("waiting-retention"));
  auto worm = repo::OpenS3BackendTyped(url);
  ASSERT_OK(worm);
  nlohmann::json w = nlohmann::json::parse(Cairn({"withdraw", "list", "--json"}).out)[0];
  ASSERT_EQ(w["state"], "waiting-retention");
  const std::string detail = w["detail"];
  EXPECT_THAT(detail, HasSubstr("retention until "));
  // The latest date named: the purge is due after it.
  int64_t due = 0;
  for (size_t at = 0; (at = detail.find("until ", at)) != std::string::npos; at += 6) {
    auto when = ParseUtc(detail.substr(at + 6, 20));
    ASSERT_OK(when) << detail;
    due = std::max(due, *when);
  }
  EXPECT_FALSE(StoredVersions(**worm, "blobs/").empty()) << "kept while retained";
  std::this_thread::sleep_until(
      std::chrono::system_clock::time_point(std::chrono::microseconds(due + 1'500'000)));

  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  w = nlohmann::json::parse(Cairn({"withdraw", "list", "--json"}).out)[0];
  EXPECT_EQ(w["state"], "purged") << w.dump();
  EXPECT_THAT(StoredVersions(**worm, "blobs/"), ::testing::IsEmpty());
  const std::string tombstone = repo::layout::TombstoneKey("acme", "box", 1);
  std::vector<std::string> left = StoredVersions(**worm, "bags/acme/box/");
  ASSERT_EQ(left.size(), 1u) << ::testing::PrintToString(left);
  EXPECT_THAT(left[0], ::testing::StartsWith((*worm)->ObjectName(tombstone) + " "));
  CommandResult events = Cairn({"events", "--json"});
  EXPECT_THAT(events.out, HasSubstr("deletion")) << events.out;
}

}  // namespace
}  // namespace cairn::testing
