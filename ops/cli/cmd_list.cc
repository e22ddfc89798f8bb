// `cairn list [PARTNER]`: every object, its latest version, files, bytes, and
// whether it has the copies its policy demands.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/catalog/inventory.h"
#include "repo/events/segments.h"

namespace cairn::cli {
namespace {

struct ListFlags {
  std::string partner;
  bool json = false;
};

// Prints the listing document (views::ObjectListJson, or GET /v1/objects: the same) as the
// text table; the exit code: 1 when some object lacks the copies its policy demands.
int PrintList(const nlohmann::json& objects, const ListFlags& f, const Globals& g) {
  size_t lacking = 0;
  for (const nlohmann::json& o : objects) lacking += o.value("has_wanted_copies", true) ? 0 : 1;
  if (f.json) {
    std::cout << objects.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return lacking ? kExitProblems : kExitOk;
  }
  std::printf("%-40s %8s %7s %9s %14s  %s\n", "PARTNER/OBJECT", "VERSIONS", "LATEST", "FILES",
              "BYTES", "COPIES (ok/policy)");
  for (const nlohmann::json& o : objects) {
    std::string name = o.value("partner", "") + "/" + o.value("object", "");
    std::string latest = "v" + std::to_string(o.value("latest_version", 0u));
    bool ok = o.value("has_wanted_copies", true);
    std::string copies = std::to_string(o.value("copies_ok", 0u)) + "/" +
                         std::to_string(o.value("copies_wanted", 0u)) +
                         (ok ? " ok" : " LACKING COPIES");
    if (o.contains("withdrawn")) copies = "WITHDRAWN: " + o.value("withdrawn", "");
    std::printf("%-40s %8u %7s %9llu %14llu  %s\n", name.c_str(), o.value("versions", 0u),
                latest.c_str(), static_cast<unsigned long long>(o.value("files", uint64_t{0})),
                static_cast<unsigned long long>(o.value("bytes", uint64_t{0})), copies.c_str());
  }
  if (!g.quiet) {
    std::printf("%zu objects", objects.size());
    if (lacking) {
      std::printf("; %zu lack the copies their policy demands:", lacking);
      for (const nlohmann::json& o : objects) {
        if (o.value("has_wanted_copies", true)) continue;
        std::printf("\n  %s/%s has %u of %s", o.value("partner", "").c_str(),
                    o.value("object", "").c_str(), o.value("copies_ok", 0u),
                    o.value("policy", "").c_str());
      }
    }
    std::printf("\n");
  }
  return lacking ? kExitProblems : kExitOk;
}

// Prints the listing, then its warnings (a catalog behind a site: exit 1 then).
int PrintListAndWarnings(const nlohmann::json& objects, const std::vector<std::string>& warnings,
                         const ListFlags& f, const Globals& g) {
  const int listed = PrintList(objects, f, g);
  for (const std::string& w : warnings) std::cerr << "cairn: " << w << "\n";
  return warnings.empty() ? listed : kExitProblems;
}

int RunList(const ListFlags& f, const Globals& g) {
  std::vector<std::string> warnings;
  if (IsRemote(g)) {
    auto objects = RemoteGet(g, "/v1/objects", {{"partner", f.partner}}, &warnings);
    if (!objects.ok()) return ReportError(objects.status());
    if (!objects->is_array())
      return ReportError(Status::Unavailable("the server's listing is not a list"));
    return PrintListAndWarnings(*objects, warnings, f, g);
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto objects = repo::ListObjectsWithCopies(repository.value()->catalog(), f.partner);
  if (!objects.ok()) return ReportError(objects.status());
  // A catalog put back from a backup (or rebuilt from a site that lagged) lists what it knows,
  // "ok" included, while the sites hold newer versions, withdrawals and events: one check per
  // reachable site (its event log against the catalog's), never one per object.
  std::string site;
  Status ahead = repo::FirstSiteLogAheadOfCatalog(**repository, "", /*runs_past_only=*/true, &site);
  if (!ahead.ok()) {
    warnings.push_back(views::CatalogBehindListing(site, ahead, repo::access::LocalPrincipal()));
  }
  const int listed = PrintListAndWarnings(views::ObjectListJson(objects.value()), warnings, f, g);
  // A site that cannot be read (gone, an unmounted share, a gateway down) is named: the
  // listing's copies there are only the catalog's record.
  const int down = ReportUnreachableSites(**repository, "the copies this listing counts on it");
  return std::max<int>(listed, down);
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
      "copies its policy demands (named after the table), or the catalog is behind a site (a\n"
      "site's event log runs past it: put back from a backup?), named with the `cairn catalog\n"
      "rebuild` that catches it up, or a site cannot be read (gone, not mounted, its gateway\n"
      "down: named, its copies not checked); 2 could not run (no repository, unknown partner).\n");
  cmd->callback([flags, &g] { g.exit_code = RunList(*flags, g); });
}

}  // namespace cairn::cli
