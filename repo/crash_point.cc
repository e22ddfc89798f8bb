// CrashPoint (repo/crash_point.h): reads CAIRN_CRASH_AT / CAIRN_CRASH_TRACE once.
#include "repo/crash_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace cairn::repo {
namespace {

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

void SetCrashPointHookForTesting(CrashPointHook hook) {
  g_hook.store(hook, std::memory_order_release);
}

}  // namespace cairn::repo
