// Restore: plan from the catalog, open the sites, copy and verify every file
// into the output, record bad copies for repair and the dissemination event.
#include "repo/restore/restore.h"

#include <algorithm>
#include <boost/filesystem.hpp>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <set>
#include <span>

#include "bagit/time_text.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/restore/restore_check.h"
#include "repo/restore/restore_plan.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/site.h"
#include "repo/site/tombstone.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

using restore_internal::RestorePlan;

// Collects one small file in memory (the cairn-added.txt list).
class MemoryOutput final : public RestoreOutput {
 public:
  Result<std::unique_ptr<FileTarget>> NewFile(const std::string& path, uint64_t size) override {
    return std::unique_ptr<FileTarget>(new Target(this));
  }
  Status NewFolder(const std::string&) override { return Status::OK(); }
  Status Finish() override { return Status::OK(); }
  bool parallel() const override { return false; }
  std::string bytes;

 private:
  class Target final : public FileTarget {
   public:
    explicit Target(MemoryOutput* out) : out_(out) {}
    Status Append(std::span<const std::byte> data) override {
      buf_.append(reinterpret_cast<const char*>(data.data()), data.size());
      return Status::OK();
    }
    Status Reset() override {
      buf_.clear();
      return Status::OK();
    }
    Status Commit() override {
      out_->bytes = std::move(buf_);
      return Status::OK();
    }

   private:
    MemoryOutput* out_;
    std::string buf_;
  };
};

// When the version holds cairn-added.txt (tag files Cairn generated at
// deposit, e.g. a manifest-sha256.txt the bag lacked), reads it verified from
// the sites and drops the files it lists, and itself, from the plan; a
// manifest-sha256.txt it lists stays as a check-only item (the payload is
// still checked against it). Bad copies of the list met on the way are added
// to `problems`.
Status DropCairnAddedFiles(RestorePlan& plan,
                           const std::map<std::string, Site*, std::less<>>& sites,
                           std::vector<CopyProblem>* problems) {
  auto is_list = [](const RestoreItem& item) {
    return item.tag_file && item.path == layout::kCairnAddedListName;
  };
  auto list = std::find_if(plan.items.begin(), plan.items.end(), is_list);
  if (list == plan.items.end()) return Status::OK();
  MemoryOutput memory;
  RestoreRun run = CopyItems({*list}, sites, memory, 1);
  problems->insert(problems->end(), run.problems.begin(), run.problems.end());
  CAIRN_RETURN_IF_ERROR(run.status);
  std::set<std::string> added = {std::string(layout::kCairnAddedListName)};
  size_t start = 0;
  while (start < memory.bytes.size()) {
    size_t end = memory.bytes.find('\n', start);
    if (end == std::string::npos) end = memory.bytes.size();
    std::string name = memory.bytes.substr(start, end - start);
    if (!name.empty() && name.back() == '\r') name.pop_back();
    if (!name.empty()) added.insert(name);
    start = end + 1;
  }
  for (RestoreItem& item : plan.items) {
    if (item.tag_file && item.path == restore_internal::kCheckedManifestName &&
        added.count(item.path)) {
      item.check_only = true;
      added.erase(item.path);
    }
  }
  std::erase_if(plan.items,
                [&](const RestoreItem& item) { return item.tag_file && added.count(item.path); });
  return Status::OK();
}

proto::Event BaseEvent(const EventType& type, const RestoreRequest& req, const VersionInfo& v) {
  return NewEvent(type, {.agent_version = req.agent_version,
                         .user = req.user,
                         .role = req.role,
                         .partner = v.partner,
                         .object = v.object,
                         .version = v.version});
}

// Marks each corrupt or missing copy the catalog knows of, queues its repair
// (from any copy that verifies: the repairer chooses), and logs a failed fixity
// check. Returns the number of repair jobs queued.
Result<uint32_t> RecordBadCopies(Catalog& catalog, const RestorePlan& plan,
                                 const RestoreRequest& req, const RestoreRun& run,
                                 std::vector<proto::Event>* events) {
  uint32_t queued = 0;
  for (const CopyProblem& p : run.problems) {
    if (p.outcome == CopyOutcome::kUnavailable || !plan.HasReplica(p)) continue;
    ReplicaState state =
        p.outcome == CopyOutcome::kCorrupt ? ReplicaState::kCorrupt : ReplicaState::kMissing;
    CAIRN_RETURN_IF_ERROR(catalog.SetReplicaState(plan.RefOf(p), p.site, state, -1, -1,
                                                  "found by restore: " + p.detail));
    proto::Job job;
    job.set_kind(proto::JOB_KIND_REPAIR);
    job.set_partner(plan.version.partner);
    job.set_object(plan.version.object);
    job.set_version(plan.version.version);
    if (p.tag_file) {
      job.set_tag_file(p.path);
    } else {
      job.set_blob(p.sha256);
    }
    job.set_target_site(p.site);
    CAIRN_RETURN_IF_ERROR(catalog.EnqueueJob(job).status());
    ++queued;
    proto::Event e = BaseEvent(kFixityCheck, req, plan.version);
    e.set_file(p.path);
    e.set_site(p.site);
    e.set_outcome("failure");
    e.set_detail(std::string(CopyOutcomeName(p.outcome)) + " copy of sha256 " + p.sha256 +
                 " found during restore: " + p.detail);
    events->push_back(std::move(e));
  }
  return queued;
}

