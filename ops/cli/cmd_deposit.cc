// `cairn deposit PARTNER SOURCE [--id OBJECT] [--info "Label: value"]...
// [--no-replicate] [--json]`: stores a folder, a bag folder or a serialized bag
// as the next version of an object and prints the receipt.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/algorithm/string/predicate.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bagit/report.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/stop_signals.h"
#include "ops/cli/verbs.h"
#include "ops/client/deposit_upload.h"
#include "ops/server/json_views.h"
#include "repo/deposit/deposit.h"
#include "repo/lock_wait.h"
#include "repo/site/repository.h"

namespace cairn::cli {
namespace {

struct DepositFlags {
  std::string partner;
  std::string source;
  std::string id;
  std::vector<std::string> info;
  bool no_replicate = false;
  bool as_folder = false;
  bool allow_empty = false;
  bool as_bag = false;
  bool json = false;
  bool progress = false;
  unsigned threads = 0;
  std::optional<uint64_t> index_memory_mib;
};

// Deposit progress on stderr: on a terminal one line rewritten at most ten
// times a second; with --progress (any stderr) a line per 1,000 files and per
// phase, each with the seconds since the start, for logs and benchmarks. A
// remote deposit's upload: a line per part (its files are the server's to count).
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool lines) : lines_(lines) {}

  // Whether a deposit shows its progress: always with --progress, else on a terminal unless
  // its output is --json or -q.
  static bool Wanted(const DepositFlags& f, const Globals& g) {
    return f.progress || (!g.quiet && !f.json && ::isatty(STDERR_FILENO));
  }
  ~ProgressPrinter() {
    if (!lines_ && shown_) std::fputs("\r\033[K", stderr);
  }

  void Show(const repo::DepositProgress& p) {
    using Phase = repo::DepositProgress::Phase;
    if (p.phase == Phase::kEvents) return Mark("events");
    const char* phase = p.phase == Phase::kStore    ? "store"
                        : p.phase == Phase::kCommit ? "commit"
                                                    : "replicate";
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    bool phase_change = p.phase != last_phase_;
    last_phase_ = p.phase;
    if (lines_) {
      if (!phase_change && p.files % 1000 != 0) return;
      std::fprintf(stderr, "progress: %s %llu files %llu bytes %.3f s\n", phase,
                   static_cast<unsigned long long>(p.files),
                   static_cast<unsigned long long>(p.bytes), elapsed);
      return;
    }
    if (!phase_change && elapsed - last_shown_ < 0.1) return;
    last_shown_ = elapsed;
    shown_ = true;
    std::fprintf(stderr, "\r\033[K%s: %llu files, %s, %.1f MB/s", phase,
                 static_cast<unsigned long long>(p.files), HumanBytes(p.bytes).c_str(),
                 elapsed > 0 ? static_cast<double>(p.bytes) / elapsed / 1e6 : 0.0);
    std::fflush(stderr);
  }

  // A remote deposit's upload: the bytes sent and found on the server so far, then "complete"
  // while the server deposits it.
  void ShowUpload(const client::UploadProgress& p) {
    using Phase = client::UploadProgress::Phase;
    if (p.phase == Phase::kComplete) {
      if (shown_) std::fputs("\r\033[K", stderr);
      shown_ = false;
      return Mark("complete");
    }
    const uint64_t bytes = p.sent + p.held;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    if (lines_) {
      std::fprintf(stderr, "progress: upload - files %llu bytes %.3f s\n",
                   static_cast<unsigned long long>(bytes), elapsed);
      return;
    }
    if (elapsed - last_shown_ < 0.1) return;
    last_shown_ = elapsed;
    shown_ = true;
    std::fprintf(stderr, "\r\033[Kupload: %s", HumanBytes(bytes).c_str());
    if (p.total) std::fprintf(stderr, " of %s", HumanBytes(*p.total).c_str());
    if (p.held > 0) std::fprintf(stderr, " (%s already on the server)", HumanBytes(p.held).c_str());
    std::fflush(stderr);
  }

