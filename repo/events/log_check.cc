// Listing, verifying and witnessing the event log (see log_check.h).
#include "repo/events/log_check.h"

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bagit/time_text.h"
#include "repo/catalog/catalog.h"
#include "repo/events/event_types.h"
#include "repo/events/premis.h"

namespace cairn::repo {
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "open", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<int64_t> ParseSinceDate(const std::string& text) {
  Result<int64_t> micros = ParseUtc(text);
  if (!micros.ok()) return micros.status().WithContext("--since");
  return micros;
}

Result<std::vector<proto::Event>> QueryEvents(Catalog& catalog, const EventQuery& query) {
  EventFilter filter;
  if (!query.object.empty()) {
    size_t slash = query.object.find('/');
    std::string partner = query.object.substr(0, slash);
    if (partner.empty() || (slash != std::string::npos && slash + 1 == query.object.size())) {
      return Status::InvalidArgument("object " + query.object + ": use PARTNER or PARTNER/OBJECT");
    }
    filter.partner = partner;
    if (slash != std::string::npos) filter.object = query.object.substr(slash + 1);
  }
  if (!query.type.empty()) {
    std::optional<EventType> type = FindEventType(query.type);
    if (!type) {
      return Status::InvalidArgument("--type " + query.type + ": unknown event type (" +
                                     KnownEventTypes() + ")");
    }
    filter.type = std::string(type->label);
  }
  if (!query.since.empty()) {
    CAIRN_ASSIGN_OR_RETURN(int64_t since, ParseSinceDate(query.since));
    filter.since_micros = since;
  }
  return catalog.ListEvents(filter);
}

Result<LogVerdict> VerifyEventLog(Catalog& catalog, const std::string& witness_path,
                                  const std::string& trusted_key_path) {
  LogVerdict v;
  CAIRN_ASSIGN_OR_RETURN(v.chain, catalog.VerifyEvents());
  if (witness_path.empty()) {
    if (!trusted_key_path.empty()) {
      return Status::InvalidArgument("--key pins the signer of a witness: give --witness FILE");
    }
    return v;
  }
  v.witness_checked = true;
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadText(witness_path));
  Result<Witness> parsed = ParseWitness(text);
  if (!parsed.ok()) return parsed.status().WithContext(witness_path);
  v.witness = *parsed;
  v.witness_signed = !v.witness.signature_hex.empty();
  const auto fail = [&v](std::string why) {
    v.witness_ok = false;
    v.witness_problem = std::move(why);
    return v;
  };
  if (v.witness_signed) {
    std::vector<std::string> trusted;
    std::map<std::string, std::string> labels;  // key hex -> how it is trusted
    if (!trusted_key_path.empty()) {
      CAIRN_ASSIGN_OR_RETURN(std::string key, WitnessPublicKeyHex(trusted_key_path));
      trusted.push_back(key);
      labels[key] = "--key " + trusted_key_path;
    } else {
      CAIRN_ASSIGN_OR_RETURN(std::vector<WitnessKeyRecord> keys, catalog.ListWitnessKeys());
      for (const WitnessKeyRecord& k : keys) {
        trusted.push_back(k.public_key_hex);
        labels[k.public_key_hex] =
            "registered key " + (k.label.empty() ? k.public_key_hex.substr(0, 16) : k.label);
      }
    }
    if (trusted.empty()) {
      return fail("signed by key " + v.witness.public_key_hex +
                  ", but the signer was not checked: no --key given and no witness key is "
                  "registered (cairn events trust add PUBLIC.pem)");
    }
    if (Status s = VerifyWitnessSignature(v.witness, trusted); !s.ok()) {
      if (s.IsCorruption()) return fail(s.message());
      return s;
    }
    v.witness_signer = labels[v.witness.public_key_hex];
  } else if (!trusted_key_path.empty()) {
    return fail("the witness is not signed, but --key asks for a signature by that key");
  }
  const uint64_t seq = v.witness.head.seq;
  if (seq == 0) return v;  // witnessed an empty log: anything since extends it
  EventFilter at;
  at.after_seq = seq - 1;
  at.limit = 1;
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> events, catalog.ListEvents(at));
  if (events.empty() || events.front().seq() != seq) {
    return fail("the log has no event " + std::to_string(seq) + " (the witness says it had)");
  }
  if (ToHex(events.front().hash()) != v.witness.head.hash_hex) {
    return fail("event " + std::to_string(seq) + " has hash " + ToHex(events.front().hash()) +
                ", the witness says " + v.witness.head.hash_hex + " (the log was rewritten)");
  }
  if (!v.chain.ok && v.chain.first_bad_seq <= seq) {
    return fail("the chain is broken at seq " + std::to_string(v.chain.first_bad_seq) +
                ", before the witnessed seq " + std::to_string(seq));
  }
  return v;
}

