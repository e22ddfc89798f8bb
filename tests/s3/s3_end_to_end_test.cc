// The whole life of a repository with one posix site and one S3 site on a REAL
// Ceph gateway, through the real `cairn` binary: deposit, replicate, restore
// from S3 only, a byte flipped in an S3 object found and repaired by audit, a
// gateway outage in the middle of a sweep reported as unavailable (never
// corrupt) and checked again after the restart, a lost bucket resynced, and
// the catalog rebuilt from the S3 site alone.
//
// This test starts its OWN gateway (the shared one must never be stopped) and
// stops only its radosgw for the outage (ops/scripts/ceph-rgw-gateway.sh), so
// the data survives on memstore.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "repo/site_layout.h"
#include "repo/storage/s3_backend.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

using cairn::testing::OpsScript;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (fs::is_regular_file(it->symlink_status())) {
      files[fs::relative(it->path(), dir).generic_string()] = ReadFile(it->path());
    }
  }
  return files;
}

class S3EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_dir_ = (tmp_ / "gw").string();
    CommandResult started = RunProcess({OpsScript("ceph-rgw-start.sh"), gateway_dir_});
    ASSERT_EQ(started.exit_code, 0) << "the Ceph gateway did not start:\n"
                                    << started.err << started.out;
    gateway_started_ = true;
    for (const char* name :
         {"CAIRN_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}) {
      std::string marker = std::string(name) + "=";
      size_t at = started.out.find(marker);
      ASSERT_NE(at, std::string::npos) << started.out;
      std::string value = started.out.substr(at + marker.size());
      env_[name] = value.substr(0, value.find('\n'));
    }
    // 5 MiB parts: the 6 MiB file goes up as a multipart upload.
    url_ = "s3://cairn-e2e?endpoint=" + env_["CAIRN_S3_ENDPOINT"] +
           "&region=" + env_["AWS_REGION"] + "&part-size=5MiB";
    root_ = (tmp_ / "repo").string();
  }

  void TearDown() override {
    if (gateway_started_) RunProcess({OpsScript("ceph-rgw-stop.sh"), gateway_dir_});
  }

  CommandResult Cairn(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"env",
                                     "AWS_ACCESS_KEY_ID=" + env_["AWS_ACCESS_KEY_ID"],
                                     "AWS_SECRET_ACCESS_KEY=" + env_["AWS_SECRET_ACCESS_KEY"],
                                     CairnBinary().string(),
                                     "--repo",
                                     root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  // The S3 site's bucket through the backend API (for damage and loss).
  std::unique_ptr<repo::S3Backend> Bucket() {
    auto config = repo::ParseS3Url(url_);
    EXPECT_OK(config);
    return std::make_unique<repo::S3Backend>(
        *config, repo::S3Credentials{env_["AWS_ACCESS_KEY_ID"], env_["AWS_SECRET_ACCESS_KEY"], ""});
  }

  void ExpectRestores(const std::string& ref, const fs::path& source, const std::string& site,
                      const std::string& tag) {
    fs::path dest = tmp_ / ("restored-" + tag);
    std::vector<std::string> args = {"restore", ref, dest.string()};
    if (!site.empty()) args.insert(args.end(), {"--site", site});
    CommandResult r = Cairn(args);
    ASSERT_EQ(r.exit_code, 0) << tag << ": " << r.out << r.err;
    EXPECT_TRUE(Tree(dest / "data") == Tree(source)) << tag;
  }

  nlohmann::json Json(const CommandResult& r) {
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }

  TempDir tmp_;
  std::string gateway_dir_;
  bool gateway_started_ = false;
  std::map<std::string, std::string> env_;
  std::string url_;
  std::string root_;
};

