// The audit report: what sweeps recorded is read back, and the four formats
// carry the same figures.
#include "audit/history.h"

#include <gtest/gtest.h>

#include <sstream>

#include "audit/audit_test_util.h"
#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

const std::string kFirstFile = "the first file\n";
const std::string kSecondFile = "the second file, a little longer\n";

std::vector<std::vector<std::string>> CsvRows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    char c = csv[i];
    if (quoted) {
      if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

class HistoryTest : public AuditTest {
 protected:
  // One clean sweep, then one that finds a flipped byte and a deleted blob on
  // site a (both repaired) while site c is unreadable.
  void TwoSweeps() {
    auto clean = RunAudit(*repo_, Options());
    ASSERT_OK(clean);
    std::string flipped = kFirstFile;
    flipped[2] ^= 0x20;
    fs::remove(BlobPath("a", kFirstFile));
    cairn::testing::WriteFile(BlobPath("a", kFirstFile), flipped);
    fs::remove(BlobPath("a", kSecondFile));
    fs::rename(SitePath("c"), dir_ / "c-away");
    clock_.Advance(repo::kMicrosPerDay);
    auto damaged = RunAudit(*repo_, Options());
    ASSERT_OK(damaged);
    ASSERT_EQ(damaged->corrupt, 1u);
    ASSERT_EQ(damaged->missing, 1u);
    fs::rename(dir_ / "c-away", SitePath("c"));
  }
};

TEST_F(HistoryTest, RunsFindingsSitesAndOverdue) {
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");
  int64_t per_site = replicas / 3;
  TwoSweeps();
  auto h = LoadAuditHistory(*repo_, {});
  ASSERT_OK(h);
  ASSERT_EQ(h->runs.size(), 2u);
  EXPECT_EQ(h->runs[0].counts.checked, static_cast<uint64_t>(replicas));
  EXPECT_EQ(h->runs[1].counts.checked, static_cast<uint64_t>(2 * per_site));
  EXPECT_EQ(h->runs[1].counts.unavailable, static_cast<uint64_t>(per_site));
  EXPECT_EQ(h->totals.corrupt, 1u);
  EXPECT_EQ(h->totals.missing, 1u);
  EXPECT_EQ(h->totals.repaired, 2u);
  EXPECT_EQ(h->sites["a"].corrupt + h->sites["a"].missing, 2u);
  EXPECT_EQ(h->sites["c"].unavailable, static_cast<uint64_t>(per_site));
  EXPECT_EQ(h->sites["b"].ok, static_cast<uint64_t>(2 * per_site));
  size_t corrupt = 0, missing = 0, unavailable = 0;
  for (const StoredFinding& s : h->findings) {
    EXPECT_EQ(s.run_id, h->runs[1].id);
    if (s.finding.kind == FindingKind::kCorrupt) {
      ++corrupt;
      EXPECT_EQ(s.finding.path, "data/one.txt");
      EXPECT_EQ(s.finding.site, "a");
      EXPECT_EQ(s.finding.partner, "acme");
      EXPECT_EQ(s.finding.sha256, Sha(kFirstFile));
      EXPECT_TRUE(s.finding.repaired);
    }
    missing += s.finding.kind == FindingKind::kMissing;
    unavailable += s.finding.kind == FindingKind::kUnavailable;
  }
  EXPECT_EQ(corrupt, 1u);
  EXPECT_EQ(missing, 1u);
  EXPECT_EQ(unavailable, static_cast<size_t>(per_site));
  EXPECT_EQ(h->findings_repaired, 2u);
  // Site c's copies were not checked by the second sweep, so they fall due a
  // day before the others: just after 90 days they alone are overdue, two
  // days later every copy is.
  EXPECT_EQ(h->overdue, 0u);
  clock_.Advance(89 * repo::kMicrosPerDay + 3600 * repo::kMicrosPerSecond);
  EXPECT_EQ(LoadAuditHistory(*repo_, {})->overdue, static_cast<uint64_t>(per_site));
  clock_.Advance(2 * repo::kMicrosPerDay);
  auto later = LoadAuditHistory(*repo_, {});
  EXPECT_EQ(later->overdue, static_cast<uint64_t>(replicas));
  EXPECT_EQ(later->overdue_by_site["c"], static_cast<uint64_t>(per_site));
  ASSERT_FALSE(later->overdue_oldest.empty());
  EXPECT_EQ(later->overdue_oldest[0].site, "c");
  EXPECT_EQ(later->overdue_oldest[0].partner, "acme");

  HistoryQuery one;
  one.run_id = h->runs[0].id;
  EXPECT_EQ(LoadAuditHistory(*repo_, one)->runs.size(), 1u);
  one.run_id = 999;
  EXPECT_TRUE(LoadAuditHistory(*repo_, one).status().IsNotFound());
  HistoryQuery since;
  since.since_micros = h->runs[1].started_micros;
  EXPECT_EQ(LoadAuditHistory(*repo_, since)->runs.size(), 1u);
}

TEST_F(HistoryTest, EveryFormatCarriesTheSameFigures) {
  TwoSweeps();
  clock_.Advance(89 * repo::kMicrosPerDay +
                 3600 * repo::kMicrosPerSecond);  // site c's copies are overdue now
  auto h = LoadAuditHistory(*repo_, {});
  ASSERT_OK(h);
  ASSERT_GT(h->overdue, 0u);

  nlohmann::json json = nlohmann::json::parse(HistoryJson(*h).dump());
  const SiteCounts& t = h->totals;
  EXPECT_EQ(json["totals"]["checked"], t.checked);
  EXPECT_EQ(json["totals"]["corrupt"], 1);
  EXPECT_EQ(json["totals"]["repaired"], 2);
  EXPECT_EQ(json["runs"].size(), 2u);
  EXPECT_EQ(json["findings"].size(), h->findings.size());
  EXPECT_EQ(json["overdue"]["count"], h->overdue);

  auto rows = CsvRows(HistoryCsv(*h));
  ASSERT_FALSE(rows.empty());
  std::map<std::string, std::vector<std::vector<std::string>>> by_record;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size()) << "row " << i;
    by_record[rows[i][0]].push_back(rows[i]);
  }
  EXPECT_EQ(by_record["run"].size(), json["runs"].size());
  EXPECT_EQ(by_record["finding"].size(), json["findings"].size());
  EXPECT_EQ(by_record["overdue"].size(), json["overdue"]["oldest"].size());
  EXPECT_EQ(by_record["site"].size(), json["sites"].size());
  ASSERT_EQ(by_record["total"].size(), 1u);
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < rows[0].size(); ++i) {
      if (rows[0][i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return size_t{0};
  };
  const auto& total = by_record["total"][0];
  for (const char* name :
       {"checked", "ok", "corrupt", "missing", "unavailable", "repaired", "damaged", "bytes"}) {
    EXPECT_EQ(total[column(name)], std::to_string(json["totals"][name].get<uint64_t>())) << name;
  }
  EXPECT_EQ(total[column("outcome")], "overdue=" + std::to_string(h->overdue));
  size_t corrupt_rows = 0;
  for (const auto& row : by_record["finding"]) {
    if (row[column("outcome")] != "corrupt") continue;
    ++corrupt_rows;
    EXPECT_EQ(row[column("path")], "data/one.txt");
    EXPECT_EQ(row[column("site")], "a");
    EXPECT_EQ(row[column("sha256")], Sha(kFirstFile));
  }
  EXPECT_EQ(corrupt_rows, 1u);

  std::string text = HistoryText(*h);
  std::ostringstream totals;
  totals << "total: checked " << t.checked << ", ok " << t.ok << ", corrupt 1, missing 1, "
         << "unavailable " << t.unavailable << ", repaired 2, damaged 0, bytes " << t.bytes;
  EXPECT_NE(text.find(totals.str()), std::string::npos) << text;
  EXPECT_NE(text.find("findings: " + std::to_string(h->findings.size()) + " (2 repaired)"),
            std::string::npos);
  EXPECT_NE(text.find("overdue for a check now: " + std::to_string(h->overdue) + " copies"),
            std::string::npos);
  EXPECT_NE(text.find("corrupt: acme/maps@v1 data/one.txt on site a (sha256 " + Sha(kFirstFile)),
            std::string::npos);

  std::string html = HistoryHtml(*h);
  EXPECT_NE(html.find("<td class=\"checked\">" + std::to_string(t.checked) + "</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"corrupt\">1</td><td class=\"missing\">1</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<span id=\"findings\">" + std::to_string(h->findings.size())),
            std::string::npos);
  EXPECT_NE(html.find("<span id=\"overdue\">" + std::to_string(h->overdue)), std::string::npos);
  EXPECT_NE(html.find("<span id=\"runs\">2</span>"), std::string::npos);
  size_t finding_rows = 0;
  for (size_t at = html.find("<tr class=\"finding\">"); at != std::string::npos;
       at = html.find("<tr class=\"finding\">", at + 1)) {
    ++finding_rows;
  }
  EXPECT_EQ(finding_rows, h->findings.size());
  // Self-contained: charts inline, nothing fetched, no scripts.
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

AuditHistory RunsEvery(int64_t step_micros, int runs) {
  AuditHistory h;
  const int64_t start = int64_t{1'800'000'000} * 1'000'000;  // 2027-01-15
  for (int i = 0; i < runs; ++i) {
    RunSummary r;
    r.id = i + 1;
    r.started_micros = start + i * step_micros;
    r.counts.checked = 10;
    r.counts.corrupt = i % 7 == 0 ? 1 : 0;
    h.runs.push_back(r);
  }
  return h;
}

// Issue 15: the time chart stays a readable width however many runs there are,
// shows each run distinctly while they fit, and the findings list says when it
// was cut.
TEST(AuditHistoryHtmlTest, TimeChartShowsEachRunThenBucketsByDayWeekMonth) {
  const int64_t hour = int64_t{3600} * 1'000'000, day = 24 * hour;
  std::string few = HistoryHtml(RunsEvery(hour, 12));  // 12 runs on one day
  EXPECT_EQ(CountOf(few, "<rect class=\"chk\""), 12u);
  EXPECT_NE(few.find(">per run<"), std::string::npos);
  EXPECT_NE(few.find(">#1<"), std::string::npos);
  EXPECT_NE(few.find(">#12<"), std::string::npos) << "each run is labelled by its id";

  std::string days = HistoryHtml(RunsEvery(4 * hour, 60));  // 60 runs, 4 h apart
  EXPECT_NE(days.find(">per day<"), std::string::npos);
  EXPECT_EQ(CountOf(days, "<rect class=\"chk\""), 11u);  // 08:00 on day 1 to 04:00 on day 11

  std::string years = HistoryHtml(RunsEvery(day, 3000));  // about 8 years of daily runs
  EXPECT_NE(years.find(">per month<"), std::string::npos);
  // The per-site chart has no sites here: every bar is the time chart's.
  EXPECT_LE(CountOf(years, "<rect class=\"chk\""), kMaxChartBars);
  EXPECT_NE(years.find("the latest months"), std::string::npos);
}

TEST(AuditHistoryHtmlTest, FindingsListSaysWhenItWasCut) {
  AuditHistory h = RunsEvery(int64_t{3600} * 1'000'000, 1);
  for (size_t i = 0; i < kMaxHtmlFindings + 5; ++i) {
    StoredFinding f;
    f.run_id = 1;
    f.finding.kind = FindingKind::kCorrupt;
    f.finding.path = "data/f" + std::to_string(i);
    h.findings.push_back(f);
  }
  std::string html = HistoryHtml(h);
  EXPECT_EQ(CountOf(html, "<tr class=\"finding\">"), kMaxHtmlFindings);
  EXPECT_NE(html.find("Only the first " + std::to_string(kMaxHtmlFindings) + " of " +
                      std::to_string(kMaxHtmlFindings + 5) + " findings"),
            std::string::npos);
  h.findings.resize(3);
  EXPECT_EQ(HistoryHtml(h).find("findings-cut"), std::string::npos);
}

}  // namespace
}  // namespace cairn::audit
