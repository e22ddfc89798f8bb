// `cairn restore PARTNER/OBJECT[@vN] DEST`: rebuilds a deposited bag exactly as
// it was deposited, from whichever site holds a good copy of each file.
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/report.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "repo/events/segments.h"
#include "repo/restore/restore.h"

namespace cairn::cli {
namespace {

struct RestoreFlags {
  std::string ref;
  std::string dest;
  std::string site;
  std::string format;
  bool json = false;
  unsigned threads = 0;
};

// --format, or what DEST's name says (.tar, .tgz/.tar.gz, .zip), else a folder.
Result<repo::RestoreFormat> ChooseFormat(const RestoreFlags& f) {
  if (!f.format.empty()) {
    auto format = repo::ParseRestoreFormat(f.format);
    if (!format) {
      return Status::InvalidArgument("--format " + f.format + ": expected dir, tar, tgz or zip");
    }
    return *format;
  }
  auto ends = [&](std::string_view ext) {
    return f.dest.size() > ext.size() &&
           f.dest.compare(f.dest.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".tar")) return repo::RestoreFormat::kTar;
  if (ends(".tgz") || ends(".tar.gz")) return repo::RestoreFormat::kTgz;
  if (ends(".zip")) return repo::RestoreFormat::kZip;
  return repo::RestoreFormat::kDir;
}

nlohmann::json ReportJson(const repo::RestoreReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  for (const repo::CopyProblem& p : r.problems) {
    problems.push_back({{"path", p.path},
                        {"sha256", p.sha256},
                        {"tag_file", p.tag_file},
                        {"site", p.site},
                        {"outcome", repo::CopyOutcomeName(p.outcome)},
                        {"detail", p.detail}});
  }
  return {{"ok", true},
          {"partner", r.partner},
          {"object", r.object},
          {"version", r.version},
          {"dest", r.dest},
          {"format", repo::RestoreFormatName(r.format)},
          {"bag_name", r.bag_name},
          {"payload_files", r.payload_files},
          {"payload_bytes", r.payload_bytes},
          {"tag_files", r.tag_files},
          {"files_from_site", r.files_from_site},
          {"problems", problems},
          {"repairs_queued", r.repairs_queued}};
}

// The copies skipped on the way, one line per site and outcome however many
// files it held (a site that is down is one line, not one per file), naming
// the first file and the sites the files were read from instead.
void PrintProblemsBySite(const repo::RestoreReport& r) {
  struct Skipped {
    uint64_t copies = 0;
    const repo::CopyProblem* first = nullptr;
  };
  std::map<std::pair<std::string, repo::CopyOutcome>, Skipped> by_site;
  for (const repo::CopyProblem& p : r.problems) {
    Skipped& s = by_site[{p.site, p.outcome}];
    if (s.copies++ == 0) s.first = &p;
  }
  for (const auto& [key, s] : by_site) {
    const auto& [site, outcome] = key;
    std::string instead;
    for (const auto& [other, n] : r.files_from_site) {
      if (other != site) instead += (instead.empty() ? "" : ", ") + other;
    }
    const bool down = outcome == repo::CopyOutcome::kUnavailable;
    std::cerr << "warning: site " << site << (down ? " could not be read: " : ": ") << s.copies
              << " " << (down ? "" : std::string(repo::CopyOutcomeName(outcome)) + " ") << "cop"
              << (s.copies == 1 ? "y" : "ies") << (down ? " skipped" : "") << " (first "
              << bagit::Printable(s.first->path) << ": " << bagit::Printable(s.first->detail) << ")"
              << (down ? "" : "; recorded for repair");
    if (!instead.empty()) std::cerr << "; read from site " << instead << " instead";
    std::cerr << "\n";
  }
}

int RunRestore(const RestoreFlags& f, const Globals& g) {
  repo::RestoreRequest req;
  Status parsed = repo::ParseObjectRef(f.ref, &req.partner, &req.object, &req.version);
  if (!parsed.ok()) return ReportError(parsed);
  auto format = ChooseFormat(f);
  if (!format.ok()) return ReportError(format.status());
  req.format = format.value();
  req.dest = f.dest;
  req.site = f.site;
  req.threads = f.threads;
  if (const char* user = std::getenv("USER")) req.user = user;
  req.agent_version = CAIRN_VERSION;

  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::EventsFlushed events;  // the dissemination event, the bad copies met
  auto report = repo::Restore(*repository.value(), req, &events);
  const int flushed = ReportEventsFlushed(events);
  if (!report.ok()) {
    const Status& s = report.status();
    if (f.json) std::cout << nlohmann::json{{"ok", false}, {"error", s.ToString()}}.dump(2) << "\n";
    std::cerr << "cairn: " << s.ToString() << "\n";
    // No good copy of some file, or a catalog that disagrees with the bag: a
    // problem found.
    return ExitWorst(s.IsCorruption() ? kExitProblems : kExitCannotRun, flushed);
  }
  const repo::RestoreReport& r = report.value();
  if (f.json) {
    std::cout << ReportJson(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return flushed;
  }
  PrintProblemsBySite(r);
  if (g.quiet) return flushed;
  std::cout << "restored " << r.partner << "/" << r.object << "@v" << r.version << " to " << r.dest
            << " (" << repo::RestoreFormatName(r.format) << "): " << r.payload_files
            << " payload files, " << r.payload_bytes << " bytes (" << HumanBytes(r.payload_bytes)
            << "), " << r.tag_files << " tag files\n";
  for (const auto& [site, n] : r.files_from_site) {
    std::cout << "  " << n << " files read from site " << site << "\n";
  }
  if (r.repairs_queued) std::cout << "  " << r.repairs_queued << " repair jobs queued\n";
  return flushed;
}

}  // namespace

void RegisterRestore(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* cmd = app.add_subcommand(
      "restore",
      "rebuild a deposited bag exactly as deposited (tag files byte for byte, every payload "
      "file verified against its SHA-256 as it is written, the catalog checked against the "
      "version's own record and manifest on the site), from any site with a good copy");
  cmd->add_option("OBJECT", flags->ref, "PARTNER/OBJECT or PARTNER/OBJECT@vN (default: latest)")
      ->required();
  cmd->add_option("DEST", flags->dest,
                  "where the bag goes; must not exist (a folder, or an archive with --format)")
      ->required();
  cmd->add_option("--site", flags->site, "read only from this site");
  cmd->add_option("--format", flags->format,
                  "dir, tar, tgz or zip (default: from DEST's extension, else dir)");
  cmd->add_option("--threads", flags->threads, "files copied in parallel (default 4)");
  cmd->add_flag("--json", flags->json, "print the outcome as JSON");
  cmd->footer(
      "Copies are tried best first: the --site given, else sites whose copy was last seen ok.\n"
      "A corrupt or missing copy is skipped, marked in the catalog and queued for repair; a\n"
      "site that cannot be read is skipped and never called corrupt. DEST appears only when\n"
      "the whole bag is verified; a failed restore leaves nothing at DEST.\n"
      "The catalog's files are checked against version.pb and manifest-sha256.txt as written on\n"
      "the site before any payload is written: a disagreement stops the restore.\n"
      "Exit codes:\n"
      "  0  restored and verified, maybe from other sites (copies skipped on the way are\n"
      "     reported on stderr, one line per site; bad ones are queued for repair)\n"
      "  1  some file has no good copy on any site (the error names it and each site's\n"
      "     outcome), or the catalog disagrees with the bag's own record or manifest (the\n"
      "     error names the file; rule restore.catalog-disagrees)\n"
      "  2  could not run (bad arguments, unknown object, DEST exists, unsafe catalog entry,\n"
      "     sites unavailable)\n");
  cmd->callback([flags, &g] { g.exit_code = RunRestore(*flags, g); });
}

}  // namespace cairn::cli
