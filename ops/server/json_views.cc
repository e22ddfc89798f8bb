#include "ops/server/json_views.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>

#include "bagit/time_text.h"
#include "bagit/units.h"
#include "repo/site_layout.h"
#include "repo/storage/backend.h"

namespace cairn::views {
namespace {

// The URL safe to print: what the backend says about itself, else the scheme only.
std::string DisplayUrl(const std::string& url) {
  Result<std::unique_ptr<repo::StorageBackend>> backend = repo::OpenBackend(url);
  if (backend.ok()) return (*backend)->DisplayUrl();
  size_t scheme = url.find("://");
  return scheme == std::string::npos ? "?" : url.substr(0, scheme) + "://...";
}

}  // namespace

nlohmann::json ObjectListJson(const std::vector<repo::ObjectListing>& objects) {
  nlohmann::json out = nlohmann::json::array();
  for (const repo::ObjectListing& o : objects) {
    const repo::ObjectSummary& s = o.summary;
    out.push_back({{"partner", s.partner},
                   {"object", s.object},
                   {"created", FormatUtc(s.created_micros)},
                   {"versions", s.version_count},
                   {"latest_version", s.latest_version},
                   {"files", s.latest_file_count},
                   {"bytes", s.latest_payload_bytes},
                   {"copies_wanted", o.copies_wanted},
                   {"copies_ok", o.copies_ok},
                   {"policy", o.policy_text},
                   {"has_wanted_copies", o.has_wanted_copies()}});
    if (!o.withdrawn.empty()) out.back()["withdrawn"] = o.withdrawn;
  }
  return out;
}

nlohmann::json UsageJson(const repo::Usage& u, const std::string& only_partner, bool partner_view) {
  const char* kRule = kUsageRule;
  nlohmann::json partners = nlohmann::json::array();
  for (const repo::PartnerUsage& p : u.partners) {
    if (!only_partner.empty() && p.partner != only_partner) continue;
    nlohmann::json entry = {{"partner", p.partner},
                            {"files", p.files},
                            {"logical_bytes", p.logical_bytes},
                            {"unique_bytes", p.unique_bytes}};
    if (!partner_view) {
      entry["fair_bytes"] = p.fair_bytes;
      entry["stored_bytes"] = p.stored_bytes;
      entry["stored_bytes_by_site"] = p.stored_bytes_by_site;
    }
    partners.push_back(std::move(entry));
  }
  if (partner_view) return {{"rule", kUsagePartnerRule}, {"partners", partners}};
  if (!only_partner.empty()) return {{"rule", kRule}, {"partners", partners}};
  nlohmann::json sites = nlohmann::json::array();
  for (const repo::SiteUsage& s : u.sites) {
    sites.push_back({{"site", s.site},
                     {"blobs", s.blobs},
                     {"blob_bytes", s.blob_bytes},
                     {"tag_files", s.tag_files},
                     {"tag_bytes", s.tag_bytes}});
  }
  return {{"rule", kRule},
          {"partners", partners},
          {"sites", sites},
          {"unique_blob_bytes", u.unique_blob_bytes},
          {"logical_bytes", u.logical_bytes}};
}

nlohmann::json PartnerListJson(const std::vector<repo::PartnerRecord>& partners,
                               const std::function<bool(const std::string&)>& own_policy) {
  nlohmann::json out = nlohmann::json::array();
  for (const repo::PartnerRecord& p : partners) {
    out.push_back({{"id", p.id},
                   {"name", p.name},
                   {"created", FormatUtc(p.created_micros)},
                   {"own_policy", own_policy(p.id)}});
  }
  return out;
}

nlohmann::json PrincipalListJson(const std::vector<repo::PrincipalRecord>& principals) {
  nlohmann::json out = nlohmann::json::array();
  for (const repo::PrincipalRecord& p : principals) {
    out.push_back({{"name", p.name},
                   {"role", repo::RoleName(p.role)},
                   {"partner", p.partner},
                   {"created", FormatUtc(p.created_micros)},
                   {"disabled", p.disabled_micros ? nlohmann::json(FormatUtc(p.disabled_micros))
                                                  : nlohmann::json(nullptr)}});
  }
  return out;
}

nlohmann::json ScheduleJson(const audit::Schedule& s) {
  return {{"name", s.name},
          {"every", audit::FormatDuration(s.every_micros)},
          {"every_seconds", s.every_micros / 1'000'000},
          {"site", s.scope.site},
          {"partner", s.scope.partner},
          {"object", s.scope.object},
          {"sample", s.sample},
          {"rate_bytes_per_sec", s.rate_bytes_per_sec},
          {"mode", s.mode == audit::AuditMode::kAll ? "all" : "due"},
          {"last_run", s.last_run_micros ? FormatUtc(s.last_run_micros) : ""},
          {"next_run", FormatUtc(s.next_run_micros)}};
}

Result<audit::Schedule> ScheduleFromJson(const nlohmann::json& spec) {
  if (!spec.is_object()) return Status::InvalidArgument("a schedule must be a JSON object");
  static const char* const kFields[] = {"name",   "every",  "site", "partner",
                                        "object", "sample", "rate", "mode"};
  for (const auto& [key, value] : spec.items()) {
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields)) {
      return Status::InvalidArgument("schedule: unknown field \"" + key + "\"");
    }
    if (!value.is_string())
      return Status::InvalidArgument("schedule: " + key + " must be a string");
  }
  auto text = [&spec](const char* key) { return spec.value(key, std::string()); };
  audit::Schedule s;
  s.name = text("name");
  if (s.name.empty()) return Status::InvalidArgument("schedule: name is required");
  if (text("every").empty()) return Status::InvalidArgument("schedule: every is required (90d)");
  Result<int64_t> every = audit::ParseDuration(text("every"));
  if (!every.ok()) return every.status().WithContext("every");
  s.every_micros = *every;
  s.scope.site = text("site");
  s.scope.partner = text("partner");
  s.scope.object = text("object");
  if (!s.scope.partner.empty())
    CAIRN_RETURN_IF_ERROR(repo::layout::ValidatePartnerId(s.scope.partner));
  if (!s.scope.object.empty()) {
    if (s.scope.partner.empty()) {
      return Status::InvalidArgument("schedule: object " + s.scope.object + " needs its partner");
    }
    CAIRN_RETURN_IF_ERROR(repo::layout::ValidateObjectId(s.scope.object));
  }
  s.sample = text("sample");
  if (!text("rate").empty()) {
    Result<uint64_t> rate = ParseByteSize(text("rate"));
    if (!rate.ok()) return rate.status().WithContext("rate");
    s.rate_bytes_per_sec = *rate;
  }
  const std::string mode = text("mode");
  if (mode != "" && mode != "due" && mode != "all") {
    return Status::InvalidArgument("schedule: mode '" + mode + "': expected due or all");
  }
  s.mode = mode == "all" ? audit::AuditMode::kAll : audit::AuditMode::kDue;
  return s;
}

