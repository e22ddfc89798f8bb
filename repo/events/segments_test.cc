// Event segments on real posix sites with a real SQLite catalog: flushing,
// reading back, and checking and repairing the sites' copies (site_log_check.h).
#include "repo/events/segments.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "repo/events/event_types.h"
#include "repo/events/site_log_check.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site_layout.h"
#include "repo/storage/fault_backend.h"
#include "repo/storage/forwarding_backend.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::TempDir;

class SegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    repo_ = std::move(repo).value();
  }

  void Append(int n, const std::string& detail = "x") {
    std::vector<proto::Event> events;
    for (int i = 0; i < n; ++i) {
      proto::Event e;
      e.set_type(std::string(kFixityCheck.label));
      e.set_partner("acme");
      e.set_object("box");
      e.set_detail(detail + std::to_string(i));
      events.push_back(e);
    }
    ASSERT_OK(repo_->catalog().AppendEvents(events));
  }

  std::vector<std::string> SegmentFiles(const std::string& site) {
    std::vector<std::string> names;
    fs::path dir = fs::path(repo_->root()) / "sites" / site / "events";
    if (!fs::exists(dir)) return names;
    for (fs::directory_iterator it(dir), end; it != end; ++it) {
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Opens the repository again with `wrap` around its sites' backends (until the test ends).
  void ReopenWrapping(BackendWrapper wrap) {
    const std::string root = repo_->root();
    repo_.reset();
    SetBackendWrapperForTesting(std::move(wrap));
    wrapped_ = true;
    auto opened = Repository::Open(root);
    ASSERT_OK(opened);
    repo_ = std::move(opened).value();
  }
  void TearDown() override {
    if (wrapped_) SetBackendWrapperForTesting({});
  }

  TempDir tmp_;
  std::unique_ptr<Repository> repo_;
  bool wrapped_ = false;
};

TEST_F(SegmentsTest, FlushWritesOneSegmentPerSiteThenOnlyTheNewEvents) {
  Append(5);
  auto first = FlushEventSegments(*repo_);
  ASSERT_OK(first);
  EXPECT_EQ(first->head_seq, 5u);
  ASSERT_EQ(first->sites.size(), 2u);
  for (const SiteFlush& s : first->sites) {
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(s.held_before, 0u);
    EXPECT_EQ(s.held_after, 5u);
    EXPECT_EQ(s.segments_written, 1u);
  }
  EXPECT_EQ(SegmentFiles("a"),
            std::vector<std::string>{"00000000000000000001-00000000000000000005.pb"});

  auto again = FlushEventSegments(*repo_);
  ASSERT_OK(again);
  for (const SiteFlush& s : again->sites) EXPECT_EQ(s.segments_written, 0u);

  Append(3);
  ASSERT_OK(FlushEventSegments(*repo_));
  EXPECT_EQ(SegmentFiles("b"),
            (std::vector<std::string>{"00000000000000000001-00000000000000000005.pb",
                                      "00000000000000000006-00000000000000000008.pb"}));
  auto site = repo_->OpenSite("b");
  ASSERT_OK(site);
  auto log = ReadSiteEventLog(**site);
  ASSERT_OK(log);
  EXPECT_TRUE(log->chain_ok) << log->problem;
  ASSERT_EQ(log->events.size(), 8u);
  auto ours = repo_->catalog().ListEvents();
  ASSERT_OK(ours);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(log->events[i].hash(), (*ours)[i].hash());
}

TEST_F(SegmentsTest, LongBacklogIsSplitIntoBoundedSegments) {
  Append(static_cast<int>(kMaxSegmentEvents) + 10);
  auto flushed = FlushEventSegments(*repo_);
  ASSERT_OK(flushed);
  EXPECT_EQ(flushed->sites[0].segments_written, 2u);
  auto site = repo_->OpenSite("a");
  auto last = LastSeqOnSite(**site);
  ASSERT_OK(last);
  EXPECT_EQ(*last, kMaxSegmentEvents + 10);
}

TEST_F(SegmentsTest, SiteThatIsDownIsSkippedAndCaughtUpLater) {
  Append(2);
  ASSERT_OK(FlushEventSegments(*repo_));
  Append(2);
  // A fresh Repository: site b's folder is gone (unmounted) when it opens it.
  fs::path b = fs::path(repo_->root()) / "sites" / "b";
  fs::rename(b, fs::path(repo_->root()) / "b-away");
  auto reopened = Repository::Open(repo_->root());
  ASSERT_OK(reopened);
  auto flushed = FlushEventSegments(**reopened);
  ASSERT_OK(flushed);
  ASSERT_EQ(flushed->sites.size(), 2u);
  EXPECT_EQ(flushed->sites[0].site, "a");
  EXPECT_EQ(flushed->sites[0].held_after, 4u);
  EXPECT_EQ(flushed->sites[1].site, "b");
  EXPECT_NE(flushed->sites[1].error, "");
  EXPECT_EQ(flushed->Errors().size(), 1u);

  fs::rename(fs::path(repo_->root()) / "b-away", b);
  auto back = Repository::Open(repo_->root());
  ASSERT_OK(back);
  auto caught_up = FlushEventSegments(**back);
  ASSERT_OK(caught_up);
  EXPECT_EQ(caught_up->sites[1].held_before, 2u);
  EXPECT_EQ(caught_up->sites[1].held_after, 4u);
  EXPECT_EQ(SegmentFiles("b").size(), 2u);
}

TEST_F(SegmentsTest, SiteAheadOfTheCatalogIsLeftUntouched) {
  Append(3);
  ASSERT_OK(FlushEventSegments(*repo_));
  // A catalog that ends earlier than the site (rebuilt from an older copy).
  TempDir other;
  auto fresh = Catalog::Open((other.path() / "c.db").string());
  ASSERT_OK(fresh);
  std::vector<proto::Event> one(1);
  one[0].set_type("ingestion");
  ASSERT_OK((*fresh)->AppendEvents(one));
  auto site = repo_->OpenSite("a");
  auto flush = FlushEventSegmentsToSite(**fresh, **site, "a");
  EXPECT_FALSE(flush.ok());
  EXPECT_NE(flush.status().message().find("seq 3"), std::string::npos) << flush.status().message();
  // With the way out for a catalog put back from a backup.
  EXPECT_NE(flush.status().message().find("cairn catalog rebuild --from a --force"),
            std::string::npos)
      << flush.status().message();

  // Same length but different content: diverged.
  std::vector<proto::Event> two(2);
  two[0].set_type("ingestion");
  two[1].set_type("ingestion");
  ASSERT_OK((*fresh)->AppendEvents(two));
  auto diverged = FlushEventSegmentsToSite(**fresh, **site, "a");
  EXPECT_FALSE(diverged.ok());
  EXPECT_NE(diverged.status().message().find("diverged"), std::string::npos);
  EXPECT_EQ(SegmentFiles("a").size(), 1u);
}

// Counts the keys under events/ that listings of the wrapped site hand over.
class CountingListings : public ForwardingBackend {
 public:
  CountingListings(std::unique_ptr<StorageBackend> inner, size_t* listed)
      : ForwardingBackend(std::move(inner)), listed_(listed) {}
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return ForwardingBackend::List(prefix, Counted(fn));
  }
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn) override {
    return ForwardingBackend::ListAfter(prefix, start_after, Counted(fn));
  }

 private:
  std::function<Status(const ObjectInfo&)> Counted(
      const std::function<Status(const ObjectInfo&)>& fn) {
    return [this, &fn](const ObjectInfo& info) {
      if (info.key.starts_with(layout::kEventsPrefix)) ++*listed_;
      return fn(info);
    };
  }
  size_t* listed_;
};

