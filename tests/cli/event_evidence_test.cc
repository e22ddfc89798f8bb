// The evidence of the event log is used (issue 14, items 6, 7 and 10): the
// sites' segments are compared with the catalog's log by `events verify`,
// `site check` and `audit run --all`; a witness is "signature verified" only
// against a trusted key (`--key` or `cairn events trust add`).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class EventEvidenceTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("one").string(), "one");
    Deposit("acme", MakeSourceFolder("two").string(), "two");
  }

  // The event segment files of posix site `site`, in key order.
  std::vector<fs::path> Segments(const std::string& site) {
    std::vector<fs::path> out;
    fs::path dir = tmp_ / "repo/sites" / site / "events";
    for (fs::directory_iterator it(dir), end; it != end; ++it) out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string Key(const fs::path& segment) {
    return "events/" + segment.filename().string();
  }
};

TEST_F(EventEvidenceTest, TruncatedCatalogLogIsNamedByTheSitesThatHoldMore) {
  // Failed before the fix: `events verify` exited 0 ("event chain verified").
  ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  EditCatalog("DELETE FROM events WHERE seq > (SELECT MAX(seq) - 2 FROM events)");
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  EXPECT_NE(verify.err.find("site a"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("site b"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("that the catalog does not"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find(Key(Segments("a").back())), std::string::npos) << verify.err;

  // A deposit into a catalog whose log the sites' run past is refused before it stores
  // anything (its events would take numbers the sites hold for others).
  CommandResult add = Cairn({"partner", "add", "zeta"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  CommandResult deposit =
      Cairn({"deposit", "zeta", MakeSourceFolder("three").string(), "--id", "three"});
  EXPECT_EQ(deposit.exit_code, 2) << deposit.out << deposit.err;
  EXPECT_NE(deposit.err.find("the deposit of zeta/three refused, nothing stored: site a"),
            std::string::npos)
      << deposit.err;
  EXPECT_NE(deposit.err.find("diverged"), std::string::npos) << deposit.err;
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(tmp_ / "repo" / "sites" / site / "bags" / "zeta")) << site;
  }

  // An audit would record its checks under numbers the sites hold for others: refused, naming
  // the site (it ran, and said so only in its exit code, 1).
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 2) << audit.out << audit.err;
  EXPECT_NE(audit.err.find("audit refused, nothing checked"), std::string::npos) << audit.err;
  EXPECT_NE(audit.err.find("site a"), std::string::npos) << audit.err;
  EXPECT_NE(audit.err.find("diverged"), std::string::npos) << audit.err;
}

TEST_F(EventEvidenceTest, WitnessSignedByAnUntrustedKeyIsNotVerified) {
  fs::path key = tmp_ / "w.pem", pub = tmp_ / "w.pub.pem", w = tmp_ / "head.json";
  ASSERT_EQ(Cairn({"events", "keygen", key.string(), pub.string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "head", "--sign", key.string(), "--out", w.string()}).exit_code, 0);

  // Failed before the fix: exit 0 and "(signature verified)" with no trusted key.
  CommandResult unchecked = Cairn({"events", "verify", "--witness", w.string()});
  EXPECT_EQ(unchecked.exit_code, 1) << unchecked.out << unchecked.err;
  EXPECT_EQ(unchecked.out.find("signature verified"), std::string::npos) << unchecked.out;
  EXPECT_NE(unchecked.err.find("signer was not checked"), std::string::npos) << unchecked.err;

  // A registered key is trusted.
  CommandResult trust = Cairn({"events", "trust", "add", pub.string()});
  ASSERT_EQ(trust.exit_code, 0) << trust.err;
  CommandResult listed = Cairn({"events", "trust", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(pub.filename().string()), std::string::npos) << listed.out;
  EXPECT_EQ(Cairn({"events", "trust", "add", pub.string()}).exit_code, 2) << "already trusted";
  CommandResult trusted = Cairn({"events", "verify", "--witness", w.string()});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_NE(trusted.out.find("signature verified"), std::string::npos) << trusted.out;

  // A forger signs their own witness with their own key: refused, naming the key.
  fs::path forger = tmp_ / "f.pem", forger_pub = tmp_ / "f.pub.pem", fw = tmp_ / "forged.json";
  ASSERT_EQ(Cairn({"events", "keygen", forger.string(), forger_pub.string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"events", "head", "--sign", forger.string(), "--out", fw.string()}).exit_code,
            0);
  CommandResult forged = Cairn({"events", "verify", "--witness", fw.string()});
  EXPECT_EQ(forged.exit_code, 1) << forged.out;
  EXPECT_NE(forged.err.find("not trusted"), std::string::npos) << forged.err;

  // Removing the key: the signer is unchecked again.
  std::string hex = listed.out.substr(0, listed.out.find(' '));
  ASSERT_EQ(hex.size(), 64u) << listed.out;
  CommandResult removed = Cairn({"events", "trust", "remove", hex});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(Cairn({"events", "verify", "--witness", w.string()}).exit_code, 1);
  EXPECT_EQ(Cairn({"events", "verify", "--witness", w.string(), "--key", pub.string()}).exit_code,
            0);
}

TEST_F(EventEvidenceTest, DamagedSiteSegmentIsNamedAndRepaired) {
  std::vector<fs::path> segments = Segments("a");
  ASSERT_EQ(segments.size(), 2u);
  const std::string good = ReadFile(segments.back());
  FlipByte(segments.back());
  const std::string key = Key(segments.back());

  // Failed before the fix: all three exited 0.
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  EXPECT_NE(verify.err.find("site a: " + key), std::string::npos) << verify.err;
  CommandResult check = Cairn({"site", "check", "a"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find(key), std::string::npos) << check.out;
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find(key), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("corrupt: on site a: REPAIRED from the catalog: event segment " + key),
            std::string::npos)
      << audit.out;
  // The stored run counts the segment as the printed one does (it kept 0 corrupt, 0 repaired).
  CommandResult stored = Cairn({"audit", "report", "--run", "1", "--json"});
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  nlohmann::json run = nlohmann::json::parse(stored.out)["runs"][0];
  EXPECT_EQ(run["counts"]["corrupt"], 1) << stored.out;
  EXPECT_EQ(run["counts"]["repaired"], 1) << stored.out;
  EXPECT_EQ(run["sites"]["a"]["corrupt"], 1) << stored.out;
  EXPECT_EQ(run["sites"]["a"]["repaired"], 1) << stored.out;

  EXPECT_EQ(ReadFile(segments.back()), good) << "the segment is rewritten from the catalog";
  CommandResult again = Cairn({"events", "verify"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(Cairn({"site", "check", "a"}).exit_code, 0);
}

TEST_F(EventEvidenceTest, DeletedSiteSegmentIsNamedAndRewritten) {
  std::vector<fs::path> segments = Segments("b");
  ASSERT_EQ(segments.size(), 2u);
  const std::string good = ReadFile(segments.front());
  fs::remove(segments.front());
  const std::string key = Key(segments.front());

  // Failed before the fix: all three exited 0.
  CommandResult verify = Cairn({"events", "verify", "--json"});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  auto j = nlohmann::json::parse(verify.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << verify.out;
  bool named = false;
  for (const auto& site : j["sites"]) {
    for (const auto& f : site["findings"]) {
      if (site["site"] == "b" && f["key"] == key && f["kind"] == "missing") named = true;
    }
  }
  EXPECT_TRUE(named) << verify.out;
  EXPECT_EQ(Cairn({"site", "check", "b"}).exit_code, 1);
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_NE(audit.out.find(key), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("REPAIRED"), std::string::npos) << audit.out;

  ASSERT_TRUE(fs::exists(segments.front()));
  EXPECT_EQ(ReadFile(segments.front()), good);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
