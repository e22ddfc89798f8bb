#include "repo/storage/fault_backend.h"

#include <mutex>
#include <optional>
#include <random>
#include <vector>

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

class FaultWriter : public BlobWriter {
 public:
  FaultWriter(std::unique_ptr<BlobWriter> inner, std::shared_ptr<FaultBackend::State> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}

  Status Append(std::span<const std::byte> data) override {
    Status status = state_->Check(FaultPoint::kAppend, "");
    if (!status.ok()) {
      inner_->Abort();
      return status;
    }
    return inner_->Append(data);
  }

  Status Commit(std::string_view key) override {
    Status status = state_->Check(FaultPoint::kCommitBeforeVisible, key);
    if (!status.ok()) {
      inner_->Abort();
      return status;
    }
    CAIRN_RETURN_IF_ERROR(inner_->Commit(key));
    return state_->Check(FaultPoint::kCommitAfterVisible, key);
  }

  void Abort() override { inner_->Abort(); }

 private:
  std::unique_ptr<BlobWriter> inner_;
  std::shared_ptr<FaultBackend::State> state_;
};

}  // namespace

FaultBackend::FaultBackend(std::unique_ptr<StorageBackend> inner, uint64_t seed)
    : inner_(std::move(inner)), state_(std::make_shared<State>()) {
  state_->rng.seed(seed);
  state_->site = inner_->DisplayUrl();
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
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, inner_->NewWriter(options));
  return std::unique_ptr<BlobWriter>(new FaultWriter(std::move(writer), state_));
}

Status FaultBackend::Read(std::string_view key, uint64_t offset, uint64_t length,
                          const ByteSink& sink) {
  if (state_->IsOffline()) return state_->Offline();
  std::optional<FaultRule> rule = state_->Fire(FaultPoint::kRead, key);
  if (!rule) return inner_->Read(key, offset, length, sink);
  if (rule->action == FaultAction::kError) return rule->error;
  uint64_t position = offset;  // object offset of the next byte delivered
  std::vector<std::byte> copy;
  bool cut = false;
  Status status = inner_->Read(key, offset, length, [&](std::span<const std::byte> chunk) {
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
  return inner_->Stat(key);
}

Status FaultBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kList, prefix));
  return inner_->List(prefix, fn);
}

Status FaultBackend::Remove(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(state_->Check(FaultPoint::kRemove, key));
  return inner_->Remove(key);
}

Status FaultBackend::CleanupTemp(uint64_t min_age_seconds) {
  if (state_->IsOffline()) return state_->Offline();
  return inner_->CleanupTemp(min_age_seconds);
}

Status FaultBackend::CreateRoot() {
  if (state_->IsOffline()) return state_->Offline();
  return inner_->CreateRoot();
}

Status FaultBackend::ExtendRetention(std::string_view key) {
  if (state_->IsOffline()) return state_->Offline();
  return inner_->ExtendRetention(key);
}

}  // namespace cairn::repo
