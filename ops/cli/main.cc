// cairn: the command-line front of the Cairn preservation repository. All logic
// is in the libraries; this file only wires the verbs and maps exit codes.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"

namespace cairn::cli {
namespace {

// Every verb, in the order `cairn --help` lists them.
constexpr RegisterFn kVerbs[] = {
    RegisterVersion,    RegisterBagCreate, RegisterBagValidate,
    RegisterInit,       RegisterSite,      RegisterPartner,
    RegisterPolicy,     RegisterDeposit,   RegisterReplicate,
    RegisterList,       RegisterShow,      RegisterRestore,
    RegisterUsage,      RegisterEvents,    RegisterCatalogRebuild,
    RegisterSiteResync, RegisterAudit,     RegisterDaemon,
    RegisterGc,
};

// Set when the command line asks for --json: every failure is then also a JSON
// object on stdout, so a script reading stdout never gets a half answer.
bool json_errors = false;

void PrintJsonError(std::string_view code, const std::string& message, int exit_code) {
  nlohmann::json out = {
      {"error", {{"code", code}, {"message", message}, {"exit_code", exit_code}}}};
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int ReportError(const Status& s) {
  std::cerr << "cairn: " << s.ToString() << "\n";
  if (json_errors) PrintJsonError(CodeName(s.code()), s.ToString(), kExitCannotRun);
  return kExitCannotRun;
}

CLI::App* Group(CLI::App& parent, const std::string& name, const std::string& description) {
  for (CLI::App* sub : parent.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  CLI::App* group = parent.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

Result<std::string> RepoPath(const Globals& g) {
  if (!g.repo.empty()) return g.repo;
  if (const char* env = std::getenv("CAIRN_REPO"); env && *env) return std::string(env);
  return Status::InvalidArgument("no repository: pass --repo REPO or set CAIRN_REPO");
}

}  // namespace cairn::cli

int main(int argc, char** argv) {
  using namespace cairn::cli;
  CLI::App app{"cairn: a preservation repository for BagIt bags (RFC 8493)", "cairn"};
  app.footer(kExitCodeHelp);
  app.require_subcommand(1);
  Globals g;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json_errors = true;
  }
  app.add_option("--repo", g.repo, "repository folder (default: $CAIRN_REPO)");
  app.add_flag("-q,--quiet", g.quiet, "print only errors");
  for (RegisterFn fn : kVerbs) fn(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    if (json_errors) PrintJsonError("InvalidArgument", e.what(), kExitCannotRun);
    return kExitCannotRun;
  }
  return g.exit_code;
}
