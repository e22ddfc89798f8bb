// Catalog rebuild, second half: the event history from the site's segments,
// the recovery event that records the rebuild, and the report's output.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>
#include <utility>

#include "repo/catalog/catalog.h"
#include "repo/events/event_types.h"
#include "repo/events/interrupted_deposit.h"
#include "repo/events/segments.h"
#include "repo/recovery/rebuild.h"
#include "repo/recovery/rebuild_steps.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site/tombstone.h"
#include "repo/site_layout.h"
#include "repo/storage/backend.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {

namespace {

// True when `a` and `b` hold the same events on the seqs both have.
bool SamePrefix(const std::vector<proto::Event>& a, const std::vector<proto::Event>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].hash() != b[i].hash()) return false;
  }
  return true;
}

// The verified event log of each other site the rebuilt catalog knows (from
// the settings) that is reachable and belongs to the same repository, by name.
std::vector<std::pair<std::string, SiteEventLog>> OtherSitesLogs(Site& site, Catalog& catalog,
                                                                 RebuildReport* report) {
  std::vector<std::pair<std::string, SiteEventLog>> logs;
  for (auto& [name, other] : OpenOtherSites(site, catalog)) {
    Result<SiteEventLog> log = ReadSiteEventLog(*other);
    if (!log.ok()) {
      report->notes.push_back("event log of site " + name + " not read: " + log.status().message());
      continue;
    }
    logs.emplace_back(name, std::move(log).value());
  }
  return logs;
}

}  // namespace

std::vector<std::pair<std::string, std::unique_ptr<Site>>> OpenOtherSites(
    Site& site, Catalog& catalog, std::vector<std::pair<std::string, std::string>>* not_opened) {
  std::vector<std::pair<std::string, std::unique_ptr<Site>>> out;
  Result<std::vector<SiteRecord>> sites = catalog.ListSites();
  if (!sites.ok()) return out;
  auto passed_over = [&](const std::string& name, const std::string& why) {
    if (not_opened) not_opened->emplace_back(name, why);
  };
  for (const SiteRecord& record : *sites) {
    if (record.name == site.id()) continue;
    Result<std::unique_ptr<StorageBackend>> backend = OpenBackend(record.url);
    if (!backend.ok()) {
      passed_over(record.name, backend.status().message());
      continue;
    }
    Result<std::unique_ptr<Site>> other = Site::Open(std::move(backend).value());
    if (!other.ok()) {
      passed_over(record.name, other.status().message());
      continue;
    }
    if ((*other)->id() != record.name) {
      passed_over(record.name, record.url + " holds site " + (*other)->id());
      continue;
    }
    if ((*other)->marker().repository_id != site.marker().repository_id) {
      passed_over(record.name, record.url + " belongs to another repository");
      continue;
    }
    out.emplace_back(record.name, std::move(other).value());
  }
  return out;
}

namespace {

// The tombstones on the other sites, by version: for each site holding one, its tombstone names
// and whether its version.pb is gone there.
struct TombstonesElsewhere {
  struct OnSite {
    Site* site = nullptr;
    std::string name;
    std::vector<std::string> tombstones;
    bool has_record = false;
  };
  std::map<std::tuple<std::string, std::string, uint32_t>, std::vector<OnSite>> versions;
};

TombstonesElsewhere ListTombstonesElsewhere(
    std::vector<std::pair<std::string, std::unique_ptr<Site>>>& others, RebuildReport* report) {
  TombstonesElsewhere out;
  for (auto& [name, other] : others) {
    std::map<std::tuple<std::string, std::string, uint32_t>, TombstonesElsewhere::OnSite> seen;
    Status listed = other->List(layout::kBagsPrefix, [&](const ObjectInfo& info) {
      if (std::optional<layout::TagFileRef> dead = layout::ParseTombstoneKey(info.key)) {
        seen[{dead->partner, dead->object, dead->version}].tombstones.push_back(dead->name);
      } else if (std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key)) {
        if (ref->is_version_record())
          seen[{ref->partner, ref->object, ref->version}].has_record = true;
      }
      return Status::OK();
    });
    if (!listed.ok()) {
      report->notes.push_back("tombstones of site " + name + " not read: " + listed.message());
      continue;
    }
    for (auto& [key, on] : seen) {
      if (on.tombstones.empty()) continue;
      on.site = other.get();
      on.name = name;
      out.versions[key].push_back(std::move(on));
    }
  }
  return out;
}

}  // namespace

