// Catalog rebuild, second half: the event history from the site's segments,
// the recovery event that records the rebuild, and the report's output.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "repo/catalog/catalog.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/rebuild.h"
#include "repo/site.h"

namespace cairn::repo {

// Appends the verified prefix of the site's log. AppendEvents recomputes
// seq, prev_hash and hash; on a verified prefix appended to an empty log they
// come out identical, which is checked against the loaded head at the end.
Status LoadSiteEvents(Site& site, Catalog& catalog, RebuildReport* report) {
  CAIRN_ASSIGN_OR_RETURN(SiteEventLog log, ReadSiteEventLog(site));
  report->event_segments = log.segments;
  report->chain_ok = log.chain_ok;
  if (!log.chain_ok) {
    report->first_bad_seq = log.first_bad_seq;
    report->events_not_loaded = log.events_after_break;
    report->problems.push_back("event log on site " + site.id() + " is broken at seq " +
                               std::to_string(log.first_bad_seq) + ": " + log.problem +
                               "; loaded events 1-" + std::to_string(log.events.size()) +
                               ", left out " + std::to_string(log.events_after_break) +
                               " (still on the site)");
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
    return Status::Corruption("catalog rebuild: the event log loaded from site " + site.id() +
                              " does not reproduce its own hashes");
  }
  return Status::OK();
}

Status RecordRebuildEvent(Catalog& catalog, const RebuildOptions& options,
                          const RebuildReport& report) {
  proto::Event e;
  e.set_type(std::string(kRecovery.label));
  e.set_type_uri(EventTypeUri(kRecovery));
  e.set_agent("cairn");
  e.set_agent_version(options.agent_version);
  e.set_user(EventUser(options.user));
  e.set_site(report.site);
  e.set_outcome(report.HasProblems() ? "warning" : "success");
  e.set_detail("catalog rebuilt from site " + report.site + " (" + report.site_url +
               "): " + std::to_string(report.versions) + " versions of " +
               std::to_string(report.objects) + " objects, " + std::to_string(report.files) +
               " files, " + std::to_string(report.events) + " events; " +
               std::to_string(report.problems.size()) + " problems");
  std::vector<proto::Event> events = {e};
  return catalog.AppendEvents(events).status();
}

std::string RebuildReport::ToText() const {
  std::string out = "catalog rebuilt from site " + site + " (" + site_url + ")\n";
  out += "  partners " + std::to_string(partners) + ", objects " + std::to_string(objects) +
         ", versions " + std::to_string(versions) + ", files " + std::to_string(files) +
         ", blobs " + std::to_string(blobs) + ", tag files " + std::to_string(tag_files) + "\n";
  out += "  events " + std::to_string(events) + " from " + std::to_string(event_segments) +
         " segments, chain " +
         (chain_ok ? std::string("verified") : "BROKEN at seq " + std::to_string(first_bad_seq)) +
         "\n";
  out += "  replicas on " + site +
         " recorded as never verified: the auditor checks them first (cairn audit run --site " +
         site + ")\n";
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
           " copies the policies want are not on the sites: queued as replication jobs\n";
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
  j["seconds"] = seconds;
  if (!previous_catalog.empty()) j["previous_catalog"] = previous_catalog;
  return j;
}

}  // namespace cairn::repo
