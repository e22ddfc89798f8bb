// The output of `cairn site resync`: text and JSON.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "repo/recovery/resync.h"

namespace cairn::repo {

std::string ResyncSummary::ToText() const {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", seconds);
  std::string out = "site " + site + " resync " + (complete() ? "complete" : "INCOMPLETE") + "\n";
  if (initialised) out += "  the site had no CAIRN-SITE: made again (README.txt, CAIRN-SITE)\n";
  out += "  versions " + std::to_string(versions) + " (" + std::to_string(versions_repaired) +
         " needed copies), files checked " + std::to_string(items_checked) + "\n";
  out += "  already there " + std::to_string(present) + ", copied and verified " +
         std::to_string(copied) + " (" + std::to_string(bytes_copied) + " bytes), failed " +
         std::to_string(failed) + "\n";
  out += "  event segments written " + std::to_string(event_segments_written) + "\n";
  if (replicated || replication_left) {
    out += "  copies owed by replication: made " + std::to_string(replicated) + ", still owed " +
           std::to_string(replication_left) +
           (replication_left ? " (cairn replicate --wait retries them)" : "") + "\n";
  }
  for (const std::string& r : purge_leftovers_removed) {
    out += "  leftover of a purge removed: " + r + "\n";
  }
  for (const std::string& l : purge_leftovers_left) {
    out += "  leftover of a purge not removed: " + l + " (cairn withdraw run retries)\n";
  }
  for (const std::string& e : errors) out += "  error: " + e + "\n";
  if (jobs_left) {
    out += "  " + std::to_string(jobs_left) +
           " versions left in the queue: run cairn site resync " + site + " again\n";
  }
  out += "  took " + std::string(secs) + " s\n";
  return out;
}

nlohmann::json ResyncSummary::ToJson() const {
  nlohmann::json j;
  j["site"] = site;
  j["complete"] = complete();
  j["initialised"] = initialised;
  j["versions"] = versions;
  j["versions_repaired"] = versions_repaired;
  j["files_checked"] = items_checked;
  j["present"] = present;
  j["copied"] = copied;
  j["bytes_copied"] = bytes_copied;
  j["failed"] = failed;
  j["jobs_left"] = jobs_left;
  j["event_segments_written"] = event_segments_written;
  j["replicated"] = replicated;
  j["replication_left"] = replication_left;
  j["errors"] = errors;
  j["purge_leftovers_removed"] = purge_leftovers_removed;
  j["purge_leftovers_left"] = purge_leftovers_left;
  j["seconds"] = seconds;
  return j;
}

}  // namespace cairn::repo