TEST_F(SegmentsTest, ALongLogIsListedFromNearItsEndUnlessTheSiteIsBehind) {
  // 3,000 events in segments 1-1000, 1001-2000, 2001-3000 on both sites; and on site a, as a
  // long history of small segments, 900 more that agree with the catalog (1-1 ... 900-900).
  Append(3 * static_cast<int>(kMaxSegmentEvents));
  ASSERT_OK(FlushEventSegments(*repo_));
  fs::path events = fs::path(repo_->root()) / "sites" / "a" / "events";
  for (uint64_t seq = 1; seq <= 900; ++seq) {
    auto bytes = CatalogSegmentBytes(repo_->catalog(), seq, seq);
    ASSERT_OK(bytes);
    std::string name = layout::EventSegmentKey(seq, seq).substr(layout::kEventsPrefix.size());
    WriteFile(events / name, *bytes);
  }
  ASSERT_EQ(SegmentFiles("a").size(), 903u);
  size_t listed = 0;
  ReopenWrapping(
      [&listed](std::string_view url,
                std::unique_ptr<StorageBackend> inner) -> std::unique_ptr<StorageBackend> {
        if (!url.ends_with("/a")) return inner;
        return std::make_unique<CountingListings>(std::move(inner), &listed);
      });
  auto site = repo_->OpenSite("a");
  ASSERT_OK(site);

  // A few events behind the catalog, as after every deposit: only the segments that begin
  // within 2,000 events of its head are listed (2001-3000), not the 903 keys of the whole log.
  Append(2);
  auto flushed = FlushEventSegmentsToSite(repo_->catalog(), **site, "a");
  ASSERT_OK(flushed);
  EXPECT_EQ(flushed->held_before, 3000u);
  EXPECT_EQ(flushed->held_after, 3002u);
  EXPECT_LE(listed, 2u);

  // Behind (its last two segments lost while it was away): the first listing finds nothing
  // that reaches the head, so the whole log is listed, and the flush starts where the site
  // really ends.
  fs::remove(events / layout::EventSegmentKey(2001, 3000).substr(layout::kEventsPrefix.size()));
  fs::remove(events / layout::EventSegmentKey(3001, 3002).substr(layout::kEventsPrefix.size()));
  listed = 0;
  auto caught_up = FlushEventSegmentsToSite(repo_->catalog(), **site, "a");
  ASSERT_OK(caught_up);
  EXPECT_EQ(caught_up->held_before, 2000u);
  EXPECT_EQ(caught_up->held_after, 3002u);
  EXPECT_GE(listed, 902u);

  // Ahead: a segment past the catalog's head is among the few listed, and refused.
  auto ahead_bytes = CatalogSegmentBytes(repo_->catalog(), 3002, 3002);
  ASSERT_OK(ahead_bytes);
  WriteFile(events / layout::EventSegmentKey(3003, 3003).substr(layout::kEventsPrefix.size()),
            *ahead_bytes);
  listed = 0;
  auto ahead = CheckSiteLogFollowsCatalog(repo_->catalog(), **site, "a", "");
  EXPECT_FALSE(ahead.ok());
  EXPECT_NE(ahead.status().message().find("holds events up to seq 3003"), std::string::npos)
      << ahead.status().message();
  EXPECT_LE(listed, 3u);
}