  // A phase without files: "events" (the library's last), "complete", "done".
  void Mark(const char* phase) {
    if (!lines_) return;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    std::fprintf(stderr, "progress: %s - files - bytes %.3f s\n", phase, elapsed);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool lines_;
  Clock::time_point start_ = Clock::now();
  repo::DepositProgress::Phase last_phase_ = repo::DepositProgress::Phase::kStore;
  double last_shown_ = -1;
  bool shown_ = false;
};

// A folder with a bagit.txt in it (read as a bag unless --as-folder).
bool FolderWithBagitTxt(const std::string& source) {
  struct stat st;
  return ::stat(source.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         ::lstat((source + "/bagit.txt").c_str(), &st) == 0;
}

// --as-bag: the source must be a bag (a folder with bagit.txt, or an archive).
Status CheckAsFlags(const DepositFlags& f) {
  if (f.as_bag && f.as_folder) {
    return Status::InvalidArgument("--as-bag and --as-folder exclude each other");
  }
  struct stat st;
  if (f.as_bag && ::stat(f.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
      !FolderWithBagitTxt(f.source)) {
    return Status::InvalidArgument("--as-bag: " + bagit::Printable(f.source) +
                                   " is a folder without bagit.txt, not a bag (leave out "
                                   "--as-bag to have Cairn bag it)");
  }
  return Status::OK();
}

// What the text output says after the findings, locally and against a server alike: the
// refusal (with the hint for a folder read as a bag), or the receipt and the copies still
// pending. Returns the exit code.
// `not_a_bag`: the refusal says the source is no bag at all (no payload manifest, or no data/),
// rather than a bag with errors of its own; only then is --as-folder offered for a folder that
// holds a bagit.txt (offered for a broken bag, it stored the broken bag as plain files).
// `interrupted`: a signal stopped the copies to the other sites once the version was stored.
int PrintDepositEnd(const DepositFlags& f, const Globals& g, bool refused, uint64_t errors,
                    bool not_a_bag, const repo::Receipt* receipt, uint64_t pending,
                    bool interrupted = false) {
  if (refused) {
    std::cerr << "cairn: deposit of " << f.source << " refused: " << errors
              << (errors == 1 ? " error" : " errors") << "; nothing was stored\n";
    if (!f.as_bag && not_a_bag && FolderWithBagitTxt(f.source)) {
      std::cerr << "cairn: " << bagit::Printable(f.source)
                << " holds a bagit.txt, so it was read as a bag; if it is a plain folder, "
                   "deposit it as plain files (bagit.txt included) with --as-folder\n";
    }
    return kExitProblems;
  }
  if (!g.quiet) std::cout << receipt->ToText();
  if (interrupted && pending > 0) {
    std::string sites;
    for (const repo::SiteCopies& c : receipt->copies) {
      if (c.pending > 0) sites += (sites.empty() ? "" : ", ") + c.site;
    }
    std::cerr << "cairn: deposit interrupted by " << StopSignalName() << ": version "
              << receipt->version << " of " << f.partner << "/" << receipt->object
              << " is stored on site " << receipt->first_site << "; " << pending
              << " of its copies to site" << (sites.find(',') == std::string::npos ? " " : "s ")
              << sites
              << " were not made yet (queued): cairn replicate makes them, and so does the "
                 "daemon\n";
    return kExitProblems;
  }
  if (pending > 0) {
    // Who makes them is the receipt's to say against a server (the commands are its operator's).
    std::cerr << "cairn: " << f.partner << "/" << receipt->object << " v" << receipt->version
              << " is stored on site " << receipt->first_site << ", but " << pending
              << " copies the policy demands are still pending ("
              << (IsRemote(g) ? "queued on the server"
                              : "queued; cairn replicate retries them, and so does the daemon")
              << "):\n";
    for (const std::string& w : receipt->warnings) std::cerr << "  " << w << "\n";
  }
  return pending > 0 ? kExitProblems : kExitOk;
}

// The findings of a deposit's report (Report::ToJson) on stderr, as the local verb prints them.
// A folder's upload leaves out what the server says of the tar the client made of it: an NFD
// name, read back in NFC, taken under its manifest's name (archive.name-normalized) is this
// client's doing, not the depositor's.
void PrintReportFindings(const nlohmann::json& report, const Globals& g, bool sent_a_folder) {
  auto print = [&](const char* list, const char* prefix) {
    for (const nlohmann::json& x : report.value(list, nlohmann::json::array())) {
      if (sent_a_folder && x.value("rule", "") == "archive.name-normalized") continue;
      const std::string file = x.value("file", "");
      const int line = x.value("line", 0);
      std::cerr << prefix << (file.empty() ? std::string("<bag>") : bagit::Printable(file))
                << (line ? ":" + std::to_string(line) : "") << ": " << x.value("rule", "") << ": "
                << x.value("message", "") << "\n";
    }
  };
  print("errors", "error: ");
  if (!g.quiet) print("warnings", "warning: ");
}

// The server names what it deposited as the tar or archive it received ("serialized bag",
// "upload ID", the report's bag "upload"); the receipt and the report say what the depositor
// gave, as a local deposit's do ("folder PATH", "bag PATH"), the upload's id kept in the
// receipt's "upload" (the events of the deposit name it).
// The server's "archive upload" (its name for the spool file it received) as the archive the
// depositor gave: "archive cut.tgz: member ...".
std::string ArchiveAsGiven(const DepositFlags& f, std::string text) {
  static constexpr std::string_view kUpload = "archive upload";
  const std::string given = "archive " + f.source;
  for (size_t at = 0; (at = text.find(kUpload, at)) != std::string::npos; at += given.size()) {
    text.replace(at, kUpload.size(), given);
  }
  return text;
}

void LabelAsGiven(const DepositFlags& f, nlohmann::json& body) {
  if (body.contains("report") && body["report"].is_object()) {
    for (const char* list : {"errors", "warnings"}) {
      if (!body["report"].contains(list) || !body["report"][list].is_array()) continue;
      for (nlohmann::json& x : body["report"][list]) {
        if (x.is_object() && x.contains("message") && x["message"].is_string()) {
          x["message"] = ArchiveAsGiven(f, x["message"].get<std::string>());
        }
      }
    }
  }
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(f.source, ec);
  const std::string kind = !folder
                               ? "serialized bag"
                               : (f.as_folder || !FolderWithBagitTxt(f.source) ? "folder" : "bag");
  if (body.contains("report") && body["report"].is_object() &&
      body["report"].value("bag", "") == "upload") {
    body["report"]["bag"] = f.source;
  }
  if (!body.contains("receipt") || !body["receipt"].is_object()) return;
  nlohmann::json& receipt = body["receipt"];
  const std::string source = receipt.value("source", "");
  if (source.rfind("upload ", 0) != 0) return;
  receipt["upload"] = source.substr(7);
  receipt["source"] = f.source;
  receipt["source_kind"] = kind;
}

// `cairn deposit` against a server: the source streamed (client::UploadDeposit); the server's
// answer is the document `deposit --json` prints, and the text output is printed from it.
// A plain folder (or --as-folder) is sent as a bag made on the fly, with --info in its
// bag-info.txt. --no-replicate, --threads and --index-memory are not offered remotely.
int RunDepositRemote(const DepositFlags& f, const Globals& g) {
  if (f.no_replicate || f.threads != 0 || f.index_memory_mib) {
    return ReportError(Status::NotSupported(
        "--no-replicate, --threads and --index-memory are not offered by the server"));
  }
  client::UploadOptions upload;
  upload.as_folder = f.as_folder;
  // First SIGINT/SIGTERM: no other part is sent nor the upload completed ("interrupted: nothing
  // was stored", the same command resumes it); a second one ends it at once.
  upload.cancel = StopOnSignals();
  upload.software_agent = std::string("Cairn ") + CAIRN_VERSION;
  for (const std::string& arg : f.info) {
    Result<bagit::InfoField> field = bagit::ParseInfoArgument(arg);
    if (!field.ok()) return ReportError(field.status());
    upload.info.push_back(std::move(*field));
  }
  std::string object = f.id;
  if (object.empty()) {
    Result<std::string> from_name = repo::ObjectIdFromSource(f.source);
    if (!from_name.ok()) return ReportError(from_name.status());
    object = *from_name;
  }
  std::error_code dir_ec;
  if (std::filesystem::is_directory(f.source, dir_ec) &&
      (f.as_folder || !FolderWithBagitTxt(f.source))) {
    // Refused here as a local deposit refuses it, one finding per bad name and nothing sent:
    // sent, a name that is not UTF-8 came back from the server as a cascade of errors about
    // other files (and an upload of the whole folder first).
    const bagit::Report checked = repo::CheckSourceFolder(f.source, f.allow_empty);
    if (!checked.valid()) {
      const nlohmann::json report = checked.ToJson();
      if (f.json) {
        PrintJson({{"stored", false}, {"report", report}});
        return kExitProblems;
      }
      PrintReportFindings(report, g, /*sent_a_folder=*/false);
      return PrintDepositEnd(f, g, true, report.value("error_count", uint64_t{0}), false, nullptr,
                             0);
    }
  }
  std::optional<ProgressPrinter> printer;
  if (ProgressPrinter::Wanted(f, g)) {
    printer.emplace(f.progress);
    upload.progress = [&printer](const client::UploadProgress& p) { printer->ShowUpload(p); };
  }
  auto api = ConnectServer(g);
  if (!api.ok()) return ReportError(api.status());
  auto answer = client::UploadDeposit(**api, f.partner, object, f.source, upload);
  if (printer && answer.ok()) printer->Mark("done");
  printer.reset();  // clears the terminal line before the receipt or the error
  if (!answer.ok()) {
    const Status& failed = answer.status();
    return ReportError(Status(failed.code(), ArchiveAsGiven(f, failed.message()))
                           .SetRetryable(failed.retryable())
                           .WithContext("deposit " + f.source));
  }
  LabelAsGiven(f, answer->body);
  // What the local verb prints of copying the new events to the sites' logs
  // (ReportEventsFlushed), as the server said it, and the exit code that goes with it.
  for (const std::string& w : WarningsOf(answer->headers)) std::cerr << "cairn: " << w << "\n";
  const int flushed = answer->body.value("events_copied", true) ? kExitOk : kExitProblems;
  const bool stored = answer->body.value("stored", false);
  const nlohmann::json report = answer->body.value("report", nlohmann::json::object());
  std::optional<repo::Receipt> receipt;
  uint64_t pending = 0;
  if (stored) {
    Result<repo::Receipt> parsed =
        repo::Receipt::FromJson(answer->body.value("receipt", nlohmann::json::object()));
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("the server's answer"));
    receipt = std::move(*parsed);
    for (const repo::SiteCopies& c : receipt->copies) pending += c.pending;
  }
  if (f.json) {
    PrintJson(answer->body);
    return ExitWorst(!stored || pending > 0 ? kExitProblems : kExitOk, flushed);
  }
  std::error_code ec;
  PrintReportFindings(report, g, std::filesystem::is_directory(f.source, ec));
  bool not_a_bag = false;
  for (const nlohmann::json& x : report.value("errors", nlohmann::json::array())) {
    const std::string rule = x.value("rule", "");
    not_a_bag = not_a_bag || rule == "bag.no-manifest" || rule == "bag.data-missing";
  }
  const int code = PrintDepositEnd(f, g, !stored, report.value("error_count", uint64_t{0}),
                                   not_a_bag, receipt ? &*receipt : nullptr, pending);
  return stored ? ExitWorst(code, flushed) : code;
}

int RunDeposit(const DepositFlags& f, const Globals& g) {
  Status as = CheckAsFlags(f);
  if (!as.ok()) return ReportError(as);
  if (IsRemote(g)) return RunDepositRemote(f, g);
  Result<std::string> root = RepoPath(g);
  if (!root.ok()) return ReportError(root.status());
  auto repository = repo::Repository::Open(*root);
  if (!repository.ok()) return ReportError(repository.status());
  // An unknown partner is a command that could not run (exit 2), not a bag to refuse.
  Status partner = (*repository)->catalog().GetPartner(f.partner).status();
  if (partner.IsNotFound()) {
    std::string advice = " (add it first: cairn partner add " + f.partner + ")";
    if (auto partners = (*repository)->catalog().ListPartners(); partners.ok()) {
      for (const repo::PartnerRecord& p : *partners) {
        if (boost::algorithm::iequals(p.id, f.partner)) {
          advice = " (partner ids are case-sensitive: did you mean " + p.id + "?)";
        }
      }
    }
    return ReportError(
        Status::NotFound("deposit " + f.source + ": no partner " + f.partner + advice));
  }
  if (!partner.ok()) return ReportError(partner.WithContext("deposit " + f.source));
  repo::DepositRequest request;
  request.partner = f.partner;
  request.source = f.source;
  request.object_id = f.id;
  request.info = f.info;
  request.replicate = !f.no_replicate;
  request.as_folder = f.as_folder;
  request.allow_empty = f.allow_empty;
  request.threads = f.threads;
  if (f.index_memory_mib) request.manifest_memory_bytes = *f.index_memory_mib << 20;
  request.agent_version = CAIRN_VERSION;
  std::optional<ProgressPrinter> printer;
  if (ProgressPrinter::Wanted(f, g)) {
    printer.emplace(f.progress);
    request.progress = [&printer](const repo::DepositProgress& p) { printer->Show(p); };
  }
  // First SIGINT/SIGTERM: the deposit stops at its next safe point and says what was stored
  // (a wait for a lock ends too); a second one ends it at once.
  request.cancel = StopOnSignals();
  repo::SetLockWaitCancel(request.cancel);
  Result<repo::DepositOutcome> outcome = repo::Deposit(**repository, request);
  if (!outcome.ok()) return ReportError(outcome.status().WithContext("deposit " + f.source));
  // The new events went to every site's log; a site that is down catches up later.
  const int flushed = ReportEventsFlushed(outcome->events);
  if (printer) printer->Mark("done");
  printer.reset();  // clears the terminal line before the receipt
  const bagit::Report& report = outcome->report;
  // Stored, but short of the copies the policy demands although they were asked
  // for: a site refused or could not be reached. The deposit is safe on its first
  // site; the exit code says the work is not finished.
  uint64_t pending = 0;
  if (outcome->receipt && !f.no_replicate) {
    for (const repo::SiteCopies& c : outcome->receipt->copies) pending += c.pending;
  }
  const int stored_code = pending > 0 ? kExitProblems : kExitOk;
  if (f.json) {
    PrintJson(views::DepositJson(*outcome));
    return ExitWorst(outcome->refused ? kExitProblems : stored_code, flushed);
  }
  for (const bagit::Finding& finding : report.findings()) {
    if (finding.severity == bagit::Severity::kError) {
      std::cerr << "error: " << finding.ToString() << "\n";
    } else if (!g.quiet) {
      std::cerr << "warning: " << finding.ToString() << "\n";
    }
  }
  const int code = PrintDepositEnd(f, g, outcome->refused, report.error_count(),
                                   report.Has("bag.no-manifest") || report.Has("bag.data-missing"),
                                   outcome->receipt ? &*outcome->receipt : nullptr, pending,
                                   outcome->interrupted);
  return outcome->refused ? code : ExitWorst(stored_code, flushed);
}

}  // namespace

void RegisterDeposit(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<DepositFlags>();
  CLI::App* cmd = app.add_subcommand(
      "deposit",
      "store a folder, a bag folder or a serialized bag (.tar, .tar.gz, .tgz, .zip) "
      "as the next version of a partner's object");
  cmd->add_option("PARTNER", flags->partner, "the depositing partner's id")->required();
  cmd->add_option("SOURCE", flags->source, "folder, bag folder or serialized bag")->required();
  cmd->add_option("--id", flags->id, "object id (default: the source's name)")
      ->check([](const std::string& id) -> std::string {
        return id.empty() ? "--id needs a non-empty object id" : "";
      });
  cmd->add_option("--info", flags->info,
                  "\"Label: value\" for bag-info.txt (folder sources; repeatable)")
      ->allow_extra_args(false);  // one value per --info, wherever it stands
  cmd->add_flag("--as-folder", flags->as_folder,
                "SOURCE is a plain folder even if it holds a bagit.txt: bag it, bagit.txt "
                "included as a payload file");
  cmd->add_flag("--allow-empty", flags->allow_empty,
                "store a plain folder that holds no file as an empty version (refused without it: "
                "source.empty, e.g. a share's mount point when the share is not mounted)");
  cmd->add_flag("--as-bag", flags->as_bag,
                "SOURCE is a bag (a folder with bagit.txt, or an archive): refuse a plain folder");
  cmd->add_flag("--no-replicate", flags->no_replicate,
                "leave the copies to other sites queued (cairn replicate)");
  cmd->add_flag("--json", flags->json, "print the receipt (or the refusal) as JSON");
  cmd->add_flag("--progress", flags->progress,
                "print progress lines on stderr (files, bytes, seconds) even when not a terminal; "
                "against a server, a line per part uploaded");
  cmd->add_option("--threads", flags->threads, "payload workers (default: two per core, 4 to 16)");
  cmd->add_option("--index-memory", flags->index_memory_mib,
                  "MiB the index of the bag's manifests may take in memory (default 32); a "
                  "larger index, or any with 0, is kept in a scratch file on disk")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 20));
  cmd->footer(
      "Exit codes: 0 stored with every copy the policy demands (or --no-replicate); 1 refused\n"
      "(invalid bag, policy or profile violation, unreadable or special file, a path below\n"
      "SOURCE past PATH_MAX (source.path-too-long), hostile archive: nothing stored), or\n"
      "stored but with copies still pending because a site refused or could not be reached\n"
      "(the reason is printed; they stay queued), or its new events not copied to a site's\n"
      "event log (named; --json: events_copied false); 2 could not run (no repository, unknown\n"
      "partner, source missing or its own path past PATH_MAX, the first site unreachable or\n"
      "refusing writes); interrupted (SIGINT, SIGTERM) before the version was stored: nothing\n"
      "stored, 2; after it, with copies to other sites not made yet: 1 (they stay queued).\n"
      "A second signal ends it at once.\n");
  cmd->callback([flags, &g] { g.exit_code = RunDeposit(*flags, g); });
}

}  // namespace cairn::cli