std::string DisseminationDetail(const RestoreRequest& req, const RestoreRun& run) {
  std::string d = "restored to " + (req.dest_name.empty() ? req.dest : req.dest_name) + " as " +
                  std::string(RestoreFormatName(req.format));
  if (!req.site.empty()) d += " from site " + req.site + " only";
  d += ": " + std::to_string(run.payload_files) + " payload files, " +
       std::to_string(run.payload_bytes) + " bytes, " + std::to_string(run.tag_files) +
       " tag files";
  for (const auto& [site, n] : run.files_from_site) {
    d += "; " + std::to_string(n) + " files from site " + site;
  }
  if (!run.problems.empty())
    d += "; " + std::to_string(run.problems.size()) + " bad or unreadable copies";
  if (!run.status.ok()) d += "; failed: " + run.status.message();
  return d;
}

}  // namespace

Status ParseObjectRef(std::string_view text, std::string* partner, std::string* object,
                      uint32_t* version) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not PARTNER/OBJECT[@vN]: " + std::string(why));
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  std::string_view rest = text.substr(slash + 1);
  *version = 0;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view v = rest.substr(at + 1);
    if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n == 0) {
      return bad("the version must be @vN with N >= 1");
    }
    *version = n;
    rest = rest.substr(0, at);
  }
  *partner = std::string(text.substr(0, slash));
  *object = std::string(rest);
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(*partner));
  return layout::ValidateObjectId(*object);
}