// A site read alone may hold a version that another site records as withdrawn or purged (put
// back from a copy taken before the withdrawal): the other reachable sites' tombstones are read
// too. A withdrawal the rebuilt catalog lacks for a version it holds is restored from them (the
// version is withdrawn, never readable); and a purge withdrawal that another site shows begun
// (its tombstone there without version.pb: no byte goes before every site has the tombstone and
// the catalog has begun it) is begun in the catalog too, so that the version's rows and queued
// copies go and nothing of it is copied back; `withdraw run` removes the rest.
Status ResumePurgesBegunElsewhere(Site& site, Catalog& catalog, RebuildReport* report) {
  std::vector<std::pair<std::string, std::unique_ptr<Site>>> others = OpenOtherSites(site, catalog);
  TombstonesElsewhere elsewhere = ListTombstonesElsewhere(others, report);
  for (const auto& [key, sites] : elsewhere.versions) {
    const auto& [partner, object, version] = key;
    const std::string name = partner + "/" + object + "@v" + std::to_string(version);
    CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> known,
                           catalog.WithdrawalOf(partner, object, version));
    if (!known) {
      if (!catalog.GetVersion(partner, object, version, false).ok()) continue;
      for (const std::string& tomb : sites.front().tombstones) {
        const std::string where = "site " + sites.front().name + ": " +
                                  layout::TombstoneKey(partner, object, version, tomb);
        Result<std::string> text =
            sites.front().site->ReadTombstone(partner, object, version, tomb);
        Result<WithdrawalRecord> w =
            text.ok() ? ParseTombstone(*text, where) : Result<WithdrawalRecord>(text.status());
        if (!w.ok() || w->partner != partner || w->object != object || w->version != version) {
          report->problems.push_back(name + ": " + where + " not read back: " +
                                     (w.ok() ? "it names another version" : w.status().message()));
          continue;
        }
        CAIRN_RETURN_IF_ERROR(catalog.RestoreWithdrawal(*w));
        // The site read has the request waiting under that number (its settings record, not the
        // approval, which another site's settings did not record either): the tombstone's
        // approval is taken.
        Result<WithdrawalRecord> waiting = catalog.GetWithdrawal(w->id);
        if (waiting.ok() && waiting->state == WithdrawalState::kRequested &&
            waiting->VersionName() == name) {
          CAIRN_RETURN_IF_ERROR(catalog.UpdateWithdrawal(*w, WithdrawalState::kRequested));
          report->problems.push_back(
              name + ": site " + site.id() + " records withdrawal " + std::to_string(w->id) +
              " requested, without its tombstone, but " + where +
              " records it approved: taken from there, so the version stays withdrawn; `cairn "
              "withdraw run` (the daemon's next round) writes its tombstone and record to site " +
              site.id());
          continue;
        }
        report->problems.push_back(name + ": site " + site.id() +
                                   " holds it as if never withdrawn, but " + where +
                                   " records withdrawal " + std::to_string(w->id) +
                                   ": restored, so the version stays withdrawn (site " + site.id() +
                                   " was put back from a copy taken before it?)");
      }
      CAIRN_ASSIGN_OR_RETURN(known, catalog.WithdrawalOf(partner, object, version));
      if (!known) continue;
    }
    if (!known->purge || known->state != WithdrawalState::kWithdrawn) continue;
    const TombstonesElsewhere::OnSite* purged = nullptr;
    for (const TombstonesElsewhere::OnSite& on : sites) {
      if (!on.has_record) purged = &on;
    }
    if (!purged) continue;
    CAIRN_RETURN_IF_ERROR(catalog.BeginPurge(known->id));
    report->problems.push_back(
        name + ": site " + site.id() + " still holds the version, but site " + purged->name +
        " holds its tombstone without it: purged there (withdrawal " + std::to_string(known->id) +
        "), so it stays purged and is never copied back; `cairn withdraw run` removes what site " +
        site.id() + " holds of it");
  }
  return Status::OK();
}

