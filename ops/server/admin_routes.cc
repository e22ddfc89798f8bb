// Audit reports (auditors and operators: a report spans every partner) and the operator's
// routes: sites and partners.
#include <nlohmann/json.hpp>

#include "audit/history.h"
#include "bagit/time_text.h"
#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/events/log_check.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::server {
namespace {

using repo::access::Action;
using repo::access::Authorize;

// `cairn audit report --json [--since DATE]`, or one run's (`--run ID`); ?format=text, csv or
// html: the report as `--format` prints it, with X-Cairn-Audit-Problems (yes/no) for the
// verb's exit code.
Result<ApiResponse> AuditRuns(const std::string& root, const ApiRequest& r) {
  // A report names every partner's findings: only roles that span partners read it.
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kReadReports, ""));
  audit::HistoryQuery query;
  if (auto run = r.path.find("run"); run != r.path.end()) query.run_id = std::stoll(run->second);
  if (std::string since = r.Query("since"); !since.empty()) {
    CAIRN_ASSIGN_OR_RETURN(query.since_micros, repo::ParseSinceDate(since));
  }
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  const std::string format = r.Query("format");
  if (!format.empty() && format != "json" && format != "text" && format != "csv" &&
      format != "html") {
    return Status::InvalidArgument("format '" + format + "': expected json, text, csv or html");
  }
  CAIRN_ASSIGN_OR_RETURN(audit::AuditHistory history, audit::LoadAuditHistory(*repository, query));
  if (format.empty() || format == "json") {
    return JsonResponse(views::DumpJson(audit::HistoryJson(history)));
  }
  ApiResponse answer;
  if (format == "csv") {
    answer.content_type = "text/csv; charset=utf-8";
    answer.body = audit::HistoryCsv(history);
  } else if (format == "html") {
    answer.content_type = "text/html; charset=utf-8";
    answer.body = audit::HistoryHtml(history);
  } else {
    answer.content_type = "text/plain; charset=utf-8";
    answer.body = audit::HistoryText(history);
  }
  answer.headers["X-Cairn-Audit-Problems"] = audit::HistoryHasProblems(history) ? "yes" : "no";
  return answer;
}

Result<ApiResponse> Sites(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kOperate, ""));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(auto sites, repository->catalog().ListSites());
  return JsonResponse(views::DumpJson(views::SiteListJson(sites)));
}

Result<ApiResponse> Partners(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kOperate, ""));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::Catalog& catalog = repository->catalog();
  CAIRN_ASSIGN_OR_RETURN(auto partners, catalog.ListPartners());
  auto own_policy = [&catalog](const std::string& id) { return catalog.GetPolicy(id).ok(); };
  return JsonResponse(views::DumpJson(views::PartnerListJson(partners, own_policy)));
}

// `cairn partner add ID [--name NAME]` from {"id": "...", "name": "..."}.
Result<ApiResponse> AddPartner(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kOperate, ""));
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!body.is_object() || !body.contains("id") || !body["id"].is_string() ||
      (body.contains("name") && !body["name"].is_string())) {
    return Status::InvalidArgument(
        "the body must be a JSON object {\"id\": string, \"name\": string (optional)}");
  }
  const std::string id = body["id"];
  const std::string name = body.value("name", "");
  CAIRN_RETURN_IF_ERROR(repo::layout::ValidatePartnerId(id));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::PartnerRecord added;
  CAIRN_ASSIGN_OR_RETURN(repo::SettingsChange change,
                         repo::AddPartner(*repository, id, name, &added));
  nlohmann::json out = {{"id", added.id},
                        {"name", added.name},
                        {"created", FormatUtc(added.created_micros)},
                        {"warnings", change.warnings}};
  ApiResponse answer = JsonResponse(views::DumpJson(out));
  answer.status = 201;
  return answer;
}

}  // namespace

void AddAdminRoutes(Router& router, const std::string& root) {
  auto bind = [root](Result<ApiResponse> (*fn)(const std::string&, const ApiRequest&)) {
    return [root, fn](const ApiRequest& r) { return fn(root, r); };
  };
  router.Add({"GET", "/v1/audit/runs",
              "audit runs and their findings (as cairn audit report --json); ?since=DATE; "
              "?format=text|csv|html as --format prints them",
              bind(AuditRuns)});
  router.Add({"GET", "/v1/audit/runs/{run}",
              "one audit run (as cairn audit report --run ID --json)", bind(AuditRuns)});
  router.Add(
      {"GET", "/v1/sites", "the sites (as cairn site list --json); operator only", bind(Sites)});
  router.Add({"GET", "/v1/partners", "the partners (as cairn partner list --json); operator only",
              bind(Partners)});
  router.Add({"POST", "/v1/partners",
              "add a partner (as cairn partner add) from {\"id\", \"name\"}; operator only",
              bind(AddPartner)});
}

}  // namespace cairn::server
