// PayloadStager on its own: what a depositor gets when a source file changes
// under the deposit. The site is the in-memory backend, which (like S3) has
// no DigestsBeforeCommit, so the stager hashes the file first, asks whether
// the blob is stored, and only then copies it: the question is where a test
// can shrink the file, with no hook in the code.
#include "repo/deposit/deposit_stage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/site/site.h"
#include "repo/storage/memory_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo::deposit_internal {
namespace {

using cairn::testing::TempDir;
using cairn::testing::WriteFile;

size_t StageTestObjects(MemoryBackend& site) {
  size_t n = 0;
  EXPECT_OK(site.List("", [&](const ObjectInfo&) {
    ++n;
    return Status::OK();
  }));
  return n;
}

TEST(PayloadStagerTest, FileThatGetsShorterBeforeItIsCopiedIsRefusedByName) {
  TempDir tmp;
  const std::string file = (tmp.path() / "shrinks.bin").string();
  WriteFile(file, std::string(200000, 'x'));
  auto backend = std::make_unique<MemoryBackend>("mem");
  MemoryBackend& site = *backend;
  ASSERT_FALSE(site.DigestsBeforeCommit()) << "the test needs the hash-first path";
  Result<std::unique_ptr<Site>> first = Site::Init(std::move(backend), "mem");
  ASSERT_OK(first);
  const size_t site_objects = StageTestObjects(site);  // CAIRN-SITE, README.txt
  IngestTarget target;
  target.first = first->get();
  target.site_name = "mem";
  int asked = 0;
  // Called between hashing the whole file and copying it.
  target.blob_stored = [&](const std::string&) {
    ++asked;
    EXPECT_EQ(::truncate(file.c_str(), 1000), 0);
    return false;
  };
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  Ingest ingest(std::move(scratch).value());
  PayloadStager stager(target, &ingest);

  Result<PayloadStager::Staged> staged =
      stager.StageLocalFile(file, bagit::Only(bagit::Algorithm::kSha256));
  EXPECT_EQ(asked, 1);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(staged.status().message(), file + " changed while it was deposited (it got shorter)");
  EXPECT_FALSE(stager.IsSiteError(staged.status())) << "the source's fault, not the site's";
  EXPECT_EQ(StageTestObjects(site), site_objects) << "nothing half-made is left on the site";
  EXPECT_EQ(ingest.file_count, 0u);
}

// A fifo put where the walk saw a file (the walk takes each name's type from
// its folder's listing): refused by name at once, never waited on for a writer.
TEST(PayloadStagerTest, AFifoInAFilesPlaceIsRefusedWithoutWaiting) {
  TempDir tmp;
  const std::string fifo = (tmp.path() / "was-a-file").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Result<std::unique_ptr<Site>> first = Site::Init(std::make_unique<MemoryBackend>("mem"), "mem");
  ASSERT_OK(first);
  IngestTarget target;
  target.first = first->get();
  target.site_name = "mem";
  target.blob_stored = [](const std::string&) { return false; };
  Result<std::unique_ptr<DepositScratch>> scratch = DepositScratch::Create(tmp.path().string());
  ASSERT_OK(scratch);
  Ingest ingest(std::move(scratch).value());
  PayloadStager stager(target, &ingest);
  Result<PayloadStager::Staged> staged =
      stager.StageLocalFile(fifo, bagit::Only(bagit::Algorithm::kSha256));
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), Code::kInvalidArgument);
  EXPECT_NE(staged.status().message().find(fifo), std::string::npos) << staged.status().message();
  EXPECT_NE(staged.status().message().find("fifo"), std::string::npos) << staged.status().message();
  EXPECT_EQ(ingest.file_count, 0u);
}

}  // namespace
}  // namespace cairn::repo::deposit_internal
