// `cairn catalog rebuild --from SITE [--into REPO] [--force]`: a new catalog
// from one site alone, when the catalog is lost (see repo/recovery/rebuild.h).
#include <boost/filesystem.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"
#include "repo/catalog/catalog.h"
#include "repo/recovery/rebuild.h"
#include "repo/site/repository.h"
#include "repo/site/repository_layout.h"

namespace cairn::cli {
namespace {

struct RebuildFlags {
  std::string from;
  std::string into;
  bool force = false;
  bool json = false;
};

// A URL as given, or the URL the current repository's catalog has for a site name.
Result<std::string> SiteUrl(const std::string& from, const Globals& g) {
  // A site name holds no '/': a folder (file:// URL) or a URL.
  if (from.find('/') != std::string::npos) return SiteUrlOrFolder(from);
  Result<std::string> root = RepoPath(g);
  Status why = root.status();
  if (root.ok()) {
    auto repo = repo::Repository::Open(*root);
    if (repo.ok()) {
      auto site = (*repo)->catalog().GetSite(from);
      if (site.ok()) return site->url;
      why = site.status();
    } else {
      why = repo.status();
    }
  }
  // The repository's own posix site of that name (`cairn init` makes them) when it is there.
  std::string example = "file:///srv/cairn/sites/a";
  if (root.ok()) {
    boost::system::error_code ec;
    const boost::filesystem::path own = repo::repo_layout::SiteDir(*root, from);
    if (boost::filesystem::is_directory(own, ec)) {
      example = "file://" + boost::filesystem::absolute(own).lexically_normal().string();
    }
  }
  // The catalog gone (what a rebuild is for): said as that, not with the error's own advice
  // (`cairn init` makes a new repository) quoted inside this one.
  const std::string catalog = root.ok() ? repo::repo_layout::CatalogPath(*root) : "";
  boost::system::error_code ec;
  const std::string reason = root.ok() && !boost::filesystem::exists(catalog, ec)
                                 ? "the catalog that names the sites is gone (no " + catalog + ")"
                                 : "cannot look the site up in the catalog (" + why.message() + ")";
  return Status::InvalidArgument("--from " + from + ": " + reason +
                                 ": give the site's folder or URL instead, e.g. " + example);
}

// True if a catalog exists at `path` and answers queries.
bool ReadableCatalog(const std::string& path) {
  boost::system::error_code ec;
  if (!boost::filesystem::exists(path, ec)) return false;
  repo::CatalogOptions options;
  options.create_if_missing = false;
  auto catalog = repo::Catalog::Open(path, options);
  return catalog.ok() && (*catalog)->ListSites().ok();
}

int RunRebuild(const RebuildFlags& f, const Globals& g) {
  std::string root = f.into;
  if (root.empty()) {
    auto path = RepoPath(g);
    if (!path.ok()) return ReportError(path.status());
    root = *path;
  }
  const std::string catalog_path = repo::repo_layout::CatalogPath(root);
  auto url = SiteUrl(f.from, g);
  if (!url.ok()) return ReportError(url.status());
  boost::system::error_code ec;
  const bool exists = boost::filesystem::exists(catalog_path, ec);
  if (exists && !f.force && ReadableCatalog(catalog_path)) {
    return ReportError(Status::AlreadyExists(
        catalog_path +
        " exists and is readable: refusing to replace it (use --into NEW_REPO, or "
        "--force to keep the old one aside and replace it)"));
  }
  repo::RebuildOptions options;
  options.agent_version = CAIRN_VERSION;
  // In place, the new catalog is the repository's: its recovery event goes to
  // the sites now (a catalog built --into waits for its first use).
  options.flush_events = f.into.empty();
  // Run in a repository (--repo, CAIRN_REPO: its folder is there), its pending marks tell the
  // leftovers of interrupted deposits from versions; a site alone keeps every version.pb.
  if (Result<std::string> repo_root = RepoPath(g);
      repo_root.ok() && boost::filesystem::is_directory(*repo_root, ec)) {
    options.repository_root = *repo_root;
  }
  auto report = repo::RebuildCatalogFile(*url, catalog_path, exists, options);
  if (!report.ok()) return ReportError(report.status());
  if (f.json) {
    std::cout << report->ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else if (!g.quiet || report->HasProblems()) {
    std::cout << report->ToText();
  }
  if (!f.into.empty() && !f.json && !g.quiet) {
    // Not a copy to look at: the new repository writes to the same sites.
    std::cout << "note: the repository at " << root
              << " reads and writes the same sites as any other catalog of them: use one "
                 "catalog at a time (two that both write make their event logs diverge, and the "
                 "one behind is then refused writes until `cairn catalog rebuild --force` "
                 "catches it up)\n";
  }
  return report->HasProblems() ? kExitProblems : kExitOk;
}

}  // namespace

void RegisterCatalogRebuild(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "catalog", "the SQLite catalog: rebuild it from a site");
  auto flags = std::make_shared<RebuildFlags>();
  CLI::App* cmd = group->add_subcommand(
      "rebuild",
      "rebuild the catalog from ONE site alone: partners, objects, versions, files, replicas "
      "(verified lazily by the auditor) and the event history");
  cmd->add_option("--from", flags->from,
                  "the site: a site name of the current catalog, or its folder or URL "
                  "(/srv/cairn/sites/a, file:///..., s3://...) when the catalog is gone")
      ->required();
  cmd->add_option("--into", flags->into,
                  "write the new catalog into this repository folder instead of --repo");
  cmd->add_flag("--force", flags->force,
                "replace a readable catalog (the old one is kept as catalog.db.replaced-TIME)");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->footer(
      "Exit codes: 0 rebuilt (the leftovers of an interrupted deposit, which `cairn gc` "
      "removes, are a note); 1 rebuilt with problems (versions skipped, missing files, broken "
      "event chain, a withdrawal's approval the site missed, another site unreadable while a "
      "rebuilt withdrawal request waits); 2 could not run.");
  cmd->callback([flags, &g]() { g.exit_code = RunRebuild(*flags, g); });
}

}  // namespace cairn::cli
