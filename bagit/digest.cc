// Digests through OpenSSL EVP: one context per algorithm, fed from one read of
// the bytes; files read in kReadChunk pieces into one aligned buffer per thread.
#include "bagit/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "bagit/fd_io.h"
#include "bagit/mapped_read.h"

namespace cairn::bagit {
namespace {

constexpr std::string_view kNames[kAlgorithmCount] = {"md5",    "sha1",   "sha224",
                                                      "sha256", "sha384", "sha512"};
constexpr size_t kHexLengths[kAlgorithmCount] = {32, 40, 56, 64, 96, 128};

// Fetched once: explicit fetching avoids a provider lookup on every init.
const EVP_MD* MessageDigest(Algorithm a) {
  static const std::array<const EVP_MD*, kAlgorithmCount> kMds = [] {
    std::array<const EVP_MD*, kAlgorithmCount> mds{};
    for (size_t i = 0; i < kAlgorithmCount; ++i) {
      std::string name(kNames[i]);
      mds[i] = EVP_MD_fetch(nullptr, name.c_str(), nullptr);
    }
    return mds;
  }();
  return kMds[static_cast<size_t>(a)];
}

std::string ToHex(const unsigned char* bytes, unsigned len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(len * 2, '\0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

// One kReadChunk buffer per thread, page aligned, reused for every file.
std::byte* ThreadReadBuffer() {
  struct Buffer {
    std::byte* data = static_cast<std::byte*>(std::aligned_alloc(4096, kReadChunk));
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  return buffer.data;
}

}  // namespace

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  std::string folded;
  for (char c : name) {
    if (c == '-') continue;
    folded.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  for (size_t i = 0; i < kAlgorithmCount; ++i) {
    if (folded == kNames[i]) return static_cast<Algorithm>(i);
  }
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm a) { return kNames[static_cast<size_t>(a)]; }

size_t HexLength(Algorithm a) { return kHexLengths[static_cast<size_t>(a)]; }

struct MultiHasher::Impl {
  // Contexts for the algorithms in the set; null elsewhere.
  std::array<EVP_MD_CTX*, kAlgorithmCount> contexts{};

  ~Impl() {
    for (EVP_MD_CTX* ctx : contexts) EVP_MD_CTX_free(ctx);
  }
};

MultiHasher::MultiHasher(AlgorithmSet algorithms) : impl_(std::make_unique<Impl>()) {
  for (size_t i = 0; i < kAlgorithmCount; ++i) {
    if (!algorithms.test(i)) continue;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    // Allocation or init failure of a built-in digest means OpenSSL itself is
    // unusable; there is no sensible recovery, so fail loudly.
    if (ctx == nullptr ||
        EVP_DigestInit_ex(ctx, MessageDigest(static_cast<Algorithm>(i)), nullptr) != 1) {
      std::abort();
    }
    impl_->contexts[i] = ctx;
  }
}

MultiHasher::~MultiHasher() = default;
MultiHasher::MultiHasher(MultiHasher&&) noexcept = default;
MultiHasher& MultiHasher::operator=(MultiHasher&&) noexcept = default;

void MultiHasher::Update(std::span<const std::byte> data) {
  bytes_ += data.size();
  for (EVP_MD_CTX* ctx : impl_->contexts) {
    if (ctx != nullptr) EVP_DigestUpdate(ctx, data.data(), data.size());
  }
}

Digests MultiHasher::Finish() {
  Digests out;
  unsigned char md[EVP_MAX_MD_SIZE];
  for (size_t i = 0; i < kAlgorithmCount; ++i) {
    EVP_MD_CTX* ctx = impl_->contexts[i];
    if (ctx == nullptr) continue;
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    out.hex[i] = ToHex(md, len);
    EVP_DigestInit_ex(ctx, MessageDigest(static_cast<Algorithm>(i)), nullptr);
  }
  bytes_ = 0;
  return out;
}

Digests HashBytes(std::string_view bytes, AlgorithmSet algorithms) {
  MultiHasher hasher(algorithms);
  hasher.Update(bytes);
  return hasher.Finish();
}

// Files larger than this are hashed from a memory map (no copy of the page
// cache into a buffer); smaller ones cost less to copy than to map.
constexpr uint64_t kMapAbove = 256 << 10;

Status HashOpenFile(int fd, const std::string& path, uint64_t size, MultiHasher& hasher) {
  if (size > kMapAbove) {
    // Hashed from a memory map: no copy of the page cache into this process.
    // If the file changed size meanwhile (or could not be mapped) it is read
    // again from the start with pread(2), which sees where it really ends.
    MappedRead mapped = ReadMapped(fd, size, kReadChunk, [&](std::span<const std::byte> b) {
      hasher.Update(b);
      return true;
    });
    struct stat after;
    if (mapped == MappedRead::kDone && ::fstat(fd, &after) == 0 &&
        static_cast<uint64_t>(after.st_size) == size) {
      return Status::OK();
    }
    (void)hasher.Finish();  // resets it
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  std::byte* buffer = ThreadReadBuffer();
  for (;;) {
    ssize_t n = PreadSome(fd, std::span<std::byte>(buffer, kReadChunk), hasher.bytes());
    if (n == 0) return Status::OK();
    if (n < 0) return Status::FromErrno(errno, "read", path);
    hasher.Update(std::span<const std::byte>(buffer, static_cast<size_t>(n)));
    // A short read that reaches the size fstat reported is the end of the
    // file: skip the extra read that would return 0 (most files of a bag are
    // small, so this saves a third of the system calls per file).
    if (static_cast<size_t>(n) < kReadChunk && hasher.bytes() == size) return Status::OK();
  }
}

Result<FileDigests> HashFile(const std::string& path, AlgorithmSet algorithms) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("hash " + path + ": not a regular file");
  MultiHasher hasher(algorithms);
  CAIRN_RETURN_IF_ERROR(HashOpenFile(fd, path, static_cast<uint64_t>(st.st_size), hasher));
  FileDigests result;
  result.size = hasher.bytes();
  result.digests = hasher.Finish();
  return result;
}

struct ParallelHasher::Impl {
  AlgorithmSet algorithms;
  Done done;
  size_t capacity = 0;  // most paths waiting in `queue`

  std::mutex mu;
  std::condition_variable work_ready;   // queue not empty, or stopping
  std::condition_variable space_ready;  // queue below capacity
  std::condition_variable all_done;     // finished == submitted
  std::deque<std::string> queue;
  uint64_t submitted = 0;
  uint64_t finished = 0;
  bool stopping = false;
  std::vector<std::thread> workers;

  void Work() {
    for (;;) {
      std::string path;
      {
        std::unique_lock lock(mu);
        work_ready.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping and drained
        path = std::move(queue.front());
        queue.pop_front();
      }
      space_ready.notify_one();
      Result<FileDigests> result = HashFile(path, algorithms);
      done(path, std::move(result));
      {
        std::lock_guard lock(mu);
        ++finished;
        if (finished == submitted) all_done.notify_all();
      }
    }
  }
};

ParallelHasher::ParallelHasher(AlgorithmSet algorithms, unsigned threads, Done done)
    : impl_(std::make_unique<Impl>()) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  impl_->algorithms = algorithms;
  impl_->done = std::move(done);
  impl_->capacity = 64 * size_t{threads};
  impl_->workers.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] { impl->Work(); });
  }
}

ParallelHasher::~ParallelHasher() {
  Wait();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->work_ready.notify_all();
  for (std::thread& t : impl_->workers) t.join();
}

void ParallelHasher::Submit(std::string path) {
  {
    std::unique_lock lock(impl_->mu);
    impl_->space_ready.wait(lock, [&] { return impl_->queue.size() < impl_->capacity; });
    impl_->queue.push_back(std::move(path));
    ++impl_->submitted;
  }
  impl_->work_ready.notify_one();
}

void ParallelHasher::Wait() {
  std::unique_lock lock(impl_->mu);
  impl_->all_done.wait(lock, [&] { return impl_->finished == impl_->submitted; });
}

}  // namespace cairn::bagit