// An earlier operation's events asked about again (a deposit's kept receipt): site b, whose log
// refuses every write now, is a problem only while it lacks them; holding them, its refusal of
// later events is not theirs to tell.
TEST_F(SegmentsTest, FlushEventsThroughTellsOfASiteOnlyWhileItLacksThem) {
  Append(2);
  ASSERT_OK(FlushEventSegments(*repo_));
  ReopenWrapping([](std::string_view url,
                    std::unique_ptr<StorageBackend> inner) -> std::unique_ptr<StorageBackend> {
    if (!url.ends_with("/b")) return inner;
    auto refusing = std::make_unique<FaultBackend>(std::move(inner));
    refusing->AddRule(
        FaultRule::Fail(FaultPoint::kCommitBeforeVisible, Status::IOError("the log refuses writes"))
            .Matching(std::string(layout::kEventsPrefix))
            .Times(-1));
    return refusing;
  });
  Append(2);
  const EventsFlushed theirs = FlushEventsThrough(*repo_, 2);
  EXPECT_TRUE(theirs.ok()) << (theirs.problems.empty() ? "" : theirs.problems[0]);
  const EventsFlushed later = FlushEventsThrough(*repo_, 4);
  EXPECT_FALSE(later.ok());
  ASSERT_EQ(later.problems.size(), 1u);
  EXPECT_TRUE(later.problems[0].starts_with("site b: ")) << later.problems[0];
  EXPECT_NE(later.problems[0].find("the log refuses writes"), std::string::npos)
      << later.problems[0];
  auto a = repo_->OpenSite("a");
  ASSERT_OK(a);
  EXPECT_EQ(*LastSeqOnSite(**a), 4u);  // the flush wrote where it could
}

