// The read routes: whoami, objects (list, show), usage, events, policy. Each authorizes with
// repo::access first, so that a refused request learns nothing of what another partner holds.
#include <nlohmann/json.hpp>
#include <optional>

#include "bagit/time_text.h"
#include "ops/server/api_routes.h"
#include "ops/server/copy_tally.h"
#include "ops/server/json_views.h"
#include "ops/server/unreachable_sites.h"
#include "repo/access/authorize.h"
#include "repo/catalog/inventory.h"
#include "repo/events/log_check.h"
#include "repo/events/premis.h"
#include "repo/events/segments.h"
#include "repo/replicate/replicate.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"

namespace cairn::server {
namespace {

using repo::access::Action;
using repo::access::Authorize;
using repo::access::ScopePartner;

Result<ApiResponse> WhoAmI(const ApiRequest& r) {
  nlohmann::json out = {{"name", r.principal.name},
                        {"role", std::string(repo::RoleName(r.principal.role))},
                        {"partner", r.principal.partner}};
  return JsonResponse(views::DumpJson(out));
}

Result<ApiResponse> ListObjects(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         ScopePartner(r.principal, Action::kReadMetadata, r.Query("partner")));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(auto objects, repo::ListObjectsWithCopies(repository->catalog(), partner));
  // As `cairn list` says it after its table: a catalog put back from a backup lists what it
  // knows, "ok" included, while the sites hold more.
  std::vector<std::string> warnings;
  std::string site;
  Status ahead = repo::FirstSiteLogAheadOfCatalog(*repository, "", /*runs_past_only=*/true, &site);
  if (!ahead.ok()) warnings.push_back(views::CatalogBehindListing(site, ahead, r.principal));
  // And a site that cannot be opened now: its copies are only the catalog's record.
  CAIRN_ASSIGN_OR_RETURN(
      auto down, views::UnreachableSiteLines(*repository, "the copies this listing counts on it",
                                             r.principal));
  warnings.insert(warnings.end(), down.begin(), down.end());
  return JsonResponse(views::DumpJson(views::ObjectListJson(objects)), warnings);
}

// The document of `cairn show PARTNER/OBJECT[@vN] --json`, built whole.
Result<ApiResponse> ShowObject(const std::string& root, const ApiRequest& r) {
  const std::string& partner = r.path.at("partner");
  const std::string& object = r.path.at("object");
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kReadMetadata, partner));
  std::optional<uint32_t> wanted;
  if (std::string v = r.Query("version"); !v.empty()) wanted = std::stoul(v);
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::Catalog& catalog = repository->catalog();
  // Chosen and refused as the local verb does (the same function): access to the partner was
  // checked above, so the sites' hint of a catalog behind them tells nothing to another partner.
  std::vector<repo::VersionInfo> versions;
  CAIRN_ASSIGN_OR_RETURN(
      repo::VersionInfo v,
      repo::VersionToRead(*repository, partner, object, wanted.value_or(0), "show", &versions));
  CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(partner));
  CAIRN_ASSIGN_OR_RETURN(auto sites, catalog.ListSites());
  views::CopyTally tally(repo::CopyRule::FromPolicy(policy, sites));
  // The sites the policy puts a copy on: one holding none of a file is shown pending there.
  Result<std::vector<std::string>> plan = repo::PlanCopySites(policy, sites);
  const std::vector<std::string> owed = plan.ok() ? *plan : std::vector<std::string>();
  nlohmann::json out = {{"partner", partner}, {"object", object}, {"version", v.version}};
  nlohmann::json list = nlohmann::json::array();
  for (const repo::VersionInfo& x : versions) {
    list.push_back({{"version", x.version},
                    {"created", FormatUtc(x.created_micros)},
                    {"depositor", x.depositor},
                    {"files", x.file_count},
                    {"bytes", x.payload_bytes}});
  }
  out["versions"] = list;
  nlohmann::json tags = nlohmann::json::array();
  nlohmann::json files = nlohmann::json::array();
  CAIRN_RETURN_IF_ERROR(repo::ForEachTagFileCopies(
      catalog, v.id,
      [&](const repo::FileCopies& f) {
        tags.push_back(views::FileCopiesJson(f));
        tally.Add(f);
        return Status::OK();
      },
      owed));
  CAIRN_RETURN_IF_ERROR(repo::ForEachFileCopies(
      catalog, v.id,
      [&](const repo::FileCopies& f) {
        files.push_back(views::FileCopiesJson(f));
        tally.Add(f);
        return Status::OK();
      },
      owed));
  out["tag_files"] = tags;
  out["files"] = files;
  out["empty_folders"] = v.empty_folders;
  out.update(tally.SummaryJson(tally.rule.Describe(policy)));
  // As `cairn show` names them: the states shown for a site that cannot be opened now are only
  // the catalog's record.
  CAIRN_ASSIGN_OR_RETURN(
      auto down,
      views::UnreachableSiteLines(*repository, "the states shown for its copies", r.principal));
  return JsonResponse(views::DumpJson(out), down);
}

