// `cairn show PARTNER/OBJECT[@vN]`: an object's versions, then one version's
// tag files and payload files with sizes, digests and the state of each copy
// on each site. Files are streamed from the catalog, never all held at once.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bagit/report.h"
#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/show_text.h"
#include "ops/cli/verbs.h"
#include "ops/server/copy_tally.h"
#include "ops/server/json_views.h"
#include "repo/catalog/inventory.h"
#include "repo/replicate/replicate.h"
#include "repo/restore/restore.h"
#include "repo/site/catalog_behind.h"

namespace cairn::cli {
namespace {

struct ShowFlags {
  std::string ref;
  bool json = false;
  bool no_files = false;
};

// Appends `s` as a JSON string. Printable ASCII without '"' or '\\' (nearly
// every path) is copied as is; anything else goes through nlohmann_json,
// which escapes it and replaces invalid UTF-8 as the rest of the output does.
void AppendJsonString(std::string& out, std::string_view s) {
  bool plain = std::all_of(s.begin(), s.end(),
                           [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

// The same object views::FileCopiesJson(f).dump() gives, formatted by hand: show --json of
// a version of 200,000 files spends its time here.
void AppendFileJson(std::string& out, const repo::FileCopies& f) {
  out += "{\"copies\":[";
  for (size_t i = 0; i < f.copies.size(); ++i) {
    out += i ? ",{\"site\":" : "{\"site\":";
    AppendJsonString(out, f.copies[i].site);
    out += ",\"state\":";
    AppendJsonString(out, f.copies[i].state);
    out += '}';
  }
  out += "],\"path\":";
  AppendJsonString(out, f.path);
  out += ",\"sha256\":";
  AppendJsonString(out, f.sha256);
  out += ",\"size\":";
  out += std::to_string(f.size);
  out += '}';
}

// As CopyTally::Healthy, from the summary of a show document the server sent.
bool RemoteShowHealthy(const nlohmann::json& doc) {
  if (doc.value("copies_ok", 0u) < doc.value("copies_wanted", 0u)) return false;
  for (const nlohmann::json& site : doc.value("copies_by_site", nlohmann::json::array())) {
    if (site.value("corrupt", 0) > 0 || site.value("missing", 0) > 0) return false;
  }
  return true;
}

using views::CopyTally;
using views::FileCopiesJson;

int RunShow(const ShowFlags& f, const Globals& g) {
  std::string partner, object;
  uint32_t wanted_version = 0;
  Status parsed = repo::ParseObjectRef(f.ref, &partner, &object, &wanted_version);
  if (!parsed.ok()) return ReportError(parsed);
  if (IsRemote(g)) {
    // The sites the server could not open come beside the document, named as locally.
    std::vector<std::string> warnings;
    auto doc = RemoteGet(
        g, "/v1/objects/" + client::PercentEncode(partner) + "/" + client::PercentEncode(object),
        {{"version", wanted_version ? std::to_string(wanted_version) : ""}}, &warnings);
    if (!doc.ok()) return ReportError(doc.status());
    for (const std::string& w : warnings) std::cerr << "cairn: " << w << "\n";
    if (f.no_files) (*doc)["files"] = nlohmann::json::array();
    // Copies not yet verified are told in the reader's terms: asked of the server only then.
    repo::Role reader = repo::Role::kOperator;
    if (!f.json && HasUnverifiedCopies(*doc)) {
      auto me = RemoteGet(g, "/v1/whoami");
      if (!me.ok()) return ReportError(me.status());
      reader = repo::ParseRole(me->value("role", "")).value_or(repo::Role::kDepositor);
    }
    if (f.json) {
      PrintJson(*doc);
    } else if (!PrintShowDocument(*doc, f.no_files, reader)) {
      return ReportError(Status::Unavailable("the server's show document lacks its versions"));
    }
    return RemoteShowHealthy(*doc) && warnings.empty() ? kExitOk : kExitProblems;
  }
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = repository.value()->catalog();
  (void)catalog.UseMemoryMappedReads();  // only speed is at stake if it fails
  std::vector<repo::VersionInfo> versions;
  Result<repo::VersionInfo> chosen =
      repo::VersionToRead(*repository.value(), partner, object, wanted_version, "show", &versions);
  if (!chosen.ok()) return ReportError(chosen.status());
  const repo::VersionInfo& v = chosen.value();
  auto policy = catalog.EffectivePolicy(partner);
  if (!policy.ok()) return ReportError(policy.status());
  auto sites = catalog.ListSites();
  if (!sites.ok()) return ReportError(sites.status());
  CopyTally tally(repo::CopyRule::FromPolicy(*policy, *sites));
  // The sites the policy puts a copy on: one holding none of a file is shown pending there.
  Result<std::vector<std::string>> plan = repo::PlanCopySites(*policy, *sites);
  const std::vector<std::string> owed = plan.ok() ? *plan : std::vector<std::string>();
  const std::string policy_text = tally.rule.Describe(*policy);
  // The states are the catalog's record; a site that cannot be opened now is named, not shown ok
  // without a word.
  const int down = ReportUnreachableSites(*repository.value(), "the states shown for its copies");

  Out out;
  if (f.json) {
    nlohmann::json head = {{"partner", partner}, {"object", object}};
    nlohmann::json list = nlohmann::json::array();
    for (const repo::VersionInfo& x : versions) {
      list.push_back({{"version", x.version},
                      {"created", FormatUtc(x.created_micros)},
                      {"depositor", x.depositor},
                      {"files", x.file_count},
                      {"bytes", x.payload_bytes}});
    }
    head["versions"] = list;
    head["version"] = v.version;
    nlohmann::json tags = nlohmann::json::array();
    Status s = repo::ForEachTagFileCopies(
        catalog, v.id,
        [&](const repo::FileCopies& t) {
          tags.push_back(FileCopiesJson(t));
          tally.Add(t);
          return Status::OK();
        },
        owed);
    if (!s.ok()) return ReportError(s);
    head["tag_files"] = tags;
    head["empty_folders"] = v.empty_folders;
    std::string text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.pop_back();  // the closing '}': the files follow, streamed
    out << text << ",\"files\":[";
    bool first = true;
    std::string line;
    s = repo::ForEachFileCopies(
        catalog, v.id,
        [&](const repo::FileCopies& file) {
          tally.Add(file);
          if (f.no_files) return Status::OK();
          line.assign(first ? "\n" : ",\n");
          AppendFileJson(line, file);
          out << line;
          first = false;
          return Status::OK();
        },
        owed);
    if (!s.ok()) return ReportError(s);
    nlohmann::json tail = tally.SummaryJson(policy_text);
    std::string rest = tail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out << "\n]," << rest.substr(1) << "\n";
    return std::max<int>(tally.Healthy() ? kExitOk : kExitProblems, down);
  }

  ShowText text(out, f.no_files);
  std::vector<VersionLine> lines;
  auto line_of = [](const repo::VersionInfo& x) {
    return VersionLine{x.version, FormatUtc(x.created_micros), x.depositor, x.file_count,
                       x.payload_bytes};
  };
  for (const repo::VersionInfo& x : versions) lines.push_back(line_of(x));
  text.Head(partner, object, lines, line_of(v));
  Status s = repo::ForEachTagFileCopies(
      catalog, v.id,
      [&](const repo::FileCopies& file) {
        tally.Add(file);
        text.TagFile(file);
        return Status::OK();
      },
      owed);
  if (!s.ok()) return ReportError(s);
  text.BeginPayload();
  s = repo::ForEachFileCopies(
      catalog, v.id,
      [&](const repo::FileCopies& file) {
        tally.Add(file);
        text.PayloadFile(file);
        return Status::OK();
      },
      owed);
  if (!s.ok()) return ReportError(s);
  text.EmptyFolders(v.empty_folders);
  text.Summary({tally.MinOk(), tally.rule.wanted, policy_text, tally.by_site});
  return std::max<int>(tally.Healthy() ? kExitOk : kExitProblems, down);
}

}  // namespace

void RegisterShow(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* cmd = app.add_subcommand(
      "show",
      "show an object: its versions, then one version's files with sizes, SHA-256 "
      "digests, and where each copy is and its state (ok, pending, corrupt, missing, "
      "unavailable, unreadable)");
  cmd->add_option("OBJECT", flags->ref, "PARTNER/OBJECT or PARTNER/OBJECT@vN (default: latest)")
      ->required();
  cmd->add_flag("--json", flags->json, "print as JSON (files streamed one per line)");
  cmd->add_flag("--no-files", flags->no_files, "leave out the payload file list");
  cmd->footer(
      "States are the catalog's, as the last copy, audit or repair left them: show reads no\n"
      "copy (`cairn audit run --site NAME` or `cairn site check NAME` looks at them now); a\n"
      "site that cannot be opened now (gone, not mounted, its gateway down) is named.\n"
      "Exit codes: 0 shown, the version has its policy's copies and none is corrupt or\n"
      "missing; 1 shown, and it lacks copies or has a corrupt or missing copy, or a site\n"
      "cannot be read, or not shown: the version is withdrawn; 2 could not run (no\n"
      "repository, unknown object or version).\n");
  cmd->callback([flags, &g] { g.exit_code = RunShow(*flags, g); });
}

}  // namespace cairn::cli
