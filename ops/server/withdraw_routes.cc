// Governed withdrawal over the API (issue 18): the same library calls as `cairn withdraw` and
// `cairn hold` (repo/withdraw/), with the request's principal as the person acting. The role
// table is repo/access's: a partner-admin requests and approves for its own partner, an
// operator for any; depositors and auditors get 403 (auditors may list). The two-person rule
// holds here as everywhere: the approver is never the requester.
#include <nlohmann/json.hpp>

#include "bagit/time_text.h"
#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/site/repository.h"
#include "repo/withdraw/purge.h"
#include "repo/withdraw/withdraw.h"

namespace cairn::server {
namespace {

Result<nlohmann::json> Body(const ApiRequest& r) {
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  return body;
}

Result<std::string> Text(const nlohmann::json& body, const std::string& name, bool required) {
  if (!body.contains(name)) {
    if (required) return Status::InvalidArgument("the body needs \"" + name + "\" (a string)");
    return std::string();
  }
  if (!body[name].is_string()) return Status::InvalidArgument("\"" + name + "\" must be a string");
  return body[name].get<std::string>();
}

Result<int64_t> IdOf(const ApiRequest& r) {
  const std::string& text = r.path.at("id");
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("withdrawal id must be a number");
  }
  return std::stoll(text);
}

// The library's warnings of a catalog behind the sites, as told to the caller
// (views::ForPrincipal).
std::vector<std::string> ForCaller(const ApiRequest& r, std::vector<std::string> warnings) {
  for (std::string& w : warnings) w = views::ForPrincipal(r.principal, std::move(w));
  return warnings;
}

Result<ApiResponse> List(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  // What the sites record of the caller's partners that this catalog lacks, as `cairn withdraw
  // list` warns of it.
  std::vector<std::string> behind;
  CAIRN_ASSIGN_OR_RETURN(auto all, repo::ListWithdrawals(*repository, r.principal, &behind));
  nlohmann::json out = nlohmann::json::array();
  for (const repo::WithdrawalRecord& w : all) out.push_back(views::WithdrawalJson(w));
  return JsonResponse(views::DumpJson(out), ForCaller(r, behind));
}

// {"partner", "object", "version" (optional number), "reason", "purge" (optional bool)}.
Result<ApiResponse> Request(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json body, Body(r));
  repo::WithdrawRequest req;
  CAIRN_ASSIGN_OR_RETURN(req.partner, Text(body, "partner", true));
  CAIRN_ASSIGN_OR_RETURN(req.object, Text(body, "object", true));
  CAIRN_ASSIGN_OR_RETURN(req.reason, Text(body, "reason", true));
  if (body.contains("version")) {
    if (!body["version"].is_number_unsigned() || body["version"].get<uint64_t>() == 0 ||
        body["version"].get<uint64_t>() > UINT32_MAX) {
      return Status::InvalidArgument("\"version\" must be a version number from 1");
    }
    req.version = body["version"].get<uint32_t>();
  }
  if (body.contains("purge")) {
    if (!body["purge"].is_boolean()) return Status::InvalidArgument("\"purge\" must be a boolean");
    req.purge = body["purge"].get<bool>();
  }
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  // The sites that did not take the change, as the verb warns of them (X-Cairn-Warnings).
  std::vector<std::string> warnings;
  CAIRN_ASSIGN_OR_RETURN(repo::WithdrawalRecord w,
                         repo::RequestWithdrawal(*repository, r.principal, req, &warnings));
  ApiResponse answer =
      JsonResponse(views::DumpJson(views::WithdrawalJson(w)), ForCaller(r, warnings));
  answer.status = 201;
  return answer;
}

// Approves, then (with purge) purges as far as it can now, as `cairn withdraw approve` does.
Result<ApiResponse> Approve(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(int64_t id, IdOf(r));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(repo::ApproveResult approved,
                         repo::ApproveWithdrawal(*repository, r.principal, id));
  nlohmann::json out = {{"withdrawal", views::WithdrawalJson(approved.withdrawal)},
                        {"tombstones_pending", approved.tombstones_pending}};
  if (approved.withdrawal.purge) {
    Result<repo::PurgeReport> purged = repo::RunPurge(*repository, id);
    if (purged.ok()) {
      out["withdrawal"] = views::WithdrawalJson(purged->withdrawal);
      out["purge"] = views::PurgeJson(*purged, r.principal.partner.empty());
    } else {
      // Approved all the same: the daemon finishes the purge.
      out["purge"] = {{"error", purged.status().message()}};
    }
  }
  return JsonResponse(views::DumpJson(out), ForCaller(r, approved.settings_warnings));
}

