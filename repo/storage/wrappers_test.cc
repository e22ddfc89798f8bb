// RetryBackend and FaultBackend, stacked on the memory and posix backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "repo/storage/fault_backend.h"
#include "repo/storage/memory_backend.h"
#include "repo/storage/posix_backend.h"
#include "repo/storage/retry_backend.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using std::chrono::milliseconds;

std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// A fault layer under a retry layer, sharing one memory store; sleeps recorded.
struct Stack {
  std::shared_ptr<MemoryBackend::Store> store = std::make_shared<MemoryBackend::Store>();
  FaultBackend* faults = nullptr;
  std::vector<milliseconds> sleeps;
  std::unique_ptr<RetryBackend> retry;

  explicit Stack(RetryPolicy policy = {}) {
    auto fault = std::make_unique<FaultBackend>(std::make_unique<MemoryBackend>("m", store));
    faults = fault.get();
    retry = std::make_unique<RetryBackend>(std::move(fault), policy,
                                           [this](milliseconds d) { sleeps.push_back(d); });
  }
};

TEST(RetryBackend, RetriesUnavailableWithBoundedBackoff) {
  Stack stack(RetryPolicy{5, milliseconds(100), milliseconds(300), 2.0});
  ASSERT_TRUE(stack.retry->Put("k", "value").ok());
  stack.faults->AddRule(FaultRule::Fail(FaultPoint::kStat, Status::Unavailable("busy")).Times(3));
  auto info = stack.retry->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(stack.sleeps,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(300)}));
  EXPECT_EQ(stack.retry->retries(), 3);
}

TEST(RetryBackend, GivesUpAfterMaxAttemptsAndKeepsTheMeaning) {
  Stack stack(RetryPolicy{3, milliseconds(1), milliseconds(10), 2.0});
  stack.faults->SetOffline(true);
  Status status = stack.retry->Remove("k");
  EXPECT_TRUE(status.IsUnavailable()) << status.ToString();
  EXPECT_NE(status.message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(stack.sleeps.size(), 2u);
}

TEST(RetryBackend, DoesNotRetryPermanentErrors) {
  Stack stack;
  EXPECT_TRUE(stack.retry->Stat("missing").status().IsNotFound());
  stack.faults->AddRule(FaultRule::Fail(FaultPoint::kRemove, Status::PermissionDenied("no")));
  EXPECT_EQ(stack.retry->Remove("k").code(), Code::kPermissionDenied);
  EXPECT_TRUE(stack.sleeps.empty());
}

TEST(RetryBackend, ResumedReadDeliversEveryByteOnce) {
  Stack stack;
  std::string content(3 << 20, 'x');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(stack.retry->Put("big", content).ok());
  // The stream drops after 1 MiB, twice; the retry layer resumes each time.
  stack.faults->AddRule(FaultRule::OnRead(FaultAction::kCutRead, 1 << 20)
                            .WithError(Status::Unavailable("connection reset"))
                            .Times(2));
  std::string got;
  Status status =
      stack.retry->Read("big", 10, StorageBackend::kToEnd, [&](std::span<const std::byte> chunk) {
        got.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        return Status::OK();
      });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(got, content.substr(10));
  EXPECT_EQ(stack.retry->retries(), 2);
}

TEST(RetryBackend, SinkErrorsAreNeverRetried) {
  Stack stack;
  ASSERT_TRUE(stack.retry->Put("k", "bytes").ok());
  int calls = 0;
  Status status =
      stack.retry->Read("k", 0, StorageBackend::kToEnd, [&](std::span<const std::byte>) {
        ++calls;
        return Status::Unavailable("the consumer is down");
      });
  EXPECT_TRUE(status.IsUnavailable());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(stack.retry->retries(), 0);
}

TEST(FaultBackend, CommitFaultsBeforeAndAfterTheObjectIsVisible) {
  Stack stack;
  FaultBackend& faults = *stack.faults;
  faults.AddRule(FaultRule::Fail(FaultPoint::kCommitBeforeVisible, Status::IOError("fsync"))
                     .Matching("blobs/"));
  EXPECT_EQ(faults.Put("blobs/a", "x").code(), Code::kIOError);
  EXPECT_TRUE(faults.Stat("blobs/a").status().IsNotFound()) << "nothing visible";
  faults.AddRule(FaultRule::Fail(FaultPoint::kCommitAfterVisible, Status::IOError("dir fsync")));
  EXPECT_EQ(faults.Put("blobs/b", "y").code(), Code::kIOError);
  EXPECT_TRUE(faults.Stat("blobs/b").ok()) << "renamed, then the error";
  EXPECT_EQ(faults.injected(), 2);
  EXPECT_TRUE(faults.Put("blobs/c", "z").ok()) << "each rule fires once by default";
}

TEST(FaultBackend, NoSpaceOnAppendAfterSomeWrites) {
  FaultBackend faults(std::make_unique<MemoryBackend>("full"));
  faults.AddRule(FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("disk full")).Skip(2));
  auto writer = std::move(faults.NewWriter({})).value();
  EXPECT_TRUE(writer->Append(AsBytes("1")).ok());
  EXPECT_TRUE(writer->Append(AsBytes("2")).ok());
  EXPECT_EQ(writer->Append(AsBytes("3")).code(), Code::kNoSpace);
  writer->Abort();
  std::vector<std::string> keys;
  ASSERT_TRUE(faults
                  .List("",
                        [&](const ObjectInfo& i) {
                          keys.push_back(i.key);
                          return Status::OK();
                        })
                  .ok());
  EXPECT_TRUE(keys.empty());
}

