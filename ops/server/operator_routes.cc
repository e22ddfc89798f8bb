// The operator's settings routes: principals, audit schedules and policies. Each is the library
// call of the matching CLI verb (`cairn principal add|list|disable`, `cairn audit schedule
// add|list|remove`, `cairn policy set`), for the operator role only; the change is made in the
// catalog and then written to every site, and the sites that did not take it are named in the
// answer's "warnings", as the verbs print them.
#include <nlohmann/json.hpp>

#include "audit/schedule.h"
#include "bagit/time_text.h"
#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/access/principals.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::server {
namespace {

using repo::access::Action;
using repo::access::Authorize;

Status AdmitOperator(const ApiRequest& r) { return Authorize(r.principal, Action::kOperate, ""); }

Result<nlohmann::json> JsonBody(const ApiRequest& r, const char* shape) {
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!body.is_object()) return Status::InvalidArgument(std::string("the body must be ") + shape);
  return body;
}

ApiResponse Created(const nlohmann::json& out) {
  ApiResponse answer = JsonResponse(views::DumpJson(out));
  answer.status = 201;
  return answer;
}

Result<ApiResponse> ListPrincipals(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(auto principals, repo::access::ListPrincipals(repository->catalog()));
  return JsonResponse(views::DumpJson(views::PrincipalListJson(principals)));
}

// `cairn principal add NAME --role ROLE [--partner ID]` from {"name", "role", "partner"}.
Result<ApiResponse> AddPrincipal(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  constexpr const char* kShape =
      "a JSON object {\"name\": string, \"role\": string, \"partner\": string (optional)}";
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json body, JsonBody(r, kShape));
  for (const auto& [key, value] : body.items()) {
    if ((key != "name" && key != "role" && key != "partner") || !value.is_string()) {
      return Status::InvalidArgument(std::string("the body must be ") + kShape);
    }
  }
  const std::string name = body.value("name", ""), role_name = body.value("role", "");
  CAIRN_RETURN_IF_ERROR(repo::access::ValidatePrincipalName(name));
  std::optional<repo::Role> role = repo::ParseRole(role_name);
  if (!role) {
    return Status::InvalidArgument("unknown role '" + role_name +
                                   "': expected depositor, partner-admin, auditor or operator");
  }
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(
      repo::access::PrincipalChange change,
      repo::access::AddPrincipal(*repository, name, *role, body.value("partner", "")));
  nlohmann::json out = views::PrincipalListJson({change.principal}).at(0);
  out["warnings"] = change.warnings;
  return Created(out);
}

// `cairn principal disable NAME [--force]`, from no body or {"force": bool}.
Result<ApiResponse> DisablePrincipal(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  const std::string& name = r.path.at("name");
  CAIRN_RETURN_IF_ERROR(repo::access::ValidatePrincipalName(name));
  bool force = false;
  if (!r.body.empty()) {
    constexpr const char* kShape = "empty or a JSON object {\"force\": bool}";
    CAIRN_ASSIGN_OR_RETURN(nlohmann::json body, JsonBody(r, kShape));
    for (const auto& [key, value] : body.items()) {
      if (key != "force" || !value.is_boolean()) {
        return Status::InvalidArgument(std::string("the body must be ") + kShape);
      }
      force = value.get<bool>();
    }
  }
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(repo::access::PrincipalChange change,
                         repo::access::DisablePrincipal(*repository, name, r.principal, force));
  nlohmann::json out = views::PrincipalListJson({change.principal}).at(0);
  out["warnings"] = change.warnings;
  return JsonResponse(views::DumpJson(out));
}

// `cairn principal enable NAME`.
Result<ApiResponse> EnablePrincipal(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  const std::string& name = r.path.at("name");
  CAIRN_RETURN_IF_ERROR(repo::access::ValidatePrincipalName(name));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  bool was_disabled = false;
  CAIRN_ASSIGN_OR_RETURN(repo::access::PrincipalChange change,
                         repo::access::EnablePrincipal(*repository, name, &was_disabled));
  nlohmann::json out = views::PrincipalListJson({change.principal}).at(0);
  out["was_disabled"] = was_disabled;
  out["warnings"] = change.warnings;
  return JsonResponse(views::DumpJson(out));
}

Result<ApiResponse> ListSchedules(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_ASSIGN_OR_RETURN(auto schedules, audit::ListSchedules(*repository));
  nlohmann::json out = nlohmann::json::array();
  for (const audit::Schedule& s : schedules) out.push_back(views::ScheduleJson(s));
  return JsonResponse(views::DumpJson(out));
}

