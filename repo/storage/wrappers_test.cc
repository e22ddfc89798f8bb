// RetryBackend and FaultBackend, stacked on the memory and posix backends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "repo/storage/fault_backend.h"
#include "repo/storage/forwarding_backend.h"
#include "repo/storage/memory_backend.h"
#include "repo/storage/posix_backend.h"
#include "repo/storage/retry_backend.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
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
  Stack stack(RetryPolicy{5, milliseconds(100), milliseconds(300), 2.0, /*jitter=*/false});
  ASSERT_OK(stack.retry->Put("k", "value"));
  stack.faults->AddRule(FaultRule::Fail(FaultPoint::kStat, Status::Unavailable("busy")).Times(3));
  auto info = stack.retry->Stat("k");
  ASSERT_OK(info);
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
  ASSERT_OK(stack.retry->Put("big", content));
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
  ASSERT_OK(status);
  EXPECT_EQ(got, content.substr(10));
  EXPECT_EQ(stack.retry->retries(), 2);
}

TEST(RetryBackend, SinkErrorsAreNeverRetried) {
  Stack stack;
  ASSERT_OK(stack.retry->Put("k", "bytes"));
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
  EXPECT_OK(faults.Stat("blobs/b")) << "renamed, then the error";
  EXPECT_EQ(faults.injected(), 2);
  EXPECT_OK(faults.Put("blobs/c", "z")) << "each rule fires once by default";
}

TEST(FaultBackend, NoSpaceOnAppendAfterSomeWrites) {
  FaultBackend faults(std::make_unique<MemoryBackend>("full"));
  faults.AddRule(FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("disk full")).Skip(2));
  auto writer = std::move(faults.NewWriter({})).value();
  EXPECT_OK(writer->Append(AsBytes("1")));
  EXPECT_OK(writer->Append(AsBytes("2")));
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
  ASSERT_OK(faults.Put("k", "v"));
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
  ASSERT_OK(faults.Put("blob", "abcdef"));
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

TEST(RetryBackend, JitteredWaitsStayWithinTheCappedCeilings) {
  RetryPolicy policy{8, milliseconds(50), milliseconds(1000), 2.0};
  auto waits = [&](uint64_t seed) {
    std::vector<milliseconds> sleeps;
    auto fault = std::make_unique<FaultBackend>(std::make_unique<MemoryBackend>("jitter"));
    fault->SetOffline(true);
    RetryBackend retry(
        std::move(fault), policy, [&](milliseconds d) { sleeps.push_back(d); }, seed);
    EXPECT_TRUE(retry.Stat("k").status().IsUnavailable());
    return sleeps;
  };
  std::vector<milliseconds> first = waits(42);
  ASSERT_EQ(first.size(), 7u) << "8 attempts: 7 waits";
  for (size_t i = 0; i < first.size(); ++i) {
    milliseconds ceiling = BackoffCeiling(policy, static_cast<int>(i) + 1);
    EXPECT_EQ(ceiling, std::min(milliseconds(50 << i), milliseconds(1000))) << i;
    EXPECT_GE(first[i].count(), 0) << i;
    EXPECT_LE(first[i], ceiling) << "wait " << i << " over its ceiling";
  }
  EXPECT_EQ(first, waits(42)) << "the same seed replays the same waits";
  // Jitter: over several seeds the waits differ and do not all sit at the ceiling.
  int below_ceiling = 0;
  std::set<std::vector<milliseconds>> distinct;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    std::vector<milliseconds> w = waits(seed);
    distinct.insert(w);
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] < BackoffCeiling(policy, static_cast<int>(i) + 1)) ++below_ceiling;
    }
  }
  EXPECT_GT(distinct.size(), 5u);
  EXPECT_GT(below_ceiling, 35);
}

TEST(RetryBackend, ProductionPolicyIsSmall) {
  // A down site is declared down quickly: 3 attempts, at most 50 + 100 ms of waits.
  RetryPolicy policy;
  EXPECT_EQ(policy.max_attempts, 3);
  EXPECT_EQ(policy.initial_delay, milliseconds(50));
  EXPECT_EQ(policy.max_delay, milliseconds(1000));
  EXPECT_TRUE(policy.jitter);
  EXPECT_EQ(BackoffCeiling(policy, 1) + BackoffCeiling(policy, 2), milliseconds(150));
}

