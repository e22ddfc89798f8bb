// Catalog rebuild from one site: real deposits into a real repository, then
// a new catalog from site a alone, compared with the original.
#include "repo/recovery/rebuild.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_audit_types.h"
#include "repo/events/event_types.h"
#include "repo/events/premis.h"
#include "repo/events/segments.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/library_deposits.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositFolder;
using cairn::testing::SampleFiles;
using cairn::testing::TempDir;
using cairn::testing::WriteTree;

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    repo_ = std::move(repo).value();
    WriteTree(tmp_ / "src1", SampleFiles("one", 5, 100));
    WriteTree(tmp_ / "src2", SampleFiles("two", 4, 3000));
    WriteTree(tmp_ / "src1b", SampleFiles("one-b", 2, 50));
    ASSERT_EQ(DepositFolder(*repo_, "acme", "photos", tmp_ / "src1"), 1u);
    ASSERT_EQ(DepositFolder(*repo_, "acme", "photos", tmp_ / "src1b"), 2u);
    ASSERT_EQ(DepositFolder(*repo_, "zeta", "letters", tmp_ / "src2"), 1u);
  }

  std::string SiteUrl(const std::string& site) {
    return FileUrl((fs::path(repo_->root()) / "sites" / site).string());
  }

  Result<RebuildReport> RebuildInto(const fs::path& dir) {
    RebuildOptions options;
    options.user = "tester";
    return RebuildCatalogFile(SiteUrl("a"), (dir / "catalog.db").string(), false, options);
  }

  TempDir tmp_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RebuildTest, RecreatesEveryVersionFileAndTheEventHistory) {
  auto original_events = repo_->catalog().ListEvents();
  ASSERT_OK(original_events);
  ASSERT_FALSE(original_events->empty());

  auto report = RebuildInto(tmp_ / "new");
  ASSERT_OK(report);
  EXPECT_FALSE(report->HasProblems()) << report->ToText();
  EXPECT_EQ(report->site, "a");
  EXPECT_EQ(report->partners, 2u);
  EXPECT_EQ(report->objects, 2u);
  EXPECT_EQ(report->versions, 3u);
  EXPECT_EQ(report->files, 6u + 3u + 5u);
  EXPECT_TRUE(report->chain_ok);
  EXPECT_EQ(report->events, original_events->size());

  auto rebuilt = Repository::Open((tmp_ / "new").string());
  ASSERT_OK(rebuilt);
  Catalog& catalog = (*rebuilt)->catalog();
  for (auto [partner, object, version] :
       {std::tuple{"acme", "photos", 1u}, {"acme", "photos", 2u}, {"zeta", "letters", 1u}}) {
    auto want = repo_->catalog().GetVersion(partner, object, version, true);
    auto got = catalog.GetVersion(partner, object, version, true);
    ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
    EXPECT_EQ(got->created_micros, want->created_micros);
    EXPECT_EQ(got->depositor, want->depositor);
    ASSERT_EQ(got->files.size(), want->files.size());
    for (size_t i = 0; i < got->files.size(); ++i) {
      EXPECT_EQ(got->files[i].path, want->files[i].path);
      EXPECT_EQ(got->files[i].sha256, want->files[i].sha256);
      EXPECT_EQ(got->files[i].size, want->files[i].size);
    }
    ASSERT_EQ(got->tag_files.size(), want->tag_files.size());
    for (size_t i = 0; i < got->tag_files.size(); ++i) {
      EXPECT_EQ(got->tag_files[i].name, want->tag_files[i].name);
      EXPECT_EQ(got->tag_files[i].sha256, want->tag_files[i].sha256);
    }
    // Replicas on a only, ok but never verified, due now.
    auto replicas = catalog.ReplicasOf(got->id);
    ASSERT_OK(replicas);
    ASSERT_FALSE(replicas->empty());
    for (const ReplicaRecord& r : *replicas) {
      EXPECT_EQ(r.site, "a");
      EXPECT_EQ(r.state, ReplicaState::kOk);
      EXPECT_EQ(r.last_verified_micros, 0);
      EXPECT_GT(r.next_due_micros, 0);
    }
  }
  // The history is back, byte for byte, then one recovery event.
  auto events = catalog.ListEvents();
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), original_events->size() + 1);
  for (size_t i = 0; i < original_events->size(); ++i) {
    EXPECT_EQ((*events)[i].SerializeAsString(), (*original_events)[i].SerializeAsString());
  }
  EXPECT_EQ(events->back().type(), "recovery");
  auto verdict = catalog.VerifyEvents();
  ASSERT_OK(verdict);
  EXPECT_TRUE(verdict->ok) << verdict->problem;
  // The rebuild only read the site; the next flush adds the recovery event.
  auto site = (*rebuilt)->OpenSite("a");
  ASSERT_OK(site);
  auto before = LastSeqOnSite(**site);
  ASSERT_OK(before);
  EXPECT_EQ(*before, original_events->size());
  auto flushed = FlushEventSegments(**rebuilt);
  ASSERT_OK(flushed);
  EXPECT_TRUE(flushed->Errors().empty()) << flushed->Errors()[0];
  auto last = LastSeqOnSite(**site);
  ASSERT_OK(last);
  EXPECT_EQ(*last, events->size());
}

