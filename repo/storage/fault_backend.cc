#include "repo/storage/fault_backend.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include "bagit/fd_io.h"

namespace cairn::repo {

struct FaultBackend::State {
  std::mutex mu;
  std::vector<FaultRule> rules;
  std::mt19937_64 rng;
  bool offline = false;
  int injected = 0;
  std::string site;

  Status Offline() const {
    return Status::Unavailable("site " + site + " is offline (injected fault)");
  }
  bool IsOffline() {
    std::lock_guard lock(mu);
    return offline;
  }

  // The rule that fires for this call, if any (consumes its skip/times budget).
  std::optional<FaultRule> Fire(FaultPoint point, std::string_view key) {
    std::lock_guard lock(mu);
    for (FaultRule& rule : rules) {
      if (rule.point != point || rule.times == 0) continue;
      if (!rule.key_contains.empty() && key.find(rule.key_contains) == std::string_view::npos) {
        continue;
      }
      if (rule.skip > 0) {
        --rule.skip;
        continue;
      }
      if (rule.probability < 1.0 &&
          std::uniform_real_distribution<double>(0, 1)(rng) >= rule.probability) {
        continue;
      }
      if (rule.times > 0) --rule.times;
      ++injected;
      return rule;
    }
    return std::nullopt;
  }

  // OK, or the error an offline site or a firing kError rule gives.
  Status Check(FaultPoint point, std::string_view key) {
    if (IsOffline()) return Offline();
    std::optional<FaultRule> rule = Fire(point, key);
    if (rule && rule->action == FaultAction::kError) return rule->error;
    return Status::OK();
  }
};

namespace {

class FaultWriter : public ForwardingWriter {
 public:
  FaultWriter(std::unique_ptr<BlobWriter> inner, std::shared_ptr<FaultBackend::State> state)
      : ForwardingWriter(std::move(inner)), state_(std::move(state)) {}

  Status Append(std::span<const std::byte> data) override {
    CAIRN_RETURN_IF_ERROR(CheckAppend());
    return inner().Append(data);
  }

  // The inner writer's own AppendFromFile (posix: copy_file_range), after the
  // same kAppend check as Append.
  Status AppendFromFile(int fd, uint64_t offset, uint64_t length) override {
    CAIRN_RETURN_IF_ERROR(CheckAppend());
    return inner().AppendFromFile(fd, offset, length);
  }

  Result<bagit::Digests> DigestAppended(bagit::AlgorithmSet algorithms) override {
    if (state_->IsOffline()) return state_->Offline();
    return inner().DigestAppended(algorithms);
  }

  Status CheckAppended(std::string_view sha256_hex) override {
    if (state_->IsOffline()) return state_->Offline();
    return inner().CheckAppended(sha256_hex);
  }

  Status Commit(std::string_view key) override {
    Status status = state_->Check(FaultPoint::kCommitBeforeVisible, key);
    if (!status.ok()) {
      inner().Abort();
      return status;
    }
    CAIRN_RETURN_IF_ERROR(inner().Commit(key));
    return state_->Check(FaultPoint::kCommitAfterVisible, key);
  }

  // A batched commit meets the same two points, per object: kCommitBeforeVisible
  // before its bytes are registered with the barrier (nothing is stored),
  // kCommitAfterVisible once its name is made.
  Status PrepareCommit(std::string_view key, CommitBarrier& barrier) override {
    Status status = state_->Check(FaultPoint::kCommitBeforeVisible, key);
    if (!status.ok()) {
      inner().Abort();
      return status;
    }
    return inner().PrepareCommit(key, barrier);
  }
  Status CommitPrepared(std::string_view key, CommitBarrier& barrier) override {
    if (state_->IsOffline()) {
      inner().Abort();
      return state_->Offline();
    }
    CAIRN_RETURN_IF_ERROR(inner().CommitPrepared(key, barrier));
    return state_->Check(FaultPoint::kCommitAfterVisible, key);
  }

 private:
  Status CheckAppend() {
    Status status = state_->Check(FaultPoint::kAppend, "");
    if (!status.ok()) inner().Abort();
    return status;
  }

