// FaultBackend: a wrapper that injects storage faults around any backend, for
// crash/fault tests (issue 7) and auditor tests: scripted or random errors on
// writes, commits (before or after the object becomes visible), reads, stats,
// listings and removals; short reads; flipped bytes; a whole site offline.
// It derives from ForwardingBackend: around a posix site the product's fast
// paths stay on (OpenForCopy, AppendFromFile in the kernel, DigestAppended),
// and the faults reach them too: a kAppend rule fires on AppendFromFile, and a
// kRead rule on OpenForCopy (an error fails the open; a flipped byte or a short
// read gives a file descriptor of the altered bytes).
#ifndef CAIRN_REPO_STORAGE_FAULT_BACKEND_H_
#define CAIRN_REPO_STORAGE_FAULT_BACKEND_H_

#include <memory>
#include <string>

#include "repo/storage/forwarding_backend.h"

namespace cairn::repo {

enum class FaultPoint {
  kNewWriter,
  kAppend,               // a write, Append or AppendFromFile (e.g. ENOSPC: Status::NoSpace)
  kCommitBeforeVisible,  // fsync/rename fails: nothing is stored
  kCommitAfterVisible,   // the object is stored, then the dir fsync "fails"
  kRead,                 // Read, and OpenForCopy (the local-file read path)
  kStat,
  kList,
  kRemove,
};

enum class FaultAction {
  kError,      // the call returns `error`
  kShortRead,  // kRead only: the read stops OK after `byte_offset` bytes
  kCutRead,    // kRead only: `byte_offset` bytes, then `error` (a dropped
               // stream; OpenForCopy: `error` at once)
  kFlipByte,   // kRead only: the byte at object offset `byte_offset` is XORed with 0x01
};

struct FaultRule {
  FaultPoint point = FaultPoint::kRead;
  FaultAction action = FaultAction::kError;
  Status error = Status::IOError("injected fault");
  // Only calls whose key contains this ("" = every call; kNewWriter and
  // kAppend have no key and only match rules with "").
  std::string key_contains;
  int skip = 0;              // matching calls let through before the rule fires
  int times = 1;             // times it fires after that; -1: forever
  double probability = 1.0;  // chance of firing on each eligible call (seeded)
  uint64_t byte_offset = 0;  // kShortRead / kCutRead / kFlipByte

  // Builders: FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("full")).Skip(2)
  static FaultRule Fail(FaultPoint point, Status error) {
    FaultRule rule;
    rule.point = point;
    rule.error = std::move(error);
    return rule;
  }
  static FaultRule OnRead(FaultAction action, uint64_t byte_offset) {
    FaultRule rule;
    rule.action = action;
    rule.byte_offset = byte_offset;
    return rule;
  }
  FaultRule& Matching(std::string text) {
    key_contains = std::move(text);
    return *this;
  }
  FaultRule& Skip(int n) {
    skip = n;
    return *this;
  }
  FaultRule& Times(int n) {
    times = n;
    return *this;
  }
  FaultRule& WithProbability(double p) {
    probability = p;
    return *this;
  }
  FaultRule& WithError(Status s) {
    error = std::move(s);
    return *this;
  }
};

class FaultBackend : public ForwardingBackend {
 public:
  // `seed` drives the probabilistic rules, so a failing run can be replayed.
  explicit FaultBackend(std::unique_ptr<StorageBackend> inner, uint64_t seed = 1);
  ~FaultBackend() override;

  // Rules are checked in the order added; the first that fires wins. Thread-safe.
  void AddRule(FaultRule rule);
  void ClearRules();
  // While offline every call (and every open writer's Append/Commit) returns
  // Unavailable naming the site, as a site that is down does.
  void SetOffline(bool offline);
  // Faults fired so far.
  int injected() const;

  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  // The same fault point as List (ListTopLevel too, with the prefix "").
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) override;
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  Status CleanupTemp(uint64_t min_age_seconds) override;
  Status CreateRoot() override;
  Status ExtendRetention(std::string_view key) override;
  Result<Erasure> RemoveEveryVersion(std::string_view key) override;
  Status Probe() override;
  Result<int> OpenForCopy(std::string_view key) override;

  // Shared with open writers (internal).
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_FAULT_BACKEND_H_