TEST_F(RebuildTest, RefusesToOverwriteAnExistingCatalog) {
  auto report = RebuildCatalogFile(SiteUrl("a"), repo_->catalog().path(), false, {});
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.status().IsAlreadyExists()) << report.status().ToString();
}

TEST_F(RebuildTest, ReplaceKeepsTheOldCatalogAside) {
  const std::string path = (tmp_ / "copy" / "catalog.db").string();
  ASSERT_OK(RebuildInto(tmp_ / "copy"));
  auto again = RebuildCatalogFile(SiteUrl("b"), path, true, {});
  ASSERT_OK(again);
  EXPECT_EQ(again->site, "b");
  EXPECT_FALSE(again->previous_catalog.empty());
  EXPECT_TRUE(fs::exists(again->previous_catalog));
  auto reopened = Catalog::Open(path);
  ASSERT_OK(reopened);
  auto sites = (*reopened)->ListSites();
  ASSERT_OK(sites);
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].name, "b");
}

TEST_F(RebuildTest, IncompleteVersionAndMissingBlobAreReportedNotHidden) {
  fs::path a = fs::path(repo_->root()) / "sites" / "a";
  fs::remove(a / layout::VersionRecordKey("acme", "photos", 2));
  auto v = repo_->catalog().GetVersion("zeta", "letters", 1, true);
  ASSERT_OK(v);
  const std::string gone = v->files[0].sha256;
  fs::remove(a / layout::BlobKey(gone));

  auto report = RebuildInto(tmp_ / "new");
  ASSERT_OK(report);
  EXPECT_TRUE(report->HasProblems());
  EXPECT_EQ(report->versions, 2u);
  EXPECT_EQ(report->incomplete_versions, 1u);
  EXPECT_EQ(report->missing_blobs, 1u);
  auto rebuilt = Catalog::Open((tmp_ / "new" / "catalog.db").string());
  ASSERT_OK(rebuilt);
  auto state = (*rebuilt)->BlobOnSite(gone, "a");
  ASSERT_OK(state);
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ(**state, ReplicaState::kMissing);
  EXPECT_FALSE((*rebuilt)->GetVersion("acme", "photos", 2, false).ok());
}

