// RebuildAuditHistory (rebuild_steps.h): the audit history a rebuilt catalog takes back from the
// event log it loaded. Each sweep wrote a "fixity check" event per copy it checked ("sha256 HEX:
// copy verified (N bytes)", "sha256 HEX: corrupt: ...", "missing: ...", "unreadable: ...") and a
// "recovery" event per repair (audit/sweep.cc, audit/batch.cc, replicate.cc), each ending "(by
// audit run N)" since that number was written into them (BatchWriter::Write); the runs and the
// findings themselves are kept only in the catalog.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "bagit/time_text.h"
#include "proto/event.pb.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_audit.h"
#include "repo/clock.h"
#include "repo/events/event_types.h"
#include "repo/recovery/rebuild_steps.h"

namespace cairn::repo {
namespace {

// What the log says of one copy: its last fixity check, and the failures not answered since.
struct CopyLog {
  bool checked = false;  // a fixity check of it is in the log
  bool last_ok = false;  // ... and the last one succeeded
  int64_t last_micros = 0;
  uint64_t last_seq = 0;
  uint64_t last_size = 0;
  std::vector<size_t> open;  // indexes of findings not answered by a later repair or check
};

// A blob's copy on a site is one whatever path names it; a tag file's is its version's own.
std::string CopyKey(const std::string& site, const std::string& sha256, const proto::Event& e) {
  std::string key = site + '\n' + sha256;
  if (!e.file().empty() && !e.file().starts_with("data/")) {
    key += '\n' + e.partner() + '\n' + e.object() + '\n' + std::to_string(e.version()) + '\n' +
           e.file();
  }
  return key;
}

// One run's part of the log: its events name it ("(by audit run N)", audit/batch.cc), or, for
// events written before they did, number 0: every such check as one run.
struct RunPart {
  int64_t first_micros = 0, last_micros = 0;
  AuditRunCounts counts;
  std::map<std::string, AuditRunSiteRecord> sites;
  std::vector<size_t> findings;  // indexes into Rebuilt::findings
};

struct Rebuilt {
  std::map<int64_t, RunPart> runs;
  std::vector<AuditFindingRecord> findings;
  std::vector<int64_t> finding_run;  // the run of each finding
  std::unordered_map<std::string, CopyLog> copies;
};

// Answers the open findings of `copy` (a later repair or good check): repaired.
void Answer(CopyLog& copy, Rebuilt& r, const std::string& site, const std::string& from,
            const std::string& how) {
  for (size_t i : copy.open) {
    AuditFindingRecord& f = r.findings[i];
    f.repaired = true;
    f.repaired_from = from;
    f.detail += "; " + how;
    if (f.kind == "unreadable") continue;  // not counted as checked, nor as repaired
    // One a finding, in the finding's run, as a later repair marks an earlier run's.
    RunPart& run = r.runs[r.finding_run[i]];
    ++run.counts.repaired;
    ++run.sites[site].repaired;
  }
  copy.open.clear();
}

void Take(const proto::Event& e, uint64_t seq, Rebuilt& r) {
  // String operations, not regular expressions, for the words every check has: a log may hold
  // hundreds of millions of checks. Only a repair's "from site X" is searched.
  static const std::regex kFromSite(R"(from site ([^ ,:;()]+))");
  constexpr std::string_view kByRun = " (by audit run ";
  constexpr std::string_view kVerified = "copy verified (";
  const bool fixity = e.type() == kFixityCheck.label;
  if ((!fixity && e.type() != kRecovery.label) || e.object().empty() || e.site().empty()) return;
  // "sha256 HEX: what": the copy's digest, then what was found.
  constexpr size_t kHex = 64;
  if (!e.detail().starts_with("sha256 ") || e.detail().size() < 7 + kHex + 2) return;
  const std::string sha256 = e.detail().substr(7, kHex);
  std::string what = e.detail().substr(7 + kHex + 2);
  int64_t number = 0;
  if (const size_t by = what.rfind(kByRun); by != std::string::npos && what.ends_with(')')) {
    number = std::strtoll(what.c_str() + by + kByRun.size(), nullptr, 10);
    what.resize(by);
  }
  CopyLog& copy = r.copies[CopyKey(e.site(), sha256, e)];
  const int64_t t = e.time_unix_micros();
  RunPart* run = nullptr;  // made when the event counts
  AuditRunSiteRecord* site = nullptr;
  auto counted = [&] {
    run = &r.runs[number];
    if (run->first_micros == 0 || t < run->first_micros) run->first_micros = t;
    run->last_micros = std::max(run->last_micros, t);
    site = &run->sites[e.site()];
    site->site = e.site();
  };
  auto when = [&] { return FormatUtc(t) + ", event " + std::to_string(seq); };
  if (!fixity) {
    std::smatch from;
    const std::string source =
        std::regex_search(what, from, kFromSite) ? from[1].str() : std::string();
    if (e.outcome() == "success") {
      Answer(copy, r, e.site(), source, "repaired (" + when() + ")");
      counted();
    }
    return;
  }
  if (e.outcome() == "success" && what.starts_with(kVerified)) {
    counted();
    ++run->counts.checked;
    ++site->checked;
    ++site->ok;
    const uint64_t bytes = std::strtoull(what.c_str() + kVerified.size(), nullptr, 10);
    run->counts.bytes += bytes;
    site->bytes += bytes;
    if (!copy.open.empty()) {
      Answer(copy, r, e.site(), "", "a later check found the copy good (" + when() + ")");
    }
    copy = {true, true, t, seq, bytes, {}};
    return;
  }
  if (e.outcome() != "failure") return;  // a warning: an unreadable copy still counted
  std::string kind = what.substr(0, what.find(':'));
  if (kind != "corrupt" && kind != "missing" && kind != "unreadable") return;
  counted();
  if (kind == "corrupt" || kind == "missing") {
    ++run->counts.checked;
    ++site->checked;
    ++(kind == "corrupt" ? run->counts.corrupt : run->counts.missing);
    ++(kind == "corrupt" ? site->corrupt : site->missing);
  }
  AuditFindingRecord f{.kind = kind,
                       .partner = e.partner(),
                       .object = e.object(),
                       .version = e.version(),
                       .path = e.file(),
                       .site = e.site(),
                       .sha256 = sha256,
                       .detail = what.substr(std::min(what.size(), kind.size() + 2)) +
                                 " (fixity check of " + when() + ")"};
  copy.open.push_back(r.findings.size());
  run->findings.push_back(r.findings.size());
  r.finding_run.push_back(number);
  r.findings.push_back(std::move(f));
  copy.checked = true;
  copy.last_ok = false;
  copy.last_micros = t;
  copy.last_seq = seq;
}

// The copies of the rebuilt versions whose last fixity check on their site succeeded with their
// size: verified then, due a policy's interval later (the others stay never verified, due now).
Result<uint64_t> RestoreLastVerified(Catalog& catalog, const std::vector<CatalogVersion>& versions,
                                     const Rebuilt& r) {
  std::map<std::string, ReplicaRecord> restored;
  for (const CatalogVersion& v : versions) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> rows, catalog.ReplicasOf(v.id));
    const int64_t interval = int64_t{catalog.FixityIntervalDays(v.partner)} * kMicrosPerDay;
    for (ReplicaRecord& row : rows) {
      if (row.state != ReplicaState::kOk || row.last_verified_micros != 0) continue;
      proto::Event named;  // CopyKey's view of the copy
      named.set_partner(v.partner);
      named.set_object(v.object);
      named.set_version(v.version);
      named.set_file(row.ref.kind == ReplicaRef::Kind::kBlob ? "data/" : row.tag_name);
      const std::string key = CopyKey(row.site, row.sha256, named);
      auto log = r.copies.find(key);
      if (log == r.copies.end() || !log->second.checked || !log->second.last_ok ||
          log->second.last_size != row.size) {
        continue;
      }
      const int64_t due = log->second.last_micros + interval;
      auto [it, fresh] = restored.emplace(key, row);
      if (!fresh) {  // a blob of several partners: the shortest interval
        it->second.next_due_micros = std::min(it->second.next_due_micros, due);
        continue;
      }
      it->second.last_verified_micros = log->second.last_micros;
      it->second.next_due_micros = due;
      it->second.detail = "verified by the fixity check of " + FormatUtc(log->second.last_micros) +
                          " (event " + std::to_string(log->second.last_seq) +
                          "), as the event log records: kept by catalog rebuild";
    }
  }
  std::vector<ReplicaRecord> batch;
  for (auto& [key, row] : restored) {
    batch.push_back(std::move(row));
    if (batch.size() < 4096) continue;
    CAIRN_RETURN_IF_ERROR(catalog.SetReplicaStates(batch));
    batch.clear();
  }
  CAIRN_RETURN_IF_ERROR(catalog.SetReplicaStates(batch));
  return restored.size();
}

