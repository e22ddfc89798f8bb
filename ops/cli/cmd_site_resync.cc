// `cairn site resync NAME [--init] [--create-bucket] [--json]`: put back everything a lost or
// replaced site should hold, from the other sites, verified (see repo/recovery/resync.h).
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "repo/recovery/resync.h"
#include "repo/site/site_check.h"
#include "repo/withdraw/purge.h"

namespace cairn::cli {
namespace {

struct ResyncFlags {
  std::string name;
  unsigned threads = 4;
  bool json = false;
  bool create_bucket = false;
  bool init = false;
};

// Issue 15: a site whose marker is gone is never a dead end. What to do,
// by case (docs/RELIABILITY.md, "A site's marker lost").
void PrintMarkerRecovery(const std::string& site, bool init) {
  std::cerr << "cairn: how to recover site " << site << ":\n";
  if (!init) {
    std::cerr << "  - not mounted: mount it and run the command again;\n"
              << "  - lost and now an empty folder or bucket: `cairn site resync " << site
              << " --init`;\n";
  }
  std::cerr << "  - it holds files but its CAIRN-SITE marker was lost (or it was restored from a "
               "backup without one): move what it holds aside, then `cairn site resync "
            << site
            << " --init` copies everything back from the other sites, verified; remove the "
               "aside copy once `cairn site check "
            << site << "` passes;\n"
            << "  - restored from a backup with its marker: `cairn site resync " << site
            << "` fills in what the backup lacks;\n"
            << "  - its marker names another repository (one that is gone for good): "
               "`cairn site add NAME URL --adopt` takes it over on purpose.\n";
}

int RunResync(const ResyncFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  if (f.create_bucket) {
    auto record = (*repo)->catalog().GetSite(f.name);
    if (!record.ok()) return ReportError(record.status());
    Status created = repo::CreateSiteBucket(record->url);
    if (!created.ok())
      return ReportError(created.WithContext("site " + f.name + ": create bucket"));
  }
  repo::ResyncOptions options;
  options.threads = f.threads;
  options.init_site = f.init || f.create_bucket;  // a bucket just made is new on purpose
  options.agent_version = CAIRN_VERSION;
  const bool tty = isatty(STDERR_FILENO) && !f.json && !g.quiet;
  if (tty) {
    options.progress = [](const repo::ResyncProgress& p) {
      std::cerr << "\rresync: " << p.items_done << "/" << p.items_total << " files checked, "
                << p.copied << " copied (" << HumanBytes(static_cast<double>(p.bytes_copied))
                << ")   " << std::flush;
    };
  }
  auto summary = repo::ResyncSite(**repo, f.name, options);
  if (tty) std::cerr << "\n";
  if (!summary.ok()) {
    const int code = ReportError(summary.status());
    if (summary.status().message().find("no CAIRN-SITE marker") != std::string::npos) {
      PrintMarkerRecovery(f.name, f.init);
    }
    return code;
  }
  // A site put back from a backup taken before a purge holds the purged version again: it goes,
  // never made good (nor read by a catalog rebuild, nor copied by replication).
  auto leftovers = repo::RemovePurgeLeftovers(**repo, f.name);
  if (!leftovers.ok()) {
    summary->purge_leftovers_left.push_back(leftovers.status().message());
  } else {
    summary->purge_leftovers_removed = std::move(leftovers->removed);
    summary->purge_leftovers_left = std::move(leftovers->problems);
  }
  // A site made anew holds the settings again; one that refuses them is not done.
  const bool settings_ok = PrintSettingsWarnings(summary->settings_warnings);
  if (f.json) {
    std::cout << summary->ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else if (!g.quiet || !summary->complete()) {
    std::cout << summary->ToText();
  }
  // Issue 15: copies all there but this site refused the event log or the
  // settings (full, read-only) is not "holds everything again". (Other sites
  // that were down when the events were flushed catch up later: not counted.)
  const std::string own_segments = "event segments, site " + f.name + ":";
  bool segments_ok = true;
  for (const std::string& e : summary->errors) {
    if (e.rfind(own_segments, 0) != 0) continue;
    segments_ok = false;
    if (f.json || g.quiet) std::cerr << "cairn: " << e << "\n";
  }
  const bool done = summary->complete() && segments_ok && settings_ok;
  return done ? kExitOk : kExitProblems;
}

}  // namespace

void RegisterSiteResync(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "site", "storage sites");
  auto flags = std::make_shared<ResyncFlags>();
  CLI::App* cmd = group->add_subcommand(
      "resync",
      "after a site is lost or replaced (empty folder, new bucket): copy back everything it "
      "should hold from the other sites, each copy read back and verified; resumable");
  cmd->add_option("NAME", flags->name, "the site")->required();
  cmd->add_option("--threads", flags->threads, "parallel copies (default 4)");
  cmd->add_flag("--json", flags->json, "print the summary as JSON");
  cmd->add_flag("--create-bucket", flags->create_bucket,
                "s3:// only: create the lost bucket first (with Object Lock when the URL asks); "
                "implies --init");
  cmd->add_flag("--init", flags->init,
                "the site has no CAIRN-SITE (a lost folder or bucket): make it again here. Never "
                "implied: an empty folder is also what an unmounted share looks like");
  cmd->footer(
      "Exit codes: 0 the site holds everything again; 1 some files, event segments or\n"
      "settings could not be written (each named with its site and error; run again\n"
      "later); 2 could not run.");
  cmd->callback([flags, &g]() { g.exit_code = RunResync(*flags, g); });
}

}  // namespace cairn::cli
