#include "repo/events/premis.h"

#include <gtest/gtest.h>

#include "repo/events/event_types.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

using cairn::testing::FixturePath;
using cairn::testing::RunProcess;
using cairn::testing::TempDir;
using cairn::testing::WriteFile;

proto::Event MakeEvent(uint64_t seq, const EventType& type, const std::string& outcome) {
  proto::Event e;
  e.set_seq(seq);
  e.set_id("6f1c2b7e-3d4a-4c1e-9a57-0b8e2f6d9c3" + std::to_string(seq % 10));
  e.set_type(std::string(type.label));
  e.set_type_uri(EventTypeUri(type));
  e.set_time_unix_micros(1763726400000000 + static_cast<int64_t>(seq));
  e.set_agent("cairn");
  e.set_agent_version("0.1.0");
  e.set_user("archivist");
  e.set_partner("acme");
  e.set_object("letters & <maps>");  // needs escaping
  e.set_version(1);
  e.set_file("data/a.txt");
  e.set_site("a");
  e.set_outcome(outcome);
  e.set_detail("sha256 \"ab\" matches");
  e.set_prev_hash(std::string(32, '\0'));
  e.set_hash(std::string(32, '\x11'));
  return e;
}

TEST(EventTypes, CodesAndLookup) {
  EXPECT_EQ(EventTypeUri(kFixityCheck), "http://id.loc.gov/vocabulary/preservation/eventType/fix");
  ASSERT_TRUE(FindEventType("fixity-check").has_value());
  EXPECT_EQ(FindEventType("fixity-check")->code, "fix");
  EXPECT_EQ(FindEventType("REP")->label, "replication");
  EXPECT_FALSE(FindEventType("teleportation").has_value());
}

TEST(Premis, XmlValidatesAgainstPremis3Schema) {
  std::vector<proto::Event> events = {MakeEvent(1, kIngestion, "success"),
                                      MakeEvent(2, kFixityCheck, "failure"),
                                      MakeEvent(3, kReplication, "warning")};
  events[2].set_partner("other");
  events[2].clear_file();
  const std::string xml = EventsToPremisXml(events);
  TempDir dir;
  WriteFile(dir / "events.xml", xml);
  auto r = RunProcess({"xmllint", "--noout", "--nonet", "--schema",
                       FixturePath("premis/premis.xsd").string(), (dir / "events.xml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << xml;
  EXPECT_NE(xml.find("letters &amp; &lt;maps&gt;"), std::string::npos);
  EXPECT_NE(xml.find("eventType/fix\">fixity check<"), std::string::npos);
  EXPECT_NE(xml.find("eventOutcome/fai\">failure<"), std::string::npos);
}

TEST(Premis, EmptyLogIsStillAValidDocument) {
  TempDir dir;
  WriteFile(dir / "empty.xml", EventsToPremisXml({}));
  auto r = RunProcess({"xmllint", "--noout", "--nonet", "--schema",
                       FixturePath("premis/premis.xsd").string(), (dir / "empty.xml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Premis, JsonAndTextCarryTheFields) {
  proto::Event e = MakeEvent(7, kDissemination, "success");
  nlohmann::json j = EventToJson(e);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["type"], "dissemination");
  EXPECT_EQ(j["time"], "2025-11-21T12:00:00.000007Z");
  EXPECT_EQ(j["hash"], std::string(64, '1'));
  EXPECT_EQ(j["version"], 1);
  const std::string text = EventToText(e);
  EXPECT_NE(text.find("dissemination success acme/letters & <maps>@v1 file=data/a.txt site=a"),
            std::string::npos)
      << text;
}

// Issue 17: who acted is an agent of its own, with the role it acted in; events from before
// roles existed name the user without one. The document still validates.
TEST(Premis, ThePrincipalIsAnAgentWithItsRole) {
  std::vector<proto::Event> events = {MakeEvent(1, kIngestion, "success"),
                                      MakeEvent(2, kFixityCheck, "success"),
                                      MakeEvent(3, kReplication, "success")};
  events[0].set_user("alice@yale");
  events[0].set_role("depositor");
  events[1].set_user("local:root");
  events[1].set_role("operator");
  events[2].set_user("legacy");  // no role: written before issue 17
  const std::string xml = EventsToPremisXml(events);
  TempDir dir;
  WriteFile(dir / "events.xml", xml);
  auto r = RunProcess({"xmllint", "--noout", "--nonet", "--schema",
                       FixturePath("premis/premis.xsd").string(), (dir / "events.xml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << xml;
  EXPECT_NE(xml.find("<premis:linkingAgentIdentifierValue>alice@yale</premis:"
                     "linkingAgentIdentifierValue>\n      <premis:linkingAgentRole>depositor<"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<premis:agentName>alice@yale</premis:agentName>\n    <premis:agentType>"
                     "person</premis:agentType>\n    <premis:agentNote>role: depositor<"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<premis:agentName>local:root</premis:agentName>\n    <premis:agentType>"
                     "person</premis:agentType>\n    <premis:agentNote>role: operator<"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<premis:agentName>legacy</premis:agentName>\n    <premis:agentType>"
                     "person</premis:agentType>\n  </premis:agent>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(EventToJson(events[0])["role"], "depositor");
  EXPECT_FALSE(EventToJson(events[2]).contains("role"));
}

// What a principal of one partner is given: the audit history's numbers (repository-wide) left
// out of the recovery and fixity-check details that name them; any other detail as it was.
TEST(Premis, WithoutAuditNumbersRewordsWhatNamesThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sha256 ab: the copy on site a, found corrupt by audit run 3 (finding 7, now marked "
       "repaired), repaired from site b: copied, read back and its sha256 verified",
       "sha256 ab: the copy on site a, found corrupt by an audit (now marked repaired), repaired "
       "from site b: copied, read back and its sha256 verified"},
      {"sha256 ab: the copy on site a, found missing by audit runs 3, 12 (findings 7, 40, now "
       "marked repaired), verifies now: nothing copied",
       "sha256 ab: the copy on site a, found missing by audits (now marked repaired), verifies "
       "now: nothing copied"},
      {"corrupt: read 9 bytes (the repair by audit run 4 was interrupted)",
       "corrupt: read 9 bytes (the repair by an audit was interrupted)"},
      {"sha256 ab: copy verified (9 bytes) (by audit run 12)",
       "sha256 ab: copy verified (9 bytes) (by an audit)"},
      {"sha256 ab: the copy on site a, recorded corrupt (found by restore: bad bytes), repaired "
       "from site b",
       "sha256 ab: the copy on site a, recorded corrupt (found by restore: bad bytes), repaired "
       "from site b"},
  };
  for (const auto& [detail, told] : cases) {
    proto::Event e = MakeEvent(5, kRecovery, "success");
    e.set_detail(detail);
    WithoutAuditNumbers(e);
    EXPECT_EQ(e.detail(), told);
  }
}

TEST(Premis, FormatsHex) { EXPECT_EQ(ToHex(std::string("\x00\xff\x10", 3)), "00ff10"); }

}  // namespace
}  // namespace cairn::repo
