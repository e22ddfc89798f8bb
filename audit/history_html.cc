// HistoryHtml: one self-contained page (inline CSS and SVG, no scripts, no
// network) with the figures of the JSON report and two charts.
#include <algorithm>
#include <ctime>
#include <map>
#include <sstream>

#include "audit/history.h"
#include "audit/report_json.h"
#include "bagit/time_text.h"
#include "repo/events/premis.h"

namespace cairn::audit {
namespace {

std::string Esc(const std::string& s) { return repo::XmlEscape(s); }

constexpr std::string_view kStyle = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#eee}td.t{text-align:left}tr.bad td{background:#fde8e8}
.chk{fill:#4a7ab0}.fail{fill:#c0392b}.axis{stroke:#888}svg text{font-size:11px;fill:#333}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
)css";

constexpr const char* kCountNames[] = {"checked",     "ok",       "corrupt", "missing",
                                       "unavailable", "repaired", "damaged", "bytes"};

std::vector<uint64_t> Values(const SiteCounts& c) {
  return {c.checked, c.ok, c.corrupt, c.missing, c.unavailable, c.repaired, c.damaged, c.bytes};
}
uint64_t Failures(const SiteCounts& c) { return c.corrupt + c.missing + c.damaged; }

void CountCells(std::ostream& out, const SiteCounts& c) {
  std::vector<uint64_t> v = Values(c);
  for (size_t i = 0; i < v.size(); ++i) {
    out << "<td class=\"" << kCountNames[i] << "\">" << v[i] << "</td>";
  }
}

// Paired bars (checks, failures) per label; failures drawn at least 2 px high
// so one failure among millions of checks still shows.
void BarChart(std::ostream& out, const std::vector<std::pair<std::string, SiteCounts>>& rows) {
  const int bar = 14, gap = 18, height = 160, top = 20, left = 50;
  uint64_t max = 1;
  for (const auto& [label, c] : rows) max = std::max({max, c.checked, Failures(c)});
  int width = left + static_cast<int>(rows.size()) * (2 * bar + gap) + 20;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << height + top + 50 << "\" role=\"img\">";
  out << "<line class=\"axis\" x1=\"" << left << "\" y1=\"" << top + height << "\" x2=\"" << width
      << "\" y2=\"" << top + height << "\"/>";
  out << "<text x=\"4\" y=\"" << top + 4 << "\">" << max << "</text>";
  int x = left + gap / 2;
  for (const auto& [label, c] : rows) {
    auto h = [&](uint64_t v) {
      int px = static_cast<int>(static_cast<double>(v) / static_cast<double>(max) * height);
      return v > 0 ? std::max(px, 2) : 0;
    };
    int hc = h(c.checked), hf = h(Failures(c));
    out << "<rect class=\"chk\" x=\"" << x << "\" y=\"" << top + height - hc << "\" width=\"" << bar
        << "\" height=\"" << hc << "\"><title>" << Esc(label) << ": " << c.checked
        << " checked</title></rect>";
    out << "<rect class=\"fail\" x=\"" << x + bar << "\" y=\"" << top + height - hf << "\" width=\""
        << bar << "\" height=\"" << hf << "\"><title>" << Esc(label) << ": " << Failures(c)
        << " failed</title></rect>";
    // The first word of the label: a run's "#12", or the period.
    out << "<text x=\"" << x << "\" y=\"" << top + height + 14 << "\">"
        << Esc(label.substr(0, std::min<size_t>(label.find(' '), 10))) << "</text>";
    out << "<text x=\"" << x << "\" y=\"" << top + height + 28 << "\">" << c.checked << "/"
        << Failures(c) << "</text>";
    x += 2 * bar + gap;
  }
  out << "</svg>\n<div class=\"legend\"><span style=\"background:#4a7ab0\"></span>copies checked"
         "<span style=\"background:#c0392b\"></span>failed (corrupt, missing, damaged)</div>\n";
}

// The label of the period that holds `micros`: "2027-03-01" (day), "2027-W09"
// (ISO week) or "2027-03" (month).
enum class Period { kDay, kWeek, kMonth };
std::string PeriodLabel(int64_t micros, Period period) {
  return FormatUtc(micros, period == Period::kDay    ? TimeText::kDate
                           : period == Period::kWeek ? TimeText::kIsoWeek
                                                     : TimeText::kMonth);
}

// The runs as chart rows: one per run ("#12", its time in the tooltip) when
// they fit kMaxChartBars, else summed per day, ISO week or month, whichever
// first fits (months always end up readable for any archive's lifetime).
std::vector<std::pair<std::string, SiteCounts>> RunRows(const std::vector<RunSummary>& runs,
                                                        std::string* unit) {
  std::vector<std::pair<std::string, SiteCounts>> rows;
  if (runs.size() <= kMaxChartBars) {
    *unit = "run";
    for (const RunSummary& r : runs) {
      rows.push_back({"#" + std::to_string(r.id) + " " + FormatUtc(r.started_micros), r.counts});
    }
    return rows;
  }
  for (Period period : {Period::kDay, Period::kWeek, Period::kMonth}) {
    std::map<std::string, SiteCounts> buckets;  // labels sort in time order
    for (const RunSummary& r : runs)
      AddCounts(buckets[PeriodLabel(r.started_micros, period)], r.counts);
    if (buckets.size() > kMaxChartBars && period != Period::kMonth) continue;
    *unit = period == Period::kDay ? "day" : period == Period::kWeek ? "week" : "month";
    rows.assign(buckets.begin(), buckets.end());
    if (rows.size() > kMaxChartBars) rows.erase(rows.begin(), rows.end() - kMaxChartBars);
    return rows;
  }
  return rows;
}

void CountsHeader(std::ostream& out, const std::string& first) {
  out << "<tr><th>" << first << "</th>";
  for (const char* n : kCountNames) out << "<th>" << n << "</th>";
  out << "</tr>\n";
}

}  // namespace

std::string HistoryHtml(const AuditHistory& h) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<title>Cairn audit report " << FormatUtc(h.generated_micros) << "</title><style>"
      << kStyle << "</style></head><body>\n<h1>Cairn audit report</h1>\n<p>Generated "
      << FormatUtc(h.generated_micros) << "; <span id=\"runs\">" << h.runs.size() << "</span> runs"
      << (h.since_micros ? " since " + FormatUtc(h.since_micros) : "") << ".</p>\n";
  out << "<h2>Totals</h2>\n<table id=\"totals\">";
  CountsHeader(out, "");
  out << "<tr class=\"total\"><td class=\"t\">all runs</td>";
  CountCells(out, h.totals);
  out << "</tr></table>\n";

