#include "bagit/mapped_read.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

namespace cairn::bagit {
namespace {

constexpr uint64_t kMapWindow = 16 << 20;  // mapped at a time (a multiple of the page size)

// The handler jumps back into ReadMapped of the faulting thread; any other
// SIGBUS goes to the previous handler (or the default action).
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

}  // namespace

MappedRead ReadMappedRange(int fd, uint64_t offset, uint64_t length, size_t piece,
                           const std::function<bool(std::span<const std::byte>)>& each) {
  InstallBusHandler();
  piece = std::max<size_t>(piece, 1);
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t end = offset + length;
  // Maps start at page boundaries: the first window begins before `offset`.
  for (uint64_t at = offset - offset % page; at < end;) {
    const uint64_t window_end = std::min(end, at + kMapWindow);
    const size_t map_length = static_cast<size_t>(window_end - at);
    void* map = ::mmap(nullptr, map_length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(at));
    if (map == MAP_FAILED) return MappedRead::kFailed;
    ::madvise(map, map_length, MADV_SEQUENTIAL);
    // volatile: read after a longjmp back into this frame.
    volatile bool stopped = false;
    sigjmp_buf jump;
    // The mask is not saved (a system call per window): the handler runs with
    // SA_NODEFER and an empty sa_mask, so jumping out of it leaves the mask as it was.
    if (sigsetjmp(jump, 0) != 0) {
      t_bus_jump = nullptr;
      ::munmap(map, map_length);
      return MappedRead::kFailed;
    }
    t_bus_jump = &jump;
    const auto* data = static_cast<const std::byte*>(map);
    const size_t skip = at < offset ? static_cast<size_t>(offset - at) : 0;
    for (size_t done = skip; done < map_length;) {
      size_t n = std::min(piece, map_length - done);
      if (!each(std::span<const std::byte>(data + done, n))) {
        stopped = true;
        break;
      }
      done += n;
    }
    t_bus_jump = nullptr;
    ::munmap(map, map_length);
    if (stopped) return MappedRead::kStopped;
    at = window_end;
  }
  return MappedRead::kDone;
}

}  // namespace cairn::bagit
