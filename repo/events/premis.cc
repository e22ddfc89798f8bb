#include "repo/events/premis.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "bagit/time_text.h"
#include "repo/events/event_types.h"

namespace cairn::repo {
namespace {

std::string ObjectRef(const proto::Event& e) {
  if (e.partner().empty() && e.object().empty()) return "";
  std::string ref = e.partner() + "/" + e.object();
  if (e.version() > 0) ref += "@v" + std::to_string(e.version());
  return ref;
}

std::string AgentId(const proto::Event& e) {
  std::string agent = e.agent().empty() ? "cairn" : e.agent();
  return e.agent_version().empty() ? agent : agent + "/" + e.agent_version();
}

// The identifier type of the agent an event's `user` names: the principal (or local OS user)
// who acted, beside the software agent ("local").
constexpr std::string_view kPrincipalAgentType = "cairn principal";

// A withdrawal's deaccession and deletion events name two people (issue 18): `user` approved,
// and the detail says "requested by NAME (ROLE)" (repo/withdraw/). The requester, or nullopt.
struct Person {
  std::string name;
  std::string role;
};
std::optional<Person> Requester(const proto::Event& e) {
  if (e.type() != kDeaccession.label && e.type() != kDeletion.label) return std::nullopt;
  constexpr std::string_view kBy = "requested by ";
  size_t at = e.detail().find(kBy);
  if (at == std::string::npos) return std::nullopt;
  at += kBy.size();
  size_t open = e.detail().find(" (", at);
  size_t close = open == std::string::npos ? open : e.detail().find(')', open);
  if (close == std::string::npos) return std::nullopt;
  return Person{e.detail().substr(at, open - at), e.detail().substr(open + 2, close - open - 2)};
}

std::string OutcomeCode(const std::string& outcome) {
  if (outcome == "success") return "suc";
  if (outcome == "failure") return "fai";
  if (outcome == "warning") return "war";
  return "";
}

void AppendEvent(std::ostringstream& x, const proto::Event& e) {
  x << "  <premis:event>\n"
    << "    <premis:eventIdentifier>\n"
    << "      <premis:eventIdentifierType>UUID</premis:eventIdentifierType>\n"
    << "      <premis:eventIdentifierValue>" << XmlEscape(e.id())
    << "</premis:eventIdentifierValue>\n"
    << "    </premis:eventIdentifier>\n";
  x << "    <premis:eventType authority=\"eventType\" authorityURI=\"" << kEventTypeScheme << "\"";
  if (!e.type_uri().empty()) x << " valueURI=\"" << XmlEscape(e.type_uri()) << "\"";
  x << ">" << XmlEscape(e.type()) << "</premis:eventType>\n";
  x << "    <premis:eventDateTime>" << FormatUtc(e.time_unix_micros(), TimeText::kMicros)
    << "</premis:eventDateTime>\n";
  // An event without its place in the chain (WithoutChainPlace) has no seq nor hashes here.
  std::vector<std::string> parts;
  if (e.seq() != 0) parts.push_back("seq=" + std::to_string(e.seq()));
  if (!e.file().empty()) parts.push_back("file=\"" + e.file() + "\"");
  if (!e.site().empty()) parts.push_back("site=\"" + e.site() + "\"");
  if (!e.user().empty()) parts.push_back("user=\"" + e.user() + "\"");
  if (!e.hash().empty()) {
    parts.push_back("prev_hash=" + ToHex(e.prev_hash()));
    parts.push_back("hash=" + ToHex(e.hash()));
  }
  std::string detail;
  for (const std::string& part : parts) detail += (detail.empty() ? "" : "; ") + part;
  if (!detail.empty()) {
    x << "    <premis:eventDetailInformation>\n"
      << "      <premis:eventDetail>" << XmlEscape(detail) << "</premis:eventDetail>\n"
      << "    </premis:eventDetailInformation>\n";
  }
  if (!e.outcome().empty()) {
    x << "    <premis:eventOutcomeInformation>\n"
      << "      <premis:eventOutcome authority=\"eventOutcome\" authorityURI=\""
      << kEventOutcomeScheme << "\"";
    if (std::string code = OutcomeCode(e.outcome()); !code.empty()) {
      x << " valueURI=\"" << kEventOutcomeScheme << "/" << code << "\"";
    }
    x << ">" << XmlEscape(e.outcome()) << "</premis:eventOutcome>\n";
    if (!e.detail().empty()) {
      x << "      <premis:eventOutcomeDetail>\n"
        << "        <premis:eventOutcomeDetailNote>" << XmlEscape(e.detail())
        << "</premis:eventOutcomeDetailNote>\n"
        << "      </premis:eventOutcomeDetail>\n";
    }
    x << "    </premis:eventOutcomeInformation>\n";
  }
  x << "    <premis:linkingAgentIdentifier>\n"
    << "      <premis:linkingAgentIdentifierType>local</premis:linkingAgentIdentifierType>\n"
    << "      <premis:linkingAgentIdentifierValue>" << XmlEscape(AgentId(e))
    << "</premis:linkingAgentIdentifierValue>\n"
    << "      <premis:linkingAgentRole>executing program</premis:linkingAgentRole>\n"
    << "    </premis:linkingAgentIdentifier>\n";
  if (!e.user().empty()) {
    // Who acted, in the role they acted in (events before issue 17 name no role).
    x << "    <premis:linkingAgentIdentifier>\n"
      << "      <premis:linkingAgentIdentifierType>" << kPrincipalAgentType
      << "</premis:linkingAgentIdentifierType>\n"
      << "      <premis:linkingAgentIdentifierValue>" << XmlEscape(e.user())
      << "</premis:linkingAgentIdentifierValue>\n";
    std::optional<Person> requester = Requester(e);
    if (!e.role().empty()) {
      x << "      <premis:linkingAgentRole>" << (requester ? "approver: " : "")
        << XmlEscape(e.role()) << "</premis:linkingAgentRole>\n";
    }
    x << "    </premis:linkingAgentIdentifier>\n";
    if (requester) {
      x << "    <premis:linkingAgentIdentifier>\n"
        << "      <premis:linkingAgentIdentifierType>" << kPrincipalAgentType
        << "</premis:linkingAgentIdentifierType>\n"
        << "      <premis:linkingAgentIdentifierValue>" << XmlEscape(requester->name)
        << "</premis:linkingAgentIdentifierValue>\n"
        << "      <premis:linkingAgentRole>requester: " << XmlEscape(requester->role)
        << "</premis:linkingAgentRole>\n"
        << "    </premis:linkingAgentIdentifier>\n";
    }
  }
  {
    std::string ref = ObjectRef(e);
    if (ref.empty()) ref = "repository";
    x << "    <premis:linkingObjectIdentifier>\n"
      << "      <premis:linkingObjectIdentifierType>local</premis:linkingObjectIdentifierType>\n"
      << "      <premis:linkingObjectIdentifierValue>" << XmlEscape(ref)
      << "</premis:linkingObjectIdentifierValue>\n"
      << "    </premis:linkingObjectIdentifier>\n";
  }
  x << "  </premis:event>\n";
}

}  // namespace

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string ToHex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string EventsToPremisXml(const std::vector<proto::Event>& events) {
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<premis:premis xmlns:premis=\"http://www.loc.gov/premis/v3\"\n"
    << "               xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
    << "               version=\"3.0\">\n";
  std::set<std::string> objects;
  std::map<std::string, const proto::Event*> agents;
  std::map<std::string, std::set<std::string>> principals;  // user -> the roles it acted in
  for (const auto& e : events) {
    std::string ref = ObjectRef(e);
    objects.insert(ref.empty() ? "repository" : ref);
    agents.emplace(AgentId(e), &e);
    if (!e.user().empty()) {
      std::set<std::string>& roles = principals[e.user()];
      if (!e.role().empty()) roles.insert(e.role());
    }
    if (std::optional<Person> requester = Requester(e)) {
      principals[requester->name].insert(requester->role);
    }
  }
  // The schema wants at least one object: events of the repository as a whole
  // (site resync, catalog rebuild) and an empty log link to "repository".
  if (objects.empty()) objects.insert("repository");
  for (const auto& ref : objects) {
    x << "  <premis:object xsi:type=\"premis:intellectualEntity\">\n"
      << "    <premis:objectIdentifier>\n"
      << "      <premis:objectIdentifierType>local</premis:objectIdentifierType>\n"
      << "      <premis:objectIdentifierValue>" << XmlEscape(ref)
      << "</premis:objectIdentifierValue>\n"
      << "    </premis:objectIdentifier>\n"
      << "  </premis:object>\n";
  }
  for (const auto& e : events) AppendEvent(x, e);
  for (const auto& [id, e] : agents) {
    x << "  <premis:agent>\n"
      << "    <premis:agentIdentifier>\n"
      << "      <premis:agentIdentifierType>local</premis:agentIdentifierType>\n"
      << "      <premis:agentIdentifierValue>" << XmlEscape(id)
      << "</premis:agentIdentifierValue>\n"
      << "    </premis:agentIdentifier>\n"
      << "    <premis:agentName>" << XmlEscape(e->agent().empty() ? "cairn" : e->agent())
      << "</premis:agentName>\n"
      << "    <premis:agentType>software</premis:agentType>\n";
    if (!e->agent_version().empty()) {
      x << "    <premis:agentVersion>" << XmlEscape(e->agent_version())
        << "</premis:agentVersion>\n";
    }
    x << "  </premis:agent>\n";
  }
  for (const auto& [user, roles] : principals) {
    x << "  <premis:agent>\n"
      << "    <premis:agentIdentifier>\n"
      << "      <premis:agentIdentifierType>" << kPrincipalAgentType
      << "</premis:agentIdentifierType>\n"
      << "      <premis:agentIdentifierValue>" << XmlEscape(user)
      << "</premis:agentIdentifierValue>\n"
      << "    </premis:agentIdentifier>\n"
      << "    <premis:agentName>" << XmlEscape(user) << "</premis:agentName>\n"
      << "    <premis:agentType>person</premis:agentType>\n";
    for (const std::string& role : roles) {
      x << "    <premis:agentNote>role: " << XmlEscape(role) << "</premis:agentNote>\n";
    }
    x << "  </premis:agent>\n";
  }
  x << "</premis:premis>\n";
  return x.str();
}

void WithoutChainPlace(proto::Event& e) {
  e.clear_seq();
  e.clear_prev_hash();
  e.clear_hash();
}

void WithoutAuditNumbers(proto::Event& e) {
  // The words of replicate.cc's recovery events and of audit/batch.cc's interrupted repairs and
  // of the run every sweep's event names ("(by audit run N)", BatchWriter::Write).
  static const std::regex kFindings(R"(\(findings? [0-9]+(, [0-9]+)*, )");
  static const std::regex kRuns(R"(audit runs [0-9]+(, [0-9]+)+)");
  static const std::regex kRun(R"(audit run [0-9]+)");
  if (e.detail().find("audit run") == std::string::npos) return;
  std::string detail = std::regex_replace(e.detail(), kFindings, "(");
  detail = std::regex_replace(detail, kRuns, "audits");
  e.set_detail(std::regex_replace(detail, kRun, "an audit"));
}

nlohmann::json EventToJson(const proto::Event& e) {
  nlohmann::json j;
  if (e.seq() != 0) j["seq"] = e.seq();
  j["id"] = e.id();
  j["type"] = e.type();
  if (!e.type_uri().empty()) j["type_uri"] = e.type_uri();
  j["time"] = FormatUtc(e.time_unix_micros(), TimeText::kMicros);
  j["agent"] = AgentId(e);
  if (!e.user().empty()) j["user"] = e.user();
  if (!e.role().empty()) j["role"] = e.role();
  if (!e.partner().empty()) j["partner"] = e.partner();
  if (!e.object().empty()) j["object"] = e.object();
  if (e.version() > 0) j["version"] = e.version();
  if (!e.file().empty()) j["file"] = e.file();
  if (!e.site().empty()) j["site"] = e.site();
  j["outcome"] = e.outcome();
  if (!e.detail().empty()) j["detail"] = e.detail();
  if (!e.hash().empty()) {
    j["prev_hash"] = ToHex(e.prev_hash());
    j["hash"] = ToHex(e.hash());
  }
  return j;
}

std::string EventToText(const proto::Event& e) {
  std::string line = (e.seq() != 0 ? std::to_string(e.seq()) + " " : std::string()) +
                     FormatUtc(e.time_unix_micros(), TimeText::kMicros) + " " + e.type() + " " +
                     e.outcome();
  if (std::string ref = ObjectRef(e); !ref.empty()) line += " " + ref;
  if (!e.file().empty()) line += " file=" + e.file();
  if (!e.site().empty()) line += " site=" + e.site();
  if (!e.detail().empty()) line += ": " + e.detail();
  return line;
}

}  // namespace cairn::repo
