// `cairn events [PARTNER/OBJECT] [--type T] [--since DATE] [--format text|json|premis]`,
// `cairn events verify [--witness FILE] [--key PUBLIC.pem]`,
// `cairn events head [--sign PRIVATE.pem] [--out FILE]`,
// `cairn events keygen PRIVATE.pem PUBLIC.pem`,
// `cairn events trust add PUBLIC.pem | list | remove KEY`: the PREMIS event log.
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "repo/catalog/catalog.h"
#include "repo/events/log_check.h"
#include "repo/events/premis.h"
#include "repo/events/site_log_check.h"
#include "repo/events/witness.h"
#include "repo/replicate/settings_change.h"
#include "repo/restore/restore.h"
#include "repo/site/settings.h"

namespace cairn::cli {
namespace {

struct EventsFlags {
  repo::EventQuery query;
  std::string format = "text";
  bool json = false;
  std::string witness;
  std::string key;
  std::string sign;
  std::string out;
  std::string private_pem;
  std::string public_pem;
  std::string label;
  std::string key_prefix;
  bool catalog_only = false;
};

// OK when `ref` ("PARTNER" or "PARTNER/OBJECT", with `version` or 0) names
// something the catalog knows: the partner, and a version of the object (or
// some event of it, `has_events`). NotFound naming what is missing otherwise.
Status KnownObject(repo::Catalog& catalog, const std::string& ref, uint32_t version,
                   bool has_events) {
  size_t slash = ref.find('/');
  CAIRN_RETURN_IF_ERROR(catalog.GetPartner(ref.substr(0, slash)).status());
  if (slash == std::string::npos || has_events) return Status::OK();
  std::optional<uint32_t> wanted;
  if (version != 0) wanted = version;
  return catalog.GetVersion(ref.substr(0, slash), ref.substr(slash + 1), wanted, false).status();
}

// The event of an entry of GET /v1/events (repo::EventToJson), with what EventToText prints.
Result<proto::Event> EventFromJson(const nlohmann::json& j) {
  proto::Event e;
  e.set_seq(j.value("seq", uint64_t{0}));
  e.set_type(j.value("type", ""));
  e.set_outcome(j.value("outcome", ""));
  e.set_partner(j.value("partner", ""));
  e.set_object(j.value("object", ""));
  e.set_version(j.value("version", 0u));
  e.set_file(j.value("file", ""));
  e.set_site(j.value("site", ""));
  e.set_detail(j.value("detail", ""));
  CAIRN_ASSIGN_OR_RETURN(int64_t micros, repo::ParseSinceDate(j.value("time", "")));
  e.set_time_unix_micros(micros);
  return e;
}

// `cairn events` against a server: GET /v1/events, printed as JSON or as the local text lines
// (PARTNER/OBJECT@vN keeps that version's events). PREMIS XML is not offered remotely.
int RunListRemote(const EventsFlags& f, const std::string& format, const Globals& g) {
  std::string partner = f.query.object, object;
  uint32_t version = 0;
  if (size_t slash = partner.find('/'); slash != std::string::npos) {
    Status parsed = repo::ParseObjectRef(f.query.object, &partner, &object, &version);
    if (!parsed.ok()) return ReportError(parsed);
  }
  if (format == "premis") {
    if (version != 0) {
      return ReportError(Status::NotSupported(
          "events --format premis of one version (@vN) is not offered by the server: ask for "
          "the object's"));
    }
    auto api = ConnectServer(g);
    if (!api.ok()) return ReportError(api.status());
    Result<std::string> xml = (*api)->GetText("/v1/events",
                                              {{"partner", partner},
                                               {"object", object},
                                               {"type", f.query.type},
                                               {"since", f.query.since},
                                               {"format", "premis"}},
                                              "application/xml");
    if (!xml.ok()) return ReportError(xml.status());
    std::cout << *xml;
    return kExitOk;
  }
  auto events = RemoteGet(g, "/v1/events",
                          {{"partner", partner},
                           {"object", object},
                           {"type", f.query.type},
                           {"since", f.query.since},
                           {"format", "json"}});
  if (!events.ok()) return ReportError(events.status());
  if (!events->is_array())
    return ReportError(Status::Unavailable("the server's events are not a list"));
  if (version != 0) {
    nlohmann::json kept = nlohmann::json::array();
    for (const nlohmann::json& e : *events) {
      if (e.value("version", 0u) == version) kept.push_back(e);
    }
    *events = std::move(kept);
  }
  if (format == "json") {
    PrintJson(*events);
    return kExitOk;
  }
  for (const nlohmann::json& j : *events) {
    Result<proto::Event> e = EventFromJson(j);
    if (!e.ok()) return ReportError(e.status());
    std::cout << repo::EventToText(*e) << "\n";
  }
  return kExitOk;
}

int RunList(const EventsFlags& f, const Globals& g) {
  std::string format = f.json ? "json" : f.format;
  if (format != "text" && format != "json" && format != "premis") {
    return ReportError(
        Status::InvalidArgument("--format " + format + ": use text, json or premis"));
  }
  if (IsRemote(g)) return RunListRemote(f, format, g);
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  repo::EventQuery query = f.query;
  uint32_t version = 0;  // PARTNER/OBJECT@vN: only that version's events
  if (size_t at = query.object.rfind('@'); at != std::string::npos) {
    std::string partner, object;
    Status parsed = repo::ParseObjectRef(query.object, &partner, &object, &version);
    if (!parsed.ok()) return ReportError(parsed);
    query.object = partner + "/" + object;
  }
  auto events = repo::QueryEvents((*repo)->catalog(), query);
  if (!events.ok()) return ReportError(events.status());
  if (version != 0) {
    std::erase_if(*events, [&](const proto::Event& e) { return e.version() != version; });
  }
  // An unknown partner, object or version is an error, not an empty list.
  // (An object with events but no version, e.g. only refused deposits, is known.)
  if (!query.object.empty()) {
    Status known = KnownObject((*repo)->catalog(), query.object, version, !events->empty());
    if (!known.ok()) return ReportError(known);
  }
  if (format == "premis") {
    std::cout << repo::EventsToPremisXml(*events);
  } else if (format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const proto::Event& e : *events) list.push_back(repo::EventToJson(e));
    std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (const proto::Event& e : *events) std::cout << repo::EventToText(e) << "\n";
  }
  return kExitOk;
}

int RunVerify(const EventsFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  auto verdict = repo::VerifyEventLog((*repo)->catalog(), f.witness, f.key);
  if (!verdict.ok()) return ReportError(verdict.status());
  if (!f.catalog_only) {
    auto sites = repo::CheckEventLogCopies(**repo, "", /*repair=*/false);
    if (!sites.ok()) return ReportError(sites.status());
    verdict->sites_checked = true;
    verdict->sites = std::move(*sites);
  }
  if (f.json) {
    std::cout << verdict->ToJson().dump(2) << "\n";
  } else if (!g.quiet || !verdict->ok()) {
    (verdict->ok() ? std::cout : std::cerr) << verdict->ToText();
  }
  return verdict->ok() ? kExitOk : kExitProblems;
}

int RunHead(const EventsFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  auto witness = repo::WitnessChainHead((*repo)->catalog(), f.sign);
  if (!witness.ok()) {
    int code = ReportError(witness.status());
    return witness.status().IsCorruption() ? kExitProblems : code;
  }
  std::string text = repo::WitnessToJson(*witness);
  if (!text.empty() && text.back() != '\n') text += "\n";
  if (!f.out.empty()) {
    std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return ReportError(Status::IOError("cannot write " + f.out));
  }
  std::cout << text;
  return kExitOk;
}

int RunTrustAdd(const EventsFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  auto key = repo::WitnessPublicKeyHex(f.public_pem);
  if (!key.ok()) return ReportError(key.status());
  const std::string label = f.label.empty() ? f.public_pem : f.label;
  Result<repo::SettingsChange> change = repo::TrustWitnessKey(**repo, *key, label);
  if (!change.ok()) return ReportError(change.status());
  PrintSettingsWarnings(change->warnings);  // kept on every site: a rebuilt catalog trusts it too
  if (!g.quiet) std::cout << "trusted witness key " << *key << " (" << label << ")\n";
  return kExitOk;
}

int RunTrustList(const EventsFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  auto keys = (*repo)->catalog().ListWitnessKeys();
  if (!keys.ok()) return ReportError(keys.status());
  if (f.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const repo::WitnessKeyRecord& k : *keys) {
      list.push_back({{"public_key", k.public_key_hex},
                      {"label", k.label},
                      {"added", FormatUtc(k.added_micros, TimeText::kMicros)}});
    }
    std::cout << list.dump(2) << "\n";
    return kExitOk;
  }
  for (const repo::WitnessKeyRecord& k : *keys) {
    std::cout << k.public_key_hex << " " << FormatUtc(k.added_micros, TimeText::kMicros) << " "
              << k.label << "\n";
  }
  return kExitOk;
}

