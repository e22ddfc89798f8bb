// `cairn principal add NAME --role ROLE [--partner ID]`, `principal list [--json]`,
// `principal disable NAME [--force]`, `principal enable NAME`: who may act through `cairn serve`
// (logic in repo/access/principals.h). Operator verbs: the local CLI acts as an operator.
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/access/principals.h"
#include "repo/catalog/catalog.h"

namespace cairn::cli {
namespace {

struct PrincipalFlags {
  std::string name;
  std::string role;
  std::string partner;
  bool json = false;
  bool force = false;  // disable: even the principal making the request
};

constexpr const char* kRoles = "depositor, partner-admin, auditor or operator";

int RunPrincipalAdd(const PrincipalFlags& f, const Globals& g) {
  std::optional<repo::Role> role = repo::ParseRole(f.role);
  if (!role) {
    return ReportError(
        Status::InvalidArgument("unknown role '" + f.role + "': expected " + kRoles));
  }
  nlohmann::json added;
  if (IsRemote(g)) {
    nlohmann::json body = {{"name", f.name}, {"role", f.role}};
    if (!f.partner.empty()) body["partner"] = f.partner;
    Result<nlohmann::json> answer = RemoteSend(g, "POST", "/v1/principals", body.dump());
    if (!answer.ok()) return ReportError(answer.status());
    added = std::move(*answer);
  } else {
    auto repository = OpenRepository(g);
    if (!repository.ok()) return ReportError(repository.status());
    auto change = repo::access::AddPrincipal(**repository, f.name, *role, f.partner);
    if (!change.ok()) return ReportError(change.status());
    added = views::PrincipalListJson({change->principal}).at(0);
    added["warnings"] = change->warnings;
  }
  if (!g.quiet) {
    const std::string partner = added.value("partner", "");
    std::cout << "added principal " << added.value("name", "") << " (" << added.value("role", "")
              << (partner.empty() ? "" : " of partner " + partner) << ")\n";
  }
  PrintWarningsOf(added);
  return kExitOk;
}

int RunPrincipalList(const PrincipalFlags& f, const Globals& g) {
  nlohmann::json principals;
  if (IsRemote(g)) {
    Result<nlohmann::json> doc = RemoteGet(g, "/v1/principals");
    if (!doc.ok()) return ReportError(doc.status());
    principals = std::move(*doc);
  } else {
    auto repository = OpenRepository(g);
    if (!repository.ok()) return ReportError(repository.status());
    auto all = repo::access::ListPrincipals((*repository)->catalog());
    if (!all.ok()) return ReportError(all.status());
    principals = views::PrincipalListJson(*all);
  }
  if (f.json) {
    PrintJson(principals);
    return kExitOk;
  }
  std::printf("%-32s %-14s %-16s %-20s %s\n", "NAME", "ROLE", "PARTNER", "CREATED", "DISABLED");
  for (const nlohmann::json& p : principals) {
    const std::string partner = p.value("partner", "");
    const std::string disabled = p["disabled"].is_string() ? p["disabled"].get<std::string>() : "-";
    std::printf("%-32s %-14s %-16s %-20s %s\n", p.value("name", "").c_str(),
                p.value("role", "").c_str(), partner.empty() ? "-" : partner.c_str(),
                p.value("created", "").c_str(), disabled.c_str());
  }
  return kExitOk;
}

// `principal disable|enable NAME`: POST /v1/principals/NAME/VERB (with `body`, none when
// empty) against a server, else `local` on the repository, which fills the same answer (its
// "warnings", and what it says). Returns the exit code, with the answer in *answer.
int ChangePrincipal(const PrincipalFlags& f, const Globals& g, const std::string& verb,
                    const std::string& body,
                    const std::function<Status(repo::Repository&, nlohmann::json*)>& local,
                    nlohmann::json* answer) {
  *answer = nlohmann::json::object();
  if (IsRemote(g)) {
    Status valid = repo::access::ValidatePrincipalName(f.name);
    if (!valid.ok()) return ReportError(valid);
    Result<nlohmann::json> sent =
        RemoteSend(g, "POST", "/v1/principals/" + client::PercentEncode(f.name) + "/" + verb, body);
    if (!sent.ok()) return ReportError(sent.status());
    *answer = std::move(*sent);
    return kExitOk;
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  Status done = local(**repository, answer);
  return done.ok() ? kExitOk : ReportError(done);
}

int RunPrincipalDisable(const PrincipalFlags& f, const Globals& g) {
  nlohmann::json answer;
  const std::string body = f.force ? nlohmann::json({{"force", true}}).dump() : "";
  int code = ChangePrincipal(
      f, g, "disable", body,
      [&](repo::Repository& repository, nlohmann::json* out) {
        CAIRN_ASSIGN_OR_RETURN(repo::access::PrincipalChange change,
                               repo::access::DisablePrincipal(
                                   repository, f.name, repo::access::LocalPrincipal(), f.force));
        (*out)["warnings"] = change.warnings;
        return Status::OK();
      },
      &answer);
  if (code != kExitOk) return code;
  if (!g.quiet) std::cout << "disabled principal " << f.name << ": its tokens no longer work\n";
  PrintWarningsOf(answer);
  return kExitOk;
}

int RunPrincipalEnable(const PrincipalFlags& f, const Globals& g) {
  nlohmann::json answer;
  int code = ChangePrincipal(
      f, g, "enable", "",
      [&](repo::Repository& repository, nlohmann::json* out) {
        bool was_disabled = false;
        CAIRN_ASSIGN_OR_RETURN(repo::access::PrincipalChange change,
                               repo::access::EnablePrincipal(repository, f.name, &was_disabled));
        (*out)["was_disabled"] = was_disabled;
        (*out)["warnings"] = change.warnings;
        return Status::OK();
      },
      &answer);
  if (code != kExitOk) return code;
  if (!g.quiet) {
    if (answer.value("was_disabled", false)) {
      std::cout << "enabled principal " << f.name
                << ": its tokens work again unless revoked or expired (cairn token list)\n";
    } else {
      std::cout << "principal " << f.name << " was not disabled: nothing changed\n";
    }
  }
  PrintWarningsOf(answer);
  return kExitOk;
}

}  // namespace

void RegisterPrincipal(CLI::App& app, Globals& g) {
  CLI::App* group =
      Group(app, "principal", "add, list, disable and enable the principals `cairn serve` knows");
  auto flags = std::make_shared<PrincipalFlags>();

  CLI::App* add = group->add_subcommand("add", "add a principal with a role");
  add->add_option("NAME", flags->name,
                  "1 to 64 letters, digits, '.', '-', '_' or '@' (e.g. alice@yale)")
      ->required();
  add->add_option("--role", flags->role, std::string("the principal's role: ") + kRoles)
      ->required();
  add->add_option("--partner", flags->partner,
                  "the partner of a depositor or partner-admin (an existing partner id)");
  add->callback([flags, &g]() { g.exit_code = RunPrincipalAdd(*flags, g); });

  CLI::App* list = group->add_subcommand("list", "list principals");
  list->add_flag("--json", flags->json, "print JSON");
  list->callback([flags, &g]() { g.exit_code = RunPrincipalList(*flags, g); });

  CLI::App* disable =
      group->add_subcommand("disable", "disable a principal: none of its tokens works any more");
  disable->add_option("NAME", flags->name, "the principal")->required();
  disable->add_flag("--force", flags->force,
                    "disable it even when it is the principal making the request (through "
                    "--server): its own tokens stop working and only another operator or the "
                    "CLI on the repository's host can enable it again");
  disable->callback([flags, &g]() { g.exit_code = RunPrincipalDisable(*flags, g); });

  CLI::App* enable = group->add_subcommand(
      "enable",
      "enable a disabled principal again: its tokens neither revoked nor expired work "
      "again (to shut one out for good, revoke its tokens too)");
  enable->add_option("NAME", flags->name, "the principal")->required();
  enable->callback([flags, &g]() { g.exit_code = RunPrincipalEnable(*flags, g); });
}

}  // namespace cairn::cli
