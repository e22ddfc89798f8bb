// HashLocalFile: the fast read path of a check on a site whose copies are
// local files (posix). Measured on the benchmark machine (docs/PERFORMANCE-HISTORY.md,
// "Auditor"): pread into a process buffer costs about 0.75 s of system time per
// GiB, hashing straight from a memory map about 0.2 s; small files are read
// with one pread into a per-thread buffer that is reused (first touch of fresh
// memory is slow there).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "audit/audit_internal.h"
#include "bagit/fd_io.h"
#include "bagit/mapped_read.h"

namespace cairn::audit::internal {
namespace {

constexpr uint64_t kSmallFile = 256 << 10;         // up to this: one pread
constexpr size_t kLimiterChunk = size_t{1} << 20;  // rate limiter granularity

// Hashes `length` bytes of `data` in pieces paced by `limiter`; stops early
// when the limiter is cancelled (the caller then drops the check).
void HashPaced(const std::byte* data, size_t length, RateLimiter* limiter,
               bagit::MultiHasher& hasher) {
  for (size_t done = 0; done < length;) {
    size_t n = std::min(kLimiterChunk, length - done);
    if (limiter && !limiter->Acquire(n)) return;
    hasher.Update(std::span<const std::byte>(data + done, n));
    done += n;
  }
}

// Hashes [0, size) of `fd` from a memory map (bagit::ReadMapped), paced by
// `limiter`; false if a window could not be mapped or the file shrank under
// the map. A cancelled limiter stops early (the caller drops the check).
bool HashMapped(int fd, uint64_t size, RateLimiter* limiter, bagit::MultiHasher& hasher) {
  bagit::MappedRead read =
      bagit::ReadMapped(fd, size, kLimiterChunk, [&](std::span<const std::byte> chunk) {
        if (limiter && !limiter->Acquire(chunk.size())) return false;
        hasher.Update(chunk);
        return true;
      });
  return read != bagit::MappedRead::kFailed;
}

// One pread (more only if the kernel returns less) of up to `expected` + 1
// bytes into a per-thread buffer that is reused; false on a read error or a
// file longer than `expected`.
bool HashSmall(int fd, uint64_t expected, RateLimiter* limiter, bagit::MultiHasher& hasher) {
  thread_local std::vector<std::byte> buffer;
  const size_t want = static_cast<size_t>(expected) + 1;
  if (buffer.size() < want) buffer.resize(std::max<size_t>(want, 64 << 10));
  size_t got = 0;
  while (got < want) {
    ssize_t n = PreadSome(fd, std::span(buffer).subspan(got, want - got), got);
    if (n < 0) return false;
    if (n == 0) break;
    got += static_cast<size_t>(n);
    // A regular file reads short only at its end: having all the bytes
    // expected and fewer than asked for, the end is known without another
    // pread() that returns 0.
    if (got == expected && static_cast<size_t>(n) < want) break;
  }
  // Longer than the catalog says: the slow path tells by how much.
  if (got > expected) return false;
  HashPaced(buffer.data(), got, limiter, hasher);
  return true;
}

}  // namespace

bool HashLocalFile(int fd, uint64_t expected_size, RateLimiter* limiter,
                   bagit::MultiHasher& hasher) {
  if (expected_size <= kSmallFile) return HashSmall(fd, expected_size, limiter, hasher);
  struct stat st;
  if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != expected_size) return false;
  return HashMapped(fd, expected_size, limiter, hasher);
}

}  // namespace cairn::audit::internal