TEST(RetryBackend, AReadThatMakesProgressGetsAFreshBudget) {
  Stack stack(RetryPolicy{2, milliseconds(1), milliseconds(1), 2.0});
  std::string content(5 << 20, 'r');
  ASSERT_OK(stack.retry->Put("big", content));
  // Four drops, each after 1 MiB more: more failures than attempts, but each
  // attempt moved the read on.
  stack.faults->AddRule(FaultRule::OnRead(FaultAction::kCutRead, 1 << 20)
                            .WithError(Status::Unavailable("connection reset"))
                            .Times(4));
  uint64_t got = 0;
  Status status =
      stack.retry->Read("big", 0, StorageBackend::kToEnd, [&](std::span<const std::byte> c) {
        got += c.size();
        return Status::OK();
      });
  ASSERT_OK(status);
  EXPECT_EQ(got, content.size());
  // A read that fails without progress still gives up after max_attempts.
  stack.faults->AddRule(FaultRule::Fail(FaultPoint::kRead, Status::Unavailable("down")).Times(-1));
  EXPECT_TRUE(stack.retry->ReadAll("big").status().IsUnavailable());
}

TEST(RetryBackend, OpenForCopyAndProbeAreRetried) {
  cairn::testing::TempDir dir;
  auto fault = std::make_unique<FaultBackend>(std::make_unique<PosixBackend>(dir.path().string()));
  FaultBackend* faults = fault.get();
  std::vector<milliseconds> sleeps;
  RetryBackend retry(std::move(fault), RetryPolicy{}, [&](milliseconds d) { sleeps.push_back(d); });
  ASSERT_OK(retry.Put("k", "bytes"));
  faults->AddRule(FaultRule::Fail(FaultPoint::kRead, Status::Unavailable("blip")).Times(2));
  Result<int> fd = retry.OpenForCopy("k");
  ASSERT_OK(fd);
  ::close(*fd);
  EXPECT_EQ(retry.retries(), 2);
  faults->SetOffline(true);
  Status probe = retry.Probe();
  EXPECT_TRUE(probe.IsUnavailable());
  EXPECT_NE(probe.message().find("gave up after 3 attempts"), std::string::npos)
      << probe.ToString();
  EXPECT_EQ(retry.retries(), 4);
}

// Counts the calls that reach it, per method, for the forwarding test.
struct CallCounts {
  std::map<std::string, int> calls;
  void Add(const std::string& name) { ++calls[name]; }
};

class CountingWriter : public BlobWriter {
 public:
  explicit CountingWriter(CallCounts* counts) : counts_(counts) {}
  Status Append(std::span<const std::byte>) override { return Count("Append"); }
  Status Commit(std::string_view) override { return Count("Commit"); }
  void Abort() override { counts_->Add("Abort"); }
  Status AppendFromFile(int, uint64_t, uint64_t) override { return Count("AppendFromFile"); }
  Status PrepareCommit(std::string_view, CommitBarrier&) override { return Count("PrepareCommit"); }
  Status CommitPrepared(std::string_view, CommitBarrier&) override {
    return Count("CommitPrepared");
  }
  bool VerifiedByReadBack() const override {
    counts_->Add("VerifiedByReadBack");
    return true;
  }
  Result<bagit::Digests> DigestAppended(bagit::AlgorithmSet) override {
    counts_->Add("DigestAppended");
    return bagit::Digests{};
  }
  Status CheckAppended(std::string_view) override { return Count("CheckAppended"); }

 private:
  Status Count(const std::string& name) {
    counts_->Add(name);
    return Status::OK();
  }
  CallCounts* counts_;
};