  std::shared_ptr<FaultBackend::State> state_;
};

// A file descriptor of an anonymous in-memory file holding the bytes of `fd`
// as `rule` alters them (kFlipByte: one byte XORed; kShortRead: cut at
// byte_offset). Closes `fd`.
Result<int> AlteredCopy(int fd, const FaultRule& rule, std::string_view key) {
  std::string bytes;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = PreadSome(fd, std::as_writable_bytes(std::span(buffer)), bytes.size());
    if (n < 0) {
      Status error = Status::FromErrno(errno, "read", std::string(key));
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    bytes.append(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  if (rule.action == FaultAction::kShortRead && rule.byte_offset < bytes.size()) {
    bytes.resize(rule.byte_offset);
  }
  if (rule.action == FaultAction::kFlipByte && rule.byte_offset < bytes.size()) {
    bytes[rule.byte_offset] ^= 0x01;
  }
  int copy = ::memfd_create("cairn-fault", MFD_CLOEXEC);
  if (copy < 0) return Status::FromErrno(errno, "memfd_create for", std::string(key));
  if (int err = WriteFull(copy, std::as_bytes(std::span(bytes)))) {
    Status error = Status::FromErrno(err, "write altered copy of", std::string(key));
    ::close(copy);
    return error;
  }
  return copy;
}

}  // namespace

FaultBackend::FaultBackend(std::unique_ptr<StorageBackend> inner, uint64_t seed)
    : ForwardingBackend(std::move(inner)), state_(std::make_shared<State>()) {
  state_->rng.seed(seed);
  state_->site = DisplayUrl();
}

FaultBackend::~FaultBackend() = default;

void FaultBackend::AddRule(FaultRule rule) {
  std::lock_guard lock(state_->mu);
  state_->rules.push_back(std::move(rule));
}

void FaultBackend::ClearRules() {
  std::lock_guard lock(state_->mu);
  state_->rules.clear();
}

void FaultBackend::SetOffline(bool offline) {
  std::lock_guard lock(state_->mu);
  state_->offline = offline;
}

int FaultBackend::injected() const {
  std::lock_guard lock(state_->mu);
  return state_->injected;
}

Result<std::unique_ptr<BlobWriter>> FaultBackend::NewWriter(const PutOptions& options) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kNewWriter, ""));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, inner().NewWriter(options));
  return std::unique_ptr<BlobWriter>(new FaultWriter(std::move(writer), state_));
}

Status FaultBackend::Read(std::string_view key, uint64_t offset, uint64_t length,
                          const ByteSink& sink) {
  if (state_->IsOffline()) return state_->Offline();
  std::optional<FaultRule> rule = state_->Fire(FaultPoint::kRead, key);
  if (!rule) return inner().Read(key, offset, length, sink);
  if (rule->action == FaultAction::kError) return rule->error;
  uint64_t position = offset;  // object offset of the next byte delivered
  std::vector<std::byte> copy;
  bool cut = false;
  Status status = inner().Read(key, offset, length, [&](std::span<const std::byte> chunk) {
    if (rule->action == FaultAction::kShortRead || rule->action == FaultAction::kCutRead) {
      uint64_t allowed =
          rule->byte_offset > position - offset ? rule->byte_offset - (position - offset) : 0;
      if (allowed == 0) {
        cut = true;
        return Status::Aborted("short read");
      }
      if (chunk.size() > allowed) chunk = chunk.first(static_cast<size_t>(allowed));
    }
    if (rule->action == FaultAction::kFlipByte && rule->byte_offset >= position &&
        rule->byte_offset < position + chunk.size()) {
      copy.assign(chunk.begin(), chunk.end());
      copy[rule->byte_offset - position] ^= std::byte{0x01};
      chunk = copy;
    }
    position += chunk.size();
    return sink(chunk);
  });
  // The injected short read ends quietly, as a truncated object would.
  if (cut) return rule->action == FaultAction::kCutRead ? rule->error : Status::OK();
  return status;
}

Result<ObjectInfo> FaultBackend::Stat(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kStat, key));
  return inner().Stat(key);
}

Status FaultBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kList, prefix));
  return inner().List(prefix, fn);
}

Status FaultBackend::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kList, ""));
  return inner().ListTopLevel(fn);
}

Status FaultBackend::ListAfter(std::string_view prefix, std::string_view start_after,
                               const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kList, prefix));
  return inner().ListAfter(prefix, start_after, fn);
}

Status FaultBackend::Remove(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kRemove, key));
  return inner().Remove(key);
}

// The same faults as Remove: a purge meets a site that is down or refuses as a gc would.
Result<Erasure> FaultBackend::RemoveEveryVersion(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kRemove, key));
  return inner().RemoveEveryVersion(key);
}

Status FaultBackend::CleanupTemp(uint64_t min_age_seconds) {
  if (state_->IsOffline()) return state_->Offline();
  return inner().CleanupTemp(min_age_seconds);
}

Status FaultBackend::CreateRoot() {
  if (state_->IsOffline()) return state_->Offline();
  return inner().CreateRoot();
}

Status FaultBackend::Probe() {
  if (state_->IsOffline()) return state_->Offline();
  return inner().Probe();
}

Result<int> FaultBackend::OpenForCopy(std::string_view key) {
  if (state_->IsOffline()) return state_->Offline();
  // Not claimed below: NotSupported, and no rule is spent on it.
  if (!inner().Capabilities().open_for_copy) return inner().OpenForCopy(key);
  std::optional<FaultRule> rule = state_->Fire(FaultPoint::kRead, key);
  if (!rule) return inner().OpenForCopy(key);
  if (rule->action == FaultAction::kError || rule->action == FaultAction::kCutRead) {
    return rule->error;
  }
  CAIRN_ASSIGN_OR_RETURN(int fd, inner().OpenForCopy(key));
  return AlteredCopy(fd, *rule, key);
}

Status FaultBackend::ExtendRetention(std::string_view key) {
  if (state_->IsOffline()) return state_->Offline();
  return inner().ExtendRetention(key);
}

}  // namespace cairn::repo