  std::string unit;
  std::vector<std::pair<std::string, SiteCounts>> by_run = RunRows(h.runs, &unit);
  out << "<h2>Checks and failures over time (<span id=\"chart-unit\">per " << unit << "</span>"
      << (by_run.size() == kMaxChartBars && unit == "month" ? ", the latest months" : "")
      << ")</h2>\n";
  BarChart(out, by_run);
  std::vector<std::pair<std::string, SiteCounts>> by_site(h.sites.begin(), h.sites.end());
  out << "<h2>Checks and failures per site</h2>\n";
  BarChart(out, by_site);
  out << "<table id=\"sites\">";
  CountsHeader(out, "site");
  for (const auto& [site, c] : h.sites) {
    out << "<tr" << (Failures(c) ? " class=\"bad\"" : "") << "><td class=\"t\">" << Esc(site)
        << "</td>";
    CountCells(out, c);
    out << "</tr>\n";
  }
  out << "</table>\n<h2>Runs</h2>\n<table id=\"runlist\">";
  CountsHeader(out, "run");
  for (const RunSummary& r : h.runs) {
    out << "<tr" << (Failures(r.counts) ? " class=\"bad\"" : "") << "><td class=\"t\">" << r.id
        << " " << FormatUtc(r.started_micros) << " "
        << Esc(!r.rebuilt.is_null() ? "(rebuilt)"
               : r.schedule.empty() ? "(by hand)"
                                    : r.schedule)
        << " " << r.state << "</td>";
    CountCells(out, r.counts);
    out << "</tr>\n";
    if (!r.rebuilt.is_null()) {
      out << "<tr class=\"rebuilt\"><td class=\"t\" colspan=\"" << std::size(kCountNames) + 1
          << "\">" << Esc(RebuiltText(r)) << "</td></tr>\n";
    }
  }
  out << "</table>\n<h2>Findings (<span id=\"findings\">" << h.findings.size()
      << "</span>, <span id=\"findings-repaired\">" << h.findings_repaired
      << "</span> repaired)</h2>\n<table id=\"finding-kinds\"><tr><th>kind</th><th>findings</th>"
         "</tr>";
  for (const auto& [kind, n] : h.findings_by_kind) {
    out << "<tr class=\"finding-kind\"><td class=\"t\">" << kind << "</td><td id=\"kind-" << kind
        << "\">" << n << "</td></tr>";
  }
  out << "</table>\n<table id=\"findinglist\"><tr><th>run</th><th>outcome</th>"
         "<th>partner</th><th>object</th><th>version</th><th>path</th><th>site</th>"
         "<th>sha256</th><th>repaired from</th><th>detail</th></tr>\n";
  size_t listed = 0;
  for (const StoredFinding& s : h.findings) {
    if (++listed > kMaxHtmlFindings) break;
    const Finding& f = s.finding;
    out << "<tr class=\"finding\"><td>" << s.run_id << "</td><td class=\"t\">"
        << FindingKindName(f.kind) << "</td><td class=\"t\">" << Esc(f.partner)
        << "</td><td class=\"t\">" << Esc(f.object) << "</td><td>" << f.version
        << "</td><td class=\"t\">" << Esc(f.path) << "</td><td class=\"t\">" << Esc(f.site)
        << "</td><td class=\"t\"><code>" << f.sha256 << "</code></td><td class=\"t\">"
        << Esc(f.repaired         ? f.repaired_from
               : f.closed.empty() ? "-"
                                  : "closed: " + f.closed)
        << "</td><td class=\"t\">" << Esc(f.detail) << "</td></tr>\n";
  }
  out << "</table>\n";
  if (h.findings.size() > kMaxHtmlFindings) {
    out << "<p id=\"findings-cut\">Only the first " << kMaxHtmlFindings << " of "
        << h.findings.size()
        << " findings are listed here; <code>cairn audit report --format csv</code> (or json) "
           "lists them all.</p>\n";
  }
  out << "<h2>Overdue for a check: <span id=\"overdue\">" << h.overdue
      << "</span> copies</h2>\n<table><tr><th>site</th><th>overdue</th></tr>";
  for (const auto& [site, n] : h.overdue_by_site) {
    out << "<tr><td class=\"t\">" << Esc(site) << "</td><td>" << n << "</td></tr>";
  }
  out << "</table>\n<table><tr><th>due since</th><th>object</th><th>path</th><th>site</th></tr>";
  for (const OverdueCopy& c : h.overdue_oldest) {
    out << "<tr class=\"overdue\"><td class=\"t\">" << FormatUtc(c.next_due_micros)
        << "</td><td class=\"t\">" << Esc(c.partner + "/" + c.object) << "@v" << c.version
        << "</td><td class=\"t\">" << Esc(c.path) << "</td><td class=\"t\">" << Esc(c.site)
        << "</td></tr>";
  }
  out << "</table>\n</body></html>\n";
  return out.str();
}

}  // namespace cairn::audit