// `cairn audit schedule add` from the JSON views::ScheduleFromJson reads.
Result<ApiResponse> AddSchedule(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json body, JsonBody(r, "a JSON object (a schedule)"));
  CAIRN_ASSIGN_OR_RETURN(audit::Schedule schedule, views::ScheduleFromJson(body));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  std::vector<std::string> warnings;
  CAIRN_RETURN_IF_ERROR(audit::AddSchedule(*repository, schedule, &warnings));
  CAIRN_ASSIGN_OR_RETURN(auto schedules, audit::ListSchedules(*repository));
  nlohmann::json out = nlohmann::json::object();
  for (const audit::Schedule& s : schedules) {
    if (s.name == schedule.name) out = views::ScheduleJson(s);
  }
  out["warnings"] = warnings;
  return Created(out);
}

// `cairn audit schedule remove NAME`.
Result<ApiResponse> RemoveSchedule(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  std::vector<std::string> warnings;
  CAIRN_RETURN_IF_ERROR(audit::RemoveSchedule(*repository, r.path.at("name"), &warnings));
  nlohmann::json out = {{"removed", r.path.at("name")}, {"warnings", warnings}};
  return JsonResponse(views::DumpJson(out));
}

// `cairn policy set FILE [--partner ID]`: the body is the policy file's text. A relative
// bagit_profile path is read beside the repository (the server cannot see the client's files)
// and may not leave its folder.
Result<ApiResponse> SetPolicy(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitOperator(r));
  std::string scope(repo::kDefaultPolicyScope);
  if (auto partner = r.path.find("partner"); partner != r.path.end()) scope = partner->second;
  if (!IsValidUtf8(r.body)) return Status::InvalidArgument("the policy text is not valid UTF-8");
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  const std::string source =
      "policy sent by " + r.principal.name + " (request " + r.request_id + ")";
  repo::PolicyRecord record{scope, r.body, source, root, 0};
  record.profile_inside_base_dir = true;  // the client names no other file of this host
  CAIRN_ASSIGN_OR_RETURN(repo::SettingsChange change, repo::SetPolicy(*repository, record));
  CAIRN_RETURN_IF_ERROR(change.queue_status);
  const std::string partner = scope == repo::kDefaultPolicyScope ? std::string() : scope;
  return JsonResponse(views::DumpJson(views::PolicySetJson(partner, source, change)));
}

}  // namespace

void AddOperatorRoutes(Router& router, const std::string& root) {
  auto bind = [root](Result<ApiResponse> (*fn)(const std::string&, const ApiRequest&)) {
    return [root, fn](const ApiRequest& r) { return fn(root, r); };
  };
  router.Add({"GET", "/v1/principals", "the principals (as cairn principal list --json); operator",
              bind(ListPrincipals)});
  router.Add({"POST", "/v1/principals",
              "add a principal (as cairn principal add) from {\"name\", \"role\", \"partner\"}; "
              "operator",
              bind(AddPrincipal)});
  router.Add(
      {"POST", "/v1/principals/{name}/disable",
       "disable a principal: its tokens stop working (as cairn principal disable); operator; "
       "the caller itself only with {\"force\": true}",
       bind(DisablePrincipal)});
  router.Add({"POST", "/v1/principals/{name}/enable",
              "enable a disabled principal again: its tokens neither revoked nor expired work "
              "again (as cairn principal enable); operator",
              bind(EnablePrincipal)});
  router.Add({"GET", "/v1/schedules",
              "audit schedules (as cairn audit schedule list --json); operator",
              bind(ListSchedules)});
  router.Add({"POST", "/v1/schedules",
              "add an audit schedule (as cairn audit schedule add) from {\"name\", \"every\", "
              "\"site\", \"partner\", \"object\", \"sample\", \"rate\", \"mode\"}; operator",
              bind(AddSchedule)});
  router.Add({"DELETE", "/v1/schedules/{name}",
              "remove an audit schedule (as cairn audit schedule remove); operator",
              bind(RemoveSchedule)});
  router.Add({"PUT", "/v1/policy",
              "set the default policy from the policy file's text in the body (as cairn policy "
              "set FILE); operator",
              bind(SetPolicy)});
  router.Add({"PUT", "/v1/policy/{partner}",
              "set a partner's policy from the policy file's text in the body (as cairn policy "
              "set FILE --partner ID); operator",
              bind(SetPolicy)});
}

}  // namespace cairn::server
