// Resumable deposits (issue 17): POST /v1/uploads/{partner}/{object} opens (or finds again, by
// the client's resume key) an upload; PUT .../parts/{part} writes one numbered part, checked
// against its X-Content-SHA256; GET lists the parts received; POST .../complete deposits the
// assembled archive as POST /v1/deposits does; DELETE abandons it. The bookkeeping is
// UploadStore's; the deposit is the library's (DepositArchive).
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "bagit/report.h"
#include "bagit/time_text.h"
#include "ops/server/api_routes.h"
#include "ops/server/json_views.h"
#include "repo/access/authorize.h"
#include "repo/catalog/catalog.h"
#include "repo/deposit/deposit.h"
#include "repo/events/event_types.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"

namespace cairn::server {
namespace {

using repo::access::Action;
using repo::access::Authorize;

nlohmann::json UploadView(const Upload& u, int64_t expiry_micros) {
  nlohmann::json out;
  out["id"] = u.id;
  out["partner"] = u.partner;
  out["object"] = u.object;
  out["content_type"] = u.content_type;
  out["size"] = u.size ? nlohmann::json(*u.size) : nlohmann::json(nullptr);
  out["part_size"] = u.part_size;
  out["state"] = u.phase;
  out["parts"] = nlohmann::json::array();
  for (const UploadPart& p : u.parts) {
    out["parts"].push_back({{"n", p.n}, {"size", p.size}, {"sha256", p.sha256}});
  }
  out["expires_micros"] = u.updated_micros + expiry_micros;
  if (u.phase == "completed") {
    out["answer_status"] = u.answer_status;
    out["answer"] = nlohmann::json::parse(u.answer, nullptr, false);
  }
  return out;
}

Result<uint32_t> PartNumber(const ApiRequest& r) {
  const std::string& text = r.path.at("part");
  if (text.size() > 9) return Status::InvalidArgument("part must be a positive number");
  return static_cast<uint32_t>(std::stoul(text));
}

// The part's digest from X-Content-SHA256: 64 hex digits (lower-cased).
Result<std::string> PartDigest(const ApiRequest& r) {
  std::string d = r.content_sha256;
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (d.size() != 64 || d.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::InvalidArgument(
        "send the part's SHA-256 (64 hex digits) in the header X-Content-SHA256");
  }
  return d;
}

// Whether the events of `version` of the upload's object (the deposit's, and any since) are on
// every site's log now, for a deposit's answer given again (kept, or found again after the server
// stopped): "events_copied" in `answer`, and the lines the deposit's answer said of them
// (views::EventsFlushedLines), to go in the X-Cairn-Warnings header. The catalog's events are
// copied to the sites first, as every operation ends (a site whose log can be written again
// catches up); a site that is down is no such failure, as at the deposit.
std::vector<std::string> EventsOfVersionNow(repo::Repository& repository, const Upload& u,
                                            uint32_t version, nlohmann::json& answer) {
  repo::EventFilter filter;
  filter.partner = u.partner;
  filter.object = u.object;
  // Its last event (the catalog's events unread: every site's problem is told).
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (Result<std::vector<proto::Event>> events = repository.catalog().ListEvents(filter);
      events.ok()) {
    last = 0;
    for (const proto::Event& e : *events) {
      if (e.version() == version) last = std::max<uint64_t>(last, e.seq());
    }
  }
  const repo::EventsFlushed flushed = repo::FlushEventsThrough(repository, last);
  answer["events_copied"] = flushed.ok();
  return views::EventsFlushedLines(flushed);
}

// A completed upload's kept answer, as true now. A stored deposit's receipt is given again (to
// a rerun of the same source, or to a command that waited for another sending it) only while
// its version is the object's latest and not withdrawn: after a purge, a withdrawal or another
// version, the rerun is a new deposit of that source (as locally), and this says false. Its
// copies are counted now (a replicate, an audit or a site lost since changes them, and with
// them the client's exit code), and the receipt says it is an earlier deposit's, in the words
// for `who` (the commands that make missing copies are the operator's alone). Whether its
// events are on every site's log is said now too (EventsOfVersionNow): `*warnings` gets the
// lines, as the deposit's answer had them.
Result<bool> KeptAnswerStillTrue(const std::string& root, const repo::Principal& who, Upload& u,
                                 std::vector<std::string>* warnings) {
  if (u.phase != "completed" || u.answer_status != 201) return true;
  nlohmann::json answer = nlohmann::json::parse(u.answer, nullptr, false);
  if (!answer.is_object() || !answer.value("stored", false) || !answer.contains("receipt")) {
    return true;
  }
  CAIRN_ASSIGN_OR_RETURN(repo::Receipt receipt, repo::Receipt::FromJson(answer["receipt"]));
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::Catalog& catalog = repository->catalog();
  Result<repo::VersionInfo> latest = catalog.GetVersion(u.partner, u.object, std::nullopt, false);
  if (latest.status().IsNotFound()) return false;  // purged, every version
  CAIRN_RETURN_IF_ERROR(latest.status());
  if (latest->version != receipt.version) return false;  // purged, or another version since
  if (!catalog.RefuseIfWithdrawn(u.partner, u.object, receipt.version).ok()) return false;
  CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(u.partner));
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::SiteRecord> sites, catalog.ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> plan, repo::PlanCopySites(policy, sites));
  receipt.copies_wanted = static_cast<uint32_t>(plan.size());
  CAIRN_RETURN_IF_ERROR(repo::FillCopies(catalog, latest->id, plan, &receipt, u.created_micros));
  // What the deposit said of its copies then (pending, a site away) is replaced by the count.
  receipt.warnings.clear();
  receipt.warnings.push_back("stored earlier, at " + FormatUtc(latest->created_micros) +
                             ", from this same source: nothing was sent again (this is that "
                             "deposit's receipt, its copies counted now)");
  const std::string makes = who.role == repo::Role::kOperator
                                ? "cairn replicate and the audit's repairs make them"
                                : repo::kPendingCopiesByOperator;
  for (const repo::SiteCopies& c : receipt.copies) {
    if (c.pending > 0) {
      receipt.warnings.push_back("site " + c.site + ": " + std::to_string(c.pending) +
                                 " copies missing or not verified (queued or found by an audit; " +
                                 makes + ")");
    }
  }
  answer["receipt"] = receipt.ToJson();
  *warnings = EventsOfVersionNow(*repository, u, receipt.version, answer);
  u.answer = answer.dump();
  return true;
}

