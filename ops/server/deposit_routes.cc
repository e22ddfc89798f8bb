// Content in and out: POST /v1/deposits/{partner}/{object}, a serialized bag (tar, tar.gz or
// zip) streamed in the body, spooled by the server to the repository's tmp folder, then
// deposited by the library's deposit of a serialized bag, as `cairn deposit PARTNER FILE --id
// OBJECT --json` does; GET .../versions/{n}/content, the version restored as a tar.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/deposit/deposit.h"
#include "repo/restore/restore.h"
#include "repo/site/repository.h"
#include "repo/site/repository_layout.h"

namespace cairn::server {
namespace {

using repo::access::Action;
using repo::access::Authorize;

Status AdmitDeposit(const ApiRequest& r) {
  return Authorize(r.principal, Action::kDeposit, r.path.at("partner"));
}

Result<ApiResponse> DepositUpload(const std::string& root, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(AdmitDeposit(r));
  if (r.body_file.empty()) return Status::InvalidArgument("send the bag archive as the body");
  return DepositArchive(root, r.principal, r.path.at("partner"), r.path.at("object"), r.body_file,
                        "upload " + r.request_id);
}

// `cairn restore PARTNER/OBJECT@vN --format tar`, restored into REPO/tmp and sent from there.
Result<ApiResponse> VersionContent(const std::string& root, const ApiRequest& r) {
  const std::string& partner = r.path.at("partner");
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kReadContent, partner));
  repo::RestoreRequest request;
  request.partner = partner;
  request.object = r.path.at("object");
  request.version = static_cast<uint32_t>(std::stoul(r.path.at("version")));
  request.dest = repo::repo_layout::DownloadSpoolPath(root, r.request_id);
  request.dest_name = "download " + r.request_id + " by " + r.principal.name;
  request.format = repo::RestoreFormat::kTar;
  request.user = r.principal.name;
  request.role = std::string(RoleName(r.principal.role));
  request.agent_version = CAIRN_VERSION;
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  Result<repo::RestoreReport> report = repo::Restore(*repository, request);
  if (!report.ok()) {
    ::unlink(request.dest.c_str());
    return report.status();
  }
  ApiResponse answer;
  answer.content_type = "application/x-tar";
  answer.body_file = request.dest;
  answer.filename = report->bag_name + ".tar";
  return answer;
}

}  // namespace

Result<ApiResponse> DepositArchive(const std::string& root, const repo::Principal& principal,
                                   const std::string& partner, const std::string& object,
                                   const std::string& archive, const std::string& label) {
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  CAIRN_RETURN_IF_ERROR(repository->catalog().GetPartner(partner).status());
  repo::DepositRequest request;
  request.partner = partner;
  request.source = archive;
  request.object_id = object;
  request.depositor = principal.name;
  request.role = std::string(RoleName(principal.role));
  request.source_name = label;  // events and the receipt name the upload, not the server's path
  request.agent_version = CAIRN_VERSION;
  CAIRN_ASSIGN_OR_RETURN(repo::DepositOutcome outcome, repo::Deposit(*repository, request));
  nlohmann::json out;
  out["stored"] = !outcome.refused;
  out["report"] = outcome.report.ToJson();
  if (outcome.receipt) out["receipt"] = outcome.receipt->ToJson();
  std::string text = views::DumpJson(out);
  // The server's path may appear in the report's findings: name the upload instead.
  for (size_t at; (at = text.find(archive)) != std::string::npos;) {
    text.replace(at, archive.size(), "upload");
  }
  ApiResponse answer = JsonResponse(std::move(text));
  answer.status = outcome.refused ? 422 : 201;
  return answer;
}

void AddDepositRoutes(Router& router, const std::string& root) {
  Route deposit{"POST", "/v1/deposits/{partner}/{object}",
                "deposit a serialized bag (tar, tar.gz, zip) streamed in the body as the next "
                "version of partner/object (as cairn deposit --json)",
                [root](const ApiRequest& r) { return DepositUpload(root, r); }};
  deposit.streams_body = true;
  deposit.admit = AdmitDeposit;
  router.Add(std::move(deposit));
  router.Add({"GET", "/v1/objects/{partner}/{object}/versions/{version}/content",
              "one version of an object as a bag in a tar (as cairn restore --format tar)",
              [root](const ApiRequest& r) { return VersionContent(root, r); }});
}

}  // namespace cairn::server
