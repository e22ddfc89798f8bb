#include "ops/cli/stop_signals.h"

#include <signal.h>
#include <unistd.h>

#include "ops/cli/cli.h"

namespace cairn::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void OnStopSignal(int sig) {
  if (g_stop.exchange(true)) _exit(kExitCannotRun);  // the second one
  g_signal.store(sig);
}

}  // namespace

std::atomic<bool>* StopOnSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM}) {
    struct sigaction was {};
    if (sigaction(s, nullptr, &was) == 0 && was.sa_handler == SIG_IGN) continue;
    sigaction(s, &action, nullptr);
  }
  return &g_stop;
}

int StopSignal() { return g_signal.load(); }

const char* StopSignalName() { return StopSignal() == SIGTERM ? "SIGTERM" : "SIGINT"; }

}  // namespace cairn::cli
