// `cairn audit schedule add NAME --every 90d [--site S] [--partner P]
// [--object P/O] [--sample ...] [--rate ...] [--all]`, `audit schedule list
// [--json]`, `audit schedule remove NAME` (logic in audit/schedule.h); and
// the repository opener shared by the auditor's verbs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "audit/report_json.h"
#include "audit/sample.h"
#include "audit/schedule.h"
#include "bagit/time_text.h"
#include "bagit/units.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/server/json_views.h"
#include "repo/clock.h"
#include "repo/site_layout.h"
#include "repo/test_hooks.h"

namespace cairn::cli {
namespace {

struct ScheduleFlags {
  std::string name, every, site, partner, object, sample, rate;
  bool all = false, json = false;
};

// The flags as the JSON document POST /v1/schedules takes, so that a local and a remote add
// read them with one parser (views::ScheduleFromJson).
Result<nlohmann::json> ScheduleSpec(const ScheduleFlags& f) {
  std::string partner, object;
  CAIRN_RETURN_IF_ERROR(ParseObjectScope(f.partner, f.object, &partner, &object));
  nlohmann::json spec = {{"name", f.name}, {"every", f.every}, {"mode", f.all ? "all" : "due"}};
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"site", f.site},
                                   {"partner", partner},
                                   {"object", object},
                                   {"sample", f.sample},
                                   {"rate", f.rate}}) {
    if (!value.empty()) spec[key] = value;
  }
  return spec;
}

Result<audit::Schedule> MakeSchedule(const ScheduleFlags& f) {
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json spec, ScheduleSpec(f));
  return views::ScheduleFromJson(spec);
}

uint64_t BytesPerRun(repo::Repository& r, const audit::Schedule& s, const audit::Sample& sample) {
  Result<repo::Usage> usage = r.catalog().GetUsage();
  if (!usage.ok()) return 0;
  std::map<std::string, double> by_site;
  if (s.scope.partner.empty()) {
    for (const repo::SiteUsage& u : usage->sites) {
      by_site[u.site] = static_cast<double>(u.blob_bytes + u.tag_bytes);
    }
  } else {
    for (const repo::PartnerUsage& u : usage->partners) {
      if (u.partner == s.scope.partner) by_site = u.stored_bytes_by_site;
    }
  }
  double most = 0;
  for (const auto& [site, bytes] : by_site) {
    if (s.scope.site.empty() || s.scope.site == site) most = std::max(most, bytes);
  }
  switch (sample.kind) {
    case audit::Sample::Kind::kPercent:
      most = most * sample.percent / 100;
      break;
    case audit::Sample::Kind::kBucket:
      most = most / std::max<uint32_t>(sample.buckets, 1);
      break;
    case audit::Sample::Kind::kBytes:
      most = std::min(most, static_cast<double>(sample.bytes));
      break;
    case audit::Sample::Kind::kAll:
      break;
  }
  return static_cast<uint64_t>(most);
}

// "45 s", "3.2 h", "12.5 d".
std::string HumanDuration(double seconds) {
  char buf[32];
  if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  } else if (seconds < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
  } else if (seconds < 172800) {
    std::snprintf(buf, sizeof buf, "%.1f h", seconds / 3600);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f d", seconds / 86400);
  }
  return buf;
}

// Issue 15: a --rate so low that a run cannot finish before the next one is
// due (--all), or that the copies in scope cannot all be checked within their
// fixity interval (due copies), is warned about with the numbers.
void WarnIfRateTooLow(repo::Repository& r, const audit::Schedule& s) {
  if (s.rate_bytes_per_sec == 0) return;
  Result<audit::Sample> sample = audit::ParseSample(s.sample);
  if (!sample.ok()) return;
  const uint64_t bytes = BytesPerRun(r, s, *sample);
  const double seconds = static_cast<double>(bytes) / static_cast<double>(s.rate_bytes_per_sec);
  const auto needed = static_cast<int64_t>(seconds * 1e6);
  int64_t window = s.every_micros;
  std::string window_name = "--every " + audit::FormatDuration(s.every_micros);
  if (s.mode != audit::AuditMode::kAll) {
    const uint32_t days = r.catalog().FixityIntervalDays(s.scope.partner);
    window = int64_t{days} * repo::kMicrosPerDay;
    window_name = "the fixity interval of " + std::to_string(days) + " days";
  }
  if (needed <= window) return;
  std::cerr << "warning: schedule " << s.name << ": at --rate " << HumanBytes(s.rate_bytes_per_sec)
            << "/s per site, reading the " << HumanBytes(static_cast<double>(bytes))
            << " in its scope on the busiest site takes " << HumanDuration(seconds)
            << ", longer than " << window_name
            << ": the sweep cannot keep up; raise --rate to at least "
            << HumanBytes(std::ceil(static_cast<double>(bytes) * 1e6 / static_cast<double>(window)))
            << "/s, or sample less\n";
}

