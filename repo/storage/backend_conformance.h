// The storage-backend conformance suite (test-only; include from *_test.cc).
// One TEST_P suite that every StorageBackend must pass. Instantiate it with a
// factory that returns a fresh, EMPTY backend on each call:
//
//   INSTANTIATE_TEST_SUITE_P(Posix, BackendConformance,
//                            ::testing::Values(BackendFactory{"posix", MakePosix}),
//                            BackendFactoryName);
#ifndef CAIRN_REPO_STORAGE_BACKEND_CONFORMANCE_H_
#define CAIRN_REPO_STORAGE_BACKEND_CONFORMANCE_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "repo/storage/backend.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"

namespace cairn::repo {

struct BackendFactory {
  std::string name;  // test-name suffix: letters, digits, '_'
  std::function<std::unique_ptr<StorageBackend>()> make;
};

inline std::string BackendFactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

class BackendConformance : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    ASSERT_NE(backend_, nullptr);
  }

  static std::span<const std::byte> Bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
  }

  // Every key under `prefix`, sorted.
  std::vector<std::string> Keys(std::string_view prefix = "") {
    std::vector<std::string> keys;
    Status status = backend_->List(prefix, [&keys](const ObjectInfo& info) {
      keys.push_back(info.key);
      return Status::OK();
    });
    EXPECT_OK(status);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // `length` bytes from `offset` of `key`.
  Result<std::string> ReadRange(std::string_view key, uint64_t offset, uint64_t length) {
    std::string out;
    Status status = backend_->Read(key, offset, length, [&out](std::span<const std::byte> c) {
      out.append(reinterpret_cast<const char*>(c.data()), c.size());
      return Status::OK();
    });
    if (!status.ok()) return status;
    return out;
  }

  std::unique_ptr<StorageBackend> backend_;
};

TEST_P(BackendConformance, PutThenReadStatListRemove) {
  ASSERT_OK(backend_->Put("a/b/one", "hello world"));
  auto bytes = backend_->ReadAll("a/b/one");
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, "hello world");
  auto info = backend_->Stat("a/b/one");
  ASSERT_OK(info);
  EXPECT_EQ(info->key, "a/b/one");
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(Keys(), std::vector<std::string>{"a/b/one"});
  ASSERT_OK(backend_->Remove("a/b/one"));
  EXPECT_TRUE(backend_->Stat("a/b/one").status().IsNotFound());
  EXPECT_TRUE(Keys().empty());
  EXPECT_OK(backend_->Remove("a/b/one")) << "Remove must be idempotent";
}

TEST_P(BackendConformance, EmptyObject) {
  ASSERT_OK(backend_->Put("empty", ""));
  auto info = backend_->Stat("empty");
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 0u);
  EXPECT_EQ(*backend_->ReadAll("empty"), "");
}

TEST_P(BackendConformance, MissingKeysAreNotFound) {
  EXPECT_TRUE(backend_->Stat("no/such/key").status().IsNotFound());
  EXPECT_TRUE(backend_->ReadAll("no/such/key").status().IsNotFound());
  EXPECT_TRUE(Keys("no/").empty());
}

TEST_P(BackendConformance, RangeReads) {
  ASSERT_OK(backend_->Put("r", "0123456789"));
  EXPECT_EQ(*ReadRange("r", 0, 4), "0123");
  EXPECT_EQ(*ReadRange("r", 3, 4), "3456");
  EXPECT_EQ(*ReadRange("r", 7, StorageBackend::kToEnd), "789");
  EXPECT_EQ(*ReadRange("r", 8, 100), "89") << "past the end yields the bytes that exist";
  EXPECT_EQ(*ReadRange("r", 10, 5), "");
  EXPECT_EQ(*ReadRange("r", 4, 0), "");
}

