// The memo of each version's fewest counted copies (migration 9, what `cairn list` prints):
// used while nothing it was computed from changes, gone as soon as anything does.
#include <gmock/gmock.h>

#include <algorithm>
#include <map>
#include <random>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;

class VersionCopiesTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    AddSitesAndPartners();
    for (const char* name : {"a", "b", "c"}) {
      auto site = catalog_->GetSite(name);
      ASSERT_OK(site);
      ids_[name] = site->id;
    }
  }

  // The memo row of `version_id`, or -1 when there is none.
  int64_t Memo(int64_t version_id) {
    auto stmt = CatalogTestAccess::Db(*catalog_).Prepare(
        "SELECT copies_ok FROM version_copies WHERE version_id = ?");
    EXPECT_OK(stmt);
    stmt->Bind(1, version_id);
    auto row = stmt->Step();
    EXPECT_OK(row);
    return *row ? stmt->Int(0) : -1;
  }
  // Makes the memo say `copies`: a later answer equal to it came from the memo.
  void Tamper(int64_t version_id, int64_t copies) {
    ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec(
        "UPDATE version_copies SET copies_ok = " + std::to_string(copies) +
        " WHERE version_id = " + std::to_string(version_id)));
    ASSERT_EQ(Memo(version_id), copies);
  }
  uint32_t Min(int64_t version_id, std::vector<int64_t> sites, bool regions = false) {
    auto n = catalog_->MinCountedCopies(version_id, sites, regions);
    EXPECT_OK(n);
    return n.ok() ? *n : 999;
  }
  std::vector<int64_t> AB() { return {ids_["a"], ids_["b"]}; }

  std::map<std::string, int64_t> ids_;
};

TEST_F(VersionCopiesTest, KeptWhileNothingChangesAndDroppedWhenACopyDoes) {
  NewVersion v = MakeVersion("p1", "obj", 1, {"x", "y"});
  v.stored_on = {"a", "b"};
  auto id = catalog_->InsertVersion(v);
  ASSERT_OK(id);
  EXPECT_EQ(Min(*id, AB()), 2u);
  EXPECT_EQ(Memo(*id), 2);
  Tamper(*id, 7);
  EXPECT_EQ(Min(*id, AB()), 7u);  // read from the memo, not recomputed

  // An audit's recheck of an ok copy (new times, still ok) keeps it.
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(testing::Sha("y")), "b", ReplicaState::kOk,
                                      100, 200));
  EXPECT_EQ(Min(*id, AB()), 7u);
  // Another rule (other sites, or one per region) is not answered from it.
  EXPECT_EQ(Min(*id, {ids_["a"]}), 1u);
  EXPECT_EQ(Min(*id, AB(), true), 1u);  // a and b are both in eu

  // A copy found corrupt: the memo goes, the answer is the true one.
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(testing::Sha("x")), "a",
                                      ReplicaState::kCorrupt, 300, -1, "wrong bytes"));
  EXPECT_EQ(Memo(*id), -1);
  EXPECT_EQ(Min(*id, AB()), 1u);
  // Repaired: back to two.
  Tamper(*id, 7);
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(testing::Sha("x")), "a", ReplicaState::kOk,
                                      400, 500));
  EXPECT_EQ(Min(*id, AB()), 2u);

  // A tag file's copy counts as much as a blob's.
  Tamper(*id, 7);
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::TagFile(v.tag_files[1].id), "b",
                                      ReplicaState::kMissing, 600, -1, "gone"));
  EXPECT_EQ(Min(*id, AB()), 1u);
}

TEST_F(VersionCopiesTest, ACopyOfASharedBlobDropsTheMemoOfEveryVersionHoldingIt) {
  NewVersion v1 = MakeVersion("p1", "one", 1, {"shared", "own1"});
  v1.stored_on = {"a"};
  NewVersion v2 = MakeVersion("p2", "two", 1, {"shared", "own2"});
  v2.stored_on = {"a"};
  auto id1 = catalog_->InsertVersion(v1);
  auto id2 = catalog_->InsertVersion(v2);
  ASSERT_OK(id1);
  ASSERT_OK(id2);
  EXPECT_EQ(Min(*id1, AB()), 1u);
  EXPECT_EQ(Min(*id2, AB()), 1u);
  Tamper(*id1, 7);
  Tamper(*id2, 7);
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(testing::Sha("shared")), "a",
                                      ReplicaState::kCorrupt, 10, -1, "rot"));
  EXPECT_EQ(Min(*id1, AB()), 0u);
  EXPECT_EQ(Min(*id2, AB()), 0u);
}