void ReportVersionsOnlyElsewhere(Site& site, Catalog& catalog,
                                 const std::map<std::string, size_t>& incomplete,
                                 const std::string& repository_root, RebuildReport* report) {
  // version name -> the other sites holding it complete (its version.pb there)
  std::map<std::string, std::vector<std::string>> unlisted;
  for (auto& [name, other] : OpenOtherSites(site, catalog)) {
    Status listed = other->List(layout::kBagsPrefix, [&](const ObjectInfo& info) {
      std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
      if (!ref || !ref->is_version_record()) return Status::OK();
      Result<VersionInfo> known =
          catalog.GetVersion(ref->partner, ref->object, ref->version, false);
      if (known.ok()) return Status::OK();
      if (!known.status().IsNotFound()) return known.status();
      CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> w,
                             catalog.WithdrawalOf(ref->partner, ref->object, ref->version));
      if (w && w->purge && w->state != WithdrawalState::kWithdrawn) {
        // Left of a purge on that site: never a version to rebuild from it.
        report->notes.push_back(ref->partner + "/" + ref->object + "@v" +
                                std::to_string(ref->version) + " on site " + name +
                                " is left of its purge (withdrawal " + std::to_string(w->id) +
                                "): `cairn withdraw run` removes it");
        return Status::OK();
      }
      if (std::optional<Repository::PendingVersion> mark =
              Repository::PendingVersionIn(repository_root, ref->partner, ref->object);
          mark && mark->version == ref->version && !mark->record_sha256.empty()) {
        Result<std::string> bytes =
            other->ReadVersionRecord(ref->partner, ref->object, ref->version);
        if (bytes.ok() && mark->record_sha256 == Sha256Hex(*bytes) &&
            !IngestionRecorded(catalog, ref->partner, ref->object, ref->version)) {
          // Never committed: not a version this site missed.
          report->notes.push_back(
              ref->partner + "/" + ref->object + "@v" + std::to_string(ref->version) + " on site " +
              name +
              ": the leftovers of a deposit interrupted before its catalog commit (the "
              "repository's pending mark locks/" +
              ref->partner + "/" + ref->object +
              ".pending names its version.pb; never a version): not a version site " + site.id() +
              " lacks; `cairn gc` removes them");
          return Status::OK();
        }
      }
      unlisted[ref->partner + "/" + ref->object + "@v" + std::to_string(ref->version)].push_back(
          name);
      return Status::OK();
    });
    if (!listed.ok()) {
      report->notes.push_back("versions of site " + name + " not compared: " + listed.message());
    }
  }
  if (unlisted.empty()) return;
  constexpr size_t kNamed = 20;
  size_t named = 0;
  for (const auto& [version, holders] : unlisted) {
    if (++named > kNamed) break;
    std::string sites;
    for (const std::string& h : holders) sites += (sites.empty() ? "" : ", ") + h;
    if (auto it = incomplete.find(version); it != incomplete.end()) {
      // Its folder is on this site without the record: not a deposit cut short (the other
      // sites hold it whole), nor one the site missed; one line for it, not two that disagree.
      report->problems[it->second] =
          version + ": site " + site.id() + " holds its folder but no readable version.pb, which " +
          (holders.size() > 1 ? "sites " : "site ") + sites + " hold" +
          (holders.size() > 1 ? "" : "s") + ": site " + site.id() +
          " lost it (removed or damaged), so the version is not in this catalog: skipped";
      continue;
    }
    report->problems.push_back(version + " is on site" + (holders.size() > 1 ? "s " : " ") + sites +
                               " but not on site " + site.id() + ", so not in this catalog (" +
                               site.id() + " missed it while it was away)");
  }
  if (unlisted.size() > kNamed) {
    report->problems.push_back(std::to_string(unlisted.size() - kNamed) +
                               " more versions are on other sites but not on site " + site.id());
  }
  const std::string& first = unlisted.begin()->second.front();
  report->problems.push_back(
      std::to_string(unlisted.size()) + " version" + (unlisted.size() > 1 ? "s" : "") +
      " the other sites hold " + (unlisted.size() > 1 ? "are" : "is") +
      " missing from this catalog: rebuild from the site that holds them (cairn catalog rebuild "
      "--from " +
      first + " --force); that rebuild queues their copies to site " + site.id() +
      " for `cairn replicate`, as every rebuild queues what the policies want");
}

