// `cairn events`, `events verify`, `events head`, `events keygen` on the real
// binary: a repository filled by real deposits, then event rows edited,
// deleted and reordered directly in SQLite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "repo/catalog/sqlite.h"
#include "repo/events/event_types.h"
#include "repo/site/repository.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/library_deposits.h"
#include "tests/util/test_util.h"

namespace cairn {
namespace {

namespace fs = boost::filesystem;
using testing::CommandResult;
using ::testing::HasSubstr;
using testing::RunCairn;
using testing::RunProcess;
using testing::TempDir;

class EventsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (tmp_ / "repo").string();
    auto repo = repo::Repository::Init(root_);
    ASSERT_OK(repo);
    testing::WriteTree(tmp_ / "src", testing::SampleFiles("x", 3, 40));
    testing::WriteTree(tmp_ / "src2", testing::SampleFiles("y", 2, 40));
    ASSERT_EQ(testing::DepositFolder(**repo, "acme", "box", tmp_ / "src"), 1u);
    ASSERT_EQ(testing::DepositFolder(**repo, "zeta", "bin", tmp_ / "src2"), 1u);
    auto events = (*repo)->catalog().ListEvents();
    ASSERT_OK(events);
    ASSERT_GE(events->size(), 6u);
    event_count_ = events->size();
  }

  CommandResult Cairn(std::vector<std::string> args) {
    args.insert(args.begin(), {"--repo", root_});
    return RunCairn(args);
  }

  // Runs `sql` on the catalog file directly, as an intruder would.
  void Sql(const std::string& sql) {
    auto db = repo::sql::Db::Open(root_ + "/catalog.db", false, 5000);
    ASSERT_OK(db);
    Status s = db->Exec(sql);
    ASSERT_OK(s);
  }

  // Rewrites event `seq`'s detail; with `rechain`, recomputes every hash after
  // it so that the chain alone looks intact (only a witness can tell).
  void RewriteEvent(uint64_t seq, bool rechain) {
    auto catalog = repo::Catalog::Open(root_ + "/catalog.db");
    ASSERT_OK(catalog);
    auto events = (*catalog)->ListEvents();
    ASSERT_OK(events);
    std::string prev = seq > 1 ? (*events)[seq - 2].hash() : repo::GenesisHash();
    for (uint64_t i = seq; i <= events->size(); ++i) {
      proto::Event e = (*events)[i - 1];
      if (i == seq) e.set_detail("quietly rewritten");
      if (rechain) {
        e.set_prev_hash(prev);
        e.set_hash(repo::EventHash(e));  // the hash field is not part of its input
        prev = e.hash();
      }
      auto stmt = repo::CatalogTestAccess::Db(**catalog).Prepare(
          "UPDATE events SET event = ?, prev_hash = ?, hash = ? WHERE seq = ?");
      ASSERT_OK(stmt);
      stmt->BindBlob(1, e.SerializeAsString()).BindBlob(2, e.prev_hash()).BindBlob(3, e.hash());
      stmt->Bind(4, static_cast<int64_t>(i));
      ASSERT_OK(stmt->Run());
      if (!rechain) break;
    }
  }

  TempDir tmp_;
  std::string root_;
  size_t event_count_ = 0;
};

