// `cairn whoami [--json]`: which principal the token is, as the server knows it (GET
// /v1/whoami): its name, role and partner. Only against a server: on the repository's host the
// verbs run as its user, with no principal.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/verbs.h"

namespace cairn::cli {
namespace {

int RunWhoami(bool json, const Globals& g) {
  if (!IsRemote(g)) {
    return ReportError(Status::InvalidArgument(
        "whoami names the principal of a token, which only a server knows: give --server URL "
        "(or CAIRN_SERVER) and the token; on the repository's host the verbs run as its user"));
  }
  Result<nlohmann::json> doc = RemoteGet(g, "/v1/whoami");
  if (!doc.ok()) return ReportError(doc.status());
  if (json) {
    PrintJson(*doc);
    return kExitOk;
  }
  const std::string partner = doc->value("partner", "");
  std::cout << doc->value("name", "") << " (" << doc->value("role", "")
            << (partner.empty() ? std::string() : " of partner " + partner) << ")\n";
  return kExitOk;
}

}  // namespace

void RegisterWhoami(CLI::App& app, Globals& g) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "whoami", "with --server: the principal the token is, its role and partner");
  cmd->add_flag("--json", *json, "print JSON: {\"name\", \"role\", \"partner\"}");
  cmd->callback([json, &g]() { g.exit_code = RunWhoami(*json, g); });
}

}  // namespace cairn::cli