Result<ApiResponse> Begin(const std::string& root, UploadStore& store, const ApiRequest& r) {
  const std::string& partner = r.path.at("partner");
  CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kDeposit, partner));
  nlohmann::json body = nlohmann::json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  std::string type = "application/x-tar", key;
  std::optional<uint64_t> size;
  if (body.contains("content_type")) {
    if (!body["content_type"].is_string()) {
      return Status::InvalidArgument("content_type must be a string");
    }
    type = body["content_type"];
  }
  if (body.contains("resume_key")) {
    if (!body["resume_key"].is_string())
      return Status::InvalidArgument("resume_key must be a string");
    key = body["resume_key"];
  }
  if (body.contains("size") && !body["size"].is_null()) {
    if (!body["size"].is_number_unsigned()) {
      return Status::InvalidArgument("size must be a whole number of bytes, or null");
    }
    size = body["size"].get<uint64_t>();
  }
  uint64_t size_at_least = 0;
  if (body.contains("size_at_least")) {
    if (!body["size_at_least"].is_number_unsigned()) {
      return Status::InvalidArgument("size_at_least must be a whole number of bytes");
    }
    size_at_least = body["size_at_least"].get<uint64_t>();
  }
  {
    CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
    CAIRN_RETURN_IF_ERROR(repository->catalog().GetPartner(partner).status());
    // A refusal that stands, said before a byte is sent: an id that differs from one of the
    // partner's objects only in case (the deposit refused it at its end, the upload kept).
    CAIRN_RETURN_IF_ERROR(repository->catalog().NextVersion(partner, r.path.at("object")).status());
  }
  bool created = false;
  CAIRN_ASSIGN_OR_RETURN(Upload u, store.Begin(r.principal, partner, r.path.at("object"), type,
                                               size, size_at_least, key, &created));
  std::vector<std::string> warnings;
  CAIRN_ASSIGN_OR_RETURN(bool still_true, KeptAnswerStillTrue(root, r.principal, u, &warnings));
  if (!still_true) {
    // Its version is gone or no longer the latest: this source is deposited again.
    // (Another rerun at once may have removed it first.)
    Status removed = store.Remove(r.principal, u.id);
    if (!removed.ok() && !removed.IsNotFound()) return removed;
    CAIRN_ASSIGN_OR_RETURN(u, store.Begin(r.principal, partner, r.path.at("object"), type, size,
                                          size_at_least, key, &created));
  }
  ApiResponse answer =
      JsonResponse(views::DumpJson(UploadView(u, store.options().expiry_micros)), warnings);
  answer.status = created ? 201 : 200;
  return answer;
}

