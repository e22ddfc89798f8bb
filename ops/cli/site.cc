// `cairn site add NAME URL [--region R]` and `cairn site list [--json]`.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

struct SiteFlags {
  std::string name;
  std::string url;
  std::string region;
  bool json = false;
};

Result<std::unique_ptr<repo::Repository>> Open(const Globals& g) {
  CAIRN_ASSIGN_OR_RETURN(std::string root, RepoPath(g));
  return repo::Repository::Open(root);
}

// The URL safe to print: what the backend says about itself, else the scheme only.
std::string SafeUrl(const std::string& url) {
  Result<std::unique_ptr<repo::StorageBackend>> backend = repo::OpenBackend(url);
  if (backend.ok()) return (*backend)->DisplayUrl();
  size_t scheme = url.find("://");
  return scheme == std::string::npos ? "?" : url.substr(0, scheme) + "://...";
}

int RunAdd(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  Result<repo::SiteRecord> added = (*repository)->AddSite(f.name, f.url, f.region);
  if (!added.ok()) return ReportError(added.status());
  if (!g.quiet) std::cout << "added site " << added->name << " " << SafeUrl(added->url) << "\n";
  return kExitOk;
}

int RunList(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto sites = (*repository)->catalog().ListSites();
  if (!sites.ok()) return ReportError(sites.status());
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const repo::SiteRecord& s : *sites) {
      out.push_back({{"name", s.name}, {"url", SafeUrl(s.url)}, {"region", s.region}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-16s %-12s %s\n", "NAME", "REGION", "URL");
  for (const repo::SiteRecord& s : *sites) {
    std::printf("%-16s %-12s %s\n", s.name.c_str(), s.region.empty() ? "-" : s.region.c_str(),
                SafeUrl(s.url).c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterSite(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "site", "storage sites: add, list");
  auto add_flags = std::make_shared<SiteFlags>();
  CLI::App* add = group->add_subcommand(
      "add", "register a storage site (file:///path, s3://bucket/prefix?endpoint=...&region=...)");
  add->add_option("NAME", add_flags->name, "site name: letters, digits, '.', '_', '-'")->required();
  add->add_option("URL", add_flags->url, "where the site is (never put credentials in it)")
      ->required();
  add->add_option("--region", add_flags->region, "region, for policies that spread copies");
  add->footer(
      "An empty place gets CAIRN-SITE and README.txt; a place already marked as this site is\n"
      "adopted; another site's place, or a non-empty unmarked place, is refused.\n"
      "Exit codes: 0 added; 2 could not run (unreachable, refused place, name taken).\n");
  add->callback([add_flags, &g] { g.exit_code = RunAdd(*add_flags, g); });

  auto list_flags = std::make_shared<SiteFlags>();
  CLI::App* list = group->add_subcommand("list", "list the storage sites (URLs without secrets)");
  list->add_flag("--json", list_flags->json, "print the sites as JSON");
  list->callback([list_flags, &g] { g.exit_code = RunList(*list_flags, g); });
}

}  // namespace cairn::cli
