// What `replicate` and `daemon --once` say about the copies still owed: the
// queued jobs that already failed at least once, grouped by target site
// (repo::RetryingSites), with the last error and when they are retried
// (issue 15: never a silent success).
#ifndef CAIRN_OPS_CLI_PENDING_JOBS_H_
#define CAIRN_OPS_CLI_PENDING_JOBS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "bagit/time_text.h"
#include "repo/replicate/copies_queue.h"

namespace cairn::cli {

// "site b: 3 copies waiting, next retry at 2026-12-02T08:10:00Z (after 2 failed attempts): <error>"
inline std::string RetryingText(const repo::RetryingSite& s) {
  return "site " + s.site + ": " + std::to_string(s.jobs) + " cop" + (s.jobs == 1 ? "y" : "ies") +
         " waiting, next retry at " + FormatUtc(s.next_try_micros) + " (after " +
         std::to_string(s.attempts) + " failed attempt" + (s.attempts == 1 ? "" : "s") +
         "): " + s.last_error;
}

inline nlohmann::json RetryingJson(const repo::RetryingSite& s) {
  return {{"site", s.site},
          {"jobs", s.jobs},
          {"next_retry", FormatUtc(s.next_try_micros)},
          {"attempts", s.attempts},
          {"last_error", s.last_error}};
}

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_PENDING_JOBS_H_