Result<ApiResponse> Show(const std::string& root, UploadStore& store, const ApiRequest& r) {
  CAIRN_ASSIGN_OR_RETURN(Upload u, store.Get(r.principal, r.path.at("upload")));
  // A command waiting for another that sends the same source: that deposit's receipt, its
  // copies counted now (false: its version was withdrawn or superseded since, still answered).
  std::vector<std::string> warnings;
  CAIRN_RETURN_IF_ERROR(KeptAnswerStillTrue(root, r.principal, u, &warnings).status());
  return JsonResponse(views::DumpJson(UploadView(u, store.options().expiry_micros)), warnings);
}

Result<SpoolTarget> PartTarget(std::shared_ptr<UploadStore> store, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(PartDigest(r).status());
  CAIRN_ASSIGN_OR_RETURN(uint32_t n, PartNumber(r));
  const std::string id = r.path.at("upload");
  CAIRN_ASSIGN_OR_RETURN(UploadStore::PartTarget t,
                         store->PartTargetFor(r.principal, id, n, r.content_length));
  SpoolTarget target;
  target.path = t.path;
  target.offset = t.offset;
  target.max_bytes = t.max_bytes;
  target.done = [store, id, n] { store->ReleasePart(id, n); };
  return target;
}

Result<ApiResponse> PutPart(UploadStore& store, const ApiRequest& r) {
  if (r.body_file.empty()) return Status::InvalidArgument("send the part as the body");
  CAIRN_ASSIGN_OR_RETURN(std::string digest, PartDigest(r));
  CAIRN_ASSIGN_OR_RETURN(uint32_t n, PartNumber(r));
  CAIRN_ASSIGN_OR_RETURN(
      UploadPart part, store.RecordPart(r.principal, r.path.at("upload"), n, r.body_bytes, digest));
  nlohmann::json out = {{"n", part.n}, {"size", part.size}, {"sha256", part.sha256}};
  return JsonResponse(views::DumpJson(out));
}

// The answer for the version an interrupted completion of `u` stored, when it did: found by
// its ingestion event, whose detail names the upload ("upload ID", as DepositArchive labels it).
Result<std::optional<ApiResponse>> FindDeposited(const std::string& root, const Upload& u,
                                                 const std::string& archive) {
  CAIRN_ASSIGN_OR_RETURN(auto repository, repo::Repository::Open(root));
  repo::EventFilter filter;
  filter.partner = u.partner;
  filter.object = u.object;
  filter.type = std::string(repo::kIngestion.label);
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> events,
                         repository->catalog().ListEvents(filter));
  for (const proto::Event& e : events) {
    (void)archive;
    if (e.detail().find(" upload " + u.id + ";") == std::string::npos) continue;
    repo::Catalog& catalog = repository->catalog();
    CAIRN_ASSIGN_OR_RETURN(repo::VersionInfo v,
                           catalog.GetVersion(u.partner, u.object, e.version(), false));
    // The deposit was stored before the server stopped; its full receipt was not kept. The
    // copies are counted now, as a deposit counts them: a version short of them (the server
    // stopped before they were made) is said so, and the client's exit code is 1, not 0.
    CAIRN_ASSIGN_OR_RETURN(proto::Policy policy, catalog.EffectivePolicy(u.partner));
    CAIRN_ASSIGN_OR_RETURN(std::vector<repo::SiteRecord> sites, catalog.ListSites());
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> plan, repo::PlanCopySites(policy, sites));
    repo::Receipt receipt;
    receipt.partner = u.partner;
    receipt.object = u.object;
    receipt.version = v.version;
    receipt.source = "upload " + u.id;
    receipt.source_kind = "serialized bag";
    receipt.files = v.file_count;
    receipt.bytes = v.payload_bytes;
    receipt.first_site = plan.empty() ? "" : plan[0];
    receipt.copies_wanted = static_cast<uint32_t>(plan.size());
    receipt.stored_figures_known = false;
    // Since the upload began (before the deposit): copies its own content made count.
    CAIRN_RETURN_IF_ERROR(repo::FillCopies(catalog, v.id, plan, &receipt, u.created_micros));
    receipt.warnings.push_back(
        "the server stopped while it completed this deposit: the version was stored then (this "
        "is its receipt, found again; how many of its bytes were new was not kept)");
    nlohmann::json out;
    out["stored"] = true;
    out["report"] = bagit::Report().ToJson();
    out["receipt"] = receipt.ToJson();
    out["recovered"] = true;
    // Its events: the server may have stopped before it copied them to the sites' logs.
    const std::vector<std::string> warnings = EventsOfVersionNow(*repository, u, v.version, out);
    ApiResponse answer = JsonResponse(views::DumpJson(out), warnings);
    answer.status = 201;
    return std::optional<ApiResponse>(std::move(answer));
  }
  return std::optional<ApiResponse>();
}

