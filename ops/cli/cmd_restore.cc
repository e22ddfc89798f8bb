// `cairn restore PARTNER/OBJECT[@vN] DEST`: rebuilds a deposited bag exactly as
// it was deposited, from whichever site holds a good copy of each file. Against a server
// (--server), the bag is downloaded as a tar stream and checked on arrival
// (repo/restore/restore_receive.h) into the same kinds of output.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "bagit/archive.h"
#include "bagit/fd_io.h"
#include "bagit/report.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "repo/events/segments.h"
#include "repo/restore/restore.h"
#include "repo/restore/restore_receive.h"
#include "repo/site/catalog_behind.h"

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

// --format, or what DEST's name says (.tar, .tgz/.tar.gz, .zip), else a folder. A DEST whose
// extension names another archive format (.rar, .7z, .tar.bz2, ...) is refused whatever
// --format says: a folder or a tar under that name would pass for what it is not.
Result<repo::RestoreFormat> ChooseFormat(const RestoreFlags& f) {
  if (std::optional<std::string> other = bagit::OtherArchiveExtension(f.dest)) {
    return Status::InvalidArgument(
        "DEST '" + bagit::Printable(f.dest) + "': " + bagit::Printable(*other) +
        " names an archive format restore does not write; it writes a folder (a DEST with no "
        "archive extension), .tar, .tar.gz or .tgz, .zip (rule restore.dest-format)");
  }
  std::optional<repo::RestoreFormat> by_name;
  if (std::optional<bagit::ArchiveFormat> a = bagit::FormatFromName(f.dest)) {
    by_name = *a == bagit::ArchiveFormat::kTar   ? repo::RestoreFormat::kTar
              : *a == bagit::ArchiveFormat::kZip ? repo::RestoreFormat::kZip
                                                 : repo::RestoreFormat::kTgz;
  }
  if (f.format.empty()) return by_name.value_or(repo::RestoreFormat::kDir);
  auto format = repo::ParseRestoreFormat(f.format);
  if (!format) {
    return Status::InvalidArgument("--format " + f.format + ": expected dir, tar, tgz or zip");
  }
  if (by_name && *by_name != *format) {
    return Status::InvalidArgument("--format " + f.format + " disagrees with DEST '" +
                                   bagit::Printable(f.dest) + "', whose extension says " +
                                   std::string(repo::RestoreFormatName(*by_name)) +
                                   ": change one of them");
  }
  return *format;
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

// Prints a failed restore as the verb does and returns its exit code: 1 when some file has no
// good copy or the bag disagrees with itself (Corruption), else 2.
int ReportRestoreError(const Status& s, const RestoreFlags& f, int flushed) {
  // No good copy of some file, a catalog that disagrees with the bag, or a withdrawn version:
  // a problem found.
  const int exit_code =
      ExitWorst(s.IsCorruption() || s.IsWithdrawn() ? kExitProblems : kExitCannotRun, flushed);
  if (f.json) {
    // The error object every verb prints under --json (README), beside restore's "ok".
    nlohmann::json doc = {
        {"ok", false},
        {"error",
         {{"code", CodeName(s.code())}, {"message", s.ToString()}, {"exit_code", exit_code}}}};
    std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cerr << "cairn: " << s.ToString() << "\n";
  return exit_code;
}

// Prints a restore's outcome (--json, or the text lines and the copies skipped on stderr).
void PrintRestored(const repo::RestoreReport& r, const RestoreFlags& f, const Globals& g) {
  if (f.json) {
    std::cout << ReportJson(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return;
  }
  PrintProblemsBySite(r);
  if (g.quiet) return;
  std::cout << "restored " << r.partner << "/" << r.object << "@v" << r.version << " to " << r.dest
            << " (" << repo::RestoreFormatName(r.format) << "): " << r.payload_files
            << " payload files, " << r.payload_bytes << " bytes (" << HumanBytes(r.payload_bytes)
            << "), " << r.tag_files << " tag files\n";
  for (const auto& [site, n] : r.files_from_site) {
    std::cout << "  " << n << " files read from site " << site << "\n";
  }
  if (r.repairs_queued) std::cout << "  " << r.repairs_queued << " repair jobs queued\n";
}

// Names beside `dest` that a restore into it which did not finish (killed) leaves: DEST.partial-
// XXXXXX (a folder being filled) and DEST.tmp-XXXXXX (an archive being written). Named on stderr,
// never removed here: another restore may still be writing one.
void NoteLeftovers(const std::string& dest) {
  const boost::filesystem::path path(dest);
  const std::string name = path.filename().string();
  boost::filesystem::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  boost::system::error_code ec;
  for (boost::filesystem::directory_iterator it(parent, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    for (const std::string prefix : {name + ".partial-", name + ".tmp-"}) {
      if (entry.size() == prefix.size() + 6 && entry.starts_with(prefix)) {
        std::cerr << "cairn: note: " << bagit::Printable(it->path().string())
                  << " is left by a restore into " << bagit::Printable(dest)
                  << " that did not finish (killed?): remove it once no restore is running\n";
      }
    }
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
  req.agent_version = CAIRN_VERSION;

  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::EventsFlushed events;  // the dissemination event, the bad copies met
  auto report = repo::Restore(*repository.value(), req, &events);
  const int flushed = ReportEventsFlushed(events);
  if (!report.ok()) {
    return ReportRestoreError(repo::WithCatalogBehindHint(*repository.value(), report.status(),
                                                          req.partner, req.object, req.version),
                              f, flushed);
  }
  PrintRestored(report.value(), f, g);
  return flushed;
}

// ---- against a server ----

// Fills the parts of `r` only the server knows (the version, where files came from, bad copies
// met, repairs queued) from its X-Cairn-Restore trailer, and checks that the bag received is the
// one it says it sent. `omitted`: bad copies the header only counts; `events_copied`: whether the
// restore's events reached the sites' logs (a server older than the field: true).
Status ApplyServerSummary(const std::string& header, const repo::ReceivedBag& bag,
                          repo::RestoreReport* r, uint64_t* omitted, bool* events_copied) {
  nlohmann::json doc = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("version") || !doc.contains("payload_files") ||
      !doc.contains("payload_bytes") || !doc.contains("tag_files")) {
    return Status::Unavailable(
        "the server did not describe the restore it sent (no X-Cairn-Restore trailer): the bag "
        "cannot be checked against it");
  }
  try {
    const uint64_t files = doc["payload_files"], bytes = doc["payload_bytes"],
                   tags = doc["tag_files"];
    if (files != bag.payload_files || bytes != bag.payload_bytes || tags != bag.tag_files) {
      return Status::Corruption(
          "the bag received holds " + std::to_string(bag.payload_bytes) + " bytes in " +
          std::to_string(bag.payload_files) + " payload files and " +
          std::to_string(bag.tag_files) + " tag files, the server says it sent " +
          std::to_string(bytes) + " bytes in " + std::to_string(files) + " payload files and " +
          std::to_string(tags) + " tag files (rule restore.received-summary)");
    }
    r->version = doc["version"];
    r->payload_files = bag.payload_files;
    r->payload_bytes = bag.payload_bytes;
    r->tag_files = bag.tag_files;
    const nlohmann::json from = doc.value("files_from_site", nlohmann::json::object());
    for (const auto& [site, n] : from.items()) {
      r->files_from_site[site] = n.get<uint64_t>();
    }
    for (const nlohmann::json& p : doc.value("problems", nlohmann::json::array())) {
      repo::CopyProblem problem;
      problem.path = p.value("path", "");
      problem.sha256 = p.value("sha256", "");
      problem.tag_file = p.value("tag_file", false);
      problem.site = p.value("site", "");
      const std::string outcome = p.value("outcome", "");
      problem.outcome = outcome == "missing"       ? repo::CopyOutcome::kMissing
                        : outcome == "unavailable" ? repo::CopyOutcome::kUnavailable
                                                   : repo::CopyOutcome::kCorrupt;
      problem.detail = p.value("detail", "");
      r->problems.push_back(std::move(problem));
    }
    r->repairs_queued = doc.value("repairs_queued", 0u);
    *omitted = doc.value("problems_omitted", uint64_t{0});
    *events_copied = doc.value("events_copied", true);
  } catch (const nlohmann::json::exception& e) {
    return Status::Unavailable(std::string("the server's X-Cairn-Restore trailer is malformed: ") +
                               e.what());
  }
  return Status::OK();
}

// Downloads the bag through a pipe: libcurl writes what arrives into it from a thread of its
// own, the receiver reads it as a tar stream here, so that neither side ever holds more than a
// pipe's and a chunk's worth. The receiver stopping (a bad file) closes the pipe, which abandons
// the transfer.
int RunRestoreRemote(const RestoreFlags& f, const Globals& g) {
  repo::RestoreReport r;
  Status parsed = repo::ParseObjectRef(f.ref, &r.partner, &r.object, &r.version);
  if (!parsed.ok()) return ReportError(parsed);
  if (!f.site.empty()) {
    return ReportError(
        Status::NotSupported("--site against a server: the server chooses the copies to read"));
  }
  auto format = ChooseFormat(f);
  if (!format.ok()) return ReportError(format.status());
  r.format = format.value();
  r.dest = f.dest;
  r.bag_name = r.format == repo::RestoreFormat::kDir
                   ? boost::filesystem::path(f.dest).filename().string()
                   : repo::BagNameForArchive(f.dest);
  const std::string what = "restore " + f.ref;
  auto api = ConnectServer(g);
  if (!api.ok()) return ReportError(api.status());
  // Checks DEST (absent, its parent present) before anything is downloaded.
  auto out = repo::CreateRestoreOutput(f.dest, r.format, r.bag_name);
  if (!out.ok()) return ReportRestoreError(out.status().WithContext(what), f, 0);

  std::string path =
      "/v1/objects/" + client::PercentEncode(r.partner) + "/" + client::PercentEncode(r.object);
  if (r.version) path += "/versions/" + std::to_string(r.version);
  // A failure met after the answer started (no good copy of a file) ends it with the
  // X-Cairn-Error trailer, which GetStream returns, rather than a cut that says only "cut".
  path += "/content?on-error=trailer";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return ReportError(Status::FromErrno(errno, "create", "a pipe"));
  }
  // A larger pipe than the default 64 KiB: fewer switches between the two threads.
  ::fcntl(pipe_fds[0], F_SETPIPE_SZ, 1 << 20);
  Result<client::ApiClient::StreamAnswer> answer = Status::Unavailable("not sent");
  std::map<std::string, std::string> failed_fields;  // a failed answer's headers and trailers
  bool reader_stopped = false;
  std::thread download([&] {
    // The pipe's reader may stop early: a write then fails with EPIPE instead of killing us.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    answer = (*api)->GetStream(
        path,
        [&](std::string_view chunk) -> Status {
          int err = WriteFull(pipe_fds[1], std::as_bytes(std::span(chunk.data(), chunk.size())));
          if (err == EPIPE) reader_stopped = true;
          return err ? Status::FromErrno(err, "write", "the download pipe") : Status::OK();
        },
        &failed_fields);
    ::close(pipe_fds[1]);
  });
  Result<repo::ReceivedBag> bag = Status::Unavailable("nothing received");
  {
    auto reader = bagit::ArchiveReader::OpenStream(pipe_fds[0], "the server's answer");
    if (reader.ok()) {
      bag = repo::ReceiveBag(**reader, **out, "download from " + (*api)->url());
      // What follows the tar's end (padding) is read too: closing the pipe early would cut a
      // transfer that went well.
      if (bag.ok()) {
        char sink[64 * 1024];
        while (::read(pipe_fds[0], sink, sizeof sink) > 0) {
        }
      }
    } else {
      bag = reader.status();
    }
  }
  ::close(pipe_fds[0]);
  download.join();
  // The first cause: a refusal or a cut transfer, unless the receiver stopped it.
  Status failed;
  if (!bag.ok() && reader_stopped) {
    failed = bag.status();
  } else if (!answer.ok()) {
    failed = answer.status();
  } else if (!bag.ok()) {
    failed = bag.status();
  }
  uint64_t omitted = 0;
  bool events_copied = true;
  if (failed.ok()) {
    auto header = answer->headers.find("x-cairn-restore");
    failed = ApplyServerSummary(header == answer->headers.end() ? "" : header->second, *bag, &r,
                                &omitted, &events_copied);
  }
  if (failed.ok()) failed = (*out)->Finish();
  if (!failed.ok()) {
    out->reset();  // removes what was written
    // What the local verb prints of copying the failed restore's events (the bad copies met)
    // before its error, as the server said it beside the error (its X-Cairn-Warnings trailer).
    for (const std::string& w : WarningsOf(failed_fields)) std::cerr << "cairn: " << w << "\n";
    if (failed.code() == Code::kNoSpace) {
      failed =
          Status(Code::kNoSpace, failed.message() + ": " + std::string(repo::kFreeSpaceThenRerun));
    }
    return ReportRestoreError(failed.WithContext(what + " from " + (*api)->url() +
                                                 " (nothing was left at " + f.dest + ")"),
                              f, 0);
  }
  // What the local verb prints of copying its events to the sites' logs (ReportEventsFlushed),
  // as the server said it (its X-Cairn-Warnings trailer), and the exit code that goes with it.
  for (const std::string& w : WarningsOf(answer->headers)) std::cerr << "cairn: " << w << "\n";
  PrintRestored(r, f, g);
  if (omitted && !f.json) {
    std::cerr << "warning: the server met " << omitted << " further bad or unreadable copies\n";
  }
  return events_copied ? kExitOk : kExitProblems;
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
                  "where the bag goes; must not exist: a folder, or an archive named .tar, "
                  ".tar.gz/.tgz or .zip (another archive extension, .rar, .7z, .tar.bz2, ..., "
                  "is refused)")
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
      "     error names the file; rule restore.catalog-disagrees), or the version is\n"
      "     withdrawn (the error names the withdrawal, its date and reason); or the bag is\n"
      "     restored but its dissemination event could not be copied to a site's event log\n"
      "     (\"the new events were not copied: site b: ...\"; locally and through a server)\n"
      "  2  could not run (bad arguments, DEST named as an archive restore does not write\n"
      "     (rule restore.dest-format), unknown object, DEST exists, unsafe catalog entry,\n"
      "     sites unavailable)\n");
  cmd->callback([flags, &g] {
    // "out/box/" names the folder out/box (its parent is out).
    while (flags->dest.size() > 1 && flags->dest.back() == '/') flags->dest.pop_back();
    NoteLeftovers(flags->dest);
    g.exit_code = IsRemote(g) ? RunRestoreRemote(*flags, g) : RunRestore(*flags, g);
  });
}

}  // namespace cairn::cli
