// QueueMissingCopies: the policy's wanted sites against the ok replicas.
#include "repo/copies_queue.h"

#include <map>
#include <set>

#include "repo/catalog/catalog.h"
#include "repo/replicate.h"

namespace cairn::repo {

Result<QueuedCopies> QueueMissingCopies(Catalog& catalog, const std::string& partner) {
  QueuedCopies out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectSummary> objects, catalog.ListObjects(partner));
  std::map<std::string, Result<std::vector<std::string>>> plans;  // by partner
  for (const ObjectSummary& o : objects) {
    auto plan_it = plans.find(o.partner);
    if (plan_it == plans.end()) {
      Result<std::vector<std::string>> plan = Status::NotFound("no policy");
      Result<proto::Policy> policy = catalog.EffectivePolicy(o.partner);
      plan = policy.ok() ? PlanCopySites(*policy, sites)
                         : Result<std::vector<std::string>>(policy.status());
      if (!plan.ok()) {
        out.problems.push_back("partner " + o.partner + ": " + plan.status().message());
      }
      plan_it = plans.emplace(o.partner, std::move(plan)).first;
    }
    if (!plan_it->second.ok()) continue;
    const std::vector<std::string>& wanted = *plan_it->second;
    CAIRN_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions,
                           catalog.ListVersions(o.partner, o.object));
    for (const VersionInfo& v : versions) {
      ++out.versions_checked;
      CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> replicas, catalog.ReplicasOf(v.id));
      // Every item of the version, and the sites where it is ok.
      std::map<std::string, std::set<std::string>> ok_sites;
      std::map<std::string, uint64_t> ok_count_by_site;
      for (const ReplicaRecord& r : replicas) {
        std::string id = r.ref.kind == ReplicaRef::Kind::kBlob
                             ? "b" + r.ref.blob
                             : "t" + std::to_string(r.ref.tag_file_id);
        std::set<std::string>& where = ok_sites[id];
        if (r.state == ReplicaState::kOk && where.insert(r.site).second) {
          ++ok_count_by_site[r.site];
        }
      }
      if (ok_sites.empty()) continue;
      // The source: the site holding the most ok items.
      std::string source;
      uint64_t best = 0;
      for (const auto& [site, n] : ok_count_by_site) {
        if (n > best) best = n, source = site;
      }
      bool short_here = false;
      for (const std::string& site : wanted) {
        if (ok_count_by_site[site] == ok_sites.size()) continue;
        proto::Job job;
        job.set_kind(proto::JOB_KIND_REPLICATE);
        job.set_partner(v.partner);
        job.set_object(v.object);
        job.set_version(v.version);
        job.set_source_site(source);
        job.set_target_site(site);
        CAIRN_RETURN_IF_ERROR(catalog.EnqueueJob(job).status());
        ++out.jobs_queued;
        short_here = true;
      }
      if (short_here) ++out.versions_short;
    }
  }
  return out;
}

}  // namespace cairn::repo
