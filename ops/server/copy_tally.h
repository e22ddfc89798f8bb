// Copy counts of one version gathered while its files stream by (no second pass over a version
// of 200,000 files): per site and state, and the fewest ok copies that count toward the
// policy. Shared by `cairn show` and GET /v1/objects/{partner}/{object}.
#ifndef CAIRN_OPS_SERVER_COPY_TALLY_H_
#define CAIRN_OPS_SERVER_COPY_TALLY_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "repo/catalog/inventory.h"

namespace cairn::views {

struct CopyTally {
  // Every site the policy wants copies on is listed, holding any or not; Add lists the sites
  // that hold a copy besides (a site the policy does not use is never listed empty).
  explicit CopyTally(repo::CopyRule r) : rule(std::move(r)) {
    for (const auto& [site, region] : rule.by_site) by_site[site];
  }
  repo::CopyRule rule;  // which ok copies count toward the policy
  std::map<std::string, std::map<std::string, uint64_t>> by_site;
  uint64_t min_ok = ~uint64_t{0};

  void Add(const repo::FileCopies& file) {
    for (const repo::CopyState& c : file.copies) by_site[c.site][c.state]++;
    min_ok = std::min<uint64_t>(min_ok, rule.Count(file.copies));
  }
  uint64_t MinOk() const { return min_ok == ~uint64_t{0} ? 0 : min_ok; }
  // True when the version has the copies its policy demands and no copy is known to be
  // corrupt or missing.
  bool Healthy() const {
    if (MinOk() < rule.wanted) return false;
    for (const auto& [site, states] : by_site) {
      if (states.contains("corrupt") || states.contains("missing")) return false;
    }
    return true;
  }
  // The closing part of `show --json`: copies_wanted, copies_ok, policy, copies_by_site.
  nlohmann::json SummaryJson(const std::string& policy_text) const {
    nlohmann::json tail = {
        {"copies_wanted", rule.wanted}, {"copies_ok", MinOk()}, {"policy", policy_text}};
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& [site, states] : by_site) {
      nlohmann::json entry = {{"site", site}};
      for (const char* state :
           {"ok", "unverified", "pending", "corrupt", "missing", "unavailable", "unreadable"}) {
        auto it = states.find(state);
        entry[state] = it == states.end() ? 0 : it->second;
      }
      sites.push_back(entry);
    }
    tail["copies_by_site"] = sites;
    return tail;
  }
};

}  // namespace cairn::views

#endif  // CAIRN_OPS_SERVER_COPY_TALLY_H_
