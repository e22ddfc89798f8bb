// ForwardingBackend and ForwardingWriter: the one base of every backend
// wrapper (retry, fault injection, test doubles). Each forwards EVERY method of
// StorageBackend / BlobWriter to the inner object, capabilities and fast paths
// included (OpenForCopy, Capabilities, AppendFromFile, DigestAppended,
// CheckAppended, VerifiedByReadBack), so a wrapper around a posix site takes the same paths
// the product takes. A wrapper overrides only what it changes.
//
// A new virtual method of StorageBackend or BlobWriter must be forwarded here
// (and added to ForwardingBackend.EveryWrapperForwardsEveryMethod in wrappers_test.cc,
// which checks that each one is).
#ifndef CAIRN_REPO_STORAGE_FORWARDING_BACKEND_H_
#define CAIRN_REPO_STORAGE_FORWARDING_BACKEND_H_

#include <memory>
#include <string>

#include "repo/storage/backend.h"

namespace cairn::repo {

class ForwardingWriter : public BlobWriter {
 public:
  // REQUIRES: inner is not null.
  explicit ForwardingWriter(std::unique_ptr<BlobWriter> inner) : inner_(std::move(inner)) {}

  Status Append(std::span<const std::byte> data) override { return inner_->Append(data); }
  Status Commit(std::string_view key) override { return inner_->Commit(key); }
  void Abort() override { inner_->Abort(); }
  Status AppendFromFile(int fd, uint64_t offset, uint64_t length) override {
    return inner_->AppendFromFile(fd, offset, length);
  }
  Status PrepareCommit(std::string_view key, CommitBarrier& barrier) override {
    return inner_->PrepareCommit(key, barrier);
  }
  Status CommitPrepared(std::string_view key, CommitBarrier& barrier) override {
    return inner_->CommitPrepared(key, barrier);
  }
  bool VerifiedByReadBack() const override { return inner_->VerifiedByReadBack(); }
  Result<bagit::Digests> DigestAppended(bagit::AlgorithmSet algorithms) override {
    return inner_->DigestAppended(algorithms);
  }
  Status CheckAppended(std::string_view sha256_hex) override {
    return inner_->CheckAppended(sha256_hex);
  }

 protected:
  BlobWriter& inner() { return *inner_; }

 private:
  std::unique_ptr<BlobWriter> inner_;
};

class ForwardingBackend : public StorageBackend {
 public:
  // REQUIRES: inner is not null.
  explicit ForwardingBackend(std::unique_ptr<StorageBackend> inner) : inner_(std::move(inner)) {}

  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override {
    return inner_->NewWriter(options);
  }
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override {
    return inner_->Read(key, offset, length, sink);
  }
  Result<ObjectInfo> Stat(std::string_view key) override { return inner_->Stat(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner_->List(prefix, fn);
  }
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner_->ListAfter(prefix, start_after, fn);
  }
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner_->ListTopLevel(fn);
  }
  Status Remove(std::string_view key) override { return inner_->Remove(key); }
  Result<std::string> MakeRoomFor(std::string_view key) override {
    return inner_->MakeRoomFor(key);
  }
  Result<bool> RemoveEmptyFolder(std::string_view prefix) override {
    return inner_->RemoveEmptyFolder(prefix);
  }
  Status CleanupTemp(uint64_t min_age_seconds) override {
    return inner_->CleanupTemp(min_age_seconds);
  }
  std::string DisplayUrl() const override { return inner_->DisplayUrl(); }
  Status CreateRoot() override { return inner_->CreateRoot(); }
  Status Probe() override { return inner_->Probe(); }
  Result<int> OpenForCopy(std::string_view key) override { return inner_->OpenForCopy(key); }
  Status ExtendRetention(std::string_view key) override { return inner_->ExtendRetention(key); }
  Result<Erasure> RemoveEveryVersion(std::string_view key) override {
    return inner_->RemoveEveryVersion(key);
  }
  BackendCapabilities Capabilities() const override { return inner_->Capabilities(); }
  std::unique_ptr<CommitBarrier> NewCommitBarrier() override { return inner_->NewCommitBarrier(); }

  StorageBackend& inner() { return *inner_; }
  const StorageBackend& inner() const { return *inner_; }

 private:
  std::unique_ptr<StorageBackend> inner_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_FORWARDING_BACKEND_H_