TEST_P(BackendConformance, ListFiltersByPrefix) {
  for (const char* key : {"x/a1", "x/a2/b", "x/b", "y/a", "xa"}) {
    ASSERT_OK(backend_->Put(key, key)) << key;
  }
  EXPECT_EQ(Keys("x/a"), (std::vector<std::string>{"x/a1", "x/a2/b"}));
  EXPECT_EQ(Keys("x/"), (std::vector<std::string>{"x/a1", "x/a2/b", "x/b"}));
  EXPECT_EQ(Keys("x"), (std::vector<std::string>{"x/a1", "x/a2/b", "x/b", "xa"}));
  EXPECT_EQ(Keys("").size(), 5u);
  std::vector<uint64_t> sizes;
  ASSERT_TRUE(backend_
                  ->List("x/a2/",
                         [&sizes](const ObjectInfo& info) {
                           sizes.push_back(info.size);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(sizes, std::vector<uint64_t>{6});
  // A callback error stops the listing and is returned.
  Status stop = backend_->List("", [](const ObjectInfo&) { return Status::Aborted("enough"); });
  EXPECT_EQ(stop.code(), Code::kAborted);
}

TEST_P(BackendConformance, ListAfterGivesTheKeysPastItOnly) {
  for (const char* key : {"e/01-02", "e/03-05", "e/06-06", "e/10-12", "f/00", "d/99"}) {
    ASSERT_OK(backend_->Put(key, key)) << key;
  }
  auto after = [&](std::string_view prefix, std::string_view start_after) {
    std::vector<std::string> keys;
    EXPECT_OK(backend_->ListAfter(prefix, start_after, [&keys](const ObjectInfo& info) {
      keys.push_back(info.key);
      return Status::OK();
    }));
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  // A key equal to start_after is not listed; one that only begins with it is.
  EXPECT_EQ(after("e/", "e/03-05"), (std::vector<std::string>{"e/06-06", "e/10-12"}));
  EXPECT_EQ(after("e/", "e/06"), (std::vector<std::string>{"e/06-06", "e/10-12"}));
  EXPECT_EQ(after("e/", ""), Keys("e/"));
  EXPECT_EQ(after("e/", "d/zz"), Keys("e/"));  // before the prefix: all of it
  EXPECT_EQ(after("e/", "e/99"), std::vector<std::string>{});
  EXPECT_EQ(after("", "e/06-06"), (std::vector<std::string>{"e/10-12", "f/00"}));
  Status stop =
      backend_->ListAfter("e/", "e/", [](const ObjectInfo&) { return Status::Aborted("enough"); });
  EXPECT_EQ(stop.code(), Code::kAborted);
}

// The root's files by their keys and its folders once each, as "name/", nothing below them;
// never the temp folder of a writer still running.
TEST_P(BackendConformance, ListTopLevelGivesTheRootsFilesAndFoldersOnly) {
  for (const char* key : {"top.txt", "CAIRN-SITE", "a/1", "a/b/2", "a/b/c/3", "z/9", "za"}) {
    ASSERT_OK(backend_->Put(key, key)) << key;
  }
  auto running = backend_->NewWriter({});
  ASSERT_OK(running);
  ASSERT_OK((*running)->Append(Bytes("a writer still running")));
  std::map<std::string, uint64_t> top;
  ASSERT_OK(backend_->ListTopLevel([&top](const ObjectInfo& info) {
    EXPECT_TRUE(top.emplace(info.key, info.size).second) << "twice: " << info.key;
    return Status::OK();
  }));
  (*running)->Abort();
  EXPECT_EQ(top, (std::map<std::string, uint64_t>{
                     {"CAIRN-SITE", 10}, {"a/", 0}, {"top.txt", 7}, {"z/", 0}, {"za", 2}}));
  Status stop = backend_->ListTopLevel([](const ObjectInfo&) { return Status::Aborted("enough"); });
  EXPECT_EQ(stop.code(), Code::kAborted);
}

TEST_P(BackendConformance, BadKeysAreRefused) {
  for (const char* key :
       {"", "../escape", "a/../../b", "/abs", "a//b", "a\\b", "a/", "./a", "tmp/x"}) {
    EXPECT_EQ(backend_->Put(key, "x").code(), Code::kInvalidArgument) << key;
    EXPECT_EQ(backend_->Stat(key).status().code(), Code::kInvalidArgument) << key;
    EXPECT_EQ(backend_->ReadAll(key).status().code(), Code::kInvalidArgument) << key;
    EXPECT_EQ(backend_->Remove(key).code(), Code::kInvalidArgument) << key;
  }
  EXPECT_EQ(backend_->List("../", [](const ObjectInfo&) { return Status::OK(); }).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(Keys().empty());
}

TEST_P(BackendConformance, OverwriteReplacesWithoutIfAbsent) {
  ASSERT_OK(backend_->Put("k", "first version"));
  ASSERT_OK(backend_->Put("k", "second"));
  EXPECT_EQ(*backend_->ReadAll("k"), "second");
}

TEST_P(BackendConformance, IfAbsentIsWriteOnce) {
  PutOptions once;
  once.if_absent = true;
  ASSERT_OK(backend_->Put("blob", "original", once));
  Status again = backend_->Put("blob", "impostor", once);
  EXPECT_TRUE(again.IsAlreadyExists()) << again.ToString();
  EXPECT_EQ(*backend_->ReadAll("blob"), "original");
  EXPECT_EQ(Keys(), std::vector<std::string>{"blob"});
}

TEST_P(BackendConformance, ConcurrentIfAbsentWritersExactlyOneWins) {
  constexpr int kWriters = 8;
  std::vector<std::string> contents;
  for (int i = 0; i < kWriters; ++i) contents.push_back(std::string(64 * 1024 + i, 'a' + i));
  std::atomic<int> wins{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      PutOptions once;
      once.if_absent = true;
      Status status = backend_->Put("same/key", contents[i], once);
      if (status.ok())
        ++wins;
      else if (status.IsAlreadyExists())
        ++exists;
      else
        ++other;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(exists.load(), kWriters - 1);
  EXPECT_EQ(other.load(), 0);
  auto stored = backend_->ReadAll("same/key");
  ASSERT_OK(stored);
  EXPECT_NE(std::find(contents.begin(), contents.end(), *stored), contents.end())
      << "the stored object must be one writer's bytes, whole";
  EXPECT_EQ(Keys(), std::vector<std::string>{"same/key"});
}

TEST_P(BackendConformance, ConcurrentOverwritersLeaveOneWholeObject) {
  constexpr int kWriters = 6;
  std::vector<std::string> contents;
  for (int i = 0; i < kWriters; ++i) contents.push_back(std::string(32 * 1024 + i, 'k' + i));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      if (!backend_->Put("shared", contents[i]).ok()) ++failures;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto stored = backend_->ReadAll("shared");
  ASSERT_OK(stored);
  EXPECT_NE(std::find(contents.begin(), contents.end(), *stored), contents.end());
}

TEST_P(BackendConformance, AbortedOrDestroyedWriterLeavesNothing) {
  {
    auto writer = backend_->NewWriter({});
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Append(Bytes("never committed")));
    (*writer)->Abort();
    (*writer)->Abort();  // safe twice
  }
  {
    auto writer = backend_->NewWriter({});
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Append(Bytes("dropped")));
  }  // destroyed without Commit
  EXPECT_TRUE(Keys().empty());
  // An uncommitted writer is invisible while it is still alive, too.
  auto live = backend_->NewWriter({});
  ASSERT_OK(live);
  ASSERT_OK((*live)->Append(Bytes("in flight")));
  EXPECT_TRUE(Keys().empty());
  ASSERT_OK((*live)->Commit("done"));
  EXPECT_EQ(Keys(), std::vector<std::string>{"done"});
}

TEST_P(BackendConformance, ExpectedSha256) {
  PutOptions good;
  good.expected_sha256 = Sha256Hex("checked bytes");
  ASSERT_OK(backend_->Put("good", "checked bytes", good));
  EXPECT_EQ(*backend_->ReadAll("good"), "checked bytes");

  PutOptions bad;
  bad.expected_sha256 = Sha256Hex("other bytes");
  Status status = backend_->Put("bad", "checked bytes", bad);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_TRUE(backend_->Stat("bad").status().IsNotFound());
  EXPECT_EQ(Keys(), std::vector<std::string>{"good"});
}

TEST_P(BackendConformance, CleanupTempKeepsObjectsAndLiveWriters) {
  ASSERT_OK(backend_->Put("kept", "k"));
  auto live = backend_->NewWriter({});
  ASSERT_OK(live);
  ASSERT_OK((*live)->Append(Bytes("young")));
  // Leftovers younger than an hour are kept: a running writer is not disturbed.
  ASSERT_OK(backend_->CleanupTemp(3600));
  ASSERT_OK((*live)->Commit("late"));
  ASSERT_OK(backend_->CleanupTemp(0));
  EXPECT_EQ(Keys(), (std::vector<std::string>{"kept", "late"}));
  EXPECT_EQ(*backend_->ReadAll("late"), "young");
}

TEST_P(BackendConformance, LargeObjectStreamedInChunks) {
  constexpr size_t kChunk = 1 << 20;
  constexpr int kChunks = 20;
  std::mt19937_64 rng(42);
  std::string chunk(kChunk, '\0');
  Sha256Stream written;
  PutOptions options;
  options.size_hint = uint64_t{kChunk} * kChunks;
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  for (int i = 0; i < kChunks; ++i) {
    for (size_t j = 0; j < kChunk; j += 8) {
      uint64_t v = rng();
      std::memcpy(chunk.data() + j, &v, 8);
    }
    written.Update(Bytes(chunk));
    ASSERT_OK((*writer)->Append(Bytes(chunk)));
  }
  ASSERT_OK((*writer)->Commit("big/object"));
  std::string expected = written.FinishHex();

  Sha256Stream read;
  uint64_t total = 0;
  size_t largest_chunk = 0;
  Status status =
      backend_->Read("big/object", 0, StorageBackend::kToEnd, [&](std::span<const std::byte> c) {
        read.Update(c);
        total += c.size();
        largest_chunk = std::max(largest_chunk, c.size());
        return Status::OK();
      });
  ASSERT_OK(status);
  EXPECT_EQ(total, uint64_t{kChunk} * kChunks);
  EXPECT_EQ(read.FinishHex(), expected);
  EXPECT_LT(largest_chunk, size_t{kChunks} * kChunk) << "the object must arrive in chunks";
  EXPECT_EQ(backend_->Stat("big/object")->size, uint64_t{kChunk} * kChunks);
  // A range in the middle, across a chunk boundary.
  auto middle = ReadRange("big/object", kChunk - 3, 6);
  ASSERT_OK(middle);
  EXPECT_EQ(middle->size(), 6u);
}

// 13 MiB of seeded random bytes: more than two S3 parts at the 5 MiB part
// size the S3 instance uses, so the S3 writer's multipart paths run.
inline std::string KeyHintTestBytes(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(13u << 20, '\0');
  for (size_t j = 0; j < bytes.size(); j += 8) {
    uint64_t v = rng();
    std::memcpy(bytes.data() + j, &v, 8);
  }
  return bytes;
}

// Writes `bytes` in 1 MiB appends with `options`, then commits to `key`.
inline Status WriteInChunks(StorageBackend& backend, const PutOptions& options,
                            std::string_view bytes, std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, backend.NewWriter(options));
  for (size_t at = 0; at < bytes.size(); at += 1 << 20) {
    std::string_view piece = bytes.substr(at, 1 << 20);
    Status appended =
        writer->Append(std::as_bytes(std::span<const char>(piece.data(), piece.size())));
    if (!appended.ok()) return appended;
  }
  return writer->Commit(key);
}

TEST_P(BackendConformance, KeyHintCommitsLargeAndSmallObjectsToTheHintedKey) {
  const std::string big = KeyHintTestBytes(7);
  PutOptions options;
  options.if_absent = true;
  options.expected_sha256 = Sha256Hex(big);
  options.size_hint = big.size();
  options.key_hint = "blobs/big";
  Status status = WriteInChunks(*backend_, options, big, "blobs/big");
  ASSERT_OK(status);
  auto back = backend_->ReadAll("blobs/big");
  ASSERT_OK(back);
  EXPECT_TRUE(*back == big) << "read back " << back->size() << " bytes";
  // A range across several parts, starting inside one.
  auto range = ReadRange("blobs/big", (1 << 20) + 3, 11u << 20);
  ASSERT_OK(range);
  EXPECT_TRUE(*range == big.substr((1 << 20) + 3, 11u << 20));
  PutOptions small;
  small.key_hint = "small";
  ASSERT_OK(backend_->Put("small", "tiny", small));
  EXPECT_EQ(*backend_->ReadAll("small"), "tiny");
  EXPECT_EQ(Keys(), (std::vector<std::string>{"blobs/big", "small"}));
}

TEST_P(BackendConformance, KeyHintKeepsWriteOnce) {
  const std::string big = KeyHintTestBytes(8);
  PutOptions options;
  options.if_absent = true;
  options.key_hint = "blobs/taken";
  ASSERT_OK(backend_->Put("blobs/taken", "the first writer's bytes"));
  Status status = WriteInChunks(*backend_, options, big, "blobs/taken");
  EXPECT_TRUE(status.IsAlreadyExists()) << status.ToString();
  Status small = backend_->Put("blobs/taken", "small impostor", options);
  EXPECT_TRUE(small.IsAlreadyExists()) << small.ToString();
  EXPECT_EQ(*backend_->ReadAll("blobs/taken"), "the first writer's bytes");
  EXPECT_EQ(Keys(), std::vector<std::string>{"blobs/taken"});
}

// Write-once is decided at Commit: a key that existed while the bytes were
// appended and is gone by Commit (Site::CommitBlob removes a damaged blob
// before committing the good one) gets the writer's bytes.
TEST_P(BackendConformance, KeyHintIfAbsentLooksAtTheKeyWhenCommitting) {
  const std::string big = KeyHintTestBytes(10);
  PutOptions options;
  options.if_absent = true;
  options.expected_sha256 = Sha256Hex(big);
  options.size_hint = big.size();
  options.key_hint = "blobs/damaged";
  ASSERT_OK(backend_->Put("blobs/damaged", "damaged bytes"));
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  for (size_t at = 0; at < big.size(); at += 1 << 20) {
    ASSERT_OK((*writer)->Append(Bytes(std::string_view(big).substr(at, 1 << 20))));
  }
  ASSERT_OK(backend_->Remove("blobs/damaged"));
  ASSERT_OK((*writer)->Commit("blobs/damaged"));
  auto back = backend_->ReadAll("blobs/damaged");
  ASSERT_OK(back);
  EXPECT_TRUE(*back == big) << "read back " << back->size() << " bytes";
}

TEST_P(BackendConformance, KeyHintRefusesAnotherKeyAndWrongBytesStoringNothing) {
  const std::string big = KeyHintTestBytes(9);
  PutOptions options;
  options.if_absent = true;
  options.key_hint = "blobs/hinted";
  for (std::string_view bytes : {std::string_view(big), std::string_view("small")}) {
    Status other = WriteInChunks(*backend_, options, bytes, "blobs/other");
    EXPECT_EQ(other.code(), Code::kInvalidArgument) << other.ToString();
  }
  options.expected_sha256 = Sha256Hex("something else");
  Status wrong = WriteInChunks(*backend_, options, big, "blobs/hinted");
  EXPECT_TRUE(wrong.IsCorruption()) << wrong.ToString();
  EXPECT_TRUE(Keys().empty());
  // An aborted hinted writer leaves nothing either, even after parts went up.
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Append(Bytes(big)));
  (*writer)->Abort();
  EXPECT_TRUE(backend_->Stat("blobs/hinted").status().IsNotFound());
  ASSERT_OK(backend_->CleanupTemp(0));
  EXPECT_TRUE(Keys().empty());
}

// --- Local-file fast paths (BackendCapabilities) ---
// Every backend runs these: where a capability is claimed it must work; where
// it is not, the call must say NotSupported (never a silent slow path that
// claims what it did not do). AppendFromFile works everywhere (in the kernel
// only where append_in_kernel is claimed, which is not observable here).

// An unlinked local file holding `bytes` (a source for AppendFromFile).
class ConformanceSourceFile {
 public:
  explicit ConformanceSourceFile(std::string_view bytes) {
    char path[] = "/tmp/cairn-conformance-XXXXXX";
    fd_ = ::mkstemp(path);
    if (fd_ < 0) return;
    ::unlink(path);
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }
  ~ConformanceSourceFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// The bytes a file descriptor holds, from the start.
inline std::string ConformanceReadFd(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(out.size()));
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

TEST_P(BackendConformance, CapabilityOpenForCopy) {
  const std::string bytes = KeyHintTestBytes(10).substr(0, 3u << 20);
  ASSERT_OK(backend_->Put("src/object", bytes));
  Result<int> fd = backend_->OpenForCopy("src/object");
  if (!backend_->Capabilities().open_for_copy) {
    EXPECT_EQ(fd.status().code(), Code::kNotSupported) << fd.status().ToString();
    EXPECT_FALSE(backend_->DigestsBeforeCommit() && backend_->Capabilities().open_for_copy);
    return;
  }
  ASSERT_OK(fd);
  EXPECT_TRUE(ConformanceReadFd(*fd) == bytes) << "the fd holds the object's bytes";
  ::close(*fd);
  EXPECT_TRUE(backend_->OpenForCopy("src/missing").status().IsNotFound());
  EXPECT_EQ(backend_->OpenForCopy("../escape").status().code(), Code::kInvalidArgument);
}

TEST_P(BackendConformance, CapabilityCopyOfAKeyThroughAppendFromFile) {
  // From a local file: every backend (its own AppendFromFile or the default).
  const std::string bytes = KeyHintTestBytes(11).substr(0, (3u << 20) + 5);
  ConformanceSourceFile source(bytes);
  ASSERT_GE(source.fd(), 0);
  PutOptions options;
  options.if_absent = true;
  options.expected_sha256 = Sha256Hex(bytes);
  options.size_hint = bytes.size();
  options.key_hint = "copies/from-file";
  {
    auto writer = backend_->NewWriter(options);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->AppendFromFile(source.fd(), 0, bytes.size()));
    Status committed = (*writer)->Commit("copies/from-file");
    ASSERT_OK(committed);
  }
  EXPECT_TRUE(*backend_->ReadAll("copies/from-file") == bytes);
  // A file shorter than the bytes asked for is InvalidArgument; nothing stored.
  {
    auto writer = backend_->NewWriter({});
    ASSERT_OK(writer);
    EXPECT_EQ((*writer)->AppendFromFile(source.fd(), 10, bytes.size()).code(),
              Code::kInvalidArgument);
    (*writer)->Abort();
  }
  // Wrong bytes for expected_sha256 are refused at Commit; nothing stored.
  {
    PutOptions wrong;
    wrong.expected_sha256 = Sha256Hex("other bytes");
    auto writer = backend_->NewWriter(wrong);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->AppendFromFile(source.fd(), 0, bytes.size()));
    Status status = (*writer)->Commit("copies/wrong");
    EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  }
  EXPECT_TRUE(backend_->Stat("copies/wrong").status().IsNotFound());
  if (!backend_->Capabilities().open_for_copy) return;
  // Where claimed: a key copied from its own local file, as replication does.
  Result<int> fd = backend_->OpenForCopy("copies/from-file");
  ASSERT_OK(fd);
  options.key_hint = "copies/of-a-key";
  auto writer = backend_->NewWriter(options);
  ASSERT_OK(writer);
  Status copied = (*writer)->AppendFromFile(*fd, 0, bytes.size());
  ::close(*fd);
  ASSERT_OK(copied);
  ASSERT_OK((*writer)->Commit("copies/of-a-key"));
  EXPECT_TRUE(*backend_->ReadAll("copies/of-a-key") == bytes);
  EXPECT_EQ(Keys("copies/"), (std::vector<std::string>{"copies/from-file", "copies/of-a-key"}));
}

TEST_P(BackendConformance, CapabilityDigestAppended) {
  const std::string head = "appended, ";
  const std::string tail = KeyHintTestBytes(12).substr(0, (1u << 20) + 7);
  ConformanceSourceFile source(tail);
  ASSERT_GE(source.fd(), 0);
  const bagit::AlgorithmSet md5 = bagit::Only(bagit::Algorithm::kMd5);
  const bagit::Digests want =
      bagit::HashBytes(tail + head, md5 | bagit::Only(bagit::Algorithm::kSha256));
  auto writer = backend_->NewWriter({});
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->AppendFromFile(source.fd(), 0, tail.size()));
  ASSERT_OK((*writer)->Append(Bytes(head)));
  Result<bagit::Digests> digests = (*writer)->DigestAppended(md5);
  if (!backend_->Capabilities().digest_appended) {
    EXPECT_EQ(digests.status().code(), Code::kNotSupported) << digests.status().ToString();
    EXPECT_FALSE(backend_->DigestsBeforeCommit());
    ASSERT_OK((*writer)->Commit("digested"));
    EXPECT_FALSE((*writer)->VerifiedByReadBack()) << "nothing was read back";
    EXPECT_TRUE(*backend_->ReadAll("digested") == tail + head);
    return;
  }
  ASSERT_OK(digests);
  EXPECT_EQ((*digests)[bagit::Algorithm::kSha256], want[bagit::Algorithm::kSha256]);
  EXPECT_EQ((*digests)[bagit::Algorithm::kMd5], want[bagit::Algorithm::kMd5]);
  EXPECT_FALSE((*writer)->Append(Bytes("more")).ok()) << "no append after DigestAppended";
  ASSERT_OK((*writer)->Commit("digested"));
  EXPECT_TRUE((*writer)->VerifiedByReadBack());
  EXPECT_TRUE(*backend_->ReadAll("digested") == tail + head);
  // expected_sha256 is checked against the digest read back: refused at Commit.
  PutOptions wrong;
  wrong.expected_sha256 = Sha256Hex("other bytes");
  auto refused = backend_->NewWriter(wrong);
  ASSERT_OK(refused);
  ASSERT_OK((*refused)->AppendFromFile(source.fd(), 0, tail.size()));
  ASSERT_OK((*refused)->DigestAppended(md5));
  Status status = (*refused)->Commit("refused");
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_FALSE((*refused)->VerifiedByReadBack());
  EXPECT_EQ(Keys(), std::vector<std::string>{"digested"});
}

