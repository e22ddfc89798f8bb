// PayloadStager on a REAL Ceph gateway (tests/util/s3_gateway.h): a local file
// larger than one part is hashed once for its name and its parts' digests, and
// its parts go up signed with them. What a depositor gets when the file changes
// between that hashing and the upload (the test changes it from the
// blob_stored question, asked in between, with no hook in the code): nothing
// is stored, and the change is named as the file's fault when its size or time
// shows it, else refused by the gateway at commit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "repo/deposit/deposit_stage.h"
#include "repo/site/site.h"
#include "repo/site_layout.h"
#include "repo/storage/s3_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/s3_gateway.h"
#include "tests/util/test_util.h"

namespace cairn::repo::deposit_internal {
namespace {

using cairn::testing::TempDir;
using cairn::testing::WriteFile;

class PayloadStagerS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    const cairn::testing::S3Gateway* gateway = cairn::testing::SharedS3Gateway(&log);
    ASSERT_NE(gateway, nullptr) << "the Ceph gateway did not start:\n" << log;
    auto backend = OpenS3BackendTyped(
        cairn::testing::S3Url(*gateway, cairn::testing::FreshBucketName(), "part-size=5MiB"));
    ASSERT_OK(backend);
    ASSERT_OK((*backend)->CreateBucket(/*object_lock=*/false));
    backend_ = backend->get();
    auto site = Site::Init(std::move(backend).value(), "s3");
    ASSERT_OK(site);
    site_ = std::move(site).value();
    target_.first = site_.get();
    target_.site_name = "s3";
    file_ = (tmp_.path() / "large.bin").string();
    std::mt19937_64 rng(5);
    std::string content((11 << 20) + 77, '\0');
    for (char& c : content) c = static_cast<char>(rng() >> 56);
    WriteFile(file_, content);
    auto scratch = DepositScratch::Create(tmp_.path().string());
    ASSERT_OK(scratch);
    ingest_ = std::make_unique<Ingest>(std::move(scratch).value());
    stager_ = std::make_unique<PayloadStager>(target_, ingest_.get());
  }

  Result<PayloadStager::Staged> Stage() {
    return stager_->StageLocalFile(file_, bagit::Only(bagit::Algorithm::kSha256));
  }

  void TearDown() override {
    if (backend_ != nullptr) (void)backend_->DeleteBucket();
  }

  // Blob keys on the site.
  size_t Blobs() {
    size_t n = 0;
    EXPECT_OK(backend_->List("blobs/", [&](const ObjectInfo&) {
      ++n;
      return Status::OK();
    }));
    return n;
  }

  // Flips one byte in the file's second part, in place.
  void ChangeMiddleByte() {
    int fd = ::open(file_.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    char c = 'Z';
    ASSERT_EQ(::pwrite(fd, &c, 1, (5 << 20) + 3), 1);
    ::close(fd);
  }

  TempDir tmp_;
  S3Backend* backend_ = nullptr;
  std::unique_ptr<Site> site_;
  IngestTarget target_;
  std::string file_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<PayloadStager> stager_;
};

TEST_F(PayloadStagerS3Test, AFileChangedAfterItWasHashedIsNamedAndNothingIsStored) {
  target_.blob_stored = [&](const std::string&) {
    ChangeMiddleByte();  // its modification time moves
    return false;
  };
  Result<PayloadStager::Staged> staged = Stage();
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), Code::kInvalidArgument) << staged.status().ToString();
  EXPECT_EQ(staged.status().message(), file_ + " changed while it was deposited");
  EXPECT_FALSE(stager_->IsSiteError(staged.status())) << "the source's fault, not the site's";
  EXPECT_EQ(Blobs(), 0u);
}

TEST_F(PayloadStagerS3Test, AChangeThatKeepsSizeAndTimeIsRefusedByTheGatewayAtCommit) {
  struct stat before;
  ASSERT_EQ(::stat(file_.c_str(), &before), 0);
  target_.blob_stored = [&](const std::string&) {
    ChangeMiddleByte();
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    EXPECT_EQ(::utimensat(AT_FDCWD, file_.c_str(), times, 0), 0);
    return false;
  };
  Result<PayloadStager::Staged> staged = Stage();
  Status status = staged.ok() ? stager_->Commit("data/large.bin", &*staged) : staged.status();
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("changed at the source"), std::string::npos) << status.ToString();
  EXPECT_EQ(Blobs(), 0u) << "the blob's name never points at other bytes";
  // The depositor runs it again: the file as it is now is stored.
  target_.blob_stored = [](const std::string&) { return false; };
  staged = Stage();
  ASSERT_OK(staged);
  ASSERT_OK(stager_->Commit("data/large.bin", &*staged));
  EXPECT_EQ(Blobs(), 1u);
  auto back = backend_->ReadAll(layout::BlobKey(staged->digests[bagit::Algorithm::kSha256]));
  ASSERT_OK(back);
  EXPECT_TRUE(*back == cairn::testing::ReadFile(file_)) << "the blob holds the file as it is now";
}

TEST_F(PayloadStagerS3Test, AMemberThatMissesItsManifestDigestIsStoredUnderNoName) {
  // A member of a serialized bag is streamed once: hashed by the stager and
  // sent by the writer from the same chunks, the writer trusting the stager's
  // hash. Bytes that miss the manifest's digest never become a blob, neither
  // under the manifest's name nor under their own.
  std::mt19937_64 rng(7);
  std::string member((7 << 20) + 5, '\0');
  for (char& c : member) c = static_cast<char>(rng() >> 56);
  const std::string promised(64, 'a');  // the manifest's digest, which the bytes miss
  target_.blob_stored = [](const std::string&) { return false; };
  Result<PayloadStager::Staged> wrong = stager_->Stage(
      bagit::MemorySource(&member), bagit::Only(bagit::Algorithm::kSha256), promised, true);
  ASSERT_OK(wrong);
  EXPECT_NE(wrong->digests[bagit::Algorithm::kSha256], promised);
  Status committed = stager_->Commit("data/member.bin", &*wrong);
  EXPECT_FALSE(committed.ok());
  EXPECT_EQ(Blobs(), 0u) << committed.ToString();
  // Its true digest as the promise: stored, byte for byte.
  const std::string sha256 =
      bagit::HashBytes(member, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  Result<PayloadStager::Staged> staged = stager_->Stage(
      bagit::MemorySource(&member), bagit::Only(bagit::Algorithm::kSha256), sha256, true);
  ASSERT_OK(staged);
  ASSERT_OK(stager_->Commit("data/member.bin", &*staged));
  EXPECT_EQ(Blobs(), 1u);
  auto back = backend_->ReadAll(layout::BlobKey(sha256));
  ASSERT_OK(back);
  EXPECT_TRUE(*back == member);
}

}  // namespace
}  // namespace cairn::repo::deposit_internal