int RunTrustRemove(const EventsFlags& f, const Globals& g) {
  auto repo = OpenRepository(g);
  if (!repo.ok()) return ReportError(repo.status());
  repo::WitnessKeyRecord removed;
  auto change = repo::DistrustWitnessKey(**repo, f.key_prefix, &removed);
  if (!change.ok()) return ReportError(change.status());
  PrintSettingsWarnings(change->warnings);
  if (!g.quiet) {
    std::cout << "no longer trusted: witness key " << removed.public_key_hex << " ("
              << removed.label << ")\n";
  }
  return kExitOk;
}

int RunKeygen(const EventsFlags& f) {
  Status s = repo::GenerateWitnessKey(f.private_pem, f.public_pem);
  if (!s.ok()) return ReportError(s);
  std::cout << "wrote Ed25519 witness key " << f.private_pem << " (keep it secret) and "
            << f.public_pem << " (publish it)\n";
  return kExitOk;
}

}  // namespace

void RegisterEvents(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<EventsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "events", "list the PREMIS preservation events (all, or of one partner or object)");
  cmd->require_subcommand(0, 1);
  cmd->add_option("OBJECT", flags->query.object,
                  "PARTNER, PARTNER/OBJECT or PARTNER/OBJECT@vN (default: all)");
  cmd->add_option("--type", flags->query.type,
                  "only this event type: a PREMIS label (\"fixity check\") or its id.loc.gov "
                  "code (fix)");
  cmd->add_option("--since", flags->query.since, "only events at or after YYYY-MM-DD[THH:MM:SSZ]");
  cmd->add_option("--format", flags->format, "text (default), json, or premis (PREMIS 3 XML)");
  cmd->add_flag("--json", flags->json, "same as --format json");
  cmd->footer(
      "Exit codes (listing): 0 listed (none may match --type/--since); 2 could not run: an\n"
      "unknown partner, object or version, a bad --type or --since.\n");
  cmd->callback([cmd, flags, &g]() {
    if (!cmd->get_subcommands().empty()) return;
    g.exit_code = RunList(*flags, g);
  });

  CLI::App* verify = cmd->add_subcommand(
      "verify",
      "walk the hash chain of the event log; name the first edited, removed or moved "
      "event; check a published witness");
  verify->add_option("--witness", flags->witness, "a witness file from `cairn events head`");
  verify->add_option("--key", flags->key,
                     "the witness must be signed by this Ed25519 public key (PEM)");
  verify->add_flag("--json", flags->json, "print the verdict as JSON");
  verify->add_flag("--catalog-only", flags->catalog_only,
                   "do not compare the sites' copies of the log (events/ segments)");
  verify->footer(
      "A signed witness counts only when its signer is trusted: the --key given, or a key\n"
      "registered with `cairn events trust add`. Every reachable site's event segments are\n"
      "compared with the catalog's log: a missing or damaged segment, a segment whose events\n"
      "differ from the catalog's, or events the catalog does not hold (a truncated log) is\n"
      "named with its site and key (`cairn audit run --all` repairs missing and damaged ones).\n"
      "Exit codes: 0 chain, witness and site copies verified; 1 broken chain, witness\n"
      "mismatch or unchecked signer, a site's copy that disagrees or could not be read;\n"
      "2 could not run.");
  verify->callback([flags, &g]() { g.exit_code = RunVerify(*flags, g); });

  CLI::App* head = cmd->add_subcommand(
      "head", "print the chain head (seq, hash) as a witness, optionally signed (Ed25519)");
  head->add_option("--sign", flags->sign, "sign with this Ed25519 private key (PEM)");
  head->add_option("--out", flags->out, "also write the witness to this file");
  head->callback([flags, &g]() { g.exit_code = RunHead(*flags, g); });

  CLI::App* trust = cmd->add_subcommand(
      "trust", "the Ed25519 keys whose signed witnesses `events verify` trusts");
  trust->require_subcommand(1);
  CLI::App* trust_add = trust->add_subcommand("add", "trust witnesses signed by this key");
  trust_add->add_option("PUBLIC", flags->public_pem, "the signer's public key (PEM)")->required();
  trust_add->add_option("--label", flags->label, "a name for the key (default: the file name)");
  trust_add->footer("Exit codes: 0 added; 2 could not run (not an Ed25519 key, already trusted).");
  trust_add->callback([flags, &g]() { g.exit_code = RunTrustAdd(*flags, g); });
  CLI::App* trust_list = trust->add_subcommand("list", "list the trusted keys: hex, added, label");
  trust_list->add_flag("--json", flags->json, "print the keys as JSON");
  trust_list->callback([flags, &g]() { g.exit_code = RunTrustList(*flags, g); });
  CLI::App* trust_remove = trust->add_subcommand("remove", "stop trusting a key");
  trust_remove->add_option("KEY", flags->key_prefix, "the key's hex (at least 8 leading digits)")
      ->required();
  trust_remove->callback([flags, &g]() { g.exit_code = RunTrustRemove(*flags, g); });

  CLI::App* keygen =
      cmd->add_subcommand("keygen", "make an Ed25519 key pair for signing witnesses");
  keygen->add_option("PRIVATE", flags->private_pem, "private key file to create (PEM, 0600)")
      ->required();
  keygen->add_option("PUBLIC", flags->public_pem, "public key file to create (PEM)")->required();
  keygen->callback([flags, &g]() { g.exit_code = RunKeygen(*flags); });
}

}  // namespace cairn::cli