int RunAdd(const ScheduleFlags& f, const Globals& g) {
  Result<audit::Schedule> s = MakeSchedule(f);
  if (!s.ok()) return ReportError(s.status());
  if (IsRemote(g)) {
    Result<nlohmann::json> added = RemoteSend(g, "POST", "/v1/schedules", ScheduleSpec(f)->dump());
    if (!added.ok()) return ReportError(added.status());
    PrintWarningsOf(*added);
    if (!g.quiet) {
      std::cout << "schedule " << s->name << " added: every " << f.every
                << ", first run at the next daemon round\n";
    }
    return kExitOk;
  }
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  std::vector<std::string> warnings;
  Status added = audit::AddSchedule(**repository, *s, &warnings);
  if (!added.ok()) return ReportError(added);
  PrintSettingsWarnings(warnings);
  WarnIfRateTooLow(**repository, *s);
  if (!g.quiet) {
    std::cout << "schedule " << s->name << " added: every " << f.every
              << ", first run at the next daemon round\n";
  }
  return kExitOk;
}

int RunList(bool json, const Globals& g) {
  nlohmann::json all = nlohmann::json::array();
  if (IsRemote(g)) {
    Result<nlohmann::json> doc = RemoteGet(g, "/v1/schedules");
    if (!doc.ok()) return ReportError(doc.status());
    all = std::move(*doc);
  } else {
    auto repository = OpenRepositoryForAudit(g);
    if (!repository.ok()) return ReportError(repository.status());
    auto schedules = audit::ListSchedules(**repository);
    if (!schedules.ok()) return ReportError(schedules.status());
    for (const audit::Schedule& s : *schedules) all.push_back(views::ScheduleJson(s));
  }
  if (json) {
    PrintJson(all);
    return kExitOk;
  }
  for (const nlohmann::json& j : all) {
    auto text = [&j](const char* key) { return j.value(key, std::string()); };
    std::string scope = text("site").empty() ? "all sites" : "site " + text("site");
    if (!text("partner").empty()) scope += ", " + text("partner");
    if (!text("object").empty()) scope += "/" + text("object");
    const uint64_t rate = j.value("rate_bytes_per_sec", uint64_t{0});
    std::cout << text("name") << ": every " << text("every") << ", " << scope << ", "
              << text("mode") << " copies"
              << (text("sample").empty() ? "" : ", sample " + text("sample"))
              << (rate ? ", rate " + std::to_string(rate) + " B/s" : "") << "; last run "
              << (text("last_run").empty() ? std::string("never") : text("last_run"))
              << ", next run " << text("next_run") << "\n";
  }
  if (all.empty() && !g.quiet) std::cout << "no schedules\n";
  return kExitOk;
}

int RunRemove(const std::string& name, const Globals& g) {
  if (IsRemote(g)) {
    Result<nlohmann::json> removed =
        RemoteSend(g, "DELETE", "/v1/schedules/" + client::PercentEncode(name));
    if (!removed.ok()) return ReportError(removed.status());
    PrintWarningsOf(*removed);
    if (!g.quiet) std::cout << "schedule " << name << " removed\n";
    return kExitOk;
  }
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  std::vector<std::string> warnings;
  Status removed = audit::RemoveSchedule(**repository, name, &warnings);
  if (!removed.ok()) return ReportError(removed);
  PrintSettingsWarnings(warnings);
  if (!g.quiet) std::cout << "schedule " << name << " removed\n";
  return kExitOk;
}

}  // namespace

