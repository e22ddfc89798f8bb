// `cairn partner add ID [--name NAME]`, `cairn partner list [--json]`: the
// institutions that deposit into the repository.
#include <cstdio>
#include <ctime>
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
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::cli {
namespace {

struct PartnerFlags {
  std::string id;
  std::string name;
  bool json = false;
};

int RunPartnerAdd(const PartnerFlags& f, const Globals& g) {
  if (IsRemote(g)) {
    auto api = ConnectServer(g);
    if (!api.ok()) return ReportError(api.status());
    nlohmann::json body = {{"id", f.id}};
    if (!f.name.empty()) body["name"] = f.name;
    auto added = (*api)->PostJson("/v1/partners", body);
    if (!added.ok()) return ReportError(added.status());
    if (!g.quiet) std::cout << "added partner " << added->value("id", f.id) << "\n";
    PrintWarningsOf(*added);
    return kExitOk;
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::PartnerRecord added;
  auto change = repo::AddPartner(**repository, f.id, f.name, &added);
  if (!change.ok()) return ReportError(change.status());
  if (!g.quiet) std::cout << "added partner " << added.id << "\n";
  PrintSettingsWarnings(change->warnings);
  return kExitOk;
}

// Prints the partner list document (views::PartnerListJson, or GET /v1/partners) as text or
// JSON.
int PrintPartnerList(const nlohmann::json& partners, const PartnerFlags& f) {
  if (f.json) {
    std::cout << partners.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::printf("%-24s %-20s %-8s %s\n", "ID", "CREATED", "POLICY", "NAME");
  for (const nlohmann::json& p : partners) {
    std::printf("%-24s %-20s %-8s %s\n", p.value("id", "").c_str(), p.value("created", "").c_str(),
                p.value("own_policy", false) ? "own" : "default", p.value("name", "").c_str());
  }
  return kExitOk;
}

int RunPartnerList(const PartnerFlags& f, const Globals& g) {
  if (IsRemote(g)) {
    auto partners = RemoteGet(g, "/v1/partners");
    if (!partners.ok()) return ReportError(partners.status());
    return PrintPartnerList(*partners, f);
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = repository.value()->catalog();
  auto partners = catalog.ListPartners();
  if (!partners.ok()) return ReportError(partners.status());
  // Whether each partner has a policy of its own (else the default applies).
  const auto own_policy = [&catalog](const std::string& id) { return catalog.GetPolicy(id).ok(); };
  return PrintPartnerList(views::PartnerListJson(partners.value(), own_policy), f);
}

}  // namespace

void RegisterPartner(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "partner", "add and list partner institutions");
  auto flags = std::make_shared<PartnerFlags>();

  CLI::App* add = group->add_subcommand("add", "add a partner that can deposit");
  add->add_option("ID", flags->id,
                  "partner id: 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'")
      ->required();
  add->add_option("--name", flags->name, "the institution's full name");
  add->callback([flags, &g]() { g.exit_code = RunPartnerAdd(*flags, g); });

  CLI::App* list = group->add_subcommand("list", "list partners");
  list->add_flag("--json", flags->json, "print JSON");
  list->callback([flags, &g]() { g.exit_code = RunPartnerList(*flags, g); });
}

}  // namespace cairn::cli