Result<ApiResponse> Cancel(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(int64_t id, IdOf(r));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  std::vector<std::string> warnings;
  CAIRN_ASSIGN_OR_RETURN(repo::WithdrawalRecord w,
                         repo::CancelWithdrawal(*repository, r.principal, id, &warnings));
  return JsonResponse(views::DumpJson(views::WithdrawalJson(w)), ForCaller(r, warnings));
}

Result<ApiResponse> Holds(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(auto all, repo::ListHolds(*repository, r.principal));
  // Holds of the caller's partners the sites record past the catalog, as `cairn hold list`
  // names them.
  CAIRN_ASSIGN_OR_RETURN(auto past_catalog,
                         repo::HoldsTheSitesRecordPastCatalog(*repository, r.principal));
  nlohmann::json out = nlohmann::json::array();
  for (const repo::HoldRecord& h : all) out.push_back(views::HoldJson(h));
  return JsonResponse(views::DumpJson(out), ForCaller(r, past_catalog));
}

// {"partner", "object", "reason"}.
Result<ApiResponse> AddHold(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json body, Body(r));
  CAIRN_ASSIGN_OR_RETURN(std::string partner, Text(body, "partner", true));
  CAIRN_ASSIGN_OR_RETURN(std::string object, Text(body, "object", true));
  CAIRN_ASSIGN_OR_RETURN(std::string reason, Text(body, "reason", true));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  std::vector<std::string> warnings;
  CAIRN_ASSIGN_OR_RETURN(repo::HoldRecord h, repo::AddHold(*repository, r.principal, partner,
                                                           object, reason, &warnings));
  ApiResponse answer = JsonResponse(views::DumpJson(views::HoldJson(h)), ForCaller(r, warnings));
  answer.status = 201;
  return answer;
}

Result<ApiResponse> RemoveHold(const std::string& root, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  std::vector<std::string> warnings;
  CAIRN_ASSIGN_OR_RETURN(repo::HoldRemoval removal,
                         repo::RemoveHold(*repository, r.principal, r.path.at("partner"),
                                          r.path.at("object"), &warnings));
  return JsonResponse(
      views::DumpJson({{"hold", views::HoldJson(removal.hold)}, {"removed", removal.removed}}),
      ForCaller(r, warnings));
}

}  // namespace

void AddWithdrawRoutes(Router& router, const std::string& root) {
  router.Add({"GET", "/v1/withdrawals",
              "the withdrawals of the caller's partner, or of all (as cairn withdraw list --json)",
              [root](const ApiRequest& r) { return List(root, r); }});
  router.Add({"POST", "/v1/withdrawals",
              "request a withdrawal (as cairn withdraw request): partner-admin or operator",
              [root](const ApiRequest& r) { return Request(root, r); }});
  router.Add({"POST", "/v1/withdrawals/{id}/approve",
              "approve someone else's withdrawal request, then purge when asked "
              "(as cairn withdraw approve)",
              [root](const ApiRequest& r) { return Approve(root, r); }});
  router.Add({"POST", "/v1/withdrawals/{id}/cancel",
              "cancel a withdrawal not yet approved (as cairn withdraw cancel)",
              [root](const ApiRequest& r) { return Cancel(root, r); }});
  router.Add({"GET", "/v1/holds", "legal holds (as cairn hold list --json)",
              [root](const ApiRequest& r) { return Holds(root, r); }});
  router.Add({"POST", "/v1/holds", "put a legal hold on an object (as cairn hold add)",
              [root](const ApiRequest& r) { return AddHold(root, r); }});
  router.Add({"POST", "/v1/holds/{partner}/{object}/remove",
              "ask for a hold's removal; a second principal's call removes it "
              "(as cairn hold remove)",
              [root](const ApiRequest& r) { return RemoveHold(root, r); }});
}

}  // namespace cairn::server
