// ReconcileCopies: the policy's wanted sites against the ok replicas.
#include "repo/replicate/copies_queue.h"

#include <algorithm>

#include "repo/catalog/catalog.h"
#include "repo/replicate/replicate.h"

namespace cairn::repo {

std::string ReconcileSummary::ToText() const {
  if (copies_short == 0) return "every version has its copies on the sites its policy wants";
  std::string out = std::to_string(copies_short) + " copies lacking (";
  std::string sep;
  for (const auto& [site, n] : short_by_site) {
    out += sep + "site " + site + " " + std::to_string(n);
    sep = ", ";
  }
  sep = "; ";
  for (const auto& [partner, n] : short_by_partner) {
    out += sep + "partner " + partner + " " + std::to_string(n);
    sep = ", ";
  }
  return out + "): " + std::to_string(jobs_queued) + " jobs queued, " +
         std::to_string(copies_short - jobs_queued) + " were queued already";
}

Result<ReconcileSummary> ReconcileCopies(Catalog& catalog, const ReconcileOptions& options) {
  ReconcileSummary out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  std::map<std::string, Result<std::vector<std::string>>> plans;  // by partner
  std::vector<proto::Job> jobs;
  Status walked = catalog.ForEachVersionCopies(options.partner, [&](const VersionCopies& v) {
    ++out.versions_checked;
    auto plan_it = plans.find(v.partner);
    if (plan_it == plans.end()) {
      Result<proto::Policy> policy = catalog.EffectivePolicy(v.partner);
      Result<std::vector<std::string>> plan =
          policy.ok() ? PlanCopySites(*policy, sites)
                      : Result<std::vector<std::string>>(policy.status());
      if (!plan.ok()) {
        out.problems.push_back("partner " + v.partner + ": " + plan.status().message());
      }
      plan_it = plans.emplace(v.partner, std::move(plan)).first;
    }
    if (!plan_it->second.ok()) return Status::OK();
    // The source: the site holding the most items ok (first by name on a tie).
    std::string source;
    uint64_t best = 0;
    for (const auto& [site, n] : v.ok_items_by_site) {
      if (n > best) best = n, source = site;
    }
    bool short_here = false;
    for (const std::string& site : *plan_it->second) {
      if (v.Complete(site)) continue;
      proto::Job job;
      job.set_kind(proto::JOB_KIND_REPLICATE);
      job.set_partner(v.partner);
      job.set_object(v.object);
      job.set_version(v.version);
      job.set_source_site(source);
      job.set_target_site(site);
      jobs.push_back(std::move(job));
      ++out.copies_short;
      ++out.short_by_site[site];
      ++out.short_by_partner[v.partner];
      short_here = true;
    }
    if (short_here) ++out.versions_short;
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(walked);
  if (!jobs.empty()) {
    CAIRN_ASSIGN_OR_RETURN(out.jobs_queued, catalog.EnqueueJobs(jobs, options.revive_failed));
  }
  return out;
}

Result<std::vector<RetryingSite>> RetryingSites(Catalog& catalog, const JobFilter& filter) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, catalog.ListJobs(filter));
  std::map<std::string, RetryingSite> by_site;
  std::map<std::string, int64_t> last_tried;  // the error shown is of the latest retry
  for (const JobRecord& j : jobs) {
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

}  // namespace cairn::repo