// The SHA-256 of each `piece`-byte piece of `bytes` (PutOptions::part_sha256).
inline std::vector<std::string> ConformancePieceDigests(std::string_view bytes, uint64_t piece) {
  std::vector<std::string> pieces;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    pieces.push_back(Sha256Hex(bytes.substr(at, piece)));
  }
  return pieces;
}

// CheckAppended tells before Commit whether the bytes appended are the blob's, committing
// nothing, on every backend and for every way a writer is given its digests (a small object, a
// large one to its key or through temp parts, one signed with part digests): Site::CommitBlob
// removes a damaged copy only for bytes it says are the blob's. A writer whose caller hashes a
// large object may not tell (NotSupported); it never calls good bytes wrong.
TEST_P(BackendConformance, CheckAppendedTellsWhetherTheBytesAreTheBlobsBeforeCommit) {
  const uint64_t claimed = backend_->Capabilities().signed_part_size;
  const std::string big = KeyHintTestBytes(14);
  const std::string small = "a small blob's bytes";
  struct Case {
    std::string key;
    std::string_view good;
    bool hinted = true, signed_parts = false, caller_hashes = false;
  };
  for (const Case& c : {Case{"blobs/small", small}, Case{"blobs/big", big},
                        Case{"blobs/temp-parts", big, false}, Case{"blobs/signed", big, true, true},
                        Case{"blobs/caller-hashes", big, true, false, true}}) {
    SCOPED_TRACE(c.key);
    PutOptions options;
    options.if_absent = true;
    options.expected_sha256 = Sha256Hex(c.good);
    options.size_hint = c.good.size();
    if (c.hinted) options.key_hint = c.key;
    if (c.signed_parts) {
      options.part_sha256 = ConformancePieceDigests(c.good, claimed > 0 ? claimed : (5u << 20));
    }
    options.caller_hashes_appended = c.caller_hashes;
    ASSERT_OK(backend_->Put(c.key, "the damaged copy"));
    // Appends `bytes` in 1 MiB pieces and asks; the writer is left to `writer`.
    std::unique_ptr<BlobWriter> writer;
    auto check = [&](std::string_view bytes) -> Status {
      CAIRN_ASSIGN_OR_RETURN(writer, backend_->NewWriter(options));
      for (size_t at = 0; at < bytes.size(); at += 1 << 20) {
        CAIRN_RETURN_IF_ERROR(writer->Append(Bytes(bytes.substr(at, 1 << 20))));
      }
      return writer->CheckAppended(options.expected_sha256);
    };
    if (!c.caller_hashes) {
      std::string wrong(c.good);
      wrong[wrong.size() / 2] ^= 1;
      Status refused = check(wrong);
      EXPECT_TRUE(refused.IsCorruption()) << refused.ToString();
      if (writer) writer->Abort();
      EXPECT_EQ(*backend_->ReadAll(c.key), "the damaged copy");
    }
    Status told = check(c.good);
    if (c.caller_hashes && told.code() == Code::kNotSupported) told = Status::OK();
    ASSERT_OK(told);
    EXPECT_EQ(*backend_->ReadAll(c.key), "the damaged copy") << "nothing is committed";
    ASSERT_OK(backend_->Remove(c.key));
    ASSERT_OK(writer->Commit(c.key));
    EXPECT_TRUE(*backend_->ReadAll(c.key) == c.good);
  }
  ASSERT_OK(backend_->CleanupTemp(0));
  EXPECT_EQ(Keys().size(), 5u) << "no temp object is left";
}