// A copy whose last fixity check on its site failed, that the catalog does not record there (the
// site lists it at another size, or not at all, or could not be listed): recorded bad, as that
// check found it, so that the copy `cairn replicate` makes there (or a sweep's repair) is its
// repair and answers the finding. Unrecorded, its copy was a plain one and the finding stayed open.
Result<uint64_t> RecordCopiesFoundBad(Catalog& catalog, const std::vector<CatalogVersion>& versions,
                                      const Rebuilt& r) {
  std::map<std::tuple<std::string, std::string, uint32_t>, int64_t> version_ids;
  for (const CatalogVersion& v : versions) version_ids[{v.partner, v.object, v.version}] = v.id;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> known, catalog.ListSites());
  std::set<std::string> sites;
  for (const SiteRecord& s : known) sites.insert(s.name);
  const int64_t now = catalog.clock().NowMicros();
  std::vector<ReplicaRecord> records;
  for (const auto& [key, log] : r.copies) {
    if (!log.checked || log.last_ok || log.open.empty()) continue;
    const AuditFindingRecord& f = r.findings[log.open.back()];
    auto id = version_ids.find({f.partner, f.object, f.version});
    if (id == version_ids.end() || !sites.count(f.site)) continue;
    CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> rows, catalog.ReplicasOf(id->second));
    std::optional<ReplicaRef> ref;
    bool recorded = false;
    for (const ReplicaRecord& row : rows) {
      const bool blob = row.ref.kind == ReplicaRef::Kind::kBlob;
      if (f.path.starts_with("data/") ? !blob || row.sha256 != f.sha256
                                      : blob || row.tag_name != f.path) {
        continue;
      }
      recorded = recorded || row.site == f.site;
      ref = row.ref;
    }
    if (recorded || !ref) continue;
    records.push_back(
        {.ref = *ref,
         .site = f.site,
         .state = f.kind == "missing"      ? ReplicaState::kMissing
                  : f.kind == "unreadable" ? ReplicaState::kUnreadable
                                           : ReplicaState::kCorrupt,
         .last_verified_micros = 0,
         .next_due_micros = now,
         .detail =
             f.detail + "; not found listed with its size on the site at the catalog rebuild"});
  }
  CAIRN_RETURN_IF_ERROR(catalog.SetReplicaStates(records));
  return records.size();
}

}  // namespace