class CountingBackend : public StorageBackend {
 public:
  explicit CountingBackend(CallCounts* counts) : counts_(counts) {}
  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions&) override {
    counts_->Add("NewWriter");
    return std::unique_ptr<BlobWriter>(new CountingWriter(counts_));
  }
  Status Read(std::string_view, uint64_t, uint64_t, const ByteSink&) override {
    return Count("Read");
  }
  Result<ObjectInfo> Stat(std::string_view key) override {
    counts_->Add("Stat");
    return ObjectInfo{std::string(key), 0};
  }
  Status List(std::string_view, const std::function<Status(const ObjectInfo&)>&) override {
    return Count("List");
  }
  Status Remove(std::string_view) override { return Count("Remove"); }
  Status CleanupTemp(uint64_t) override { return Count("CleanupTemp"); }
  std::string DisplayUrl() const override {
    counts_->Add("DisplayUrl");
    return "count://";
  }
  Status CreateRoot() override { return Count("CreateRoot"); }
  Status Probe() override { return Count("Probe"); }
  Status ExtendRetention(std::string_view) override { return Count("ExtendRetention"); }
  Result<Erasure> RemoveEveryVersion(std::string_view) override {
    counts_->Add("RemoveEveryVersion");
    return Erasure{false, 7};
  }
  Result<int> OpenForCopy(std::string_view) override {
    counts_->Add("OpenForCopy");
    return 99;
  }
  BackendCapabilities Capabilities() const override {
    counts_->Add("Capabilities");
    return {true, true, true};
  }
  std::unique_ptr<CommitBarrier> NewCommitBarrier() override {
    counts_->Add("NewCommitBarrier");
    return std::make_unique<CommitBarrier>();
  }

 private:
  Status Count(const std::string& name) {
    counts_->Add(name);
    return Status::OK();
  }
  CallCounts* counts_;
};

// Every StorageBackend and BlobWriter method reaches the inner backend
// through each wrapper: a wrapper never hides a fast path from a test.
TEST(ForwardingBackend, EveryWrapperForwardsEveryMethod) {
  const std::vector<std::string> all = {"NewWriter",
                                        "Read",
                                        "Stat",
                                        "List",
                                        "Remove",
                                        "CleanupTemp",
                                        "DisplayUrl",
                                        "CreateRoot",
                                        "Probe",
                                        "OpenForCopy",
                                        "Capabilities",
                                        "Append",
                                        "Commit",
                                        "Abort",
                                        "AppendFromFile",
                                        "VerifiedByReadBack",
                                        "DigestAppended",
                                        "CheckAppended",
                                        "ExtendRetention",
                                        "RemoveEveryVersion",
                                        "NewCommitBarrier",
                                        "PrepareCommit",
                                        "CommitPrepared"};
  using Make = std::function<std::unique_ptr<StorageBackend>(std::unique_ptr<StorageBackend>)>;
  const std::vector<std::pair<std::string, Make>> wrappers = {
      {"forwarding",
       [](auto inner) { return std::make_unique<ForwardingBackend>(std::move(inner)); }},
      {"fault", [](auto inner) { return std::make_unique<FaultBackend>(std::move(inner)); }},
      {"retry", [](auto inner) { return std::make_unique<RetryBackend>(std::move(inner)); }},
  };
  for (const auto& [name, make] : wrappers) {
    CallCounts counts;
    std::unique_ptr<StorageBackend> wrapped = make(std::make_unique<CountingBackend>(&counts));
    auto no_op = [](const ObjectInfo&) { return Status::OK(); };
    auto sink = [](std::span<const std::byte>) { return Status::OK(); };
    EXPECT_OK(wrapped->Read("k", 0, 1, sink));
    EXPECT_OK(wrapped->Stat("k"));
    EXPECT_OK(wrapped->List("", no_op));
    EXPECT_OK(wrapped->Remove("k"));
    EXPECT_OK(wrapped->CleanupTemp(0));
    EXPECT_EQ(wrapped->DisplayUrl(), "count://");
    EXPECT_OK(wrapped->CreateRoot());
    EXPECT_OK(wrapped->Probe());
    EXPECT_EQ(*wrapped->OpenForCopy("k"), 99);
    EXPECT_OK(wrapped->ExtendRetention("k"));
    auto erased = wrapped->RemoveEveryVersion("k");
    ASSERT_OK(erased);
    EXPECT_FALSE(erased->gone) << name << " must pass on what the storage retains";
    EXPECT_EQ(erased->retained_until_micros, 7);
    EXPECT_TRUE(wrapped->DigestsBeforeCommit());
    auto writer = std::move(wrapped->NewWriter({})).value();
    EXPECT_OK(writer->Append(AsBytes("x")));
    EXPECT_OK(writer->AppendFromFile(0, 0, 1));
    EXPECT_OK(writer->DigestAppended(bagit::Only(bagit::Algorithm::kMd5)));
    EXPECT_OK(writer->CheckAppended(Sha256Hex("x")));
    EXPECT_OK(writer->Commit("k"));
    EXPECT_TRUE(writer->VerifiedByReadBack());
    writer->Abort();
    std::unique_ptr<CommitBarrier> barrier = wrapped->NewCommitBarrier();
    auto batched = std::move(wrapped->NewWriter({})).value();
    EXPECT_OK(batched->PrepareCommit("k", *barrier));
    EXPECT_OK(barrier->Sync());
    EXPECT_OK(batched->CommitPrepared("k", *barrier));
    for (const std::string& method : all) {
      EXPECT_GE(counts.calls[method], 1) << name << " does not forward " << method;
    }
  }
}

