// Content in and out: POST /v1/deposits/{partner}/{object}, a serialized bag (tar, tar.gz or
// zip) streamed in the body, spooled by the server to the repository's tmp folder, then
// deposited by the library's deposit of a serialized bag, as `cairn deposit PARTNER FILE --id
// OBJECT --json` does; GET .../versions/{n}/content (or .../content, the latest), the version
// restored as a tar streamed while it is made, its summary in the X-Cairn-Restore trailer.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/deposit/deposit.h"
#include "repo/restore/restore.h"
#include "repo/site/catalog_behind.h"
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

// Most bad copies a restore's summary header names one by one (the rest are counted): a header
// must stay well under a client's limit (libcurl's is 100 KiB).
constexpr size_t kMaxProblemsInHeader = 100;

// The restore's outcome for the X-Cairn-Restore trailer (ASCII JSON on one line): what the
// client checks the bag against (files and bytes of the payload, tag files) and what the local
// verb prints besides (where files came from, bad copies met, repairs queued), and whether its
// events reached every site's log that could be reached (`events_copied`: false makes the local
// verb exit 1; what it prints of them goes in the X-Cairn-Warnings trailer).
std::string RestoreSummary(const repo::RestoreReport& r, const repo::EventsFlushed& events) {
  nlohmann::json problems = nlohmann::json::array();
  for (size_t i = 0; i < r.problems.size() && i < kMaxProblemsInHeader; ++i) {
    const repo::CopyProblem& p = r.problems[i];
    problems.push_back({{"path", p.path},
                        {"sha256", p.sha256},
                        {"tag_file", p.tag_file},
                        {"site", p.site},
                        {"outcome", repo::CopyOutcomeName(p.outcome)},
                        {"detail", p.detail}});
  }
  nlohmann::json doc = {{"partner", r.partner},
                        {"object", r.object},
                        {"version", r.version},
                        {"bag_name", r.bag_name},
                        {"payload_files", r.payload_files},
                        {"payload_bytes", r.payload_bytes},
                        {"tag_files", r.tag_files},
                        {"files_from_site", r.files_from_site},
                        {"problems", problems},
                        {"problems_omitted", r.problems.size() - problems.size()},
                        {"repairs_queued", r.repairs_queued},
                        {"events_copied", events.ok()}};
  return doc.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

// `cairn restore PARTNER/OBJECT[@vN] --format tar`, sent as it is made: what can be refused
// (access, an unknown object or version) is answered before the first byte; then the library's
// restore writes the tar into the pipe the server sends from, each file verified before it goes
// out (a bad copy is replaced by another site's, as locally), and its summary follows as the
// X-Cairn-Restore trailer. A restore that fails mid-way cuts the answer (no last chunk), or, for
// a client that asks with ?on-error=trailer (and so checks for it), ends it with the
// X-Cairn-Error trailer naming the failure, so that it can say what the local verb says.
// Without {version}: the latest.
Result<ApiResponse> VersionContent(const std::string& root, const ApiRequest& r) {
  const std::string& partner = r.path.at("partner");
  const std::string on_error = r.Query("on-error");
  if (!on_error.empty() && on_error != "trailer") {
    return Status::InvalidArgument("on-error=" + on_error + ": only on-error=trailer is known");
  }
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kReadContent, partner));
  repo::RestoreRequest request;
  request.partner = partner;
  request.object = r.path.at("object");
  std::optional<uint32_t> wanted;
  if (auto version = r.path.find("version"); version != r.path.end()) {
    wanted = static_cast<uint32_t>(std::stoul(version->second));
  }
  request.version = wanted.value_or(0);
  request.format = repo::RestoreFormat::kTar;
  request.spool_dir = repo::repo_layout::TmpDir(root);
  request.dest = "a download (request " + r.request_id + ")";
  request.user = r.principal.name;
  request.role = std::string(RoleName(r.principal.role));
  request.agent_version = CAIRN_VERSION;
  {
    // Refused before the answer's headers, by the checks the local restore refuses by (an
    // unknown, withdrawn or purged version; "the latest" older than the sites'; a tombstone on
    // a site the catalog does not know of, when it was put back from an older backup): once
    // the 200 is sent, a refusal can only cut the stream.
    // An object or version only the sites hold (the catalog older than them) is named with
    // the sites and the rebuild, as the local verb names it (after the access check above).
    CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
    Result<uint32_t> version = repo::CheckRestore(*repository, request);
    if (!version.ok()) {
      return repo::WithCatalogBehindHint(*repository, version.status(), partner, request.object,
                                         request.version);
    }
    request.version = *version;
  }
  request.stream_bag_name = request.object + "-v" + std::to_string(request.version);
  ApiResponse answer;
  answer.content_type = "application/x-tar";
  answer.filename = request.stream_bag_name + ".tar";
  answer.headers["Trailer"] = std::string("X-Cairn-Restore, ") + views::kWarningsHeader;
  if (on_error == "trailer") {
    answer.error_trailer = "X-Cairn-Error";
    answer.headers["Trailer"] += ", X-Cairn-Error";
  }
  // The restore's dissemination event (and the bad copies met) copied to the sites' logs: what
  // the local verb prints of that (views::EventsFlushedLines) goes in the X-Cairn-Warnings
  // trailer, worded for the caller as every route's warnings are (InCallersTerms); a restore
  // that fails says it too (beside X-Cairn-Error), as the local verb prints it before its error.
  answer.producer = [root, request](int fd,
                                    std::map<std::string, std::string>* trailers) -> Status {
    repo::RestoreRequest streamed = request;
    streamed.stream_fd = fd;
    CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
    repo::EventsFlushed events;
    Result<repo::RestoreReport> report = repo::Restore(*repository, streamed, &events);
    if (std::vector<std::string> said = views::EventsFlushedLines(events); !said.empty()) {
      (*trailers)[views::kWarningsHeader] = views::WarningsHeaderValue(said);
    }
    if (!report.ok()) return report.status();
    (*trailers)["X-Cairn-Restore"] = RestoreSummary(*report, events);
    return Status::OK();
  };
  return answer;
}