TEST_P(BackendConformance, CapabilitySignedPartsStoreTheBytesTheyDescribeOnly) {
  // Part digests are given from one read of the content; the bytes then sent
  // are those, or another version of the file (changed in its middle part, or
  // made longer or shorter). Only the first may be stored, on every backend:
  // where signed_part_size is claimed the storage checks each part against its
  // digest, elsewhere the digests are ignored and expected_sha256 decides.
  const uint64_t claimed = backend_->Capabilities().signed_part_size;
  const uint64_t piece = claimed > 0 ? claimed : (5u << 20);
  const std::string good = KeyHintTestBytes(13).substr(0, 2 * piece + 12345);
  std::string changed = good;
  changed[piece + 100] ^= 1;
  const std::string longer = good + "x";
  const std::string shorter = good.substr(0, piece + 7);
  const std::string single = good.substr(0, 4000);
  std::string single_changed = single;
  single_changed[10] ^= 1;
  struct Case {
    std::string_view digested, sent, key;
  };
  for (const Case& c :
       {Case{good, changed, "blobs/changed"}, Case{good, longer, "blobs/longer"},
        Case{good, shorter, "blobs/shorter"}, Case{single, single_changed, "blobs/single-changed"},
        Case{single, shorter, "blobs/single-then-large"}}) {
    SCOPED_TRACE(std::string(c.key));
    PutOptions options;
    options.if_absent = true;
    options.expected_sha256 = Sha256Hex(c.digested);
    options.part_sha256 = ConformancePieceDigests(c.digested, piece);
    options.size_hint = c.digested.size();
    options.key_hint = std::string(c.key);
    Status status = WriteInChunks(*backend_, options, c.sent, c.key);
    EXPECT_TRUE(status.IsCorruption()) << status.ToString();
    EXPECT_TRUE(backend_->Stat(c.key).status().IsNotFound());
  }
  for (std::string_view bytes : {std::string_view(good), std::string_view(single)}) {
    PutOptions options;
    options.if_absent = true;
    options.expected_sha256 = Sha256Hex(bytes);
    options.part_sha256 = ConformancePieceDigests(bytes, piece);
    options.size_hint = bytes.size();
    options.key_hint = "blobs/" + options.expected_sha256;
    ASSERT_OK(WriteInChunks(*backend_, options, bytes, options.key_hint));
    EXPECT_TRUE(*backend_->ReadAll(options.key_hint) == bytes);
  }
  ASSERT_OK(backend_->CleanupTemp(0));
  std::vector<std::string> stored = {"blobs/" + Sha256Hex(good), "blobs/" + Sha256Hex(single)};
  std::sort(stored.begin(), stored.end());
  EXPECT_EQ(Keys(), stored);
}