TEST_F(SegmentsTest, ReadingATamperedSegmentReportsTheFirstBadEvent) {
  Append(4);
  ASSERT_OK(FlushEventSegments(*repo_));
  Append(4);
  ASSERT_OK(FlushEventSegments(*repo_));
  auto site = repo_->OpenSite("a");
  const std::string key = layout::EventSegmentKey(5, 8);
  auto bytes = (*site)->ReadAll(key);
  ASSERT_OK(bytes);
  proto::EventSegment segment;
  ASSERT_TRUE(segment.ParseFromString(*bytes));
  segment.mutable_events(1)->set_detail("rewritten");  // event 6
  ASSERT_OK((*site)->backend().Remove(key));
  ASSERT_OK((*site)->backend().Put(key, segment.SerializeAsString()));

  auto log = ReadSiteEventLog(**site);
  ASSERT_OK(log);
  EXPECT_FALSE(log->chain_ok);
  EXPECT_EQ(log->first_bad_seq, 6u);
  EXPECT_EQ(log->events.size(), 5u);
  EXPECT_EQ(log->events_after_break, 3u);
  EXPECT_NE(log->problem.find("edited"), std::string::npos) << log->problem;
}

TEST_F(SegmentsTest, OverlappingSegmentsThatAgreeAreAccepted) {
  Append(6);
  auto site = repo_->OpenSite("a");
  auto events = repo_->catalog().ListEvents();
  ASSERT_OK(events);
  auto put = [&](uint64_t first, uint64_t last) {
    proto::EventSegment s;
    for (uint64_t q = first; q <= last; ++q) *s.add_events() = (*events)[q - 1];
    ASSERT_OK((*site)->PutEventSegment(first, last, s.SerializeAsString()));
  };
  put(1, 4);
  put(3, 6);  // two flushes that raced
  auto log = ReadSiteEventLog(**site);
  ASSERT_OK(log);
  EXPECT_TRUE(log->chain_ok) << log->problem;
  EXPECT_EQ(log->events.size(), 6u);
}

TEST_F(SegmentsTest, GapBetweenSegmentsIsABreak) {
  Append(6);
  auto site = repo_->OpenSite("a");
  auto events = repo_->catalog().ListEvents();
  auto put = [&](uint64_t first, uint64_t last) {
    proto::EventSegment s;
    for (uint64_t q = first; q <= last; ++q) *s.add_events() = (*events)[q - 1];
    ASSERT_OK((*site)->PutEventSegment(first, last, s.SerializeAsString()));
  };
  put(1, 2);
  put(5, 6);
  auto log = ReadSiteEventLog(**site);
  ASSERT_OK(log);
  EXPECT_FALSE(log->chain_ok);
  EXPECT_EQ(log->first_bad_seq, 3u);
  EXPECT_EQ(log->events.size(), 2u);
}

// --- the sites' copies checked against the catalog (site_log_check.h) ---

class SiteLogCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    repo_ = std::move(repo).value();
    AppendAndFlush(4);
    AppendAndFlush(4);  // segments 1-4 and 5-8 on a and b
  }

  void AppendAndFlush(int n) {
    std::vector<proto::Event> events;
    for (int i = 0; i < n; ++i) {
      proto::Event e;
      e.set_type(std::string(kFixityCheck.label));
      e.set_partner("acme");
      e.set_detail("check " + std::to_string(i));
      events.push_back(e);
    }
    ASSERT_OK(repo_->catalog().AppendEvents(events));
    ASSERT_OK(FlushEventSegments(*repo_));
  }

  Site& SiteNamed(const std::string& name) {
    auto site = repo_->OpenSite(name);
    EXPECT_OK(site);
    return **site;
  }

  // Overwrites `key` on site `name` behind Cairn's back.
  void Overwrite(const std::string& name, const std::string& key, const std::string& bytes) {
    ASSERT_OK(SiteNamed(name).backend().Put(key, bytes));
  }

  // Segment 5-8 with event 6's detail edited (its hash no longer matches).
  std::string EditedSegment() {
    auto bytes = SiteNamed("b").ReadAll(layout::EventSegmentKey(5, 8));
    EXPECT_OK(bytes);
    proto::EventSegment segment;
    EXPECT_TRUE(segment.ParseFromString(*bytes));
    segment.mutable_events(1)->set_detail("rewritten");
    return segment.SerializeAsString();
  }

  Result<SiteLogCheck> Check(const std::string& name) {
    return CheckSiteEventLog(repo_->catalog(), SiteNamed(name), name);
  }

  std::vector<std::pair<std::string, Site*>> AllSites() {
    return {{"a", &SiteNamed("a")}, {"b", &SiteNamed("b")}};
  }

  TempDir tmp_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(SiteLogCheckTest, SitesThatAgreeOrAreOnlyBehindHaveNoFindings) {
  std::vector<proto::Event> more(2);
  for (auto& e : more) e.set_type(std::string(kFixityCheck.label));
  ASSERT_OK(repo_->catalog().AppendEvents(more));  // not flushed: the sites are behind
  auto check = Check("a");
  ASSERT_OK(check);
  EXPECT_TRUE(check->checked);
  EXPECT_TRUE(check->ok());
  EXPECT_EQ(check->segments, 2u);
  EXPECT_EQ(check->held, 8u);
  EXPECT_EQ(check->catalog_head, 10u);
}

TEST_F(SiteLogCheckTest, DamagedSegmentIsNamedAndRewrittenFromTheCatalog) {
  const std::string key = layout::EventSegmentKey(5, 8);
  const std::string good = *SiteNamed("b").ReadAll(key);
  Overwrite("a", key, EditedSegment());
  auto check = Check("a");
  ASSERT_OK(check);
  ASSERT_EQ(check->findings.size(), 1u);
  EXPECT_EQ(check->findings[0].kind, SegmentProblem::kDamaged);
  EXPECT_EQ(check->findings[0].key, key);
  EXPECT_NE(check->findings[0].detail.find("event 6"), std::string::npos)
      << check->findings[0].detail;
  EXPECT_FALSE(check->ok());

  ASSERT_OK(RepairSiteEventLog(repo_->catalog(), SiteNamed("a"), *check, AllSites()));
  EXPECT_TRUE(check->findings[0].repaired) << check->findings[0].repair_error;
  EXPECT_EQ(check->findings[0].repaired_from, "the catalog");
  EXPECT_EQ(*SiteNamed("a").ReadAll(key), good);
  EXPECT_TRUE(Check("a")->ok());
}

TEST_F(SiteLogCheckTest, DamagedSegmentComesFromAGoodSiteWhenTheCatalogIsBroken) {
  const std::string key = layout::EventSegmentKey(5, 8);
  const std::string good = *SiteNamed("b").ReadAll(key);
  Overwrite("a", key, "not a segment at all");
  // Event 6's record edited in the catalog (its hash column kept): the chain breaks at 6.
  auto events = repo_->catalog().ListEvents();
  ASSERT_OK(events);
  proto::Event edited = (*events)[5];
  edited.set_detail("edited in the catalog");
  auto stmt =
      CatalogTestAccess::Db(repo_->catalog()).Prepare("UPDATE events SET event = ? WHERE seq = 6");
  ASSERT_OK(stmt);
  stmt->BindBlob(1, edited.SerializeAsString());
  ASSERT_OK(stmt->Run());
  ASSERT_FALSE(repo_->catalog().VerifyEvents()->ok);

  auto check = Check("a");
  ASSERT_OK(check);
  ASSERT_EQ(check->findings.size(), 1u);
  EXPECT_NE(check->findings[0].detail.find("do not parse"), std::string::npos);
  ASSERT_OK(RepairSiteEventLog(repo_->catalog(), SiteNamed("a"), *check, AllSites()));
  EXPECT_TRUE(check->findings[0].repaired) << check->findings[0].repair_error;
  EXPECT_EQ(check->findings[0].repaired_from, "site b");
  EXPECT_EQ(*SiteNamed("a").ReadAll(key), good);
}