// What the deposit's answer names in place of where the server keeps things: `archive` as
// "upload" always, and the server's locations as told to `who` (views::ServerLocations).
views::Renames ServerLocations(repo::Repository& repository, const repo::Principal& who,
                               const std::string& archive) {
  views::Renames out = views::ServerLocations(repository, who);
  out.insert(out.begin(), {archive, "upload"});
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
  return out;
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
  Result<repo::DepositOutcome> deposited = repo::Deposit(*repository, request);
  if (!deposited.ok() && repo::IsLockBusy(deposited.status())) {
    // The lock's message names a path, a process and flags of the server (--lock-timeout does
    // nothing from a client): said in the client's terms (the server's log has the wait notice
    // naming the holder).
    const bool object_lock = deposited.status().message().find(repo::repo_layout::ObjectLockPath(
                                 repository->root(), partner, object)) != std::string::npos;
    return Status::Unavailable(
        (object_lock
             ? "another deposit of " + partner + "/" + object + " is in progress on the server"
             : std::string("the repository is busy on the server (another command holds "
                           "a lock the deposit needs)")) +
        ": nothing was stored; retry later");
  }
  // The server's paths may appear in the report's findings and in an error: the upload is
  // named instead, and to a partner's principal each site by its name (ServerLocations).
  const views::Renames renames = ServerLocations(*repository, principal, archive);
  if (!deposited.ok()) {
    return Status(deposited.status().code(), views::Renamed(renames, deposited.status().message()))
        .SetRetryable(deposited.status().retryable());
  }
  const repo::DepositOutcome& outcome = *deposited;
  // Its new events copied to the sites' logs: what the local verb prints of that goes in the
  // X-Cairn-Warnings header (worded for the caller, as every route's warnings are:
  // InCallersTerms), and "events_copied" says whether the client exits 1 for it, as locally.
  ApiResponse answer =
      JsonResponse(views::Renamed(renames, views::DumpJson(views::DepositJson(outcome))),
                   views::EventsFlushedLines(outcome.events));
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
  router.Add({"GET", "/v1/objects/{partner}/{object}/content",
              "the latest version of an object as a bag in a tar (as cairn restore --format tar)",
              [root](const ApiRequest& r) { return VersionContent(root, r); }});
}

}  // namespace cairn::server
