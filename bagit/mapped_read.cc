#include "bagit/mapped_read.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <mutex>

namespace cairn::bagit {
namespace {

constexpr uint64_t kMapWindow = 16 << 20;  // mapped at a time

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

MappedRead ReadMapped(int fd, uint64_t size, size_t piece,
                      const std::function<bool(std::span<const std::byte>)>& each) {
  InstallBusHandler();
  piece = std::max<size_t>(piece, 1);
  for (uint64_t offset = 0; offset < size; offset += kMapWindow) {
    size_t length = static_cast<size_t>(std::min(kMapWindow, size - offset));
    void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
    if (map == MAP_FAILED) return MappedRead::kFailed;
    ::madvise(map, length, MADV_SEQUENTIAL);
    // volatile: read after a longjmp back into this frame.
    volatile bool stopped = false;
    sigjmp_buf jump;
    // The mask is not saved (a system call per window): the handler runs with
    // SA_NODEFER and an empty sa_mask, so jumping out of it leaves the mask as it was.
    if (sigsetjmp(jump, 0) != 0) {
      t_bus_jump = nullptr;
      ::munmap(map, length);
      return MappedRead::kFailed;
    }
    t_bus_jump = &jump;
    const auto* data = static_cast<const std::byte*>(map);
    for (size_t done = 0; done < length;) {
      size_t n = std::min(piece, length - done);
      if (!each(std::span<const std::byte>(data + done, n))) {
        stopped = true;
        break;
      }
      done += n;
    }
    t_bus_jump = nullptr;
    ::munmap(map, length);
    if (stopped) return MappedRead::kStopped;
  }
  return MappedRead::kDone;
}

}  // namespace cairn::bagit
