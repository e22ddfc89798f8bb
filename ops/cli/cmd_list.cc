// `cairn list [PARTNER]`: every object, its latest version, files, bytes, and
// whether it has the copies its policy demands.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/catalog/inventory.h"

namespace cairn::cli {
namespace {

struct ListFlags {
  std::string partner;
  bool json = false;
};

int RunList(const ListFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto objects = repo::ListObjectsWithCopies(repository.value()->catalog(), f.partner);
  if (!objects.ok()) return ReportError(objects.status());
  size_t lacking = 0;
  for (const repo::ObjectListing& o : objects.value()) lacking += o.has_wanted_copies() ? 0 : 1;

  if (f.json) {
    nlohmann::json out = views::ObjectListJson(objects.value());
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return lacking ? kExitProblems : kExitOk;
  }
  std::printf("%-40s %8s %7s %9s %14s  %s\n", "PARTNER/OBJECT", "VERSIONS", "LATEST", "FILES",
              "BYTES", "COPIES (ok/policy)");
  for (const repo::ObjectListing& o : objects.value()) {
    const repo::ObjectSummary& s = o.summary;
    std::string name = s.partner + "/" + s.object;
    std::string latest = "v" + std::to_string(s.latest_version);
    std::string copies = std::to_string(o.copies_ok) + "/" + std::to_string(o.copies_wanted) +
                         (o.has_wanted_copies() ? " ok" : " LACKING COPIES");
    std::printf("%-40s %8u %7s %9llu %14llu  %s\n", name.c_str(), s.version_count, latest.c_str(),
                static_cast<unsigned long long>(s.latest_file_count),
                static_cast<unsigned long long>(s.latest_payload_bytes), copies.c_str());
  }
  if (!g.quiet) {
    std::printf("%zu objects", objects->size());
    if (lacking) {
      std::printf("; %zu lack the copies their policy demands:", lacking);
      for (const repo::ObjectListing& o : objects.value()) {
        if (o.has_wanted_copies()) continue;
        std::printf("\n  %s/%s has %u of %s", o.summary.partner.c_str(), o.summary.object.c_str(),
                    o.copies_ok, o.policy_text.c_str());
      }
    }
    std::printf("\n");
  }
  return lacking ? kExitProblems : kExitOk;
}

}  // namespace

void RegisterList(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* cmd = app.add_subcommand(
      "list",
      "list objects: latest version, files, bytes, and whether each has the copies its "
      "policy demands");
  cmd->add_option("PARTNER", flags->partner, "only this partner's objects");
  cmd->add_flag("--json", flags->json, "print the listing as JSON");
  cmd->footer(
      "COPIES is the fewest verified (ok) copies among the latest version's blobs and tag files\n"
      "that count toward the partner's policy (on the sites it names, one per region when it\n"
      "names regions), against the copies it asks for.\n"
      "Exit codes: 0 listed, every object has its copies; 1 listed, and some object lacks the\n"
      "copies its policy demands (named after the table); 2 could not run (no repository,\n"
      "unknown partner).\n");
  cmd->callback([flags, &g] { g.exit_code = RunList(*flags, g); });
}

}  // namespace cairn::cli
