// RunAudit: picks the copies, runs one worker per site (a lock file per site
// keeps two sweeps off the same site), checks, repairs and records.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <unordered_set>

#include "audit/audit_internal.h"
#include "audit/catalog_rows.h"
#include "audit/event_segments.h"
#include "audit/orphans.h"
#include "policies/policy.h"
#include "repo/crash_point.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/lock_wait.h"
#include "repo/site/repository_layout.h"
#include "repo/site_layout.h"

namespace cairn::audit {
namespace {

using internal::Candidate;
using internal::Outcome;
using repo::ReplicaState;

constexpr int kUnavailableInARow = 3;  // then the rest of the site is skipped
// Memory maps of the sweep's reader connections (writers have none: SCHEMA.md).
constexpr int64_t kPickMmapBytes = int64_t{1} << 30;      // the pick and the --all passes
constexpr int64_t kWorkerMmapBytes = int64_t{256} << 20;  // each worker's name lookups

// True when `site` still answers: its CAIRN-SITE marker reads. A copy that
// cannot be read on a site that answers is that copy's problem (bad
// sectors), not an outage of the site.
bool SiteMarkerReads(repo::Site& site) { return site.ReadAll(repo::layout::kSiteMarkerKey).ok(); }

// An exclusive, non-blocking flock on ROOT/audit-<site>.lock (with its
// holder record, repo/lock_wait.h): Unavailable when another sweep holds it;
// any other error is a lock file that cannot be opened (never called busy).
Result<repo::FileLock> TrySiteLock(const repo::Repository& repo, const std::string& site) {
  return repo::TryFileLock(repo::repo_layout::AuditLockPath(repo.root(), site), LOCK_EX,
                           repo.FileMode());
}

class Sweep {
 public:
  Sweep(repo::Repository& repo, const AuditOptions& options, internal::BatchWriter& writer,
        AuditReport& report, std::unordered_set<int64_t> planned)
      : repo_(repo),
        options_(options),
        writer_(writer),
        report_(report),
        planned_(std::move(planned)) {}

  // Checks every candidate of one site, in order.
  Status RunSite(const std::string& site, const std::vector<const Candidate*>& copies);

 private:
  bool ShouldStop();
  int64_t IntervalMicros(const std::string& partner);
  // Counts `deltas` for `site` and keeps `f` (if it names a site) in the
  // report and, for the BatchWriter, in `durable`.
  void AddFinding(const std::string& site, Finding f, const AuditReport& deltas,
                  std::vector<Finding>* durable = nullptr);
  Status CheckOne(repo::Site& site, repo::Catalog::Reader& reader, const Candidate& copy,
                  RateLimiter& limiter, std::string* unavailable_why);
  // A copy that could not be read while its site answers: counted, backed
  // off, and after kReadsBeforeUnreadable sweeps in a row given up on
  // (`unreadable`) and repaired.
  Status CopyUnreadable(repo::Catalog::Reader& reader, const Candidate& copy,
                        const std::string& why);
  // How a bad copy's row is written when it is not repaired.
  struct BadCopy {
    ReplicaState state = ReplicaState::kCorrupt;
    int64_t retry_at = 0;  // next_due
    int64_t read_failures = 0;
  };
  // Repairs `copy` (unless options_.repair is off) and records the finding
  // `f`, the counts `d` and `events` with the row: ok when repaired, else `bad`.
  Status RepairBad(repo::Catalog::Reader& reader, const Candidate& copy, const BadCopy& bad,
                   Finding f, AuditReport d, std::vector<proto::Event> events);
  Status SiteUnavailable(const std::string& site, const std::string& why,
                         const std::vector<const Candidate*>& copies, size_t from);

