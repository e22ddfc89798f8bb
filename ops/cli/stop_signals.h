// The first SIGINT or SIGTERM asks a long verb (deposit, audit run, daemon) to stop at its next
// safe point and say what it did; a second one ends the process at once (exit 2). One handler
// for the three, so that they answer a signal alike.
#ifndef CAIRN_OPS_CLI_STOP_SIGNALS_H_
#define CAIRN_OPS_CLI_STOP_SIGNALS_H_

#include <atomic>

namespace cairn::cli {

// Installs the handler for SIGINT and SIGTERM. A signal ignored when cairn started stays
// ignored: a script's background job has SIGINT ignored, so that a Ctrl-C meant for the script
// leaves the job running. Returns the flag the first signal sets (the verb's cancel flag).
std::atomic<bool>* StopOnSignals();

// SIGINT or SIGTERM once one was received, else 0.
int StopSignal();

// "SIGINT" or "SIGTERM" (StopSignal()), for the verb's closing line.
const char* StopSignalName();

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_STOP_SIGNALS_H_
