// `cairn site add NAME URL [--region R] [--create-bucket] [--adopt]`, `cairn site list
// [--json]` and `cairn site check NAME [--json]`.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/events/site_log_check.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"
#include "repo/site/site_check.h"

namespace cairn::cli {
namespace {

struct SiteFlags {
  std::string name;
  std::string url;
  std::string region;
  bool json = false;
  bool create_bucket = false;
  bool adopt = false;
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
  if (f.create_bucket) {
    Status created = repo::CreateSiteBucket(f.url);
    if (!created.ok())
      return ReportError(created.WithContext("site " + f.name + ": create bucket"));
  }
  repo::SiteRecord added;
  Result<repo::SettingsChange> change =
      repo::AddSite(**repository, f.name, f.url, f.region, f.adopt, &added);
  if (!change.ok()) return ReportError(change.status());
  if (!g.quiet) {
    std::cout << "added site " << added.name << " " << SafeUrl(added.url) << "\n";
    if (!added.adopted_from.empty()) {
      std::cout << "adopted from repository " << added.adopted_from
                << " (its CAIRN-SITE is left as it is; that repository must not use it any more)\n";
    }
  }
  PrintSettingsWarnings(change->warnings);  // the new site everywhere, every setting on it
  // The copies policies now put on the new site (a lost site added back
  // empty): queued, for `cairn replicate` or the daemon.
  if (!change->queue_status.ok()) {
    return ReportError(change->queue_status.WithContext("site " + f.name + " added"));
  }
  const repo::ReconcileSummary& queued = change->queued;
  for (const std::string& p : queued.problems) std::cerr << "warning: " << p << "\n";
  if (!g.quiet && queued.copies_short > 0) {
    std::cout << queued.ToText() << "\nnext: cairn replicate --wait\n";
  }
  return kExitOk;
}

// Prints the site list document (views::SiteListJson, or GET /v1/sites: the same) as the text
// table or JSON.
int PrintSiteList(const nlohmann::json& sites, const SiteFlags& f) {
  if (f.json) {
    std::cout << sites.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-16s %-12s %s\n", "NAME", "REGION", "URL");
  for (const nlohmann::json& s : sites) {
    const std::string region = s.value("region", "");
    std::printf("%-16s %-12s %s\n", s.value("name", "").c_str(),
                region.empty() ? "-" : region.c_str(), s.value("url", "").c_str());
  }
  return kExitOk;
}

int RunList(const SiteFlags& f, const Globals& g) {
  if (IsRemote(g)) {
    auto sites = RemoteGet(g, "/v1/sites");
    if (!sites.ok()) return ReportError(sites.status());
    return PrintSiteList(*sites, f);
  }
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto sites = (*repository)->catalog().ListSites();
  if (!sites.ok()) return ReportError(sites.status());
  return PrintSiteList(views::SiteListJson(*sites), f);
}

// The "events" step of `site check`: the site's copy of the event log against
// the catalog's (repo/events/site_log_check.h), every finding naming its key.
repo::SiteCheckStep SiteEventLogStep(repo::Repository& repository, const std::string& name) {
  repo::SiteCheckStep step;
  step.name = "events";
  step.state = repo::CheckState::kFailed;
  Result<repo::Site*> site = repository.OpenSite(name);
  if (!site.ok()) {
    step.detail = "not opened: " + site.status().ToString();
    return step;
  }
  Result<repo::SiteLogCheck> check = repo::CheckSiteEventLog(repository.catalog(), **site, name);
  if (!check.ok()) {
    step.detail = "catalog not read: " + check.status().ToString();
    return step;
  }
  if (!check->checked) {
    step.detail = check->error;
    return step;
  }
  for (const repo::SegmentFinding& finding : check->findings) {
    step.detail += (step.detail.empty() ? "" : "; ") + finding.key + ": " +
                   std::string(repo::SegmentProblemName(finding.kind)) + ": " + finding.detail;
  }
  if (check->findings.empty()) {
    step.state = repo::CheckState::kOk;
    step.detail = std::to_string(check->segments) + " segments agree with the catalog (events 1-" +
                  std::to_string(check->held) + " of " + std::to_string(check->catalog_head) + ")";
  } else if (std::any_of(check->findings.begin(), check->findings.end(),
                         [](const repo::SegmentFinding& f) {
                           return f.kind == repo::SegmentProblem::kAhead;
                         })) {
    // The audit refuses to run on a catalog behind a site's log: the rebuild comes first.
    step.detail +=
        " (the catalog is older than the site, put back from a backup?: `cairn "
        "catalog rebuild --from " +
        name + " --force` brings it up to date; the audit refuses until then)";
  } else {
    step.detail += " (`cairn audit run --all` repairs missing and damaged segments)";
  }
  return step;
}

int RunCheck(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto record = (*repository)->catalog().GetSite(f.name);
  if (!record.ok()) return ReportError(record.status());
  Result<std::string> repository_id = (*repository)->catalog().RepositoryId();
  repo::SiteCheckReport report =
      repo::CheckSite(record->name, record->url, repository_id.ok() ? *repository_id : "");
  if (report.ok()) report.steps.push_back(SiteEventLogStep(**repository, record->name));
  if (f.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const repo::SiteCheckStep& step : report.steps) {
      checks.push_back({{"name", step.name},
                        {"status", std::string(repo::CheckStateName(step.state))},
                        {"detail", step.detail}});
    }
    nlohmann::json out = {
        {"site", report.site}, {"url", report.url}, {"ok", report.ok()}, {"checks", checks}};
    std::cout << out.dump(2) << "\n";
  } else if (!g.quiet || !report.ok()) {
    std::cout << "site " << report.site << " " << (report.url.empty() ? "?" : report.url) << "\n";
    for (const repo::SiteCheckStep& step : report.steps) {
      std::printf("  %-8s %-12s %s\n", std::string(repo::CheckStateName(step.state)).c_str(),
                  step.name.c_str(), step.detail.c_str());
    }
    std::cout << (report.ok() ? "site is usable\n" : "site is NOT usable\n");
  }
  return report.ok() ? kExitOk : kExitProblems;
}

}  // namespace

void RegisterSite(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "site", "storage sites: add, list, check");
  auto add_flags = std::make_shared<SiteFlags>();
  CLI::App* add = group->add_subcommand(
      "add", "register a storage site (file:///path, s3://bucket/prefix?endpoint=...&region=...)");
  add->add_option("NAME", add_flags->name,
                  "site name: 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'")
      ->required();
  add->add_option("URL", add_flags->url, "where the site is (never put credentials in it)")
      ->required();
  add->add_option("--region", add_flags->region, "region, for policies that spread copies");
  add->add_flag("--create-bucket", add_flags->create_bucket,
                "s3:// only: create the bucket first (with Object Lock when the URL asks "
                "object-lock=...); OK if you already own it");
  add->add_flag("--adopt", add_flags->adopt,
                "take over a site whose CAIRN-SITE names another repository, once that "
                "repository is gone for good (nothing on the site is rewritten)");
  add->footer(
      "An empty place gets CAIRN-SITE (naming this repository) and README.txt; a place already\n"
      "marked as this site of this repository is taken back; another site's place, another\n"
      "repository's site (whatever its name; --adopt once that repository is gone for good),\n"
      "or a non-empty unmarked place, is refused. Only the site's own folder is made: a\n"
      "missing parent folder (an unmounted share) is refused.\n"
      "S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the credentials file\n"
      "(AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) section AWS_PROFILE or the\n"
      "URL's profile=NAME; never in the URL. https endpoints use the system CA store, or\n"
      "ca-file=PATH for a private CA.\n"
      "Exit codes: 0 added; 2 could not run (unreachable, refused place, name taken).\n");
  add->callback([add_flags, &g] { g.exit_code = RunAdd(*add_flags, g); });

  auto list_flags = std::make_shared<SiteFlags>();
  CLI::App* list = group->add_subcommand("list", "list the storage sites (URLs without secrets)");
  list->add_flag("--json", list_flags->json, "print the sites as JSON");
  list->callback([list_flags, &g] { g.exit_code = RunList(*list_flags, g); });

  auto check_flags = std::make_shared<SiteFlags>();
  CLI::App* check = group->add_subcommand(
      "check",
      "check a site: reachable, credentials, bucket/folder, writable, layout version, and its "
      "copy of the event log against the catalog's");
  check->add_option("NAME", check_flags->name, "the site's name")->required();
  check->add_flag("--json", check_flags->json, "print the checks as JSON");
  check->footer(
      "Writes, reads back and removes one probe object (cairn-check-<random>).\n"
      "Exit codes: 0 every check passed; 1 a check failed (unreachable, credentials refused,\n"
      "bucket missing, not writable, bad or unsupported CAIRN-SITE, an event segment missing,\n"
      "damaged, different from the catalog's or ahead of it); 2 could not run (no\n"
      "repository, unknown site).\n");
  check->callback([check_flags, &g] { g.exit_code = RunCheck(*check_flags, g); });
}

}  // namespace cairn::cli
