// cairn: the command-line front of the Cairn preservation repository. All logic
// is in the libraries; this file only wires the verbs and maps exit codes.
#include <google/protobuf/stubs/logging.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/verbs.h"
#include "repo/lock_wait.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"

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
    RegisterGc,         RegisterPrincipal, RegisterToken,
    RegisterServe,      RegisterWithdraw,  RegisterWhoami,
};

// Set when the command line asks for --json: every failure is then also a JSON
// object on stdout, so a script reading stdout never gets a half answer.
bool json_errors = false;

void PrintJsonError(std::string_view code, const std::string& message, int exit_code) {
  nlohmann::json out = {
      {"error", {{"code", code}, {"message", message}, {"exit_code", exit_code}}}};
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// "cairn VERB" (and the group's subcommand: "cairn audit run") from the
// command line, for the holder records of the locks this process takes.
std::string CommandName(CLI::App& app, int argc, char** argv) {
  std::string name = "cairn";
  CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--repo" || arg == "--lock-timeout" || arg == "--server" || arg == "--token-file" ||
        arg == "--ca-file") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    CLI::App* sub = nullptr;
    try {
      sub = at->get_subcommand(std::string(arg));
    } catch (const CLI::Error&) {
      break;
    }
    name += " " + std::string(arg);
    at = sub;
  }
  return name;
}

// Ends the help of every verb (and of the verbs of a group) with the global options, which
// its own help does not list although it takes them.
void AddGlobalOptionsNote(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    const std::string footer = sub->get_footer();
    sub->footer(footer + (footer.empty() || footer.ends_with('\n') ? "" : "\n") +
                "Global options, before or after the verb: --repo, --server, --token-file, "
                "--ca-file, --lock-timeout, -q/--quiet (cairn --help says what each does).\n");
    AddGlobalOptionsNote(*sub);
  }
}

// `cairn restore acme maps OUT` (deposit's two words, PARTNER SOURCE) fails as an extra
// argument: said as the name meant, acme/maps, when the verb's OBJECT got a word without '/'
// and another word follows it.
std::string TwoWordObjectHint(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return "";
  CLI::App* verb = &app;
  while (!verb->get_subcommands().empty()) verb = verb->get_subcommands().front();
  const CLI::Option* object = verb->get_option_no_throw("OBJECT");
  if (object == nullptr || object->count() == 0) return "";
  const std::string partner = object->as<std::string>();
  if (partner.find('/') != std::string::npos) return "";
  for (int i = 1; i + 1 < argc; ++i) {
    if (partner != argv[i] || argv[i + 1][0] == '-') continue;
    return "objects are named PARTNER/OBJECT: " + partner + "/" + argv[i + 1] + " (not two words)";
  }
  return "";
}

// `cairn audit run acme`: a word where a verb that takes no positional word takes --partner.
// "a partner is given with --partner: cairn audit run --partner acme", or "" when that is not
// it (the verb offers no --partner, it was given, or the word looks like a path).
std::string PartnerWordHint(CLI::App& app, const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return "";
  CLI::App* verb = &app;
  std::string command = "cairn";
  while (!verb->get_subcommands().empty()) {
    verb = verb->get_subcommands().front();
    command += " " + verb->get_name();
  }
  const CLI::Option* partner = verb->get_option_no_throw("--partner");
  if (partner == nullptr || partner->count() > 0) return "";
  for (const CLI::Option* opt : verb->get_options()) {
    if (opt->get_positional() && !opt->nonpositional()) return "";  // it takes words of its own
  }
  const std::vector<std::string> extras = app.remaining(true);
  if (extras.size() != 1 || extras.front().find_first_of("/.") != std::string::npos) return "";
  return "a partner is given with --partner: " + command + " --partner " + extras.front();
}

}  // namespace

int ReportError(const Status& s) {
  // A withdrawn version is refused by a rule, as a deposit is by a bag rule: a problem found,
  // locally or from a server (HTTP 410), whatever the verb.
  return ReportError(s, s.IsWithdrawn() ? kExitProblems : kExitCannotRun);
}

int ReportError(const Status& s, int exit_code) {
  std::cerr << "cairn: " << s.ToString() << "\n";
  if (json_errors) PrintJsonError(CodeName(s.code()), s.ToString(), exit_code);
  return exit_code;
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

std::string SiteUrlOrFolder(const std::string& given) {
  if (given.empty() || given.find("://") != std::string::npos) return given;
  return repo::FileUrl(given);
}

}  // namespace cairn::cli