namespace {

// A restore that passed every check that can refuse it before a byte is written: its plan, the
// sites it may read and the context its messages begin with ("restore P/O@vN").
struct Checked {
  RestorePlan plan;
  std::map<std::string, Site*, std::less<>> sites;
  std::string context;
};

Result<Checked> CheckBeforeWriting(Repository& repo, const RestoreRequest& req) {
  Checked out;
  out.context = "restore " + req.partner + "/" + req.object +
                (req.version ? "@v" + std::to_string(req.version) : "");
  if (req.dest.empty()) return Status::InvalidArgument(out.context + ": no destination given");
  auto plan_or =
      restore_internal::PlanRestore(repo.catalog(), req.partner, req.object, req.version, req.site);
  if (!plan_or.ok()) return plan_or.status().WithContext(out.context);
  out.plan = std::move(plan_or).value();
  const uint32_t version = out.plan.version.version;
  if (req.version == 0) {
    // "The latest" is the sites' latest: a catalog put back from a backup would otherwise
    // hand over an older version without a word. The sites are listed, not read.
    CAIRN_RETURN_IF_ERROR(
        RefuseIfNewerOnSites(repo, req.partner, req.object, version,
                             "restore of the latest version of " + req.partner + "/" + req.object));
  }
  out.context = "restore " + req.partner + "/" + req.object + "@v" + std::to_string(version);

  // Open every site the plan may read; one that cannot be opened is simply
  // unavailable to the copier (its attempts are reported as such).
  for (const std::string& name : out.plan.sites) {
    auto site = repo.OpenSite(name);
    if (site.ok()) out.sites[name] = site.value();
  }
  CAIRN_RETURN_IF_ERROR(
      RefuseIfTombstoned(out.sites, req.partner, req.object, version, "nothing restored")
          .WithContext(out.context));
  return out;
}

// Refuses, before anything is read or written, a restore to a folder or a tar whose files do
// not fit in the free space of DEST's file system (a compressed archive may: not checked). A
// file system that cannot be asked is not refused: the writes will tell.
Status CheckFreeSpace(const RestorePlan& plan, const RestoreRequest& req) {
  if (req.format == RestoreFormat::kTgz || req.format == RestoreFormat::kZip) return Status::OK();
  uint64_t needed = 0;
  for (const RestoreItem& item : plan.items) {
    if (!item.check_only) needed += item.size;
  }
  boost::filesystem::path parent = boost::filesystem::path(req.dest).parent_path();
  if (parent.empty()) parent = ".";
  boost::system::error_code ec;
  const boost::filesystem::space_info space = boost::filesystem::space(parent, ec);
  if (ec || space.available >= needed) return Status::OK();
  return Status::NoSpace(req.dest + " needs " + std::to_string(needed) +
                         " bytes for the bag's files, but its file system has only " +
                         std::to_string(space.available) + " bytes free: nothing was written; " +
                         std::string(kFreeSpaceThenRerun));
}

// A folder or an archive whose file system filled up: what was written is removed (RestoreOutput),
// and the staff are told so and what to do.
Status NothingLeftAt(const RestoreRequest& req, Status s) {
  if (s.code() != Code::kNoSpace) return s;
  return Status(Code::kNoSpace, s.message() + "; nothing was left at " + req.dest + ": " +
                                    std::string(kFreeSpaceThenRerun));
}

Result<RestoreReport> RestoreUnflushed(Repository& repo, const RestoreRequest& req) {
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(Checked ready, CheckBeforeWriting(repo, req));
  RestorePlan& plan = ready.plan;
  const std::map<std::string, Site*, std::less<>>& sites = ready.sites;
  const std::string& context = ready.context;

  const bool stream = req.stream_fd >= 0;
  std::string bag_name = stream ? req.stream_bag_name
                         : req.format == RestoreFormat::kDir
                             ? boost::filesystem::path(req.dest).filename().string()
                             : BagNameForArchive(req.dest);
  if (!stream) CAIRN_RETURN_IF_ERROR(CheckFreeSpace(plan, req).WithContext(context));
  std::vector<CopyProblem> list_problems;
  Status dropped = DropCairnAddedFiles(plan, sites, &list_problems);
  RestoreRun run;
  std::unique_ptr<RestoreOutput> out;
  if (dropped.ok()) {
    auto created = stream ? CreateStreamRestoreOutput(req.stream_fd, bag_name, req.spool_dir)
                          : CreateRestoreOutput(req.dest, req.format, bag_name);
    if (!created.ok()) return NothingLeftAt(req, created.status()).WithContext(context);
    out = std::move(created).value();
    // Every payload file is checked against version.pb and manifest-sha256.txt
    // as they pass, before any payload byte is written (restore_check.h).
    size_t first_payload = restore_internal::FirstPayloadItem(plan.items);
    std::set<std::string> check_only;
    for (size_t i = 0; i < first_payload; ++i) {
      if (plan.items[i].check_only) check_only.insert(plan.items[i].path);
    }
    restore_internal::CheckingOutput checked(
        *out, plan.version, std::span<const RestoreItem>(plan.items).subspan(first_payload),
        std::move(check_only));
    run = CopyItems(plan.items, sites, checked, req.threads);
    if (run.status.ok()) run.status = checked.Finish();
  } else {
    run.status = dropped;
  }
  run.problems.insert(run.problems.begin(), list_problems.begin(), list_problems.end());
  plan.items.clear();
  out.reset();  // on failure: removes the partial folder or archive

  std::vector<proto::Event> events;
  CAIRN_ASSIGN_OR_RETURN(uint32_t repairs, RecordBadCopies(catalog, plan, req, run, &events));
  proto::Event dis = BaseEvent(kDissemination, req, plan.version);
  dis.set_site(req.site);
  dis.set_outcome(run.status.ok() ? "success" : "failure");
  dis.set_detail(DisseminationDetail(req, run));
  events.push_back(std::move(dis));
  Status logged = catalog.AppendEvents(events).status();
  if (!run.status.ok() && !req.site.empty() &&
      (run.status.code() == Code::kCorruption || run.status.code() == Code::kUnavailable)) {
    // A copy of the one site asked for failed: the others may hold a good one.
    run.status = Status(run.status.code(), run.status.message() + "; only site " + req.site +
                                               " was read (--site): without it, every site's "
                                               "copy is tried");
  }
  if (!stream) run.status = NothingLeftAt(req, run.status);
  if (!run.status.ok()) return run.status.WithContext(context);
  CAIRN_RETURN_IF_ERROR(logged.WithContext(context + ": the bag is restored, but the event log"));

  RestoreReport report;
  report.partner = plan.version.partner;
  report.object = plan.version.object;
  report.version = plan.version.version;
  report.dest = req.dest;
  report.format = req.format;
  report.bag_name = bag_name;
  report.payload_files = run.payload_files;
  report.payload_bytes = run.payload_bytes;
  report.tag_files = run.tag_files;
  report.files_from_site = std::move(run.files_from_site);
  report.problems = std::move(run.problems);
  report.repairs_queued = repairs;
  return report;
}

}  // namespace

Result<uint32_t> CheckRestore(Repository& repo, const RestoreRequest& req) {
  CAIRN_ASSIGN_OR_RETURN(Checked checked, CheckBeforeWriting(repo, req));
  return checked.plan.version.version;
}

Result<RestoreReport> Restore(Repository& repo, const RestoreRequest& req, EventsFlushed* events) {
  // Only a restore that recorded something (its dissemination event, bad copies met) copies the
  // log to the sites: one refused before it read a byte (an unknown or withdrawn version, a
  // catalog behind its sites) said, besides its refusal, that its "new events" were not copied.
  Result<EventHead> before = repo.catalog().GetEventHead();
  Result<RestoreReport> report = RestoreUnflushed(repo, req);
  Result<EventHead> after = repo.catalog().GetEventHead();
  if (before.ok() && after.ok() && before->seq == after->seq) return report;
  EventsFlushed flushed = FlushNewEvents(repo, Readmes::kBringUpToDate);
  if (events) *events = std::move(flushed);
  return report;
}

}  // namespace cairn::repo