TEST_F(S3EndToEndTest, PosixAndS3SitesThroughEveryCommand) {
  // --- a repository with sites a (posix) and s3, two copies on exactly those ---
  ASSERT_EQ(Cairn({"init", root_}).exit_code, 0);
  CommandResult added = Cairn({"site", "add", "s3", url_, "--create-bucket"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  WriteFile(tmp_ / "policy.textpb", "copies: 2 sites: \"a\" sites: \"s3\"\n");
  CommandResult policy = Cairn({"policy", "set", (tmp_ / "policy.textpb").string()});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);

  fs::path photos = tmp_ / "photos", letters = tmp_ / "letters";
  const std::string small = "a small file that will be damaged on S3\n";
  WriteFile(photos / "big.bin", RandomBytes(6u << 20, 1));
  WriteFile(photos / "mid.bin", RandomBytes(3u << 20, 2));
  WriteFile(photos / "small.txt", small);
  for (int i = 0; i < 8; ++i) {
    WriteFile(letters / ("letter" + std::to_string(i) + ".txt"), RandomBytes(20000 + i, 10 + i));
  }
  CommandResult d1 = Cairn({"deposit", "acme", photos.string(), "--id", "photos"});
  ASSERT_EQ(d1.exit_code, 0) << d1.out << d1.err;
  CommandResult d2 = Cairn({"deposit", "acme", letters.string(), "--id", "letters"});
  ASSERT_EQ(d2.exit_code, 0) << d2.out << d2.err;
  CommandResult replicated = Cairn({"replicate", "--wait"});
  ASSERT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;

  // --- restore from S3 alone, byte-identical ---
  ExpectRestores("acme/photos", photos, "s3", "photos-s3");
  ExpectRestores("acme/letters", letters, "s3", "letters-s3");

  // --- a byte flipped in an S3 object: audit finds it corrupt and repairs it ---
  std::unique_ptr<repo::S3Backend> bucket = Bucket();
  const std::string small_key = repo::layout::BlobKey(repo::Sha256Hex(small));
  std::string damaged = small;
  damaged[5] ^= 0x20;
  ASSERT_OK(bucket->Put(small_key, damaged));  // overwrite: bypasses write-once
  CommandResult audit = Cairn({"audit", "run", "--site", "s3", "--all", "--json"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  nlohmann::json report = Json(audit);
  EXPECT_EQ(report["corrupt"], 1) << audit.out;
  EXPECT_EQ(report["repaired"], 1) << audit.out;
  EXPECT_EQ(report["unavailable"], 0);
  EXPECT_EQ(*bucket->ReadAll(small_key), small);

  // --- the gateway stops in the middle of a sweep: unavailable, never corrupt ---
  CommandResult during;
  std::thread sweep([&] {
    during = Cairn({"audit", "run", "--site", "s3", "--all", "--rate", "2M", "--json"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CommandResult stopped = RunProcess({OpsScript("ceph-rgw-gateway.sh"), "stop", gateway_dir_});
  sweep.join();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  nlohmann::json outage = Json(during);
  EXPECT_NE(during.exit_code, 0) << during.out;
  EXPECT_EQ(outage["corrupt"], 0) << during.out;
  EXPECT_EQ(outage["missing"], 0) << during.out;
  EXPECT_EQ(outage["repaired"], 0) << during.out;
  int unavailable = outage["unavailable"].get<int>();
  EXPECT_GT(unavailable, 0) << during.out;
  CommandResult check_down = Cairn({"site", "check", "s3", "--json"});
  EXPECT_EQ(check_down.exit_code, 1);
  EXPECT_EQ(Json(check_down)["checks"][1]["status"], "failed") << check_down.out;  // reachable

  CommandResult restarted = RunProcess({OpsScript("ceph-rgw-gateway.sh"), "start", gateway_dir_});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
  // Every copy was checked by the first sweep, so none is due: check all again.
  CommandResult rerun = Cairn({"audit", "run", "--site", "s3", "--all", "--json"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  nlohmann::json after = Json(rerun);
  EXPECT_GE(after["checked"].get<int>(), unavailable) << rerun.out;
  EXPECT_EQ(after["ok"], after["checked"]) << rerun.out;
  EXPECT_EQ(after["unavailable"], 0) << rerun.out;

  // --- the bucket is lost: resync (creating the bucket again) restores it ---
  ASSERT_OK(bucket->DeleteBucket());
  CommandResult refused = Cairn({"site", "resync", "s3"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--create-bucket"), std::string::npos) << refused.err;
  CommandResult resync = Cairn({"site", "resync", "s3", "--create-bucket", "--json"});
  ASSERT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  EXPECT_TRUE(Json(resync)["complete"].get<bool>());
  EXPECT_EQ(Cairn({"site", "check", "s3"}).exit_code, 0);
  ExpectRestores("acme/photos", photos, "s3", "photos-resynced");

  // --- the catalog is lost: rebuilt from the S3 site alone ---
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(root_ + "/catalog.db" + suffix);
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", url_});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_NE(rebuilt.out.find("objects 2"), std::string::npos) << rebuilt.out;
  ExpectRestores("acme/photos", photos, "s3", "photos-rebuilt");
  ExpectRestores("acme/letters", letters, "s3", "letters-rebuilt");
  ExpectRestores("acme/letters", letters, "", "letters-any");

  // Never a secret in what cairn printed.
  for (const CommandResult* r : {&audit, &during, &resync, &rebuilt, &check_down}) {
    EXPECT_EQ(r->out.find(env_["AWS_SECRET_ACCESS_KEY"]), std::string::npos);
    EXPECT_EQ(r->err.find(env_["AWS_SECRET_ACCESS_KEY"]), std::string::npos);
  }
}

}  // namespace
}  // namespace cairn::testing
