// `cairn site add NAME URL [--region R] [--create-bucket] [--adopt]`, `cairn site list
// [--json]`, `cairn site check NAME [--json]` and `cairn site remove NAME [--dry-run] [--force]
// [--json]`.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
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
  bool dry_run = false;
  bool force = false;
  bool empty = false;
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

// What a site's addition or removal says of its settings change: the sites that did not take
// the settings records, and the copies the policies now owe, queued for `cairn replicate` or
// the daemon (`print_queued`: how many, and the next step).
int ReportSiteChange(const repo::SettingsChange& change, const std::string& done,
                     bool print_queued) {
  PrintSettingsWarnings(change.warnings);
  if (!change.queue_status.ok()) return ReportError(change.queue_status.WithContext(done));
  for (const std::string& p : change.queued.problems) std::cerr << "warning: " << p << "\n";
  if (print_queued && change.queued.copies_short > 0) {
    std::cout << change.queued.ToText() << "\nnext: cairn replicate --wait\n";
  }
  return kExitOk;
}

// `site add|move NAME URL --create-bucket`: the bucket made first (OK if already owned).
Status CreateBucketIfAsked(const SiteFlags& f, const std::string& url) {
  if (!f.create_bucket) return Status::OK();
  return repo::CreateSiteBucket(url).WithContext("site " + f.name + ": create bucket");
}

int RunAdd(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  const std::string url = SiteUrlOrFolder(f.url);
  if (Status created = CreateBucketIfAsked(f, url); !created.ok()) return ReportError(created);
  repo::SiteRecord added;
  Result<repo::SettingsChange> change =
      repo::AddSite(**repository, f.name, url, f.region, f.adopt, &added);
  if (!change.ok()) return ReportError(change.status());
  if (!g.quiet) {
    std::cout << "added site " << added.name << " " << SafeUrl(added.url) << "\n";
    if (!added.adopted_from.empty()) {
      std::cout << "adopted from repository " << added.adopted_from
                << " (its CAIRN-SITE is left as it is; that repository must not use it any more)\n";
    }
  }
  // The new site everywhere, every setting on it; the copies policies now put on it (a lost
  // site added back empty).
  return ReportSiteChange(*change, "site " + f.name + " added", !g.quiet);
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

int RunRemove(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  Result<repo::SiteRemoval> removal = repo::RemoveSite(**repository, f.name, f.dry_run, f.force);
  if (!removal.ok()) return ReportError(removal.status());
  const repo::Catalog::SiteRemovalFacts& facts = removal->facts;
  const std::string url = SafeUrl(facts.site.url);
  if (f.json) {
    nlohmann::json out = {{"site", f.name},
                          {"url", url},
                          {"dry_run", f.dry_run},
                          {"removed", removal->removed},
                          {"opened", removal->opened.ok()},
                          {"copies", facts.copies},
                          {"jobs_cancelled", facts.jobs},
                          {"audit_findings_closed", facts.open_findings},
                          {"unfinished_purges", removal->unfinished_purges},
                          {"files_left_as_they_are", true}};
    if (!removal->opened.ok()) out["open_error"] = removal->opened.ToString();
    std::cout << out.dump(2) << "\n";
  } else if (!g.quiet) {
    const bool dry = !removal->removed;
    std::cout << (dry ? "would remove site " : "removed site ") << f.name << " " << url << "\n";
    if (!removal->opened.ok()) {
      std::cout << "  it cannot be opened now (" << removal->opened.ToString()
                << "); every file it holds has a verified copy on another site\n";
    }
    std::cout << "  " << facts.copies << " copies the catalog recorded there "
              << (dry ? "would no longer be counted" : "are no longer counted") << ", "
              << facts.jobs << " queued jobs for it " << (dry ? "would be " : "") << "cancelled\n";
    if (facts.open_findings > 0) {
      std::cout << "  " << facts.open_findings << " open audit finding(s) of it "
                << (dry ? "would be " : "") << "closed (site removed): `cairn audit report` "
                << "keeps them, no longer counted as left bad\n";
    }
    for (const std::string& w : removal->unfinished_purges) {
      std::cout << "  " << w << " has not finished: it " << (dry ? "would" : "will")
                << " not reach this site (--force); whatever of that version its files hold "
                << "stays there (" << url << "): erase it by hand if it must go\n";
    }
    std::cout << "the files on " << f.name << (dry ? " would be" : " were")
              << " left as they are (nothing on the site is written or deleted)\n";
    if (dry) std::cout << "dry run: nothing changed\n";
  }
  if (!removal->removed) return kExitOk;
  const int code =
      ReportSiteChange(removal->change, "site " + f.name + " removed", !g.quiet && !f.json);
  return ExitWorst(code, ReportEventsFlushed(removal->events));
}

int RunMove(const SiteFlags& f, const Globals& g) {
  auto repository = Open(g);
  if (!repository.ok()) return ReportError(repository.status());
  const std::string url = SiteUrlOrFolder(f.url);
  if (Status created = CreateBucketIfAsked(f, url); !created.ok()) return ReportError(created);
  repo::SiteRecord before;
  Result<repo::SettingsChange> change = repo::MoveSite(**repository, f.name, url, f.empty, &before);
  if (!change.ok()) return ReportError(change.status());
  if (f.json) {
    std::cout << nlohmann::json{{"site", f.name},
                                {"from", SafeUrl(before.url)},
                                {"to", SafeUrl(url)},
                                {"empty", f.empty}}
                     .dump(2)
              << "\n";
  } else if (!g.quiet) {
    std::cout << "moved site " << f.name << " to " << SafeUrl(url) << " (was "
              << SafeUrl(before.url) << ")\n";
    if (f.empty) {
      std::cout << "it holds none of the site's files yet\nnext: cairn site resync " << f.name
                << "\n";
    }
  }
  return ReportSiteChange(*change, "site " + f.name + " moved", false);
}

}  // namespace