Result<ApiResponse> Usage(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         ScopePartner(r.principal, Action::kReadMetadata, r.Query("partner")));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(repo::Usage usage, repository->catalog().GetUsage());
  if (!partner.empty()) CAIRN_RETURN_IF_ERROR(repository->catalog().GetPartner(partner).status());
  // A partner's own principal: no fair share (it would tell what others hold).
  return JsonResponse(
      views::DumpJson(views::UsageJson(usage, partner, !r.principal.partner.empty())));
}

// `cairn events [PARTNER[/OBJECT]] --format json|premis`, scoped to the caller's partner.
Result<ApiResponse> Events(const std::string& root, const ApiRequest& r) {
  std::string format = r.Query("format").empty() ? "json" : r.Query("format");
  if (format != "json" && format != "premis") {
    return Status::InvalidArgument("format " + format + ": use json or premis");
  }
  const std::string object = r.Query("object");
  if (!object.empty() && r.Query("partner").empty()) {
    return Status::InvalidArgument("object needs partner");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         ScopePartner(r.principal, Action::kReadEvents, r.Query("partner")));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::Catalog& catalog = repository->catalog();
  if (!partner.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetPartner(partner).status());
  repo::EventQuery query;
  query.object = object.empty() ? partner : partner + "/" + object;
  query.type = r.Query("type");
  query.since = r.Query("since");
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> events, repo::QueryEvents(catalog, query));
  if (!object.empty() && events.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog.GetVersion(partner, object, std::nullopt, false).status());
  }
  // A principal of one partner gets its events without their place in the chain (the gaps in
  // their seq counted every other partner's events) nor the audit history's numbers (runs and
  // findings, numbered across the repository). Those who verify the chain keep both.
  if (!r.principal.partner.empty()) {
    for (proto::Event& e : events) {
      repo::WithoutChainPlace(e);
      repo::WithoutAuditNumbers(e);
    }
  }
  if (format == "premis") {
    ApiResponse answer;
    answer.content_type = "application/xml";
    answer.body = repo::EventsToPremisXml(events);
    return answer;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const proto::Event& e : events) list.push_back(repo::EventToJson(e));
  return JsonResponse(views::DumpJson(list));
}

Result<ApiResponse> Policy(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(std::string partner,
                         ScopePartner(r.principal, Action::kReadMetadata, r.Query("partner")));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json out, views::PolicyShowJson(repository->catalog(), partner));
  return JsonResponse(views::DumpJson(out));
}

}  // namespace