Result<ApiResponse> Complete(const std::string& root, UploadStore& store, const ApiRequest& r) {
  const std::string id = r.path.at("upload");
  // Access was the partner's when the upload was opened; a principal whose role changed since
  // is asked again.
  {
    CAIRN_ASSIGN_OR_RETURN(Upload u, store.Get(r.principal, id));
    CAIRN_RETURN_IF_ERROR(Authorize(r.principal, Action::kDeposit, u.partner));
    // Completed already (an answer lost on the way): its answer as true now, never a receipt
    // of a version withdrawn or superseded since (its archive is gone: opening a new upload,
    // as a rerun of the command does, deposits the source again).
    std::vector<std::string> warnings;
    CAIRN_ASSIGN_OR_RETURN(bool still_true, KeptAnswerStillTrue(root, r.principal, u, &warnings));
    if (u.phase == "completed") {
      if (!still_true) {
        return Status::InvalidArgument("upload " + id + " stored a version of " + u.partner + "/" +
                                       u.object +
                                       " that is withdrawn or no longer the latest: rerun the "
                                       "command to deposit the source again");
      }
      ApiResponse answer = JsonResponse(u.answer, warnings);
      answer.status = u.answer_status;
      return answer;
    }
  }
  auto deposit = [&root, &r](const Upload& u, const std::string& archive,
                             const std::string& request_id) {
    return DepositArchive(root, r.principal, u.partner, u.object, archive, "upload " + u.id);
  };
  auto find = [&root](const Upload& u, const std::string& archive) {
    return FindDeposited(root, u, archive);
  };
  return store.Complete(r.principal, id, r.request_id, deposit, find);
}

Result<ApiResponse> Abandon(UploadStore& store, const ApiRequest& r) {
  CAIRN_RETURN_IF_ERROR(store.Remove(r.principal, r.path.at("upload")));
  return JsonResponse(views::DumpJson({{"id", r.path.at("upload")}, {"removed", true}}));
}

}  // namespace

void AddUploadRoutes(Router& router, const std::string& root,
                     std::shared_ptr<UploadStore> uploads) {
  router.Add({"POST", "/v1/uploads/{partner}/{object}",
              "open a resumable upload of a serialized bag for partner/object (or find the "
              "caller's open one with the same resume_key); answers its id and part size",
              [root, uploads](const ApiRequest& r) { return Begin(root, *uploads, r); }});
  router.Add({"GET", "/v1/uploads/{upload}", "one upload of the caller: its parts received",
              [root, uploads](const ApiRequest& r) { return Show(root, *uploads, r); }});
  router.Add({"DELETE", "/v1/uploads/{upload}", "abandon an upload of the caller",
              [uploads](const ApiRequest& r) { return Abandon(*uploads, r); }});
  Route part{"PUT", "/v1/uploads/{upload}/parts/{part}",
             "part n (from 1) of an upload, its SHA-256 in X-Content-SHA256; written at offset "
             "(n-1) * part_size",
             [uploads](const ApiRequest& r) { return PutPart(*uploads, r); }};
  part.streams_body = true;
  part.spool_to = [uploads](const ApiRequest& r) { return PartTarget(uploads, r); };
  router.Add(std::move(part));
  router.Add({"POST", "/v1/uploads/{upload}/complete",
              "deposit the upload's archive (as POST /v1/deposits): 201 stored, 422 refused",
              [root, uploads](const ApiRequest& r) { return Complete(root, *uploads, r); }});
}

}  // namespace cairn::server