// The fault wrapper around a posix site takes the local-file fast paths the
// product takes (OpenForCopy, AppendFromFile in the kernel, DigestAppended),
// not the generic Append path a wrapper that forwards only part of the
// interface falls back to.
TEST(FaultBackendFastPaths, FaultOverPosixKeepsOpenForCopyAndDigestsBeforeCommit) {
  cairn::testing::TempDir dir;
  FaultBackend faults(std::make_unique<PosixBackend>(dir.path().string()));
  EXPECT_TRUE(faults.DigestsBeforeCommit());
  ASSERT_OK(faults.Put("src/file", "the payload bytes"));
  Result<int> fd = faults.OpenForCopy("src/file");
  ASSERT_OK(fd);
  auto writer = std::move(faults.NewWriter({})).value();
  ASSERT_OK(writer->AppendFromFile(*fd, 0, 17));
  ::close(*fd);
  Result<bagit::Digests> digests = writer->DigestAppended(bagit::Only(bagit::Algorithm::kMd5));
  ASSERT_OK(digests);
  EXPECT_EQ((*digests)[bagit::Algorithm::kSha256], Sha256Hex("the payload bytes"));
  ASSERT_OK(writer->Commit("copy"));
  EXPECT_TRUE(writer->VerifiedByReadBack());
  EXPECT_EQ(*faults.ReadAll("copy"), "the payload bytes");
}

TEST(FaultBackendFastPaths, FaultsOnTheFdPathsAreSeen) {
  cairn::testing::TempDir dir;
  FaultBackend faults(std::make_unique<PosixBackend>(dir.path().string()));
  ASSERT_OK(faults.Put("src/file", "the payload bytes"));
  auto read_fd = [](int fd) {
    std::string bytes(64, '\0');
    ssize_t n = ::pread(fd, bytes.data(), bytes.size(), 0);
    ::close(fd);
    bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return bytes;
  };
  // A read error on the fd path, as a bad sector gives.
  faults.AddRule(
      FaultRule::Fail(FaultPoint::kRead, Status::IOError("EIO (injected)")).Matching("src/"));
  EXPECT_EQ(faults.OpenForCopy("src/file").status().code(), Code::kIOError);
  // A flipped byte and a short file on the fd path.
  faults.AddRule(FaultRule::OnRead(FaultAction::kFlipByte, 2).Matching("src/"));
  Result<int> flipped = faults.OpenForCopy("src/file");
  ASSERT_OK(flipped);
  EXPECT_EQ(read_fd(*flipped), "thd payload bytes");  // 'e' ^ 1 == 'd'
  faults.AddRule(FaultRule::OnRead(FaultAction::kShortRead, 4).Matching("src/"));
  Result<int> shortened = faults.OpenForCopy("src/file");
  ASSERT_OK(shortened);
  EXPECT_EQ(read_fd(*shortened), "the ");
  EXPECT_EQ(faults.injected(), 3);
  Result<int> clean = faults.OpenForCopy("src/file");
  ASSERT_OK(clean);
  EXPECT_EQ(read_fd(*clean), "the payload bytes") << "each rule fired once";

  // A write fault on AppendFromFile (the kernel copy) fails the writer.
  int fd = ::open((dir.path() / "src/file").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  faults.AddRule(FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("disk full (injected)")));
  auto writer = std::move(faults.NewWriter({})).value();
  EXPECT_EQ(writer->AppendFromFile(fd, 0, 17).code(), Code::kNoSpace);
  ::close(fd);
  EXPECT_EQ(faults.injected(), 4);
  std::vector<std::string> keys;
  ASSERT_TRUE(faults
                  .List("",
                        [&](const ObjectInfo& i) {
                          keys.push_back(i.key);
                          return Status::OK();
                        })
                  .ok());
  EXPECT_EQ(keys, std::vector<std::string>{"src/file"}) << "nothing stored by the failed copy";
}

}  // namespace
}  // namespace cairn::repo
