// `cairn principal add NAME --role ROLE [--partner ID]`, `principal list [--json]`,
// `principal disable NAME`: who may act through `cairn serve` (logic in
// repo/access/principals.h). Operator verbs: the local CLI acts as an operator.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "repo/access/principals.h"
#include "repo/catalog/catalog.h"

namespace cairn::cli {
namespace {

struct PrincipalFlags {
  std::string name;
  std::string role;
  std::string partner;
  bool json = false;
};

constexpr const char* kRoles = "depositor, partner-admin, auditor or operator";

int RunPrincipalAdd(const PrincipalFlags& f, const Globals& g) {
  std::optional<repo::Role> role = repo::ParseRole(f.role);
  if (!role) {
    return ReportError(
        Status::InvalidArgument("unknown role '" + f.role + "': expected " + kRoles));
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto change = repo::access::AddPrincipal(**repository, f.name, *role, f.partner);
  if (!change.ok()) return ReportError(change.status());
  const repo::PrincipalRecord& added = change->principal;
  if (!g.quiet) {
    std::cout << "added principal " << added.name << " (" << repo::RoleName(added.role)
              << (added.partner.empty() ? "" : " of partner " + added.partner) << ")\n";
  }
  PrintSettingsWarnings(change->warnings);
  return kExitOk;
}

int RunPrincipalList(const PrincipalFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto principals = repo::access::ListPrincipals((*repository)->catalog());
  if (!principals.ok()) return ReportError(principals.status());
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const repo::PrincipalRecord& p : *principals) {
      out.push_back({{"name", p.name},
                     {"role", repo::RoleName(p.role)},
                     {"partner", p.partner},
                     {"created", FormatUtc(p.created_micros)},
                     {"disabled", p.disabled_micros ? nlohmann::json(FormatUtc(p.disabled_micros))
                                                    : nlohmann::json(nullptr)}});
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::printf("%-32s %-14s %-16s %-20s %s\n", "NAME", "ROLE", "PARTNER", "CREATED", "DISABLED");
  for (const repo::PrincipalRecord& p : *principals) {
    std::printf("%-32s %-14s %-16s %-20s %s\n", p.name.c_str(),
                std::string(repo::RoleName(p.role)).c_str(),
                p.partner.empty() ? "-" : p.partner.c_str(), FormatUtc(p.created_micros).c_str(),
                p.disabled_micros ? FormatUtc(p.disabled_micros).c_str() : "-");
  }
  return kExitOk;
}

int RunPrincipalDisable(const PrincipalFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto change = repo::access::DisablePrincipal(**repository, f.name);
  if (!change.ok()) return ReportError(change.status());
  if (!g.quiet) std::cout << "disabled principal " << f.name << ": its tokens no longer work\n";
  PrintSettingsWarnings(change->warnings);
  return kExitOk;
}

}  // namespace

void RegisterPrincipal(CLI::App& app, Globals& g) {
  CLI::App* group =
      Group(app, "principal", "add, list and disable the principals `cairn serve` knows");
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
  disable->callback([flags, &g]() { g.exit_code = RunPrincipalDisable(*flags, g); });
}

}  // namespace cairn::cli