// Loads the longest verified event log among the site rebuilt from and the
// other sites the settings name (reachable, same repository), when it extends
// the rebuilt site's own log: a site that missed the last flushes (it was
// down) must not make the rebuilt catalog number its new events over events
// the other sites hold. A log that disagrees with the rebuilt site's on a seq
// both hold is not adopted and is reported. AppendEvents recomputes seq,
// prev_hash and hash; on a verified prefix appended to an empty log they come
// out identical, which is checked against the loaded head at the end.
Status LoadSiteEvents(Site& site, Catalog& catalog, RebuildReport* report) {
  CAIRN_ASSIGN_OR_RETURN(SiteEventLog log, ReadSiteEventLog(site));
  report->event_segments = log.segments;
  report->chain_ok = log.chain_ok;
  report->events_site = site.id();
  if (!log.chain_ok) {
    report->first_bad_seq = log.first_bad_seq;
    report->events_not_loaded = log.events_after_break;
    report->problems.push_back("event log on site " + site.id() + " is broken at seq " +
                               std::to_string(log.first_bad_seq) + ": " + log.problem +
                               "; loaded events 1-" + std::to_string(log.events.size()) +
                               ", left out " + std::to_string(log.events_after_break) +
                               " (still on the site)");
  }
  const size_t own = log.events.size();
  for (auto& [name, other] : OtherSitesLogs(site, catalog, report)) {
    if (!SamePrefix(log.events, other.events)) {
      report->problems.push_back("event log on site " + name + " differs from site " + site.id() +
                                 "'s on the events both hold: not adopted (cairn events verify "
                                 "names the first difference)");
      continue;
    }
    if (other.events.size() <= log.events.size()) continue;
    report->events_site = name;
    report->event_segments = other.segments;
    log = std::move(other);
  }
  if (log.events.size() > own) {
    report->notes.push_back("event log taken from site " + report->events_site + " (events 1-" +
                            std::to_string(log.events.size()) + "): site " + site.id() +
                            " holds only 1-" + std::to_string(own) +
                            "; its log is caught up by the next flush");
    // The break on the rebuilt site stays a problem (its segments are damaged).
  }
  constexpr size_t kBatch = 5000;
  for (size_t start = 0; start < log.events.size(); start += kBatch) {
    size_t end = std::min(log.events.size(), start + kBatch);
    std::vector<proto::Event> batch(log.events.begin() + start, log.events.begin() + end);
    CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(batch).status());
  }
  report->events = log.events.size();
  CAIRN_ASSIGN_OR_RETURN(EventHead head, catalog.GetEventHead());
  if (head.seq != log.events.size() || (head.seq > 0 && head.hash != log.events.back().hash())) {
    return Status::Corruption("catalog rebuild: the event log loaded from site " +
                              report->events_site + " does not reproduce its own hashes");
  }
  return Status::OK();
}

Status RecordRebuildEvent(Catalog& catalog, const RebuildOptions& options,
                          const RebuildReport& report) {
  std::vector<proto::Event> events = {NewEvent(
      kRecovery,
      {.agent_version = options.agent_version,
       .user = options.user,
       .site = report.site,
       .outcome = report.HasProblems() ? "warning" : "success",
       .detail = "catalog rebuilt from site " + report.site + " (" + report.site_url +
                 "): " + std::to_string(report.versions) + " versions of " +
                 std::to_string(report.objects) + " objects, " + std::to_string(report.files) +
                 " files, " + std::to_string(report.events) + " events; " +
                 std::to_string(report.problems.size()) + " problems"})};
  return catalog.AppendEvents(events).status();
}