// A version whose blobs are all new holds the per-copy trigger off while its
// copies are inserted (migration 12): its memo is right, and the trigger is
// armed again after, so a later copy of one of its blobs drops the memo.
TEST_F(VersionCopiesTest, AVersionOfNewBlobsLeavesTheTriggerArmed) {
  NewVersion v = MakeVersion("p1", "fresh", 1, {"f1", "f2"});
  v.stored_on = {"a"};
  v.listed_rule = NewVersion::CountedSites{AB(), false};
  auto id = catalog_->InsertVersion(v);
  ASSERT_OK(id);
  EXPECT_EQ(Memo(*id), 1);
  auto held = CatalogTestAccess::Db(*catalog_).QueryInt("SELECT COUNT(*) FROM version_copies_bulk");
  ASSERT_OK(held);
  EXPECT_EQ(*held, 0);
  ASSERT_OK(catalog_->SetReplicaState(ReplicaRef::Blob(testing::Sha("f1")), "b", ReplicaState::kOk,
                                      10, 20));
  EXPECT_EQ(Memo(*id), -1);
  EXPECT_EQ(Min(*id, AB()), 1u);  // f2 and the tag files are on a only
}

// Random changes of copies, each followed by the answer with the memo and the answer
// computed afresh (memo deleted): always the same.
TEST_F(VersionCopiesTest, AlwaysEqualsTheAnswerComputedAfresh) {
  std::vector<int64_t> versions;
  std::vector<NewVersion> made;
  const std::vector<std::vector<std::string>> contents = {
      {"k1", "k2", "k3"}, {"k3", "k4"}, {"k1", "k5", "k6", "k4"}};
  for (size_t i = 0; i < contents.size(); ++i) {
    NewVersion v = MakeVersion("p1", "o" + std::to_string(i), 1, contents[i]);
    v.stored_on = {"a", "b"};
    auto id = catalog_->InsertVersion(v);
    ASSERT_OK(id);
    versions.push_back(*id);
    made.push_back(v);
  }
  const std::vector<std::string> sites = {"a", "b", "c"};
  const std::vector<ReplicaState> states = {ReplicaState::kOk, ReplicaState::kCorrupt,
                                            ReplicaState::kMissing, ReplicaState::kPending};
  const std::vector<std::vector<int64_t>> rules = {
      AB(), {ids_["a"], ids_["b"], ids_["c"]}, {ids_["c"]}};
  // The same rule for 50 steps: the memo of the last step is the one asked for.
  auto Rule = [&](int64_t id, int step) { return rules[(id + step / 50) % rules.size()]; };
  std::mt19937 rng(19);
  for (int step = 0; step < 300; ++step) {
    ReplicaRef ref;
    if (rng() % 3 == 0) {
      const NewVersion& v = made[rng() % made.size()];
      ref = ReplicaRef::TagFile(v.tag_files[rng() % v.tag_files.size()].id);
    } else {
      const std::vector<std::string>& c = contents[rng() % contents.size()];
      ref = ReplicaRef::Blob(testing::Sha(c[rng() % c.size()]));
    }
    ASSERT_OK(catalog_->SetReplicaState(ref, sites[rng() % sites.size()],
                                        states[rng() % states.size()], step, step + 1));
    // Every version's answer with the memo of the last step, then afresh (which keeps
    // the memo again for the next step).
    std::vector<uint32_t> with_memo;
    for (int64_t id : versions) with_memo.push_back(Min(id, Rule(id, step), step / 50 % 2 == 1));
    ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec("DELETE FROM version_copies"));
    for (size_t i = 0; i < versions.size(); ++i) {
      ASSERT_EQ(with_memo[i], Min(versions[i], Rule(versions[i], step), step / 50 % 2 == 1))
          << "step " << step << " version " << versions[i];
    }
  }
}