Result<Witness> WitnessChainHead(Catalog& catalog, const std::string& private_key_path) {
  CAIRN_ASSIGN_OR_RETURN(ChainVerdict chain, catalog.VerifyEvents());
  if (!chain.ok) {
    return Status::Corruption("the event chain is broken at seq " +
                              std::to_string(chain.first_bad_seq) + " (" + chain.problem +
                              "): refusing to witness it");
  }
  ChainHead head;
  head.seq = chain.head.seq;
  head.hash_hex = ToHex(chain.head.hash);
  head.time_micros = catalog.clock().NowMicros();
  return MakeWitness(head, private_key_path);
}

bool LogVerdict::ok() const {
  if (!chain.ok || !witness_ok) return false;
  for (const SiteLogCheck& site : sites) {
    if (!site.ok()) return false;
  }
  return true;
}

std::string LogVerdict::ToText() const {
  std::string out;
  if (chain.ok) {
    out = "event chain verified: " + std::to_string(chain.checked) + " events, head seq " +
          std::to_string(chain.head.seq) + " hash " + ToHex(chain.head.hash) + "\n";
  } else {
    out = "event chain BROKEN at seq " + std::to_string(chain.first_bad_seq) + ": " +
          chain.problem + "\n";
  }
  if (witness_checked) {
    out += witness_ok ? "witness verified: seq " + std::to_string(witness.head.seq) + " hash " +
                            witness.head.hash_hex +
                            (witness_signed ? " (signature verified: " + witness_signer + ")"
                                            : " (unsigned: nobody vouches for who made it)") +
                            "\n"
                      : "witness check FAILED: " + witness_problem + "\n";
  }
  for (const SiteLogCheck& site : sites) {
    if (!site.checked) {
      out += "site " + site.site + ": event log copy NOT checked: " + site.error + "\n";
      continue;
    }
    for (const SegmentFinding& f : site.findings) out += f.ToString() + "\n";
    if (site.findings.empty()) {
      out += "site " + site.site + ": event log copy agrees: " + std::to_string(site.segments) +
             " segments, events 1-" + std::to_string(site.held);
      if (site.held < site.catalog_head) {
        out += " of " + std::to_string(site.catalog_head) + " (the next flush copies the rest)";
      }
      out += "\n";
    }
  }
  return out;
}

nlohmann::json LogVerdict::ToJson() const {
  nlohmann::json j;
  j["ok"] = ok();
  j["chain_ok"] = chain.ok;
  j["checked"] = chain.checked;
  j["head_seq"] = chain.head.seq;
  j["head_hash"] = ToHex(chain.head.hash);
  if (!chain.ok) {
    j["first_bad_seq"] = chain.first_bad_seq;
    j["problem"] = chain.problem;
  }
  if (witness_checked) {
    j["witness"] = {{"ok", witness_ok},
                    {"seq", witness.head.seq},
                    {"hash", witness.head.hash_hex},
                    {"signed", witness_signed}};
    if (!witness_ok) j["witness"]["problem"] = witness_problem;
    if (witness_ok && witness_signed) j["witness"]["signer"] = witness_signer;
  }
  if (sites_checked) {
    nlohmann::json list = nlohmann::json::array();
    for (const SiteLogCheck& site : sites) list.push_back(site.ToJson());
    j["sites"] = list;
  }
  return j;
}

}  // namespace cairn::repo