TEST_F(RebuildTest, BrokenEventChainLoadsTheGoodPrefixAndSaysWhere) {
  fs::path events = fs::path(repo_->root()) / "sites" / "a" / "events";
  // Rewrite one event in the second segment on site a.
  std::vector<fs::path> segments;
  for (fs::directory_iterator it(events), end; it != end; ++it) segments.push_back(it->path());
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 2u);
  proto::EventSegment segment;
  ASSERT_TRUE(segment.ParseFromString(cairn::testing::ReadFile(segments[1])));
  const uint64_t bad = segment.events(0).seq();
  segment.mutable_events(0)->set_outcome("failure");
  fs::remove(segments[1]);
  cairn::testing::WriteFile(segments[1], segment.SerializeAsString());

  auto report = RebuildInto(tmp_ / "new");
  ASSERT_OK(report);
  EXPECT_FALSE(report->chain_ok);
  EXPECT_EQ(report->first_bad_seq, bad);
  EXPECT_EQ(report->events, bad - 1);
  EXPECT_GT(report->events_not_loaded, 0u);
  EXPECT_NE(report->ToText().find("BROKEN at seq " + std::to_string(bad)), std::string::npos);
  // What was loaded verifies.
  auto rebuilt = Catalog::Open((tmp_ / "new" / "catalog.db").string());
  ASSERT_OK(rebuilt);
  auto verdict = (*rebuilt)->VerifyEvents();
  ASSERT_OK(verdict);
  EXPECT_TRUE(verdict->ok);
}

// The log of a cairn from before a sweep's events named their run: its checks come back as one
// run marked `merged`, after the runs the log names, which keep their numbers; a failed check
// nothing answered since is an open finding of its run.
TEST_F(RebuildTest, AuditRunsComeBackFromTheLogNumberedOrMerged) {
  const std::string sha(64, 'e');
  auto check = [&](const std::string& outcome, const std::string& what, int64_t micros) {
    proto::Event e = NewEvent(kFixityCheck, {.partner = "acme",
                                             .object = "photos",
                                             .version = 1,
                                             .file = "data/x.txt",
                                             .site = "b",
                                             .outcome = outcome,
                                             .detail = "sha256 " + sha + ": " + what});
    e.set_time_unix_micros(micros);
    return e;
  };
  std::vector<proto::Event> events = {
      check("success", "copy verified (5 bytes)", 1'000'000),
      check("failure", "corrupt: read 5 bytes with sha256 00", 2'000'000),
      check("success", "copy verified (5 bytes) (by audit run 7)", 3'000'000)};
  events[2].set_site("a");  // run 7 checked a's copy; b's stays as the old run found it
  ASSERT_OK(repo_->catalog().AppendEvents(events));
  FlushNewEvents(*repo_);

  auto report = RebuildInto(tmp_ / "new");
  ASSERT_OK(report);
  auto rebuilt = Repository::Open((tmp_ / "new").string());
  ASSERT_OK(rebuilt);
  auto runs = (*rebuilt)->catalog().ListAuditRuns(0, 0);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 2u);
  const AuditRunRecord& old = (*runs)[0];  // by start: the merged run's checks came first
  const AuditRunRecord& seventh = (*runs)[1];
  EXPECT_EQ(seventh.id, 7);
  EXPECT_EQ(seventh.counts.checked, 1u);
  EXPECT_EQ(seventh.started_micros, 3'000'000);
  EXPECT_NE(seventh.report.find("\"merged\":false"), std::string::npos) << seventh.report;
  EXPECT_EQ(old.id, 8);  // after the numbered ones
  EXPECT_EQ(old.counts.checked, 2u);
  EXPECT_EQ(old.counts.corrupt, 1u);
  EXPECT_EQ(old.counts.repaired, 0u);
  EXPECT_EQ(old.started_micros, 1'000'000);
  EXPECT_EQ(old.finished_micros, 2'000'000);
  EXPECT_NE(old.report.find("\"merged\":true"), std::string::npos) << old.report;
  auto findings = (*rebuilt)->catalog().ListAuditFindings(8, 0);
  ASSERT_OK(findings);
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].site, "b");
  EXPECT_EQ((*findings)[0].kind, "corrupt");
  EXPECT_FALSE((*findings)[0].repaired);
  bool noted = false;
  for (const std::string& n : report->notes) noted |= n.starts_with("audit history rebuilt");
  EXPECT_TRUE(noted) << report->ToText();
}

}  // namespace
}  // namespace cairn::repo