// A version inserted with its copy rule (as a deposit inserts it) is listed without a pass
// over its files: the memo InsertVersion keeps, and the item count it gives back, are what
// the catalog computes afresh, whatever the rule, the sites and the blobs known before.
TEST_F(VersionCopiesTest, AVersionInsertedWithItsRuleKeepsTheAnswerComputedAfresh) {
  // Blobs "old1" and "old2" known before, with copies on c only.
  NewVersion earlier = MakeVersion("p2", "earlier", 1, {"old1", "old2"});
  earlier.stored_on = {"c"};
  ASSERT_OK(catalog_->InsertVersion(earlier));

  struct Case {
    std::vector<std::string> contents;
    bool tag_files;
    std::vector<std::string> stored_on;
  };
  const std::vector<Case> cases = {
      {{"n1", "n2"}, true, {"a"}},
      {{"n3"}, true, {"a", "b"}},
      {{"n4", "n5"}, true, {"a", "c"}},
      {{"n6", "old1"}, true, {"a"}},
      {{"old1", "old2"}, true, {"a", "b"}},
      {{"n7", "n7"}, true, {"a"}},
      {{"n8", "old2"}, false, {"a"}},
      {{"n9"}, false, {"b", "c"}},
      {{}, true, {"a"}},
      {{}, false, {"a"}},
      {{"n10"}, true, {}},
  };
  const std::vector<std::vector<int64_t>> rules = {
      AB(), {ids_["a"], ids_["b"], ids_["c"]}, {ids_["c"]}, {}};
  int object = 0;
  for (const Case& c : cases) {
    for (const std::vector<int64_t>& rule : rules) {
      for (bool regions : {false, true}) {
        const std::string name = "o" + std::to_string(object++);
        // Blobs "n..." are new to each version; "old..." were known before.
        std::vector<std::string> contents = c.contents;
        for (std::string& content : contents) {
          if (content[0] == 'n') content = name + content;
        }
        NewVersion v = MakeVersion("p1", name, 1, contents);
        if (!c.tag_files) v.tag_files.clear();
        v.stored_on = c.stored_on;
        v.listed_rule = NewVersion::CountedSites{rule, regions};
        auto id = catalog_->InsertVersion(v);
        ASSERT_OK(id);
        const int64_t kept = Memo(*id);
        // Kept whenever a tag file bounds the answer or no blob was known.
        const bool known =
            std::find(c.contents.begin(), c.contents.end(), "old1") != c.contents.end() ||
            std::find(c.contents.begin(), c.contents.end(), "old2") != c.contents.end() ||
            (c.contents.size() == 2 && c.contents[0] == c.contents[1]);
        EXPECT_EQ(kept != -1, c.tag_files || !known) << name;
        ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec(
            "DELETE FROM version_copies WHERE version_id = " + std::to_string(*id)));
        const uint32_t fresh = Min(*id, rule, regions);
        if (kept != -1) {
          EXPECT_EQ(kept, int64_t{fresh}) << name;
        }

        // The item count: given only when no blob was known, and then each item's
        // copies are on stored_on and nowhere else.
        ASSERT_EQ(v.new_items.has_value(), !known) << name;
        if (!v.new_items) continue;
        auto items = catalog_->CountVersionItems(*id);
        ASSERT_OK(items);
        EXPECT_EQ(*v.new_items, *items) << name;
        auto counts = catalog_->CountVersionReplicas(*id);
        ASSERT_OK(counts);
        std::map<std::string, uint64_t> ok;
        for (const ReplicaStateCount& r : *counts) {
          EXPECT_EQ(r.state, "ok") << name;
          ok[r.site] += r.count;
        }
        for (const std::string site : {"a", "b", "c"}) {
          const bool on =
              std::find(c.stored_on.begin(), c.stored_on.end(), site) != c.stored_on.end();
          EXPECT_EQ(ok[site], on ? *items : 0) << name << " site " << site;
        }
      }
    }
  }
}

// A catalog made by the binary of schema 8 (its own migrations, its own rows), with a
// version and its copies, gains the memo and its triggers and answers as before.
TEST_F(VersionCopiesTest, AVersion8CatalogGainsTheMemo) {
  catalog_.reset();
  cairn::testing::TempDir old_dir;
  const std::string old_path = (old_dir.path() / "catalog.db").string();
  const std::string x = testing::Sha("x"), y = testing::Sha("y");
  {
    testing::MakeCatalogAtSchema(
        old_path, 8,
        "INSERT INTO sites (id, name, url, created) VALUES (1, 'a', 'file:///a', 1), "
        "(2, 'b', 'file:///b', 1);"
        "INSERT INTO partners (id, created) VALUES ('p1', 1);"
        "INSERT INTO objects (partner, object, created) VALUES ('p1', 'obj', 1);"
        "INSERT INTO versions (id, partner, object, version, created, file_count, payload_bytes) "
        "VALUES (1, 'p1', 'obj', 1, 1, 2, 2);"
        "INSERT INTO blobs (sha256, size) VALUES ('" +
            x + "', 1), ('" + y +
            "', 1);"
            "INSERT INTO files (version_id, path, size, sha256) VALUES (1, 'data/x', 1, '" +
            x + "'), (1, 'data/y', 1, '" + y +
            "');"
            "INSERT INTO replicas (site_id, blob, state) VALUES (1, '" +
            x + "', 'ok'), (2, '" + x + "', 'ok'), (1, '" + y + "', 'ok'), (2, '" + y +
            "', 'ok');");
  }
  auto reopened = Catalog::Open(old_path);
  ASSERT_OK(reopened);
  catalog_ = std::move(reopened).value();
  EXPECT_EQ(*catalog_->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(Min(1, {1, 2}), 2u);
  EXPECT_EQ(Memo(1), 2);
  ASSERT_OK(
      catalog_->SetReplicaState(ReplicaRef::Blob(x), "b", ReplicaState::kMissing, 1, -1, "gone"));
  EXPECT_EQ(Memo(1), -1) << "the trigger dropped the memo";
  EXPECT_EQ(Min(1, {1, 2}), 1u);
}

}  // namespace
}  // namespace cairn::repo