void AddReadRoutes(Router& router, const std::string& root) {
  auto bind = [root](Result<ApiResponse> (*fn)(const std::string&, const ApiRequest&)) {
    return [root, fn](const ApiRequest& r) { return fn(root, r); };
  };
  router.Add({"GET", "/v1/whoami", "the caller's principal: name, role, partner", WhoAmI});
  router.Add({"GET", "/v1/objects",
              "list objects (as cairn list --json), the caller's partner's unless its role spans "
              "partners; ?partner=ID",
              bind(ListObjects)});
  router.Add({"GET", "/v1/objects/{partner}/{object}",
              "an object's versions and one version's files and copies (as cairn show --json); "
              "?version=N",
              bind(ShowObject)});
  router.Add({"GET", "/v1/usage", "bytes and files per partner and site (as cairn usage --json)",
              bind(Usage)});
  router.Add({"GET", "/v1/events",
              "PREMIS events (as cairn events --format json|premis); ?partner=ID&object=ID&type="
              "T&since=DATE&format=json|premis",
              bind(Events)});
  router.Add({"GET", "/v1/policy",
              "the policy that applies to a partner (as cairn policy show --json); ?partner=ID",
              bind(Policy)});
}

namespace {

// `handler` answering a principal who is not an operator in its terms, whatever the route: its
// error, its warnings (kWarningsHeader, a header or a restore's trailer) through
// views::ForPrincipal, and those and its body without the server's locations
// (views::ServerLocations: the repository's folder, each site's URL and folder, which library
// errors name freely). The routes word their own documents for the caller; this is what no route
// can forget.
Handler InCallersTerms(const std::string& root, Handler handler) {
  return [root, handler = std::move(handler)](const ApiRequest& r) -> Result<ApiResponse> {
    Result<ApiResponse> answer = handler(r);
    if (r.principal.role == repo::Role::kOperator) return answer;
    views::Renames renames;
    if (auto repository = repo::Repository::Open(root); repository.ok()) {
      renames = views::ServerLocations(**repository, r.principal);
    }
    auto told = [renames, who = r.principal](std::string text) {
      return views::ForPrincipal(who, views::Renamed(renames, std::move(text)));
    };
    if (!answer.ok()) {
      return Status(answer.status().code(), told(answer.status().message()))
          .SetRetryable(answer.status().retryable());
    }
    // Headers and trailers alike: warnings told in the caller's terms, the rest renamed.
    auto fields_told = [renames, told](auto& fields) {
      for (auto& [name, value] : fields) {
        if (name != views::kWarningsHeader) {
          value = views::Renamed(renames, std::move(value));
          continue;
        }
        std::vector<std::string> warnings = views::WarningsOfHeader(value);
        for (std::string& w : warnings) w = told(std::move(w));
        value = views::WarningsHeaderValue(warnings);
      }
    };
    ApiResponse& a = *answer;
    if (a.body_file.empty()) a.body = views::Renamed(renames, std::move(a.body));
    fields_told(a.headers);
    if (a.producer) {
      a.producer = [renames, fields_told, produce = std::move(a.producer)](
                       int fd, std::map<std::string, std::string>* trailers) -> Status {
        Status produced = produce(fd, trailers);
        fields_told(*trailers);  // a failed one's too (a restore's warnings)
        if (produced.ok()) return produced;
        return Status(produced.code(), views::Renamed(renames, produced.message()))
            .SetRetryable(produced.retryable());
      };
    }
    return answer;
  };
}

}  // namespace

Router MakeApiRouter(const std::string& repo_root, std::shared_ptr<UploadStore> uploads) {
  Router every;
  AddRoutes(every, repo_root, std::move(uploads));
  Router router;
  for (Route route : every.routes()) {
    route.handler = InCallersTerms(repo_root, std::move(route.handler));
    router.Add(std::move(route));
  }
  return router;
}

void AddRoutes(Router& router, const std::string& repo_root, std::shared_ptr<UploadStore> uploads) {
  AddReadRoutes(router, repo_root);
  AddAdminRoutes(router, repo_root);
  AddOperatorRoutes(router, repo_root);
  AddDepositRoutes(router, repo_root);
  if (!uploads) uploads = std::make_shared<UploadStore>(repo_root, UploadOptions{});
  AddUploadRoutes(router, repo_root, std::move(uploads));
  AddWithdrawRoutes(router, repo_root);
}

}  // namespace cairn::server
