#include "repo/storage/memory_backend.h"

#include <vector>

#include "repo/storage/backends.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

class MemoryWriter : public BlobWriter {
 public:
  MemoryWriter(std::string site, std::shared_ptr<MemoryBackend::Store> store,
               const PutOptions& options)
      : site_(std::move(site)), store_(std::move(store)), options_(options) {}

  Status Append(std::span<const std::byte> data) override {
    if (done_) return Status::IOError("append to a finished writer on " + site_);
    bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::OK();
  }

  Status Commit(std::string_view key) override {
    CAIRN_RETURN_IF_ERROR(ValidateKey(key));
    if (done_) return Status::IOError("commit of a finished writer on " + site_);
    done_ = true;
    std::string where = site_ + "/" + std::string(key);
    if (!options_.expected_sha256.empty()) {
      std::string actual = Sha256Hex(bytes_);
      if (actual != options_.expected_sha256) {
        bytes_.clear();
        return Status::Corruption("write " + where + ": SHA-256 of the bytes is " + actual +
                                  ", expected " + options_.expected_sha256);
      }
    }
    Status hint = CheckKeyHint(options_, key);
    if (!hint.ok()) {
      bytes_.clear();
      return hint;
    }
    std::lock_guard lock(store_->mu);
    auto it = store_->objects.find(key);
    if (it != store_->objects.end()) {
      if (options_.if_absent) return Status::AlreadyExists(where + " already exists");
      it->second = std::move(bytes_);
    } else {
      store_->objects.emplace(std::string(key), std::move(bytes_));
    }
    return Status::OK();
  }

  Status CheckAppended(std::string_view sha256_hex) override {
    if (done_) return Status::IOError("check of a finished writer on " + site_);
    return AppendedSha256Is("write to " + site_, Sha256Hex(bytes_), sha256_hex);
  }

  void Abort() override {
    done_ = true;
    bytes_.clear();
  }

 private:
  std::string site_;
  std::shared_ptr<MemoryBackend::Store> store_;
  PutOptions options_;
  std::string bytes_;
  bool done_ = false;
};

}  // namespace

MemoryBackend::MemoryBackend(std::string name)
    : MemoryBackend(std::move(name), std::make_shared<Store>()) {}

MemoryBackend::MemoryBackend(std::string name, std::shared_ptr<Store> store)
    : name_(std::move(name)), store_(std::move(store)) {}

std::string MemoryBackend::DisplayUrl() const { return "mem://" + name_; }

Result<std::unique_ptr<BlobWriter>> MemoryBackend::NewWriter(const PutOptions& options) {
  return std::unique_ptr<BlobWriter>(new MemoryWriter(DisplayUrl(), store_, options));
}

Status MemoryBackend::Read(std::string_view key, uint64_t offset, uint64_t length,
                           const ByteSink& sink) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  std::string copy;
  {
    std::lock_guard lock(store_->mu);
    auto it = store_->objects.find(key);
    if (it == store_->objects.end()) {
      return Status::NotFound(DisplayUrl() + "/" + std::string(key) + " does not exist");
    }
    if (offset < it->second.size()) {
      copy = it->second.substr(static_cast<size_t>(offset),
                               static_cast<size_t>(std::min<uint64_t>(length, it->second.size())));
    }
  }
  // Sinks run without the lock, in chunks like a real backend.
  constexpr size_t kChunk = 1 << 20;
  for (size_t pos = 0; pos < copy.size(); pos += kChunk) {
    size_t n = std::min(kChunk, copy.size() - pos);
    CAIRN_RETURN_IF_ERROR(sink(std::as_bytes(std::span<const char>(copy.data() + pos, n))));
  }
  return Status::OK();
}

Result<ObjectInfo> MemoryBackend::Stat(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(store_->mu);
  auto it = store_->objects.find(key);
  if (it == store_->objects.end()) {
    return Status::NotFound(DisplayUrl() + "/" + std::string(key) + " does not exist");
  }
  return ObjectInfo{std::string(key), it->second.size()};
}

Status MemoryBackend::List(std::string_view prefix,
                           const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(ValidatePrefix(prefix));
  std::vector<ObjectInfo> found;
  {
    std::lock_guard lock(store_->mu);
    for (auto it = store_->objects.lower_bound(prefix);
         it != store_->objects.end() && it->first.starts_with(prefix); ++it) {
      found.push_back(ObjectInfo{it->first, it->second.size()});
    }
  }
  for (const ObjectInfo& info : found) CAIRN_RETURN_IF_ERROR(fn(info));
  return Status::OK();
}

Status MemoryBackend::Remove(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(store_->mu);
  auto it = store_->objects.find(key);
  if (it != store_->objects.end()) store_->objects.erase(it);
  return Status::OK();
}

Status MemoryBackend::CleanupTemp(uint64_t) { return Status::OK(); }

Status MemoryBackend::Mutate(std::string_view key, const std::function<void(std::string&)>& fn) {
  std::lock_guard lock(store_->mu);
  auto it = store_->objects.find(key);
  if (it == store_->objects.end()) return Status::NotFound(std::string(key) + " does not exist");
  fn(it->second);
  return Status::OK();
}

Result<std::unique_ptr<StorageBackend>> OpenMemoryBackend(std::string_view url) {
  constexpr std::string_view kScheme = "mem://";
  std::string name(url.substr(kScheme.size()));
  if (!url.starts_with(kScheme) || name.empty() || name.find('/') != std::string::npos) {
    return Status::InvalidArgument("site URL " + std::string(url) + ": expected mem://name");
  }
  static std::mutex registry_mu;
  static auto* registry = new std::map<std::string, std::shared_ptr<MemoryBackend::Store>>();
  std::lock_guard lock(registry_mu);
  std::shared_ptr<MemoryBackend::Store>& store = (*registry)[name];
  if (!store) store = std::make_shared<MemoryBackend::Store>();
  return std::unique_ptr<StorageBackend>(new MemoryBackend(name, store));
}

}  // namespace cairn::repo