Result<int64_t> ParseTime(const std::string& text, const std::string& what) {
  if (Result<int64_t> utc = ParseUtc(text); utc.ok()) return utc;
  char* stop = nullptr;
  long long seconds = std::strtoll(text.c_str(), &stop, 10);
  if (!text.empty() && stop && *stop == '\0') return int64_t{seconds} * 1'000'000;
  return Status::InvalidArgument(what + " '" + text +
                                 "': expected 2027-03-01, 2027-03-01T12:00:00Z or seconds since "
                                 "the epoch");
}

Status ParseObjectScope(const std::string& partner_flag, const std::string& object_flag,
                        std::string* partner, std::string* object) {
  *partner = partner_flag;
  if (object_flag.empty()) return Status::OK();
  size_t slash = object_flag.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == object_flag.size()) {
    return Status::InvalidArgument("--object '" + object_flag + "': expected PARTNER/OBJECT");
  }
  if (!partner_flag.empty() && partner_flag != object_flag.substr(0, slash)) {
    return Status::InvalidArgument("--object " + object_flag + " is not of --partner " +
                                   partner_flag);
  }
  *partner = object_flag.substr(0, slash);
  *object = object_flag.substr(slash + 1);
  // The one id rule (repo/FORMAT.md): "acme/maps@v1" names a version, and
  // --object takes the whole object.
  Status ids = repo::layout::ValidatePartnerId(*partner);
  if (ids.ok()) ids = repo::layout::ValidateObjectId(*object);
  if (!ids.ok()) return ids.WithContext("--object " + object_flag + " (PARTNER/OBJECT, no @vN)");
  return Status::OK();
}

Result<std::unique_ptr<repo::Repository>> OpenRepositoryForAudit(const Globals& g) {
  CAIRN_ASSIGN_OR_RETURN(std::string root, RepoPath(g));
  repo::RepositoryOptions options;
  if (std::optional<repo::test_hooks::FakeNow> fake = repo::test_hooks::FakeNowSetting()) {
    CAIRN_ASSIGN_OR_RETURN(int64_t now, ParseTime(fake->text, fake->variable));
    static repo::FakeClock clock;  // outlives the repository
    clock.Set(now);
    options.clock = &clock;
  }
  return repo::Repository::Open(root, options);
}

void AddAuditScheduleCommands(CLI::App* audit_group, Globals& g) {
  CLI::App* schedule = audit_group->add_subcommand("schedule", "sweeps the daemon runs by itself");
  schedule->require_subcommand(1);
  auto flags = std::make_shared<ScheduleFlags>();
  CLI::App* add = schedule->add_subcommand("add", "add a named sweep run every --every");
  add->add_option("NAME", flags->name, "schedule name")->required();
  add->add_option("--every", flags->every, "interval: 90d, 12h, 2w, 30m")->required();
  add->add_option("--site", flags->site, "only copies on this site");
  add->add_option("--partner", flags->partner, "only this partner's objects");
  add->add_option("--object", flags->object, "only this object (PARTNER/OBJECT)");
  add->add_option(
      "--sample", flags->sample,
      "10%, n/t (moves on to the next bucket after each run) or a size such as 500M (MiB)");
  add->add_option("--rate", flags->rate,
                  "cap on bytes read per second per site (200M = 200 MiB; 200MB = 200,000,000)");
  add->add_flag("--all", flags->all,
                "check every copy in scope each run (default: only the copies due by policy)");
  add->callback([flags, &g] { g.exit_code = RunAdd(*flags, g); });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = schedule->add_subcommand("list", "list schedules with their last and next run");
  list->add_flag("--json", *list_json, "as JSON");
  list->callback([list_json, &g] { g.exit_code = RunList(*list_json, g); });

  auto name = std::make_shared<std::string>();
  CLI::App* remove = schedule->add_subcommand("remove", "remove a schedule");
  remove->add_option("NAME", *name, "schedule name")->required();
  remove->callback([name, &g] { g.exit_code = RunRemove(*name, g); });
}

}  // namespace cairn::cli