Status RebuildAuditHistory(Catalog& catalog, const std::vector<CatalogVersion>& versions,
                           RebuildReport* report) {
  Rebuilt r;
  constexpr uint64_t kPage = 4096;
  for (uint64_t after = 0;;) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<EventRecord> page, catalog.ListEventRecords(after, kPage));
    for (const EventRecord& record : page) {
      proto::Event e;
      if (e.ParseFromString(record.bytes)) Take(e, record.seq, r);
      after = record.seq;
    }
    if (page.size() < kPage) break;
  }
  if (r.runs.empty()) {
    report->notes.push_back(
        "audit history: the event log loaded records no fixity check; runs and findings were "
        "kept only in the catalog: it starts again with the next `cairn audit run`");
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t kept, RestoreLastVerified(catalog, versions, r));
  CAIRN_ASSIGN_OR_RETURN(uint64_t bad, RecordCopiesFoundBad(catalog, versions, r));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Catalog::AuditRecorder> recorder,
                         catalog.OpenAuditRecorder());
  // The numbered runs under their numbers, then (a new number) the checks of the log written
  // before its events named their run: one run for them all. Each marked rebuilt.
  std::vector<int64_t> order;
  for (const auto& [number, part] : r.runs) {
    if (number != 0) order.push_back(number);
  }
  if (r.runs.count(0)) order.push_back(0);
  uint64_t checked = 0, open = 0;
  for (const AuditFindingRecord& f : r.findings) open += !f.repaired;
  std::string merged;
  for (int64_t number : order) {
    const RunPart& part = r.runs.at(number);
    const std::string not_known =
        std::string("what only the catalog kept (") +
        (number == 0 ? "each run's number and schedule, " : "its schedule, ") +
        "the copies it planned, the sites it could not read, damaged copies, runs that checked "
        "nothing) is not known";
    const nlohmann::json summary = {
        {"rebuilt",
         {{"at", FormatUtc(catalog.clock().NowMicros())},
          {"from_site", report->site},
          {"events_site", report->events_site.empty() ? report->site : report->events_site},
          {"merged", number == 0},
          {"not_known", not_known}}}};
    std::vector<AuditRunSiteRecord> sites;
    for (const auto& [name, counts] : part.sites) sites.push_back(counts);
    std::vector<AuditFindingRecord> findings;
    for (size_t i : part.findings) findings.push_back(r.findings[i]);
    CAIRN_ASSIGN_OR_RETURN(int64_t id, recorder->StartRun("", part.first_micros, number));
    CAIRN_RETURN_IF_ERROR(recorder->FinishRun(id, part.last_micros, "done", summary.dump(),
                                              part.counts, sites, findings));
    checked += part.counts.checked;
    if (number == 0) {
      merged = "; the checks from before the log named their run are run " + std::to_string(id) +
               " (" + FormatUtc(part.first_micros) + " to " + FormatUtc(part.last_micros) + ")";
    }
  }
  report->notes.push_back(
      "audit history rebuilt from the event log: " + std::to_string(order.size()) + " runs, " +
      std::to_string(checked) + " copies checked, " + std::to_string(r.findings.size()) +
      " findings, " + std::to_string(open) +
      " not answered since by a repair or a good check (cairn audit report)" + merged +
      "; what only the catalog kept (schedules, planned copies, the sites a run could not read, "
      "damaged copies, runs that checked nothing) is not known; " +
      std::to_string(kept) +
      " copies whose last check succeeded keep its time as verified, the others are due now" +
      (bad ? "; " + std::to_string(bad) +
                 " copies the last check found bad, not found listed with their size on their "
                 "site now, are recorded bad as that check found them: `cairn replicate` repairs "
                 "them"
           : std::string()));
  return Status::OK();
}

}  // namespace cairn::repo
