// Digests for BagIt manifests: algorithm names, a hasher that computes several
// algorithms in one pass over the bytes, and parallel hashing of many files.
// Every digest goes through OpenSSL's EVP interface.
#ifndef CAIRN_BAGIT_DIGEST_H_
#define CAIRN_BAGIT_DIGEST_H_

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::bagit {

enum class Algorithm : uint8_t { kMd5 = 0, kSha1, kSha224, kSha256, kSha384, kSha512 };
inline constexpr size_t kAlgorithmCount = 6;
using AlgorithmSet = std::bitset<kAlgorithmCount>;

inline AlgorithmSet Only(Algorithm a) { return AlgorithmSet().set(static_cast<size_t>(a)); }
inline bool Has(const AlgorithmSet& set, Algorithm a) { return set.test(static_cast<size_t>(a)); }

// Normalises a name as found in "manifest-<name>.txt" or a profile: case
// insensitive, '-' ignored ("SHA-256", "sha256" -> kSha256). nullopt if unknown.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
// The canonical lower-case name: "md5", "sha1", "sha224", "sha256", "sha384", "sha512".
std::string_view AlgorithmName(Algorithm a);
// Length of the hex digest: 32, 40, 56, 64, 96, 128.
size_t HexLength(Algorithm a);

// Lower-case hex digests, indexed by Algorithm; empty where not computed.
struct Digests {
  std::array<std::string, kAlgorithmCount> hex;
  const std::string& operator[](Algorithm a) const { return hex[static_cast<size_t>(a)]; }
  std::string& operator[](Algorithm a) { return hex[static_cast<size_t>(a)]; }
};

// Hashes one stream of bytes with every algorithm in a set at once.
class MultiHasher {
 public:
  explicit MultiHasher(AlgorithmSet algorithms);
  ~MultiHasher();
  MultiHasher(MultiHasher&&) noexcept;
  MultiHasher& operator=(MultiHasher&&) noexcept;

  void Update(std::span<const std::byte> data);
  void Update(std::string_view data) {
    Update(std::as_bytes(std::span<const char>(data.data(), data.size())));
  }
  // Total bytes seen since construction or the last Finish().
  uint64_t bytes() const { return bytes_; }
  // The digests of everything updated so far; resets the hasher for reuse.
  Digests Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t bytes_ = 0;
};

// Digests of one whole string (tests, small tag files).
Digests HashBytes(std::string_view bytes, AlgorithmSet algorithms);

struct FileDigests {
  uint64_t size = 0;
  Digests digests;
};

// Size in bytes of each read: large reads keep syscalls cheap on big files.
inline constexpr size_t kReadChunk = 1 << 20;

// Reads the regular file at `path` once, in kReadChunk reads, hashing it with
// every algorithm in `algorithms`. NotFound/PermissionDenied/IOError name the file.
Result<FileDigests> HashFile(const std::string& path, AlgorithmSet algorithms);

// Hashes the open file `fd` (`path` names it in errors; `size` is what fstat
// said when it was opened) from its start to its end into `hasher`, which must
// be empty: from a memory map when it is over 256 KiB and keeps its size while
// mapped, otherwise (or again from the start, if it changed) with pread(2).
// The file's own offset is not moved. hasher.bytes() is then its size.
Status HashOpenFile(int fd, const std::string& path, uint64_t size, MultiHasher& hasher);

// Hashes files on a fixed pool of worker threads. Memory is bounded: at most
// `threads` read buffers plus a bounded queue of pending paths, however many
// files are submitted.
class ParallelHasher {
 public:
  // Called on a worker thread when a file is done (or failed). Calls may run
  // concurrently: the callback must do its own locking.
  using Done = std::function<void(const std::string& path, Result<FileDigests> result)>;

  // threads == 0: one per core.
  ParallelHasher(AlgorithmSet algorithms, unsigned threads, Done done);
  // Waits for every submitted file.
  ~ParallelHasher();

  // Queues a file; blocks while the queue is full.
  void Submit(std::string path);
  // Blocks until every file submitted so far is done.
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_DIGEST_H_