nlohmann::json PolicySetJson(const std::string& partner, const std::string& source,
                             const repo::SettingsChange& change) {
  return {{"partner", partner},
          {"source", source},
          {"warnings", change.warnings},
          {"problems", change.queued.problems},
          {"copies_short", change.queued.copies_short},
          {"jobs_queued", change.queued.jobs_queued},
          {"queued", change.queued.ToText()}};
}

nlohmann::json SiteListJson(const std::vector<repo::SiteRecord>& sites) {
  nlohmann::json out = nlohmann::json::array();
  for (const repo::SiteRecord& s : sites) {
    out.push_back({{"name", s.name}, {"url", DisplayUrl(s.url)}, {"region", s.region}});
  }
  return out;
}

nlohmann::json PolicyJson(const proto::Policy& policy) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(policy, &json, options).ok()) return {};
  return nlohmann::json::parse(json, nullptr, false);
}

Result<nlohmann::json> PolicyShowJson(repo::Catalog& catalog, const std::string& partner) {
  if (!partner.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetPartner(partner).status());
  // The stored policy that applies: the partner's own, else the default.
  std::optional<repo::PolicyRecord> stored;
  std::string applies = "builtin";
  for (const std::string& scope : {partner, std::string(repo::kDefaultPolicyScope)}) {
    if (scope.empty()) continue;
    Result<repo::PolicyRecord> r = catalog.GetPolicy(scope);
    if (r.ok()) {
      stored = r.value();
      applies = scope == repo::kDefaultPolicyScope ? "default" : "partner";
      break;
    }
    if (!r.status().IsNotFound()) return r.status();
  }
  CAIRN_ASSIGN_OR_RETURN(proto::Policy effective, catalog.EffectivePolicy(partner));
  nlohmann::json out = {
      {"partner", partner}, {"applies", applies}, {"effective", PolicyJson(effective)}};
  if (stored) {
    out["source"] = stored->source;
    out["updated"] = FormatUtc(stored->updated_micros);
    out["text"] = stored->text;
  }
  return out;
}

nlohmann::json FileCopiesJson(const repo::FileCopies& f) {
  nlohmann::json copies = nlohmann::json::array();
  for (const repo::CopyState& c : f.copies) {
    copies.push_back({{"site", c.site}, {"state", c.state}});
  }
  return {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}, {"copies", copies}};
}