void RegisterSite(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "site", "storage sites: add, list, check, remove, move");
  auto add_flags = std::make_shared<SiteFlags>();
  CLI::App* add = group->add_subcommand("add",
                                        "register a storage site (a folder, file:///path, "
                                        "s3://bucket/prefix?endpoint=...&region=...)");
  add->add_option("NAME", add_flags->name,
                  "site name: 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'")
      ->required();
  add->add_option("URL", add_flags->url,
                  "where the site is: a folder, or a URL (never put credentials in it)")
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

  auto remove_flags = std::make_shared<SiteFlags>();
  CLI::App* remove = group->add_subcommand(
      "remove", "take a site out of the repository (its files are left as they are)");
  remove->add_option("NAME", remove_flags->name, "the site's name")->required();
  remove->add_flag("--dry-run", remove_flags->dry_run,
                   "say what would happen, change nothing (exit 2 where the removal would be "
                   "refused)");
  remove->add_flag("--force", remove_flags->force,
                   "remove the site although a purge (requested or approved) has not finished "
                   "(whatever of "
                   "the purged versions its files hold stays there); never a last good copy");
  remove->add_flag("--json", remove_flags->json, "print what was done as JSON");
  remove->footer(
      "Its queued jobs are cancelled, the catalog no longer counts its copies (events and\n"
      "audit history that name it stay), a deletion event names it and who removed it, and the\n"
      "other sites' settings records drop it (a catalog rebuilt from them does not bring it\n"
      "back). Nothing on the site is written or deleted. A site that cannot be opened (its\n"
      "folder gone, its gateway down) is removed the same way. `cairn site add NAME URL` later\n"
      "makes it a new site; replication copies to it again.\n"
      "Refused (exit 2, nothing changed) while a policy names the site or needs more sites than\n"
      "would remain (`cairn policy set` first), while an audit schedule checks it (`cairn audit\n"
      "schedule remove` first), while a version's file has its only verified\n"
      "copy there (`cairn replicate --wait`, `cairn site resync OTHER` or `cairn audit run\n"
      "--site OTHER` first; --force does not override this), and while a purge, requested or\n"
      "approved, has not finished (`cairn withdraw run` first, a request approved or cancelled\n"
      "before it; --force lets the site go, its files keeping whatever of the purged versions\n"
      "they hold: erase them by hand).\n"
      "Exit codes: 0 removed (or the dry run found nothing against it); 1 removed, but its event\n"
      "could not be copied to a site's log; 2 refused or could not run (unknown site, lock).\n");
  remove->callback([remove_flags, &g] { g.exit_code = RunRemove(*remove_flags, g); });

  auto move_flags = std::make_shared<SiteFlags>();
  CLI::App* move = group->add_subcommand(
      "move",
      "point a site at the place its files are now (a share mounted elsewhere, a new "
      "gateway), or with --empty at a new empty place to fill with `site resync`");
  move->add_option("NAME", move_flags->name, "the site's name")->required();
  move->add_option("URL", move_flags->url, "where the site is now: a folder, or a URL")->required();
  move->add_flag("--empty", move_flags->empty,
                 "the site's files are lost: the place is a new empty one, made a site now and "
                 "filled by `cairn site resync NAME`");
  move->add_flag("--create-bucket", move_flags->create_bucket,
                 "s3:// only, with --empty: create the new bucket first (as `site add` does)");
  move->add_flag("--json", move_flags->json, "print what was done as JSON");
  move->footer(
      "Nothing is copied. The place's CAIRN-SITE must name this site of this repository (its\n"
      "files were moved there with it); another site's or repository's place, a place holding\n"
      "other files, or (without --empty) a place with no CAIRN-SITE, is refused. Every site's\n"
      "settings record of the site then names the new place, so a catalog rebuilt from any of\n"
      "them does too.\n"
      "Exit codes: 0 moved; 2 refused or could not run (unknown site, its present place,\n"
      "unreachable, lock).\n");
  move->callback([move_flags, &g] { g.exit_code = RunMove(*move_flags, g); });
}

}  // namespace cairn::cli