TEST_F(EventsCliTest, ListsFiltersAndVerifies) {
  CommandResult all = Cairn({"events"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr("ingestion"));
  EXPECT_THAT(all.out, HasSubstr("acme/box"));
  EXPECT_THAT(all.out, HasSubstr("zeta/bin"));

  CommandResult one = Cairn({"events", "acme/box", "--type", "ing", "--format", "json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto list = nlohmann::json::parse(one.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["type"], "ingestion");
  EXPECT_EQ(list[0]["partner"], "acme");

  CommandResult future = Cairn({"events", "--since", "2999-01-01"});
  ASSERT_EQ(future.exit_code, 0);
  EXPECT_EQ(future.out, "");
  CommandResult nonsense = Cairn({"events", "--type", "nonsense"});
  EXPECT_EQ(nonsense.exit_code, 2);
  // The types it names are every one --type takes (deaccession was left out).
  EXPECT_NE(nonsense.err.find("recovery/rec, deaccession/dea)"), std::string::npos) << nonsense.err;
  EXPECT_EQ(Cairn({"events", "--since", "yesterday"}).exit_code, 2);

  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("verified: " + std::to_string(event_count_) + " events"));
}

TEST_F(EventsCliTest, PremisExportValidatesAgainstTheSchema) {
  CommandResult premis = Cairn({"events", "--format", "premis"});
  ASSERT_EQ(premis.exit_code, 0) << premis.err;
  fs::path xml = tmp_ / "events.xml";
  testing::WriteFile(xml, premis.out);
  CommandResult lint =
      RunProcess({"xmllint", "--noout", "--nonet", "--schema",
                  testing::FixturePath("premis/premis.xsd").string(), xml.string()});
  EXPECT_EQ(lint.exit_code, 0) << lint.err;
  EXPECT_THAT(premis.out, HasSubstr("eventType/ing"));
}

TEST_F(EventsCliTest, EditedEventRowIsNamed) {
  RewriteEvent(3, false);
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.err, HasSubstr("BROKEN at seq 3"));
  EXPECT_THAT(verify.err, HasSubstr("edited"));
}

TEST_F(EventsCliTest, EditedQueryColumnIsNamed) {
  Sql("UPDATE events SET outcome = 'failure' WHERE seq = 4");
  CommandResult verify = Cairn({"events", "verify", "--json"});
  EXPECT_EQ(verify.exit_code, 1);
  auto j = nlohmann::json::parse(verify.out);
  EXPECT_EQ(j["first_bad_seq"], 4);
  EXPECT_THAT(j["problem"].get<std::string>(), HasSubstr("outcome"));
}

TEST_F(EventsCliTest, DeletedEventRowIsNamed) {
  Sql("DELETE FROM events WHERE seq = 2");
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.err, HasSubstr("BROKEN at seq 2"));
  EXPECT_THAT(verify.err, HasSubstr("missing"));
}

TEST_F(EventsCliTest, SwappedEventRowsAreNamed) {
  Sql("UPDATE events SET seq = -5 WHERE seq = 5; UPDATE events SET seq = 5 WHERE seq = 6; "
      "UPDATE events SET seq = 6 WHERE seq = -5;");
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.err, HasSubstr("BROKEN at seq 5"));
}

TEST_F(EventsCliTest, SignedWitnessCatchesARechainedRewrite) {
  fs::path key = tmp_ / "witness.pem", pub = tmp_ / "witness.pub.pem", w = tmp_ / "head.json";
  ASSERT_EQ(Cairn({"events", "keygen", key.string(), pub.string()}).exit_code, 0);
  CommandResult head = Cairn({"events", "head", "--sign", key.string(), "--out", w.string()});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  auto witness = nlohmann::json::parse(head.out);
  EXPECT_EQ(witness["seq"], event_count_);
  EXPECT_EQ(testing::ReadFile(w), head.out);

  // More events after the witness: the log extends it.
  {
    auto catalog = repo::Catalog::Open(root_ + "/catalog.db");
    std::vector<proto::Event> more(3);
    for (auto& e : more) e.set_type(std::string(repo::kFixityCheck.label));
    ASSERT_OK((*catalog)->AppendEvents(more));
  }
  CommandResult ok = Cairn({"events", "verify", "--witness", w.string(), "--key", pub.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("signature verified"));

  // A key other than the pinned one is refused.
  fs::path other = tmp_ / "other.pem", other_pub = tmp_ / "other.pub.pem";
  ASSERT_EQ(Cairn({"events", "keygen", other.string(), other_pub.string()}).exit_code, 0);
  EXPECT_EQ(
      Cairn({"events", "verify", "--witness", w.string(), "--key", other_pub.string()}).exit_code,
      1);

  // Rewrite event 2 and re-chain everything after it: the chain alone passes;
  // the sites' copies of the log and the witness do not.
  RewriteEvent(2, true);
  EXPECT_EQ(Cairn({"events", "verify", "--catalog-only"}).exit_code, 0);
  CommandResult sites = Cairn({"events", "verify"});
  EXPECT_EQ(sites.exit_code, 1);
  EXPECT_THAT(sites.err, HasSubstr("event 2 differs from the catalog's event 2"));
  EXPECT_THAT(sites.err, HasSubstr("site a: events/"));
  EXPECT_THAT(sites.err, HasSubstr("site b: events/"));
  CommandResult caught =
      Cairn({"events", "verify", "--catalog-only", "--witness", w.string(), "--key", pub.string()});
  EXPECT_EQ(caught.exit_code, 1);
  EXPECT_THAT(caught.err, HasSubstr("witness check FAILED"));
  EXPECT_THAT(caught.err, HasSubstr("rewritten"));
}

TEST_F(EventsCliTest, HeadRefusesToWitnessABrokenChain) {
  Sql("DELETE FROM events WHERE seq = 3");
  CommandResult head = Cairn({"events", "head"});
  EXPECT_EQ(head.exit_code, 1);
  EXPECT_THAT(head.err, HasSubstr("seq 3"));
}

}  // namespace
}  // namespace cairn