int main(int argc, char** argv) {
  using namespace cairn::cli;
  // One malloc arena per core (at least two), not glibc's eight per core: a
  // deposit's walkers allocate the batches its batch thread frees, and every
  // arena keeps free pages of its own, so with many arenas the peak RSS of a
  // bag folder's deposit crept up with its file count (from 8,000 to 20,000
  // files: +2 MiB with 16 arenas, within 1 MiB with 2; DepositMemoryTest).
  // Set before any thread is made.
  ::mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  cairn::repo::Site::RaiseOpenFileLimit();  // before anything sizes its batches by it
  // A record that does not parse (a damaged version.pb, a string field of invalid UTF-8) is
  // named by Cairn with its site, key and rule; the protobuf library's own "[libprotobuf ERROR
  // ...]" line on stderr said it again in a developer's words, out of place in a report.
  google::protobuf::SetLogHandler(nullptr);
  CLI::App app{"cairn: a preservation repository for BagIt bags (RFC 8493)", "cairn"};
  app.footer(std::string("The options above (--repo, --server, ...) may also follow the verb.\n") +
             kExitCodeHelp);
  app.require_subcommand(1);
  Globals g;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json_errors = true;
  }
  // The global options below are taken after the verb too (`cairn deposit --token-file F ...`):
  // a verb passes what it does not know to the top. Inherited by every verb made after this.
  app.fallthrough();
  app.add_option("--repo", g.repo, "repository folder (default: $CAIRN_REPO)");
  app.add_flag("-q,--quiet", g.quiet, "print only errors");
  app.add_option("--server", g.server,
                 "run the verb against `cairn serve` at https://HOST:PORT instead of a local "
                 "repository (default: $CAIRN_SERVER)");
  app.add_option("--token-file", g.token_file,
                 "file whose first line is the API token for --server (without it, the "
                 "token itself is read from $CAIRN_TOKEN)");
  app.add_option("--ca-file", g.ca_file,
                 "PEM file of a private CA that signed the server's "
                 "certificate (the system's CAs are trusted too)");
  double lock_timeout = -1;
  app.add_option("--lock-timeout", lock_timeout,
                 "seconds to wait for a lock another cairn holds (writers.lock, an object's "
                 "lock, the catalog) before giving up with exit 2 (default: $CAIRN_LOCK_TIMEOUT "
                 "or 120)");
  // Set before any verb runs (verbs run from the parser's callbacks).
  if (const char* value = GlobalValue(argc, argv, "--lock-timeout")) {
    char* end = nullptr;
    double secs = std::strtod(value, &end);
    if (end != value && *end == '\0' && secs >= 0) {
      cairn::repo::SetLockTimeoutMs(static_cast<int64_t>(secs * 1000));
    }
  }
  for (RegisterFn fn : kVerbs) fn(app, g);
  AddGlobalOptionsNote(app);
  const std::string command = CommandName(app, argc, argv);
  cairn::repo::SetLockHolderCommand(command);
  // --server and --repo are read before the verbs run, to refuse a verb the server does not offer.
  ReadModeFlags(argc, argv, g);
  bool wants_help = false;
  for (int i = 1; i < argc; ++i) {
    wants_help |= std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0;
  }
  if (!wants_help) {
    if (cairn::Status mode = CheckMode(g); !mode.ok()) return ReportError(mode);
  }
  if (IsRemote(g) && !wants_help && !OfferedRemotely(command) && !TouchesNoRepository(command)) {
    return ReportError(cairn::Status::NotSupported(
        "'" + command +
        "' is not offered by the server (--server or $CAIRN_SERVER): run it on "
        "the repository's host"));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    std::string hint = TwoWordObjectHint(app, e, argc, argv);
    if (hint.empty()) hint = PartnerWordHint(app, e);
    if (!hint.empty()) std::cerr << "cairn: " << hint << "\n";
    if (json_errors) {
      PrintJsonError("InvalidArgument",
                     hint.empty() ? e.what() : e.what() + std::string(": ") + hint, kExitCannotRun);
    }
    return kExitCannotRun;
  }
  return g.exit_code;
}
