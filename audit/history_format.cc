// HistoryJson, HistoryText and HistoryCsv: the same figures three ways.
#include <sstream>

#include "audit/history.h"
#include "audit/report_json.h"
#include "bagit/report.h"
#include "bagit/time_text.h"

namespace cairn::audit {
namespace {

nlohmann::json CountsJson(const SiteCounts& c) {
  return {{"checked", c.checked},         {"ok", c.ok},
          {"corrupt", c.corrupt},         {"missing", c.missing},
          {"unavailable", c.unavailable}, {"repaired", c.repaired},
          {"damaged", c.damaged},         {"bytes", c.bytes}};
}

std::string CountsText(const SiteCounts& c) {
  std::ostringstream out;
  out << "checked " << c.checked << ", ok " << c.ok << ", corrupt " << c.corrupt << ", missing "
      << c.missing << ", unavailable " << c.unavailable << ", repaired " << c.repaired
      << ", damaged " << c.damaged << ", bytes " << c.bytes;
  return out.str();
}

// RFC 4180: quoted when it holds a comma, quote or line break.
std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

constexpr std::string_view kCsvHeader =
    "record,run,schedule,time,site,partner,object,version,path,sha256,outcome,repaired_from,"
    "checked,ok,corrupt,missing,unavailable,repaired,damaged,bytes,detail,closed\n";

void CsvCounts(std::ostream& out, const SiteCounts& c) {
  out << c.checked << "," << c.ok << "," << c.corrupt << "," << c.missing << "," << c.unavailable
      << "," << c.repaired << "," << c.damaged << "," << c.bytes;
}

}  // namespace

std::string RebuiltText(const RunSummary& r) {
  return "rebuilt from the sites' event logs by the catalog rebuild of " +
         r.rebuilt.value("at", std::string()) + " (from site " +
         r.rebuilt.value("from_site", std::string()) +
         (r.rebuilt.value("merged", false)
              ? "): every fixity check and repair the log records from before its events named "
                "their run, up to " +
                    FormatUtc(r.finished_micros) + ", as one run; "
              : "): its fixity checks and repairs as the log records them, up to " +
                    FormatUtc(r.finished_micros) + "; ") +
         r.rebuilt.value("not_known", std::string()) +
         "; cairn events --type 'fixity check' lists each check";
}

nlohmann::json HistoryJson(const AuditHistory& h) {
  nlohmann::json runs = nlohmann::json::array();
  for (const RunSummary& r : h.runs) {
    nlohmann::json sites = nlohmann::json::object();
    for (const auto& [site, c] : r.sites) sites[site] = CountsJson(c);
    runs.push_back({{"id", r.id},
                    {"schedule", r.schedule},
                    {"started", FormatUtc(r.started_micros)},
                    {"finished", r.finished_micros ? FormatUtc(r.finished_micros) : ""},
                    {"state", r.state},
                    {"counts", CountsJson(r.counts)},
                    {"sites", sites}});
    if (!r.rebuilt.is_null()) runs.back()["rebuilt"] = r.rebuilt;
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const StoredFinding& s : h.findings) {
    nlohmann::json f = FindingJson(s.finding);
    f["run"] = s.run_id;
    f["outcome"] = f["kind"];
    findings.push_back(std::move(f));
  }
  nlohmann::json sites = nlohmann::json::object();
  for (const auto& [site, c] : h.sites) sites[site] = CountsJson(c);
  nlohmann::json oldest = nlohmann::json::array();
  for (const OverdueCopy& c : h.overdue_oldest) {
    oldest.push_back({{"partner", c.partner},
                      {"object", c.object},
                      {"version", c.version},
                      {"path", c.path},
                      {"site", c.site},
                      {"sha256", c.sha256},
                      {"due", FormatUtc(c.next_due_micros)}});
  }
  return {{"generated", FormatUtc(h.generated_micros)},
          {"since", h.since_micros ? FormatUtc(h.since_micros) : ""},
          {"run", h.run_id},
          {"runs", runs},
          {"totals", CountsJson(h.totals)},
          {"sites", sites},
          {"findings", findings},
          {"findings_repaired", h.findings_repaired},
          {"findings_closed", h.findings_closed},
          {"closed", {{"counts", CountsJson(h.closed)}, {"sites", h.closed_sites}}},
          {"findings_by_kind", h.findings_by_kind},
          {"overdue", {{"count", h.overdue}, {"by_site", h.overdue_by_site}, {"oldest", oldest}}}};
}

std::string HistoryText(const AuditHistory& h) {
  std::ostringstream out;
  out << "audit report, " << FormatUtc(h.generated_micros) << ": " << h.runs.size() << " runs";
  if (h.run_id) out << " (run " << h.run_id << ")";
  if (h.since_micros) out << " since " << FormatUtc(h.since_micros);
  out << "\ntotal: " << CountsText(h.totals) << "\n";
  for (const auto& [site, c] : h.sites) {
    out << "site " << site << ": " << CountsText(c);
    if (auto closed = h.closed_sites.find(site); closed != h.closed_sites.end()) {
      out << " (" << closed->second << ": its findings closed, nothing left to do there)";
    }
    out << "\n";
  }
  out << "\nruns:\n";
  for (const RunSummary& r : h.runs) {
    out << "  run " << r.id << " " << FormatUtc(r.started_micros) << " "
        << (!r.rebuilt.is_null() ? "(rebuilt)"
            : r.schedule.empty() ? "(by hand)"
                                 : "schedule " + r.schedule)
        << " " << r.state
        << (r.state == "aborted" ? " (interrupted: the copies not checked stay due)" : "") << ": "
        << CountsText(r.counts) << "\n";
    if (!r.rebuilt.is_null()) out << "    " << RebuiltText(r) << "\n";
  }
  out << "\nfindings: " << h.findings.size() << " (" << h.findings_repaired << " repaired";
  if (h.findings_closed > 0) out << ", " << h.findings_closed << " closed";
  out << ")";
  for (auto it = h.findings_by_kind.begin(); it != h.findings_by_kind.end(); ++it) {
    out << (it == h.findings_by_kind.begin() ? ": " : ", ") << it->second << " " << it->first;
  }
  out << "\n";
  for (const StoredFinding& s : h.findings) {
    const Finding& f = s.finding;
    out << "  run " << s.run_id << " " << FindingKindName(f.kind) << ": " << FindingText(f) << "\n";
  }
  out << "\noverdue for a check now: " << h.overdue << " copies\n";
  for (const auto& [site, n] : h.overdue_by_site) out << "  site " << site << ": " << n << "\n";
  for (const OverdueCopy& c : h.overdue_oldest) {
    out << "  due " << FormatUtc(c.next_due_micros) << ": " << c.partner << "/" << c.object << "@v"
        << c.version << " " << bagit::Printable(c.path) << " on site " << c.site << "\n";
  }
  return out.str();
}

std::string HistoryCsv(const AuditHistory& h) {
  std::ostringstream out;
  out << kCsvHeader;
  for (const RunSummary& r : h.runs) {
    out << "run," << r.id << "," << Csv(r.schedule) << "," << FormatUtc(r.started_micros)
        << ",,,,,,," << r.state << ",,";
    CsvCounts(out, r.counts);
    out << ",,\n";
  }
  for (const auto& [site, c] : h.sites) {
    out << "site,,,," << Csv(site) << ",,,,,,,,";
    CsvCounts(out, c);
    auto closed = h.closed_sites.find(site);
    out << ",," << Csv(closed == h.closed_sites.end() ? "" : closed->second) << "\n";
  }
  for (const StoredFinding& s : h.findings) {
    const Finding& f = s.finding;
    out << "finding," << s.run_id << ",,," << Csv(f.site) << "," << Csv(f.partner) << ","
        << Csv(f.object) << "," << f.version << "," << Csv(f.path) << "," << f.sha256 << ","
        << FindingKindName(f.kind) << "," << Csv(f.repaired_from) << ",,,,,,"
        << (f.repaired ? 1 : 0) << ",,," << Csv(f.detail) << "," << Csv(f.closed) << "\n";
  }
  for (const OverdueCopy& c : h.overdue_oldest) {
    out << "overdue,,," << FormatUtc(c.next_due_micros) << "," << Csv(c.site) << ","
        << Csv(c.partner) << "," << Csv(c.object) << "," << c.version << "," << Csv(c.path) << ","
        << c.sha256 << ",overdue,,,,,,,,,,,\n";
  }
  out << "total,,," << FormatUtc(h.generated_micros) << ",,,,,,,overdue=" << h.overdue << ",,";
  CsvCounts(out, h.totals);
  out << ",,\n";
  return out.str();
}

}  // namespace cairn::audit