std::string RebuildReport::ToText() const {
  std::string out = "catalog rebuilt from site " + site + " (" + site_url + ")\n";
  out += "  partners with objects " + std::to_string(partners) + ", objects " +
         std::to_string(objects) + ", versions " + std::to_string(versions) + ", files " +
         std::to_string(files) + ", blobs " + std::to_string(blobs) + ", tag files " +
         std::to_string(tag_files) + "\n";
  out += "  events " + std::to_string(events) + " from " + std::to_string(event_segments) +
         " segments" +
         (events_site.empty() || events_site == site ? "" : " of site " + events_site) +
         ", chain " +
         (chain_ok ? std::string("verified") : "BROKEN at seq " + std::to_string(first_bad_seq)) +
         "\n";
  out += "  replicas on " + site +
         " recorded as never verified: the auditor checks them first (cairn audit run --site " +
         site + ")\n";
  for (const auto& [other, versions] : copies_elsewhere) {
    out += "  replicas on " + other + " of the " + std::to_string(versions) +
           " versions whose version.pb it lists: recorded as never verified too, each file its "
           "listing holds with the right size (cairn audit run --site " +
           other + ")\n";
  }
  if (missing_blobs || missing_tag_files || incomplete_versions) {
    out += "  missing on the site: " + std::to_string(missing_blobs) + " blobs, " +
           std::to_string(missing_tag_files) +
           " tag files; incomplete versions skipped: " + std::to_string(incomplete_versions) + "\n";
  }
  out += "  settings restored: " + std::to_string(settings_restored.size()) +
         (settings_restored.empty() ? " (the site keeps none)" : "") + "\n";
  for (const std::string& s : settings_restored) out += "    " + s + "\n";
  if (copies_lacking) {
    out += "  " + std::to_string(copies_lacking) +
           " copies the policies want were not found on the sites that should hold them: queued as "
           "replication jobs (each first looks at its target site, and a copy "
           "already there that verifies is recorded, not made again)\n";
  }
  for (const std::string& p : problems) out += "  problem: " + p + "\n";
  for (const std::string& n : notes) out += "  note: " + n + "\n";
  if (!previous_catalog.empty())
    out += "  the previous catalog was kept as " + previous_catalog + "\n";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", seconds);
  out += "  took " + std::string(secs) + " s\n";
  if (other_sites.empty()) {
    out +=
        "next: add the other sites again (cairn site add NAME URL; an empty folder or bucket is "
        "made a new site), then run cairn replicate --wait: it queues and makes every copy the "
        "policies want\n";
  } else {
    std::string names;
    for (const std::string& n : other_sites) names += (names.empty() ? "" : " ") + n;
    out +=
        "next: check the other sites (cairn site check NAME: " + names +
        "); a lost one (gone, empty, or its CAIRN-SITE lost): cairn site resync NAME --init; then "
        "run cairn replicate --wait: it makes every copy the policies want\n";
  }
  return out;
}

nlohmann::json RebuildReport::ToJson() const {
  nlohmann::json j;
  j["site"] = site;
  j["site_url"] = site_url;
  j["partners"] = partners;
  j["objects"] = objects;
  j["versions"] = versions;
  j["files"] = files;
  j["blobs"] = blobs;
  j["tag_files"] = tag_files;
  j["missing_blobs"] = missing_blobs;
  j["missing_tag_files"] = missing_tag_files;
  j["incomplete_versions"] = incomplete_versions;
  j["events"] = events;
  j["event_segments"] = event_segments;
  j["events_site"] = events_site;
  j["events_carried_over"] = events_carried_over;
  j["chain_ok"] = chain_ok;
  if (!chain_ok) {
    j["first_bad_seq"] = first_bad_seq;
    j["events_not_loaded"] = events_not_loaded;
  }
  j["problems"] = problems;
  j["notes"] = notes;
  j["settings_restored"] = settings_restored;
  j["other_sites"] = other_sites;
  j["copies_lacking"] = copies_lacking;
  j["copies_elsewhere"] = nlohmann::json::object();
  for (const auto& [other, versions] : copies_elsewhere) j["copies_elsewhere"][other] = versions;
  j["seconds"] = seconds;
  if (!previous_catalog.empty()) j["previous_catalog"] = previous_catalog;
  return j;
}

}  // namespace cairn::repo