TEST(FaultBackend, OfflineSiteIsUnavailableEverywhereIncludingOpenWriters) {
  cairn::testing::TempDir dir;
  FaultBackend faults(std::make_unique<PosixBackend>(dir.path().string()));
  ASSERT_TRUE(faults.Put("k", "v").ok());
  auto writer = std::move(faults.NewWriter({})).value();
  faults.SetOffline(true);
  auto no_op = [](const ObjectInfo&) { return Status::OK(); };
  EXPECT_TRUE(faults.ReadAll("k").status().IsUnavailable());
  EXPECT_TRUE(faults.Stat("k").status().IsUnavailable());
  EXPECT_TRUE(faults.List("", no_op).IsUnavailable());
  EXPECT_TRUE(faults.Remove("k").IsUnavailable());
  EXPECT_TRUE(faults.NewWriter({}).status().IsUnavailable());
  EXPECT_TRUE(writer->Append(AsBytes("x")).IsUnavailable());
  EXPECT_TRUE(faults.CleanupTemp(0).IsUnavailable());
  Status status = faults.Put("k2", "v");
  EXPECT_NE(status.message().find(dir.path().string()), std::string::npos) << status.message();
  faults.SetOffline(false);
  EXPECT_EQ(*faults.ReadAll("k"), "v");
  EXPECT_TRUE(faults.Stat("k2").status().IsNotFound());
}

TEST(FaultBackend, FlippedByteAndShortRead) {
  FaultBackend faults(std::make_unique<MemoryBackend>("rot"));
  ASSERT_TRUE(faults.Put("blob", "abcdef").ok());
  faults.AddRule(FaultRule::OnRead(FaultAction::kFlipByte, 2).Matching("blob"));
  EXPECT_EQ(*faults.ReadAll("blob"), "abbdef");  // 'c' ^ 1 == 'b'
  EXPECT_EQ(*faults.ReadAll("blob"), "abcdef") << "fired once";
  faults.AddRule(FaultRule::OnRead(FaultAction::kShortRead, 4));
  EXPECT_EQ(*faults.ReadAll("blob"), "abcd");
}

TEST(FaultBackend, ProbabilisticRulesReplayWithTheSameSeed) {
  auto run = [](uint64_t seed) {
    FaultBackend faults(std::make_unique<MemoryBackend>("p"), seed);
    faults.AddRule(FaultRule::Fail(FaultPoint::kStat, Status::IOError("flaky"))
                       .Times(-1)
                       .WithProbability(0.3));
    std::string pattern;
    for (int i = 0; i < 200; ++i)
      pattern += faults.Stat("k").status().code() == Code::kIOError ? '1' : '0';
    return pattern;
  };
  std::string first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first, run(8));
  size_t fired = std::count(first.begin(), first.end(), '1');
  EXPECT_GT(fired, 20u);
  EXPECT_LT(fired, 120u);
}

}  // namespace
}  // namespace cairn::repo