std::string DumpJson(const nlohmann::json& doc, int indent) {
  return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

nlohmann::json TimeOrNull(int64_t micros) {
  return micros ? nlohmann::json(FormatUtc(micros)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DepositJson(const repo::DepositOutcome& outcome) {
  nlohmann::json out;
  out["stored"] = !outcome.refused;
  out["report"] = outcome.report.ToJson();
  if (outcome.receipt) out["receipt"] = outcome.receipt->ToJson();
  out["events_copied"] = outcome.events.ok();
  if (outcome.interrupted) out["interrupted"] = true;  // a local deposit stopped by a signal
  return out;
}

nlohmann::json PurgeJson(const repo::PurgeReport& report, bool site_counts) {
  nlohmann::json out = {{"waiting", report.waiting}};
  if (site_counts) {
    out["keys_removed"] = report.keys_removed;
    out["bytes_removed"] = report.bytes_removed;
    out["blobs_kept"] = report.blobs_kept;
  }
  return out;
}

nlohmann::json WithdrawalJson(const repo::WithdrawalRecord& w) {
  return {{"id", w.id},
          {"partner", w.partner},
          {"object", w.object},
          {"version", w.version},
          {"state", repo::WithdrawalStateName(w.state)},
          {"purge", w.purge},
          {"reason", w.reason},
          {"requested_by", w.requested_by},
          {"requested_role", w.requested_role},
          {"requested", TimeOrNull(w.requested_micros)},
          {"approved_by", w.approved_by},
          {"approved_role", w.approved_role},
          {"approved", TimeOrNull(w.approved_micros)},
          {"cancelled_by", w.cancelled_by},
          {"cancelled", TimeOrNull(w.cancelled_micros)},
          {"purged", TimeOrNull(w.purged_micros)},
          {"detail", w.detail}};
}

nlohmann::json HoldJson(const repo::HoldRecord& h) {
  return {{"id", h.id},
          {"partner", h.partner},
          {"object", h.object},
          {"reason", h.reason},
          {"on", h.removed_micros == 0},
          {"added_by", h.added_by},
          {"added_role", h.added_role},
          {"added", TimeOrNull(h.added_micros)},
          {"removal_requested_by", h.removal_requested_by},
          {"removal_requested", TimeOrNull(h.removal_requested_micros)},
          {"removed_by", h.removed_by},
          {"removed", TimeOrNull(h.removed_micros)}};
}

std::string WarningsHeaderValue(const std::vector<std::string>& warnings) {
  constexpr size_t kMaxWarningsInHeader = 100;
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < warnings.size() && i < kMaxWarningsInHeader; ++i) {
    list.push_back(warnings[i]);
  }
  if (warnings.size() > list.size()) {
    list.push_back("and " + std::to_string(warnings.size() - list.size()) +
                   " more such warnings, not sent: too many for one answer");
  }
  return list.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> WarningsOfHeader(const std::string& value) {
  std::vector<std::string> out;
  nlohmann::json list = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array()) return out;
  for (const nlohmann::json& w : list) {
    if (w.is_string()) out.push_back(w.get<std::string>());
  }
  return out;
}

std::vector<std::string> EventsFlushedLines(const repo::EventsFlushed& flushed) {
  // What was not done: the operation's own events not copied, or, when it recorded none, the
  // sites' logs not brought up to the catalog's (never "new events" it did not make).
  const std::string what = flushed.new_events
                               ? "the new events were not copied"
                               : "this run recorded no events, but the sites' logs were not "
                                 "brought up to the catalog's";
  if (!flushed.status.ok()) return {what + ": " + flushed.status.ToString()};
  std::vector<std::string> out = flushed.notes;
  // A catalog behind a site: said, no problem of this run (its events are kept in the catalog,
  // and the rebuild named carries them over).
  for (const std::string& b : flushed.behind) out.push_back("warning: " + b);
  for (const std::string& p : flushed.problems) {
    out.push_back(what + ": " + p + " (see `cairn events verify`)");
  }
  return out;
}

std::string CatalogBehindListing(const std::string& site, const Status& ahead,
                                 const repo::Principal& who) {
  const std::string said = "the catalog is behind site " + site +
                           ": this listing may lack versions, withdrawals and copies the sites "
                           "record";
  if (who.role == repo::Role::kOperator) return said + ": " + ahead.message();
  return ForPrincipal(who, said +
                               " (the site's event log runs past the catalog's: was it put back "
                               "from a backup?); `cairn catalog rebuild --from " +
                               site + " --force` brings it up to date");
}

std::string ForPrincipal(const repo::Principal& who, std::string text) {
  if (who.role == repo::Role::kOperator) return text;
  const std::string written_there =
      " has not taken this change yet (it cannot be written now); the consortium's operator sees "
      "that it is written there";
  // A change of a setting that a site did not take: its error names where the site is, and what
  // it lacks may be other partners' settings; the ways to write it there are the operator's.
  if (text.starts_with("settings not written to the sites: ")) return "the sites" + written_there;
  if (const size_t at = text.find(": settings not written: ");
      text.starts_with("site ") && at != std::string::npos) {
    return text.substr(0, at) + written_there;
  }
  // A setting a site holds past the catalog: which one may be another partner's, and its
  // versions tell how often it changed.
  if (const size_t at = text.find(": a change this catalog never saw");
      text.starts_with("site ") && at != std::string::npos) {
    const size_t advice = text.find("; `cairn catalog rebuild --from ", at);
    text = text.substr(0, text.find(':')) +
           " records a change of a setting this catalog never saw (was it put back from a "
           "backup?)" +
           (advice == std::string::npos ? "" : text.substr(advice));
  }
  // New events a site's log did not take (EventsFlushedLines): checking the logs is the
  // operator's, on the server's host.
  static const std::regex kVerifyAdvice(" \\(see `cairn events verify`\\)");
  text = std::regex_replace(text, kVerifyAdvice,
                            "; the consortium's operator sees that they are written there");
  // A site without its marker (repo::WithMarkerNextStep): mounting the share or making the site
  // again is the operator's, on the server's host.
  static const std::regex kMarkerAdvice(
      "; if it is an unmounted share, mount it(; if its files were moved, `cairn site move "
      "[^`]+` points it there)?; if it was lost, `cairn site resync [^`]+` makes "
      "it again from the other sites(; if it was added by mistake or is retired, `cairn site "
      "remove [^`]+` takes it out)?");
  text = std::regex_replace(text, kMarkerAdvice,
                            "; the consortium's operator must mount it or make it again");
  // How far each event log runs: how much every partner did since.
  static const std::regex kPositions(
      "holds events up to seq [0-9]+ but the catalog ends at seq [0-9]+");
  text = std::regex_replace(text, kPositions, "holds events past the catalog's");
  // The same, as a flush words a catalog behind a site (FlushSummary::Behind, which a restore
  // reports in its X-Cairn-Warnings trailer).
  static const std::regex kBehindPositions(
      "\\(up to seq [0-9]+; the catalog's ends at seq [0-9]+; ");
  text = std::regex_replace(text, kBehindPositions, "(");
  const size_t command = text.find("`cairn catalog rebuild --from ");
  const size_t command_end = command == std::string::npos ? command : text.find('`', command + 1);
  if (command_end == std::string::npos) return text;
  // The advice is the clause that holds the command: from the "; " before it to the next one.
  const size_t clause = text.rfind("; ", command);
  const size_t from = clause == std::string::npos ? command : clause + 2;
  const size_t to = std::min(text.find("; ", command_end), text.size());
  // The command itself is the operator's, on the server's host: a partner is not handed it.
  text.replace(from, to - from, "the consortium's operator must bring the catalog up to date");
  return text;
}

Renames ServerLocations(repo::Repository& repository, const repo::Principal& who) {
  Renames out;
  if (who.role == repo::Role::kOperator) return out;
  if (auto sites = repository.catalog().ListSites(); sites.ok()) {
    for (const repo::SiteRecord& site : *sites) {
      const std::string bare = site.url.substr(0, site.url.find('?'));
      std::vector<std::string> forms = {site.url, bare};
      if (bare.starts_with("file://")) forms.push_back(bare.substr(7));
      for (const std::string& form : forms) {
        // "site a (URL)", as a catalog rebuild's event names the site it was rebuilt from, is
        // "site a": with the URL named by the site's name it would name the site twice.
        out.emplace_back("site " + site.name + " (" + form + ")", "site " + site.name);
        out.emplace_back(form, site.name);
      }
    }
  }
  std::error_code ec;
  const std::string root = std::filesystem::absolute(repository.root(), ec).lexically_normal();
  if (!ec) {
    out.emplace_back(root.ends_with('/') ? root.substr(0, root.size() - 1) : root,
                     "the repository");
  }
  std::erase_if(out, [](const auto& r) { return r.first.size() < 2; });
  std::sort(out.begin(), out.end(),
            [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
  return out;
}

std::string Renamed(const Renames& renames, std::string text) {
  for (const auto& [where, what] : renames) {
    for (size_t at = 0; (at = text.find(where, at)) != std::string::npos; at += what.size()) {
      text.replace(at, where.size(), what);
    }
  }
  return text;
}

}  // namespace cairn::views
