// PlanCopySites: which sites a policy puts its copies on.
#include <algorithm>
#include <set>

#include "repo/replicate/replicate.h"

namespace cairn::repo {

Result<std::vector<std::string>> PlanCopySites(const proto::Policy& policy,
                                               const std::vector<SiteRecord>& sites) {
  uint32_t copies = std::max<uint32_t>(policy.copies(), 1);
  std::vector<const SiteRecord*> candidates;
  if (policy.sites_size() > 0) {
    for (const std::string& name : policy.sites()) {
      auto it = std::find_if(sites.begin(), sites.end(),
                             [&](const SiteRecord& s) { return s.name == name; });
      if (it == sites.end()) {
        return Status::InvalidArgument("the policy names site '" + name +
                                       "', which is not in the catalog (cairn site add)");
      }
      candidates.push_back(&*it);
    }
  } else {
    for (const SiteRecord& s : sites) candidates.push_back(&s);
    std::sort(candidates.begin(), candidates.end(),
              [](const SiteRecord* a, const SiteRecord* b) { return a->name < b->name; });
  }
  std::vector<std::string> chosen;
  if (policy.regions_size() > 0) {
    std::set<std::string> allowed(policy.regions().begin(), policy.regions().end());
    std::set<std::string> used;
    for (const SiteRecord* s : candidates) {
      if (chosen.size() == copies) break;
      if (!allowed.count(s->region) || used.count(s->region)) continue;
      used.insert(s->region);
      chosen.push_back(s->name);
    }
    if (chosen.size() < copies) {
      return Status::InvalidArgument("the policy wants " + std::to_string(copies) +
                                     " copies in distinct regions among its regions, but only " +
                                     std::to_string(chosen.size()) + " such sites exist");
    }
    return chosen;
  }
  for (const SiteRecord* s : candidates) {
    if (chosen.size() == copies) break;
    chosen.push_back(s->name);
  }
  if (chosen.size() < copies) {
    return Status::InvalidArgument("the policy wants " + std::to_string(copies) +
                                   " copies but only " + std::to_string(chosen.size()) +
                                   " sites can hold them (cairn site add)");
  }
  return chosen;
}

}  // namespace cairn::repo