  repo::Repository& repo_;
  const AuditOptions& options_;
  internal::BatchWriter& writer_;
  AuditReport& report_;
  const std::unordered_set<int64_t> planned_;  // replica ids this sweep checks
  std::mutex mu_;                              // report_, intervals_
  std::map<std::string, int64_t> intervals_;
  std::atomic<bool> cut_short_{false};  // a check was cancelled mid-copy
  internal::DownSites down_sites_;      // not read again as repair sources in this sweep
};

bool Sweep::ShouldStop() { return options_.cancel && options_.cancel->load(); }

int64_t Sweep::IntervalMicros(const std::string& partner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = intervals_.find(partner);
  if (it != intervals_.end()) return it->second;
  int64_t micros = int64_t{repo_.catalog().FixityIntervalDays(partner)} * repo::kMicrosPerDay;
  intervals_[partner] = micros;
  return micros;
}

void Sweep::AddFinding(const std::string& site, Finding f, const AuditReport& d,
                       std::vector<Finding>* durable) {
  std::lock_guard<std::mutex> lock(mu_);
  internal::CountInto(report_, site, d);
  if (!f.site.empty()) {
    if (durable) durable->push_back(f);
    report_.findings.push_back(std::move(f));
  }
  if (options_.progress) {
    AuditProgress p;
    p.planned = report_.planned;
    p.checked = report_.checked + report_.unavailable + report_.unreadable;
    p.bytes = report_.bytes;
    p.problems = report_.corrupt + report_.missing + report_.unavailable + report_.unreadable;
    options_.progress(p);
  }
}

Status Sweep::CheckOne(repo::Site& site, repo::Catalog::Reader& reader, const Candidate& copy,
                       RateLimiter& limiter, std::string* unavailable_why) {
  internal::CheckResult check = internal::CheckCopy(site, copy, &limiter);
  unavailable_why->clear();
  if (check.outcome == Outcome::kStopped) {
    // Cut short: the run is interrupted even when this was the last copy taken
    // (the worker loop then ends without asking ShouldStop again).
    cut_short_ = true;
    return Status::OK();
  }
  int64_t now = repo_.clock().NowMicros();
  AuditReport d;
  std::vector<internal::ReplicaUpdate> updates;
  std::vector<proto::Event> events;
  std::vector<Finding> found;
  unavailable_why->clear();
  if (check.outcome == Outcome::kUnavailable && SiteMarkerReads(site)) {
    return CopyUnreadable(reader, copy, check.detail);
  }
  if (check.outcome == Outcome::kUnavailable) {
    *unavailable_why = check.detail;
    d.unavailable = 1;
    AddFinding(copy.site,
               internal::MakeFinding(FindingKind::kUnavailable, copy, copy.site, check.detail), d,
               &found);
    // The row stays as it was: due, retried by a later sweep.
    return writer_.Add({}, std::move(found), {}, d);
  }
  d.checked = 1;
  d.bytes = check.bytes;
  if (check.outcome == Outcome::kOk) {
    d.ok = 1;
    updates.push_back(
        {copy.replica_id, ReplicaState::kOk, now, now + IntervalMicros(copy.partner), ""});
    events.push_back(
        internal::CopyEvent(repo::kFixityCheck, copy, "success",
                            "copy verified (" + std::to_string(check.bytes) + " bytes)", options_));
    AddFinding(copy.site, {}, d);
    return writer_.Add(std::move(updates), {}, std::move(events), d);
  }
  bool missing = check.outcome == Outcome::kMissing;
  (missing ? d.missing : d.corrupt) = 1;
  Finding f = internal::MakeFinding(missing ? FindingKind::kMissing : FindingKind::kCorrupt, copy,
                                    copy.site, check.detail);
  events.push_back(internal::CopyEvent(
      repo::kFixityCheck, copy, "failure",
      std::string(missing ? "missing: " : "corrupt: ") + check.detail, options_));
  BadCopy bad;
  bad.state = missing ? ReplicaState::kMissing : ReplicaState::kCorrupt;
  bad.retry_at = now;
  return RepairBad(reader, copy, bad, std::move(f), d, std::move(events));
}

Status Sweep::CopyUnreadable(repo::Catalog::Reader& reader, const Candidate& copy,
                             const std::string& why) {
  const int64_t now = repo_.clock().NowMicros();
  const int64_t failures = copy.read_failures + 1;
  const int64_t backoff =
      std::min(IntervalMicros(copy.partner),
               internal::kUnreadableBackoffMicros << std::min<int64_t>(failures - 1, 16));
  AuditReport d;
  d.unreadable = 1;
  Finding f =
      internal::MakeFinding(FindingKind::kUnreadable, copy, copy.site,
                            "this copy could not be read (" + std::to_string(failures) + " sweep" +
                                (failures == 1 ? "" : "s") + " in a row) while site " + copy.site +
                                " reads fine: " + why);
  std::vector<proto::Event> events;
  if (failures < internal::kReadsBeforeUnreadable) {
    f.detail += "; still counted, read again later; after " +
                std::to_string(internal::kReadsBeforeUnreadable) +
                " failed sweeps it is no longer counted and is repaired";
    events.push_back(internal::CopyEvent(repo::kFixityCheck, copy, "warning",
                                         "unreadable: " + f.detail, options_));
    internal::ReplicaUpdate u{copy.replica_id, ReplicaState::kOk, -1, now + backoff, f.detail};
    u.read_failures = failures;
    u.keep_state = true;  // an ok copy stays counted until given up on
    std::vector<Finding> found;
    AddFinding(copy.site, std::move(f), d, &found);
    return writer_.Add({std::move(u)}, std::move(found), std::move(events), d);
  }
  f.detail += "; no longer counted as a copy";
  events.push_back(internal::CopyEvent(repo::kFixityCheck, copy, "failure",
                                       "unreadable: " + f.detail, options_));
  BadCopy bad;
  bad.state = ReplicaState::kUnreadable;
  bad.retry_at = now + backoff;
  bad.read_failures = failures;
  return RepairBad(reader, copy, bad, std::move(f), d, std::move(events));
}

Status Sweep::RepairBad(repo::Catalog::Reader& reader, const Candidate& copy, const BadCopy& bad,
                        Finding f, AuditReport d, std::vector<proto::Event> events) {
  std::vector<internal::ReplicaUpdate> updates;
  std::vector<Finding> found;
  auto bad_row = [&](const std::string& detail) {
    internal::ReplicaUpdate u{copy.replica_id, bad.state, -1, bad.retry_at, detail};
    u.read_failures = bad.read_failures;
    return u;
  };
  if (!options_.repair) {
    updates.push_back(bad_row(f.detail));
  } else {
    // Noted first: a run killed once the site is touched leaves the repair to settle.
    CAIRN_RETURN_IF_ERROR(writer_.BeginRepair(copy, f));
    internal::RepairResult repair = RepairCopy(repo_, reader, copy, &down_sites_);
    repo::CrashPoint("audit.repair-done");
    // Other bad copies met while repairing: counted here only when this
    // sweep does not check them itself (no double counts).
    for (size_t i = 0; i < repair.other_updates.size(); ++i) {
      if (!planned_.count(repair.other_updates[i].replica_id)) {
        AuditReport od;
        Finding& other = repair.other_findings[i];
        bool other_missing = other.kind == FindingKind::kMissing;
        (other_missing ? od.missing : od.corrupt) = 1;
        std::string other_site = other.site;
        // A finding of this sweep: a PREMIS fixity-check failure too.
        Candidate other_copy = copy;
        other_copy.site = other_site;
        other_copy.replica_id = repair.other_updates[i].replica_id;
        events.push_back(internal::CopyEvent(
            repo::kFixityCheck, other_copy, "failure",
            std::string(other_missing ? "missing: " : "corrupt: ") + other.detail, options_));
        AddFinding(other_site, std::move(other), od, &found);
      }
      updates.push_back(std::move(repair.other_updates[i]));
    }
    if (repair.repaired) {
      d.repaired = 1;
      f.repaired = true;
      f.repaired_from = repair.from_site;
      int64_t done = repo_.clock().NowMicros();
      updates.push_back(
          {copy.replica_id, ReplicaState::kOk, done, done + IntervalMicros(copy.partner), ""});
      updates.back().ends_repair = true;
      updates.back().repaired_from = repair.from_site;
      events.push_back(
          internal::CopyEvent(repo::kRecovery, copy, "success", repair.detail, options_));
    } else {
      if (repair.damaged) d.damaged = 1;
      if (repair.damaged) f.kind = FindingKind::kDamaged;
      updates.push_back(bad_row(repair.detail));
      updates.back().ends_repair = true;
      events.push_back(
          internal::CopyEvent(repo::kRecovery, copy, "failure", repair.detail, options_));
    }
    f.detail += "; " + repair.detail;
  }
  AddFinding(copy.site, std::move(f), d, &found);
  return writer_.Add(std::move(updates), std::move(found), std::move(events), d);
}

Status Sweep::SiteUnavailable(const std::string& site, const std::string& why,
                              const std::vector<const Candidate*>& copies, size_t from) {
  down_sites_.Add(site);
  Result<std::unique_ptr<repo::Catalog::Reader>> namer = repo_.catalog().OpenReader(0);
  std::vector<Finding> found;
  for (size_t i = from; i < copies.size(); ++i) {
    Candidate c = *copies[i];
    if (namer.ok()) (void)(*namer)->NameCopy(c);  // best effort: the digest names it anyway
    AuditReport d;
    d.unavailable = 1;
    AddFinding(c.site,
               internal::MakeFinding(FindingKind::kUnavailable, c, c.site, "not checked: " + why),
               d, &found);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    report_.unavailable_sites.push_back(site + ": " + why);
  }
  Candidate any;
  any.site = site;
  const size_t left = copies.size() - from;
  proto::Event event = internal::CopyEvent(
      repo::kFixityCheck, any, "warning",
      left == 0 ? "site could not be read (none of its copies was due; retried by a later sweep, "
                  "not corruption): " +
                      why
                : "site could not be read, " + std::to_string(left) +
                      " copies not checked (retried by a later sweep, not corruption): " + why,
      options_);
  event.set_detail(event.detail().substr(event.detail().find(": ") + 2));
  AuditReport d;
  d.unavailable = copies.size() - from;
  return writer_.Add({}, std::move(found), {event}, d);
}

Status Sweep::RunSite(const std::string& site, const std::vector<const Candidate*>& copies) {
  Result<repo::FileLock> lock = TrySiteLock(repo_, site);
  if (!lock.ok() && lock.status().code() != Code::kUnavailable) return lock.status();
  if (!lock.ok()) {
    std::lock_guard<std::mutex> guard(mu_);
    report_.busy_sites.push_back(site);
    return Status::OK();
  }
  Result<repo::Site*> opened = repo_.OpenSite(site);
  if (!opened.ok()) return SiteUnavailable(site, opened.status().ToString(), copies, 0);
  auto sleep = options_.sleep ? options_.sleep : [](int64_t micros) {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  };
  RateLimiter limiter(options_.rate_bytes_per_sec, repo_.clock(), sleep, options_.cancel);
  // Workers take copies in order; kUnavailableInARow copies in a row (across
  // workers) that could not be read while the site's marker could not be
  // read either mark the site down and the rest is not tried. A copy that
  // cannot be read on a site that answers is that copy's finding (unreadable)
  // and does not count here.
  std::mutex take_mu;
  size_t next = 0;
  int in_a_row = 0;
  bool down = false, stopped = false;
  std::string down_why;
  Status first_error;
  auto work = [&] {
    // Names are looked up in pages of blobs and files that the sweep never
    // writes: read through a memory map, not a pread() per page.
    Result<std::unique_ptr<repo::Catalog::Reader>> reader =
        repo_.catalog().OpenReader(kWorkerMmapBytes);
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> guard(take_mu);
        if (!reader.ok() && first_error.ok()) first_error = reader.status();
        if (down || stopped || !first_error.ok() || next >= copies.size()) return;
        if (ShouldStop()) {
          stopped = true;
          return;
        }
        i = next++;
      }
      std::string why;
      Candidate named = *copies[i];
      Status s = (*reader)->NameCopy(named);
      if (s.IsNotFound()) {
        s = Status::OK();  // no blobs row: nothing to compare with (never picked before either)
      } else if (s.ok()) {
        s = CheckOne(**opened, **reader, named, limiter, &why);
      }
      std::lock_guard<std::mutex> guard(take_mu);
      if (!s.ok() && first_error.ok()) first_error = s;
      in_a_row = why.empty() ? 0 : in_a_row + 1;
      if (in_a_row >= kUnavailableInARow && !down) {
        down = true;
        down_why = why;
      }
    }
  };
  unsigned workers = options_.workers_per_site ? options_.workers_per_site
                                               : std::max(1u, std::thread::hardware_concurrency());
  workers = static_cast<unsigned>(std::min<size_t>(workers, std::max<size_t>(copies.size(), 1)));
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  CAIRN_RETURN_IF_ERROR(first_error);
  if (stopped || cut_short_.load()) {
    std::lock_guard<std::mutex> guard(mu_);
    report_.stopped = true;
    return Status::OK();
  }
  if (down) return SiteUnavailable(site, down_why, copies, next);
  return Status::OK();
}

}  // namespace

