// cairn version: prints the version of this build.
#include <iostream>

#include "ops/cli/verbs.h"

namespace cairn::cli {

void RegisterVersion(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("version", "print the version of cairn");
  cmd->callback([&g]() {
    std::cout << "cairn " << CAIRN_VERSION << "\n";
    g.exit_code = kExitOk;
  });
}

}  // namespace cairn::cli
