// HashLocalFile: the fast read path of a check on a site whose copies are
// local files (posix). Measured on the benchmark machine (docs/PERFORMANCE-HISTORY.md,
// "Auditor"): pread into a process buffer costs about 0.75 s of system time per
// GiB, hashing straight from a memory map about 0.2 s; small files are read
// with one pread into a per-thread buffer that is reused (first touch of fresh
// memory is slow there).
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <vector>

#include "audit/audit_internal.h"
#include "bagit/fd_io.h"

namespace cairn::audit::internal {
namespace {

constexpr uint64_t kSmallFile = 1 << 20;           // up to this: one pread
constexpr uint64_t kMapWindow = 16 << 20;          // mapped at a time
constexpr size_t kLimiterChunk = size_t{1} << 20;  // rate limiter granularity

// A file that shrinks while it is mapped raises SIGBUS on the next access to
// a page past its new end. The handler jumps back into HashMapped of the
// faulting thread, which then reports a fallback; any other SIGBUS goes to
// the previous handler (or the default action).
thread_local sigjmp_buf* t_bus_jump = nullptr;
struct sigaction g_previous_bus;

void OnBus(int sig, siginfo_t* info, void* context) {
  if (t_bus_jump != nullptr) siglongjmp(*t_bus_jump, 1);
  if (g_previous_bus.sa_flags & SA_SIGINFO) {
    if (g_previous_bus.sa_sigaction != nullptr) {
      g_previous_bus.sa_sigaction(sig, info, context);
      return;
    }
  } else if (g_previous_bus.sa_handler != SIG_DFL && g_previous_bus.sa_handler != SIG_IGN) {
    g_previous_bus.sa_handler(sig);
    return;
  }
  // Default action: reinstall it; returning re-runs the access, which kills.
  signal(SIGBUS, SIG_DFL);
}

void InstallBusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = OnBus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &g_previous_bus);
  });
}

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

// Maps and hashes [0, size) of `fd` window by window; false if a window could
// not be mapped or the file shrank under the mapping.
bool HashMapped(int fd, uint64_t size, RateLimiter* limiter, bagit::MultiHasher& hasher) {
  InstallBusHandler();
  for (uint64_t offset = 0; offset < size; offset += kMapWindow) {
    size_t length = static_cast<size_t>(std::min(kMapWindow, size - offset));
    void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
    if (map == MAP_FAILED) return false;
    ::madvise(map, length, MADV_SEQUENTIAL);
    sigjmp_buf jump;
    if (sigsetjmp(jump, 1) != 0) {
      t_bus_jump = nullptr;
      ::munmap(map, length);
      return false;
    }
    t_bus_jump = &jump;
    HashPaced(static_cast<const std::byte*>(map), length, limiter, hasher);
    t_bus_jump = nullptr;
    ::munmap(map, length);
    if (limiter && limiter->cancelled()) return true;  // the caller drops the check
  }
  return true;
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
