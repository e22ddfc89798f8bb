// The test hooks (repo/test_hooks.h). Built twice: with CAIRN_TEST_HOOKS for
// the tests and cairn-testing; without it for the shipped cairn, where the
// hooks do nothing and no environment variable is read.
#include "repo/test_hooks.h"

#include "repo/crash_point.h"
#include "repo/storage/backend.h"
#include "repo/storage/posix_ops.h"

#ifdef CAIRN_TEST_HOOKS
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#endif

namespace cairn::repo {

#ifdef CAIRN_TEST_HOOKS

namespace {

// Crash points read CAIRN_CRASH_AT / CAIRN_CRASH_TRACE once.
struct CrashConfig {
  bool enabled = false;
  std::string point;  // "*" = any
  long hit = 0;       // 1-based; 0 = never
  int trace_fd = -1;
  std::atomic<long> hits{0};
};

std::atomic<CrashPointHook> g_hook{nullptr};

CrashConfig& Config() {
  static CrashConfig* config = [] {
    auto* c = new CrashConfig();
    if (const char* at = std::getenv("CAIRN_CRASH_AT"); at != nullptr && *at != '\0') {
      std::string spec(at);
      size_t colon = spec.rfind(':');
      c->point = spec.substr(0, colon);
      c->hit = colon == std::string::npos ? 1 : std::atol(spec.c_str() + colon + 1);
      c->enabled = c->hit > 0;
    }
    if (const char* trace = std::getenv("CAIRN_CRASH_TRACE"); trace != nullptr && *trace != '\0') {
      c->trace_fd = ::open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      c->enabled = c->enabled || c->trace_fd >= 0;
    }
    return c;
  }();
  return *config;
}

BackendWrapper& TestWrapper() {
  static BackendWrapper wrap;
  return wrap;
}

}  // namespace

void CrashPoint(std::string_view name) {
  if (CrashPointHook hook = g_hook.load(std::memory_order_relaxed)) hook(name);
  CrashConfig& c = Config();
  if (!c.enabled) return;
  if (c.trace_fd >= 0) {
    std::string line = std::string(name) + "\n";
    (void)!::write(c.trace_fd, line.data(), line.size());  // one write: lines never interleave
  }
  if (c.hit <= 0 || (c.point != "*" && c.point != name)) return;
  if (c.hits.fetch_add(1) + 1 == c.hit) ::kill(::getpid(), SIGKILL);
}

void PausePoint(std::string_view name, const std::atomic<bool>* until) {
  static const std::string spec = [] {
    const char* at = std::getenv("CAIRN_PAUSE_AT");
    return std::string(at != nullptr ? at : "");
  }();
  static std::atomic<bool> paused{false};
  const size_t colon = spec.find(':');
  if (until == nullptr || colon == std::string::npos || spec.compare(0, colon, name) != 0 ||
      paused.exchange(true)) {
    return;
  }
  const int fd = ::open(spec.c_str() + colon + 1, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  for (int i = 0; i < 12'000 && !until->load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void SetCrashPointHookForTesting(CrashPointHook hook) {
  g_hook.store(hook, std::memory_order_release);
}

void SetBackendWrapperForTesting(BackendWrapper wrap) { TestWrapper() = std::move(wrap); }

namespace posix_io {
void SetFileOpsForTesting(const FileOps* ops) {
  internal::g_file_ops.store(ops != nullptr ? ops : &RealFileOps(), std::memory_order_release);
}
}  // namespace posix_io

namespace test_hooks {

std::optional<FakeNow> FakeNowSetting() {
  const char* fake = std::getenv("CAIRN_FAKE_NOW");
  if (fake == nullptr || *fake == '\0') return std::nullopt;
  return FakeNow{"CAIRN_FAKE_NOW", fake};
}

bool SequentialNumbers() {
  const char* set = std::getenv("CAIRN_SEQUENTIAL_NUMBERS");
  return set != nullptr && *set != '\0';
}

std::unique_ptr<StorageBackend> WrapBackend(std::string_view url,
                                            std::unique_ptr<StorageBackend> backend) {
  if (!TestWrapper()) return backend;
  return TestWrapper()(url, std::move(backend));
}

}  // namespace test_hooks

#else  // the shipped binary: no hooks

void CrashPoint(std::string_view) {}

void PausePoint(std::string_view, const std::atomic<bool>*) {}

namespace test_hooks {

std::optional<FakeNow> FakeNowSetting() { return std::nullopt; }

bool SequentialNumbers() { return false; }

std::unique_ptr<StorageBackend> WrapBackend(std::string_view,
                                            std::unique_ptr<StorageBackend> backend) {
  return backend;
}

}  // namespace test_hooks

#endif  // CAIRN_TEST_HOOKS

}  // namespace cairn::repo