TEST_F(SiteLogCheckTest, MissingSegmentIsRewrittenAndADifferentOneIsNeverReplaced) {
  const std::string first = layout::EventSegmentKey(1, 4);
  const std::string good = *SiteNamed("a").ReadAll(first);
  ASSERT_OK(SiteNamed("a").backend().Remove(first));
  // Site b's 5-8: a well-formed chain of other events (another history).
  TempDir other;
  auto foreign = Catalog::Open((other.path() / "c.db").string());
  ASSERT_OK(foreign);
  std::vector<proto::Event> eight(8);
  for (auto& e : eight) e.set_type("ingestion");
  ASSERT_OK((*foreign)->AppendEvents(eight));
  auto foreign_bytes = CatalogSegmentBytes(**foreign, 5, 8);
  ASSERT_OK(foreign_bytes);
  Overwrite("b", layout::EventSegmentKey(5, 8), *foreign_bytes);

  auto a = Check("a");
  ASSERT_OK(a);
  ASSERT_EQ(a->findings.size(), 1u);
  EXPECT_EQ(a->findings[0].kind, SegmentProblem::kMissing);
  EXPECT_EQ(a->findings[0].key, first);
  ASSERT_OK(RepairSiteEventLog(repo_->catalog(), SiteNamed("a"), *a, AllSites()));
  EXPECT_TRUE(a->findings[0].repaired) << a->findings[0].repair_error;
  EXPECT_EQ(*SiteNamed("a").ReadAll(first), good);

  auto b = Check("b");
  ASSERT_OK(b);
  ASSERT_EQ(b->findings.size(), 1u);
  EXPECT_EQ(b->findings[0].kind, SegmentProblem::kDifferent);
  EXPECT_NE(b->findings[0].detail.find("event 5 differs"), std::string::npos)
      << b->findings[0].detail;
  ASSERT_OK(RepairSiteEventLog(repo_->catalog(), SiteNamed("b"), *b, AllSites()));
  EXPECT_FALSE(b->findings[0].repaired);
  EXPECT_EQ(*SiteNamed("b").ReadAll(layout::EventSegmentKey(5, 8)), *foreign_bytes);
}

TEST_F(SiteLogCheckTest, SegmentsAfterTheCatalogsLastEventAreAhead) {
  auto stmt = CatalogTestAccess::Db(repo_->catalog()).Prepare("DELETE FROM events WHERE seq > 6");
  ASSERT_OK(stmt);
  ASSERT_OK(stmt->Run());
  auto check = Check("a");
  ASSERT_OK(check);
  ASSERT_EQ(check->findings.size(), 1u);
  EXPECT_EQ(check->findings[0].kind, SegmentProblem::kAhead);
  EXPECT_NE(check->findings[0].detail.find("events 7-8"), std::string::npos)
      << check->findings[0].detail;
  EXPECT_NE(check->findings[0].ToString().find("site a: " + layout::EventSegmentKey(5, 8)),
            std::string::npos);
}

TEST_F(SiteLogCheckTest, ReplacingADamagedSegmentNeedsTheBytesThatWereProvenWrong) {
  const std::string key = layout::EventSegmentKey(5, 8);
  const std::string good = *SiteNamed("b").ReadAll(key);
  Overwrite("a", key, "garbage one");
  Status moved = SiteNamed("a").ReplaceDamagedEventSegment(5, 8, "garbage two", good);
  EXPECT_TRUE(moved.IsAlreadyExists()) << moved.ToString();
  EXPECT_EQ(*SiteNamed("a").ReadAll(key), "garbage one");
  ASSERT_OK(SiteNamed("a").ReplaceDamagedEventSegment(5, 8, "garbage one", good));
  EXPECT_EQ(*SiteNamed("a").ReadAll(key), good);
}