// RemoveEmptyFolder removes a folder its last object left empty where the storage has folders
// (posix), and changes nothing else: a folder holding an object (directly or deeper), an object's
// key, a folder that is not there. Where a prefix is no folder (S3, memory) it is always false.
// Either way no folder is left listed and a bad prefix is refused as a bad key is.
TEST_P(BackendConformance, RemoveEmptyFolderRemovesAnEmptiedFolderOnly) {
  auto top_level = [&] {
    std::set<std::string> top;
    EXPECT_OK(backend_->ListTopLevel([&top](const ObjectInfo& info) {
      top.insert(info.key);
      return Status::OK();
    }));
    return top;
  };
  // An emptied folder: removed where it is one (it was listed), else nothing to do.
  ASSERT_OK(backend_->Put("emptied/sub/last", "x"));
  ASSERT_OK(backend_->Remove("emptied/sub/last"));
  const bool has_folders = top_level().contains("emptied/");
  auto sub = backend_->RemoveEmptyFolder("emptied/sub/");
  ASSERT_OK(sub);
  EXPECT_EQ(*sub, has_folders);
  auto emptied = backend_->RemoveEmptyFolder("emptied");  // without the trailing '/' too
  ASSERT_OK(emptied);
  EXPECT_EQ(*emptied, has_folders);
  EXPECT_FALSE(top_level().contains("emptied/"));

  // A folder holding an object, directly or below a folder of its own: kept, and what it holds.
  ASSERT_OK(backend_->Put("held/file", "kept"));
  ASSERT_OK(backend_->Put("deep/sub/file", "kept too"));
  for (const char* prefix : {"held/", "held", "deep/", "deep"}) {
    auto removed = backend_->RemoveEmptyFolder(prefix);
    ASSERT_OK(removed);
    EXPECT_FALSE(*removed) << prefix;
  }
  // An object's own key is no folder.
  auto file = backend_->RemoveEmptyFolder("held/file");
  ASSERT_OK(file);
  EXPECT_FALSE(*file);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"deep/sub/file", "held/file"}));
  EXPECT_EQ(*backend_->ReadAll("held/file"), "kept");
  EXPECT_EQ(*backend_->ReadAll("deep/sub/file"), "kept too");

  // A folder that is not there, nor its parent: false, nothing made.
  for (const char* prefix : {"missing/", "missing/below/", "held/missing/"}) {
    auto removed = backend_->RemoveEmptyFolder(prefix);
    ASSERT_OK(removed);
    EXPECT_FALSE(*removed) << prefix;
  }
  EXPECT_FALSE(top_level().contains("missing/"));

  // A bad prefix is refused as a bad key, on every backend; so are the root and tmp/.
  for (const char* prefix : {"", "/", "../escape/", "a//b/", "./a/", "tmp/", "tmp"}) {
    EXPECT_EQ(backend_->RemoveEmptyFolder(prefix).status().code(), Code::kInvalidArgument)
        << "'" << prefix << "'";
  }
  EXPECT_EQ(Keys(), (std::vector<std::string>{"deep/sub/file", "held/file"}));
}

TEST_P(BackendConformance, SinkErrorStopsRead) {
  ASSERT_OK(backend_->Put("s", "some bytes"));
  Status status = backend_->Read("s", 0, StorageBackend::kToEnd, [](std::span<const std::byte>) {
    return Status::Aborted("sink says stop");
  });
  EXPECT_EQ(status.code(), Code::kAborted);
}

TEST_P(BackendConformance, DisplayUrlNamesTheSite) {
  std::string url = backend_->DisplayUrl();
  EXPECT_NE(url.find("://"), std::string::npos) << url;
}

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_BACKEND_CONFORMANCE_H_
