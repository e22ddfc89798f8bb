// `cairn policy set FILE [--partner ID]`, `cairn policy show [--partner ID]
// [--json]`: the text-format policies of proto/policy.proto. A bad policy file
// is refused (exit 1) with "FILE:LINE:COL: field: what is wrong".

#include <boost/filesystem.hpp>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "policies/policy.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::cli {
namespace {

struct PolicyFlags {
  std::string file;
  std::string partner;
  bool json = false;
};

int RunPolicySet(const PolicyFlags& f, const Globals& g) {
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return ReportError(Status::NotFound("cannot read policy file " + f.file));
  std::ostringstream text;
  text << in.rdbuf();
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  boost::system::error_code ec;
  const std::string base_dir = boost::filesystem::absolute(f.file, ec).parent_path().string();
  repo::PolicyRecord record{f.partner.empty() ? std::string(repo::kDefaultPolicyScope) : f.partner,
                            text.str(), f.file, base_dir, 0};
  Result<repo::SettingsChange> change = repo::SetPolicy(**repository, record);
  if (change.status().code() == Code::kInvalidArgument) {
    std::cerr << "cairn: policy refused: " << change.status().message() << "\n";
    return kExitProblems;
  }
  if (!change.ok()) return ReportError(change.status());
  if (!g.quiet) {
    std::cout << "policy set for "
              << (f.partner.empty() ? std::string("the default") : "partner " + f.partner)
              << " from " << f.file << "\n";
  }
  PrintSettingsWarnings(change->warnings);
  // More copies or other sites: what the stored versions now lack is queued.
  if (!change->queue_status.ok()) return ReportError(change->queue_status);
  const repo::ReconcileSummary& queued = change->queued;
  for (const std::string& problem : queued.problems) std::cerr << "warning: " << problem << "\n";
  if (!g.quiet && queued.copies_short > 0) {
    std::cout << queued.ToText() << " (run cairn replicate)\n";
  }
  return kExitOk;
}

int RunPolicyShow(const PolicyFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = repository.value()->catalog();
  if (f.json) {
    Result<nlohmann::json> out = views::PolicyShowJson(catalog, f.partner);
    if (!out.ok()) return ReportError(out.status());
    std::cout << views::DumpJson(*out) << "\n";
    return kExitOk;
  }
  if (!f.partner.empty()) {
    if (auto p = catalog.GetPartner(f.partner); !p.ok()) return ReportError(p.status());
  }
  // The stored policy that applies: the partner's own, else the default.
  std::optional<repo::PolicyRecord> stored;
  std::string applies = "default";
  for (const std::string& scope : {f.partner, std::string(repo::kDefaultPolicyScope)}) {
    if (scope.empty()) continue;
    auto r = catalog.GetPolicy(scope);
    if (r.ok()) {
      stored = r.value();
      applies = scope == repo::kDefaultPolicyScope ? "default" : "partner";
      break;
    }
    if (!r.status().IsNotFound()) return ReportError(r.status());
  }
  auto effective = catalog.EffectivePolicy(f.partner);
  if (!effective.ok()) return ReportError(effective.status());
  if (!stored) applies = "builtin";

  const std::string who = f.partner.empty() ? "the default" : "partner " + f.partner;
  if (applies == "partner") {
    std::cout << "# policy of " << who << ", from " << stored->source << ", set "
              << FormatUtc(stored->updated_micros) << "\n";
  } else if (applies == "default") {
    std::cout << "# " << (f.partner.empty() ? "" : who + " has no policy of its own: ")
              << "the default policy applies, from " << stored->source << ", set "
              << FormatUtc(stored->updated_micros) << "\n";
  } else {
    std::cout << "# no policy is stored: the built-in default applies\n";
  }
  std::cout << (stored ? stored->text : policies::FormatPolicy(effective.value()));
  if (stored && !stored->text.empty() && stored->text.back() != '\n') std::cout << "\n";
  return kExitOk;
}

}  // namespace

void RegisterPolicy(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "policy", "set and show preservation policies");
  auto flags = std::make_shared<PolicyFlags>();

  CLI::App* set = group->add_subcommand(
      "set", "check a text-format policy file and make it the default or a partner's policy");
  set->add_option("FILE", flags->file, "policy file (see policies/examples/)")->required();
  set->add_option("--partner", flags->partner, "the partner it applies to (default: everyone)");
  set->callback([flags, &g]() { g.exit_code = RunPolicySet(*flags, g); });

  CLI::App* show = group->add_subcommand("show", "print the policy that applies");
  show->add_option("--partner", flags->partner, "a partner (default: the default policy)");
  show->add_flag("--json", flags->json, "print JSON (with the effective policy's fields)");
  show->callback([flags, &g]() { g.exit_code = RunPolicyShow(*flags, g); });
}

}  // namespace cairn::cli
