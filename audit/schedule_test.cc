// Schedules on a real repository: stored, refused when wrong, fired by the
// fake clock (no waiting), last/next run recorded, buckets rotated.
#include "audit/schedule.h"

#include <gtest/gtest.h>

#include "audit/audit_test_util.h"
#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

using repo::kMicrosPerDay;

TEST(ScheduleDurationTest, ParsesUnitsAndRefusesTheRest) {
  EXPECT_EQ(*ParseDuration("90d"), 90 * kMicrosPerDay);
  EXPECT_EQ(*ParseDuration("2w"), 14 * kMicrosPerDay);
  EXPECT_EQ(*ParseDuration("36h"), 36 * 3600 * repo::kMicrosPerSecond);
  EXPECT_EQ(*ParseDuration("45s"), 45 * repo::kMicrosPerSecond);
  for (const char* bad : {"", "d", "90", "0d", "-3d", "9x", "1.5d", "90 d"}) {
    Result<int64_t> r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("duration '"), std::string::npos);
  }
  EXPECT_EQ(FormatDuration(90 * kMicrosPerDay), "90d");
  EXPECT_EQ(FormatDuration(14 * kMicrosPerDay), "2w");
  EXPECT_EQ(FormatDuration(36 * 3600 * repo::kMicrosPerSecond), "36h");
}

class ScheduleTest : public AuditTest {
 protected:
  Schedule Make(const std::string& name, const std::string& every) {
    Schedule s;
    s.name = name;
    s.every_micros = *ParseDuration(every);
    return s;
  }
  Schedule Get(const std::string& name) {
    auto all = ListSchedules(*repo_);
    EXPECT_OK(all);
    for (const Schedule& s : *all) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no schedule " << name;
    return {};
  }
  ScheduleRunOptions RunOptions() {
    ScheduleRunOptions options;
    options.user = "tester";
    return options;
  }
};

TEST_F(ScheduleTest, AddListRemoveAndBadInput) {
  Schedule quarterly = Make("quarterly", "90d");
  quarterly.scope.site = "b";
  quarterly.sample = "1/3";
  quarterly.rate_bytes_per_sec = 50'000'000;
  ASSERT_OK(AddSchedule(*repo_, quarterly));
  Schedule weekly = Make("weekly", "1w");
  weekly.scope.partner = "acme";
  weekly.scope.object = "maps";
  weekly.mode = AuditMode::kAll;
  ASSERT_OK(AddSchedule(*repo_, weekly));

  auto all = ListSchedules(*repo_);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "quarterly");
  EXPECT_EQ((*all)[0].scope.site, "b");
  EXPECT_EQ((*all)[0].sample, "1/3");
  EXPECT_EQ((*all)[0].rate_bytes_per_sec, 50'000'000u);
  EXPECT_EQ((*all)[0].next_run_micros, clock_.NowMicros());  // due at once
  EXPECT_EQ((*all)[1].scope.object, "maps");
  EXPECT_EQ((*all)[1].mode, AuditMode::kAll);

  Status dup = AddSchedule(*repo_, Make("weekly", "3d"));
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();
  EXPECT_NE(dup.message().find("weekly"), std::string::npos);
  Schedule bad_site = Make("s1", "1d");
  bad_site.scope.site = "zz";
  EXPECT_TRUE(AddSchedule(*repo_, bad_site).IsNotFound());
  Schedule bad_partner = Make("s2", "1d");
  bad_partner.scope.partner = "nobody";
  EXPECT_TRUE(AddSchedule(*repo_, bad_partner).IsNotFound());
  Schedule bad_object = Make("s3", "1d");
  bad_object.scope.partner = "acme";
  bad_object.scope.object = "nothing";
  EXPECT_TRUE(AddSchedule(*repo_, bad_object).IsNotFound());
  Schedule bad_sample = Make("s4", "1d");
  bad_sample.sample = "5/4";
  EXPECT_FALSE(AddSchedule(*repo_, bad_sample).ok());
  EXPECT_FALSE(AddSchedule(*repo_, Make("bad name", "1d")).ok());
  EXPECT_EQ(ListSchedules(*repo_)->size(), 2u);

  ASSERT_OK(RemoveSchedule(*repo_, "weekly"));
  EXPECT_TRUE(RemoveSchedule(*repo_, "weekly").IsNotFound());
  EXPECT_EQ(ListSchedules(*repo_)->size(), 1u);
}

TEST_F(ScheduleTest, FiresByTheFakeClockAndRecordsLastAndNextRun) {
  Schedule s = Make("monthly", "30d");
  s.mode = AuditMode::kAll;
  s.next_run_micros = clock_.NowMicros() + 2 * kMicrosPerDay;
  ASSERT_OK(AddSchedule(*repo_, s));
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");

  auto none = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());  // not due yet
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs"), 0);

  clock_.Advance(2 * kMicrosPerDay);
  int64_t fired_at = clock_.NowMicros();
  auto first = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 1u);
  ASSERT_OK((*first)[0].status);
  EXPECT_EQ((*first)[0].report.checked, static_cast<uint64_t>(replicas));
  EXPECT_EQ(Get("monthly").last_run_micros, fired_at);
  EXPECT_EQ(Get("monthly").next_run_micros, fired_at + 30 * kMicrosPerDay);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs WHERE schedule = 'monthly'"), 1);

  clock_.Advance(29 * kMicrosPerDay);
  EXPECT_TRUE(RunDueSchedules(*repo_, RunOptions())->empty());
  clock_.Advance(1 * kMicrosPerDay);
  auto second = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(second);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs WHERE schedule = 'monthly'"), 2);
}

TEST_F(ScheduleTest, DueModeChecksOnlyDueCopiesAndBucketsRotate) {
  Schedule s = Make("rolling", "1d");
  s.sample = "1/2";
  ASSERT_OK(AddSchedule(*repo_, s));
  // Copies are verified at deposit: nothing is due for 90 days.
  auto early = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(early);
  ASSERT_EQ(early->size(), 1u);
  EXPECT_EQ((*early)[0].report.planned, 0u);
  EXPECT_EQ(Get("rolling").sample, "2/2");

  clock_.Advance(91 * kMicrosPerDay);
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");
  auto a = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(a);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ(Get("rolling").sample, "1/2");
  clock_.Advance(kMicrosPerDay);
  auto b = RunDueSchedules(*repo_, RunOptions());
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 1u);
  // Two buckets, two days: every copy checked exactly once.
  EXPECT_EQ((*a)[0].report.checked + (*b)[0].report.checked, static_cast<uint64_t>(replicas));
  EXPECT_GT((*a)[0].report.checked, 0u);
  EXPECT_GT((*b)[0].report.checked, 0u);
}

TEST_F(ScheduleTest, CancelledRunStaysDue) {
  Schedule s = Make("nightly", "1d");
  s.mode = AuditMode::kAll;
  ASSERT_OK(AddSchedule(*repo_, s));
  int64_t before = Get("nightly").next_run_micros;
  std::atomic<bool> cancel{true};
  ScheduleRunOptions options = RunOptions();
  options.cancel = &cancel;
  auto runs = RunDueSchedules(*repo_, options);
  ASSERT_OK(runs);
  EXPECT_TRUE(runs->empty());
  EXPECT_EQ(Get("nightly").next_run_micros, before);
  EXPECT_EQ(Get("nightly").last_run_micros, 0);
}

}  // namespace
}  // namespace cairn::audit
