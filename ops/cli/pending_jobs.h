// What `replicate` and `daemon --once` say about the copies still owed: the
// queued jobs that already failed at least once, grouped by target site, with
// the last error and when they are retried (issue 15: never a silent success).
#ifndef CAIRN_OPS_CLI_PENDING_JOBS_H_
#define CAIRN_OPS_CLI_PENDING_JOBS_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/report_json.h"
#include "repo/catalog/catalog.h"

namespace cairn::cli {

// The queued jobs of one target site that have failed before.
struct RetryingSite {
  std::string site;
  uint64_t jobs = 0;
  int64_t next_try_micros = 0;  // the earliest retry
  uint32_t attempts = 0;        // the most attempts of any of them
  std::string last_error;       // of the job tried last

  // "site b: 3 copies waiting, next retry at 2026-12-02T08:10:00Z (attempt 2): <error>"
  std::string Text() const {
    return "site " + site + ": " + std::to_string(jobs) + " cop" + (jobs == 1 ? "y" : "ies") +
           " waiting, next retry at " + audit::IsoTime(next_try_micros) + " (after " +
           std::to_string(attempts) + " failed attempt" + (attempts == 1 ? "" : "s") +
           "): " + last_error;
  }
  nlohmann::json Json() const {
    return {{"site", site},
            {"jobs", jobs},
            {"next_retry", audit::IsoTime(next_try_micros)},
            {"attempts", attempts},
            {"last_error", last_error}};
  }
};

// The queued (not leased, not failed for good) jobs matching `filter` that
// carry an error, by target site. Jobs never tried yet are not included.
inline Result<std::vector<RetryingSite>> RetryingSites(repo::Catalog& catalog,
                                                       const repo::JobFilter& filter) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::JobRecord> jobs, catalog.ListJobs(filter));
  std::map<std::string, RetryingSite> by_site;
  std::map<std::string, int64_t> last_tried;  // the error shown is of the latest retry
  for (const repo::JobRecord& j : jobs) {
    if (j.state != "queued" || j.job.last_error().empty()) continue;
    RetryingSite& s = by_site[j.job.target_site()];
    s.site = j.job.target_site();
    const int64_t next = j.job.next_try_unix_micros();
    s.next_try_micros = s.jobs == 0 ? next : std::min(s.next_try_micros, next);
    s.attempts = std::max(s.attempts, j.job.attempts());
    if (s.jobs == 0 || next >= last_tried[s.site]) {
      s.last_error = j.job.last_error();
      last_tried[s.site] = next;
    }
    ++s.jobs;
  }
  std::vector<RetryingSite> out;
  for (auto& [name, s] : by_site) out.push_back(std::move(s));
  return out;
}

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_PENDING_JOBS_H_