TEST_F(SiteLogCheckTest, AGoodSegmentIsRecordedAndAnyLaterChangeIsCheckedInFull) {
  const std::string key = layout::EventSegmentKey(5, 8);
  const std::string good = *SiteNamed("a").ReadAll(key);
  ASSERT_TRUE(Check("a")->ok());
  auto recorded = repo_->catalog().ListSegmentChecks("a");
  ASSERT_OK(recorded);
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ((*recorded)[1].first_seq, 5u);
  EXPECT_EQ((*recorded)[1].last_seq, 8u);
  EXPECT_EQ((*recorded)[1].bytes_sha256, Sha256Raw(good));
  EXPECT_EQ((*recorded)[1].hashes_sha256, *repo_->catalog().EventHashesDigest(5, 8));
  EXPECT_TRUE(repo_->catalog().ListSegmentChecks("b")->empty()) << "b was not checked";

  // Other bytes on the site: the full check, which names the damage.
  Overwrite("a", key, EditedSegment());
  auto damaged = Check("a");
  ASSERT_OK(damaged);
  ASSERT_EQ(damaged->findings.size(), 1u);
  EXPECT_EQ(damaged->findings[0].kind, SegmentProblem::kDamaged);

  // The same bytes as recorded, but the catalog's hash of event 6 changed
  // since: the full check again, which finds the difference.
  Overwrite("a", key, good);
  ASSERT_TRUE(Check("a")->ok());
  auto stmt = CatalogTestAccess::Db(repo_->catalog())
                  .Prepare("UPDATE events SET hash = zeroblob(32) WHERE seq = 6");
  ASSERT_OK(stmt);
  ASSERT_OK(stmt->Run());
  auto different = Check("a");
  ASSERT_OK(different);
  ASSERT_EQ(different->findings.size(), 1u);
  EXPECT_EQ(different->findings[0].kind, SegmentProblem::kDifferent);
  EXPECT_NE(different->findings[0].detail.find("event 6 differs"), std::string::npos)
      << different->findings[0].detail;
}

TEST_F(SiteLogCheckTest, ASegmentRecordedAsGoodIsNotParsedAgain) {
  ASSERT_TRUE(Check("a")->ok());
  // A memo claiming that unparseable bytes are the good segment 5-8 (only the
  // catalog itself can say so): the check trusts it, so it did not parse them.
  const std::string junk = "not a segment at all";
  Overwrite("a", layout::EventSegmentKey(5, 8), junk);
  ASSERT_OK(repo_->catalog().KeepSegmentChecks(
      "a", {{5, 8, Sha256Raw(junk), *repo_->catalog().EventHashesDigest(5, 8)}}));
  EXPECT_TRUE(Check("a")->ok());
  // Without the memo (a rebuilt catalog has none) the same bytes are damaged.
  auto stmt = CatalogTestAccess::Db(repo_->catalog()).Prepare("DELETE FROM segment_checks");
  ASSERT_OK(stmt);
  ASSERT_OK(stmt->Run());
  auto check = Check("a");
  ASSERT_OK(check);
  ASSERT_EQ(check->findings.size(), 1u);
  EXPECT_EQ(check->findings[0].kind, SegmentProblem::kDamaged);
}

TEST_F(SiteLogCheckTest, EventHashesDigestCoversExactlyTheRange) {
  auto all = repo_->catalog().ListEventHashes(4, 4);  // events 5-8
  ASSERT_OK(all);
  std::string hashes;
  for (const EventHead& e : *all) hashes += e.hash;
  EXPECT_EQ(*repo_->catalog().EventHashesDigest(5, 8), Sha256Raw(hashes));
  EXPECT_EQ(*repo_->catalog().EventHashesDigest(5, 9), "") << "no event 9";
  EXPECT_EQ(*repo_->catalog().EventHashesDigest(0, 8), "") << "no event 0";
  EXPECT_NE(*repo_->catalog().EventHashesDigest(5, 7), *repo_->catalog().EventHashesDigest(5, 8));
}

}  // namespace
}  // namespace cairn::repo
