// What every verb file of the `cairn` command shares: exit codes, global flags,
// and how a Status becomes a message and an exit code. Verbs are thin: parse
// flags, call one library function, print its result (text or --json).
#ifndef CAIRN_OPS_CLI_CLI_H_
#define CAIRN_OPS_CLI_CLI_H_

#include <CLI/CLI.hpp>
#include <string>

#include "bagit/status.h"

namespace cairn::cli {

// The only place exit codes are defined; `cairn --help` prints this table.
enum ExitCode : int {
  kExitOk = 0,         // done, nothing wrong found
  kExitProblems = 1,   // ran, and found problems: invalid bag, refused deposit,
                       // fixity failure, broken event chain, damaged object
  kExitCannotRun = 2,  // could not run: bad arguments, unreadable path, no
                       // repository, storage unavailable, internal error
};
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  done, nothing wrong found\n"
    "  1  problems found (invalid bag, refused deposit, fixity failure, broken event chain)\n"
    "  2  could not run (bad arguments, unreadable path, storage unavailable)\n";

struct Globals {
  std::string repo;    // --repo, or $CAIRN_REPO
  bool quiet = false;  // --quiet: only errors
  // The verbs that `cairn serve` offers run against it when server is set (ops/cli/remote.h).
  std::string server;      // --server URL, or $CAIRN_SERVER
  std::string token_file;  // --token-file FILE (else $CAIRN_TOKEN): the bearer token
  std::string ca_file;     // --ca-file FILE: a private CA to trust besides the system's
  int exit_code = kExitOk;
};

// Prints "cairn: <message>" to stderr (and, under --json, the error object on stdout) and
// returns the exit code for `s`: kExitProblems for a withdrawn version (refused by a rule),
// kExitCannotRun for the rest. Other problems found (a broken bag, a bad copy) are the verb's
// to map.
int ReportError(const Status& s);
// The same with the verb's own `exit_code` (e.g. kExitProblems for a refusal by a rule), which
// the --json error object says too; returns it.
int ReportError(const Status& s, int exit_code);

// Returns the subcommand `name` of `parent`, creating it on first use, so that
// several verb files can add to one group (`cairn bag validate`, `cairn bag create`).
CLI::App* Group(CLI::App& parent, const std::string& name, const std::string& description);

// The repository folder from --repo or $CAIRN_REPO; InvalidArgument when neither is set.
Result<std::string> RepoPath(const Globals& g);

// A site's place as given on the command line: a URL (it holds "://") as it is, a folder
// (`cairn init` prints its sites so) as its file:// URL, absolute and normalized.
std::string SiteUrlOrFolder(const std::string& given);

// One Register function per verb file; main.cc lists them in kVerbs.
using RegisterFn = void (*)(CLI::App& app, Globals& g);

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_CLI_H_