Result<AuditReport> RunAudit(repo::Repository& repo, const AuditOptions& options) {
  // Repairs, events and replica states are writes: the writers' lock (shared with other
  // writers, kept out while gc or a rebuild holds it alone).
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<repo::Repository::WriterLock> lock, repo.LockForWriting());
  if (!options.scope.object.empty() && options.scope.partner.empty()) {
    return Status::InvalidArgument("an object scope needs its partner (--object PARTNER/OBJECT)");
  }
  if (!options.scope.site.empty())
    CAIRN_RETURN_IF_ERROR(repo.catalog().GetSite(options.scope.site).status());
  if (!options.scope.partner.empty()) {
    CAIRN_RETURN_IF_ERROR(repo.catalog().GetPartner(options.scope.partner).status());
  }
  if (!options.scope.object.empty()) {  // NotFound "no object P/O", not an empty sweep
    CAIRN_RETURN_IF_ERROR(
        repo.catalog()
            .GetVersion(options.scope.partner, options.scope.object, std::nullopt, false)
            .status());
  }
  CAIRN_ASSIGN_OR_RETURN(Sample sample, ParseSample(options.sample));
  // A catalog put back from a backup: a site's event log runs past it. A sweep would record its
  // checks and repairs as events under numbers the sites' logs hold for others, and the rebuild
  // that catches the catalog up would drop them without a word: refused before anything is
  // read. (A sweep that leaves the sites' logs alone, flush_events off, does not read them.)
  if (options.flush_events) {
    Status ahead = repo::FirstSiteLogAheadOfCatalog(repo, "", /*runs_past_only=*/true);
    if (!ahead.ok()) {
      return Status::InvalidArgument("audit refused, nothing checked: " + ahead.message());
    }
  }
  AuditOptions opts = options;
  opts.user = repo::EventUser(opts.user);
  AuditReport report;
  report.started_micros = repo.clock().NowMicros();
  // Reading a large catalog through a memory map saves a system call per
  // page; the writes go through a connection of their own, without one.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<repo::Catalog::Reader> reader,
                         repo.catalog().OpenReader(kPickMmapBytes));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<repo::Catalog::AuditRecorder> recorder,
                         repo.catalog().OpenAuditRecorder());
  auto select_start = std::chrono::steady_clock::now();
  CAIRN_ASSIGN_OR_RETURN(
      std::vector<Candidate> picked,
      internal::PickCandidates(*reader, opts.scope, opts.mode, sample, report.started_micros));
  report.select_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - select_start)
                             .count();
  CAIRN_ASSIGN_OR_RETURN(report.run_id, recorder->StartRun(opts.schedule, report.started_micros));
  report.planned = picked.size();
  std::map<std::string, std::vector<const Candidate*>> by_site;
  std::unordered_set<int64_t> planned;
  for (const Candidate& c : picked) {
    by_site[c.site].push_back(&c);
    planned.insert(c.replica_id);
  }
  // The site a run is asked to check (--site, a schedule's, a repair job's) is opened even when
  // none of its copies is due: one that cannot be opened is named (SITE UNAVAILABLE, exit 1), as
  // with --all, rather than a clean "0 of 0 copies checked".
  if (!opts.scope.site.empty()) by_site[opts.scope.site];

  // Largest first on each site: the workers then finish together instead of
  // one hashing a large blob alone at the end.
  for (auto& [site, copies] : by_site) {
    std::stable_sort(copies.begin(), copies.end(),
                     [](const Candidate* a, const Candidate* b) { return a->size > b->size; });
  }

  internal::BatchWriter writer(repo, *recorder, report.run_id, opts.batch_size);
  std::unordered_set<int64_t> settled;
  CAIRN_RETURN_IF_ERROR(
      internal::SettleKilledRepairs(repo, *reader, *recorder, writer, opts, report, settled));
  // The copies the settling read and verified are this run's checks of them: not read again, and
  // part of the plan when the pick had not taken them.
  for (int64_t id : settled) {
    if (!planned.erase(id)) {
      ++report.planned;
      continue;
    }
    for (auto& [site, copies] : by_site) {
      std::erase_if(copies, [id](const Candidate* c) { return c->replica_id == id; });
    }
  }
  std::erase_if(by_site, [&opts](const auto& entry) {
    return entry.second.empty() && entry.first != opts.scope.site;
  });
  Sweep sweep(repo, opts, writer, report, std::move(planned));
  std::vector<std::pair<std::string, std::vector<const Candidate*>>> sites(by_site.begin(),
                                                                           by_site.end());
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  Status first_error;
  size_t workers = opts.threads ? std::min<size_t>(opts.threads, sites.size()) : sites.size();
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < sites.size(); i = next.fetch_add(1)) {
      Status s = sweep.RunSite(sites[i].first, sites[i].second);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = s.WithContext("site " + sites[i].first);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  if (workers > 0) work();
  for (std::thread& t : threads) t.join();
  CAIRN_RETURN_IF_ERROR(first_error);
  CAIRN_RETURN_IF_ERROR(writer.Flush());
  const size_t first_unstored = report.findings.size();  // the rest is in audit_findings
  const repo::AuditRunCounts batched = internal::RunCounts(report);
  if (opts.mode == AuditMode::kAll && !report.stopped) {
    CAIRN_RETURN_IF_ERROR(CheckCatalogRows(repo, *reader, opts.scope, report));
    CAIRN_RETURN_IF_ERROR(CheckEventSegments(repo, opts, report));  // the sites' event logs
  }
  if (opts.orphans && !report.stopped) {
    CAIRN_RETURN_IF_ERROR(FindOrphans(repo, *reader, opts.scope, report));
  }
  report.finished_micros = repo.clock().NowMicros();
  // What the passes after the batches found (the sites' event logs) counts in the stored run
  // as in the printed one.
  const repo::AuditRunCounts now = internal::RunCounts(report);
  const repo::AuditRunCounts after_batches = {.checked = now.checked - batched.checked,
                                              .bytes = now.bytes - batched.bytes,
                                              .corrupt = now.corrupt - batched.corrupt,
                                              .missing = now.missing - batched.missing,
                                              .unavailable = now.unavailable - batched.unavailable,
                                              .repaired = now.repaired - batched.repaired};
  CAIRN_RETURN_IF_ERROR(internal::FinishRun(*recorder, report, first_unstored,
                                            writer.unavailable_stored(), after_batches));
  if (opts.flush_events)
    report.events =
        repo::FlushNewEvents(repo, repo::Readmes::kBringUpToDate);  // a down site catches up
  return report;
}

}  // namespace cairn::audit
