// AuditReportJson and AuditReportText.
#include "audit/report_json.h"

#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "bagit/time_text.h"

namespace cairn::audit {
namespace {

// "site a" or "sites a, b".
std::string SitesText(const std::set<std::string>& sites) {
  std::string out = sites.size() == 1 ? "site " : "sites ";
  for (auto it = sites.begin(); it != sites.end(); ++it) {
    out += (it == sites.begin() ? "" : ", ") + *it;
  }
  return out;
}

}  // namespace

nlohmann::json FindingJson(const Finding& f) {
  nlohmann::json out = {{"kind", std::string(FindingKindName(f.kind))},
                        {"partner", f.partner},
                        {"object", f.object},
                        {"version", f.version},
                        {"path", f.path},
                        {"site", f.site},
                        {"sha256", f.sha256},
                        {"detail", f.detail},
                        {"repaired", f.repaired},
                        {"repaired_from", f.repaired_from}};
  if (!f.closed.empty()) out["closed"] = f.closed;
  return out;
}

nlohmann::json AuditReportJson(const AuditReport& r) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : r.findings) findings.push_back(FindingJson(f));
  return {{"run_id", r.run_id},
          {"started", FormatUtc(r.started_micros)},
          {"finished", FormatUtc(r.finished_micros)},
          {"planned", r.planned},
          {"checked", r.checked},
          {"ok", r.ok},
          {"corrupt", r.corrupt},
          {"missing", r.missing},
          {"unavailable", r.unavailable},
          {"unreadable", r.unreadable},
          {"repaired", r.repaired},
          {"damaged", r.damaged},
          {"bytes", r.bytes},
          {"orphans", r.orphans},
          {"orphans_known", r.orphans_known},
          {"no_copy", r.no_copy},
          {"select_micros", r.select_micros},
          {"catalog_mismatch", r.catalog_mismatch},
          {"uncataloged", r.uncataloged},
          {"left_of_purge", r.left_of_purge},
          {"unrecorded_copies", r.unrecorded_copies},
          {"stray_files", r.stray_files},
          {"records_missing", r.records_missing},
          {"stopped", r.stopped},
          {"problems", r.HasProblems()},
          {"unavailable_sites", r.unavailable_sites},
          {"busy_sites", r.busy_sites},
          {"findings", findings}};
}

std::string AuditReportText(const AuditReport& r, size_t max_unavailable) {
  std::ostringstream out;
  out << "audit run " << r.run_id << ": " << r.checked << " of " << r.planned << " copies checked ("
      << r.bytes << " bytes): " << r.ok << " ok, " << r.corrupt << " corrupt, " << r.missing
      << " missing, " << r.repaired << " repaired, " << r.damaged << " damaged, " << r.unavailable
      << " not checked (site unavailable)";
  if (r.unreadable) out << ", " << r.unreadable << " UNREADABLE (the site reads fine)";
  out << "\n";
  if (r.orphans || r.no_copy) {
    out << r.orphans << " orphan blobs, " << r.no_copy << " catalog entries with no ok copy\n";
  }
  if (r.orphans_known) {
    out << r.orphans_known
        << " orphan blobs already reported by an earlier sweep, left for `cairn gc` (it removes "
           "them after its grace period; not counted as problems)\n";
  }
  if (r.catalog_mismatch) out << r.catalog_mismatch << " catalog rows disagree with the sites\n";
  if (r.uncataloged || r.records_missing) {
    out << r.uncataloged
        << " tag files, version records or blobs of versions on sites that the catalog does "
           "not list, "
        << r.records_missing << " version records missing from sites that should hold them\n";
  }
  if (r.left_of_purge) {
    out << r.left_of_purge << " tag files, version records or blobs left of a purge on "
        << SitesText(r.left_of_purge_sites)
        << " (put back from a copy taken before the purge?): their content must not come back, "
           "so never rebuild a catalog from them; `cairn withdraw run` removes them\n";
  }
  if (r.unrecorded_copies) {
    out << r.unrecorded_copies << " copies on " << SitesText(r.unrecorded_copies_sites)
        << " that the catalog does not record yet, of versions it holds (not orphans: `cairn gc` "
           "keeps them)\n";
  }
  if (r.stray_files) {
    out << r.stray_files << " stray files on " << SitesText(r.stray_files_sites)
        << ": files Cairn did not write, where the site layout allows only its own\n";
  }
  // Copies not checked for one reason on one site (the site could not be opened): one line
  // for them all, not one per copy repeating the reason (each is still in the JSON).
  auto reason = [](const Finding& f) {
    std::string_view detail = f.detail;
    if (detail.starts_with("not checked: ")) detail.remove_prefix(13);
    return std::pair<std::string, std::string>(f.site, detail);
  };
  std::map<std::pair<std::string, std::string>, size_t> same_reason;
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::kUnavailable) ++same_reason[reason(f)];
  }
  for (const auto& [where, n] : same_reason) {
    if (n < 2) continue;
    out << "unavailable: " << n << " copies on site " << (where.first.empty() ? "-" : where.first)
        << " not checked: " << where.second << "\n";
  }
  size_t unavailable_shown = 0;
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::kUnavailable && same_reason[reason(f)] > 1) continue;
    if (f.kind == FindingKind::kUnavailable && unavailable_shown++ >= max_unavailable) continue;
    out << FindingKindName(f.kind) << ": " << FindingText(f) << "\n";
  }
  if (unavailable_shown > max_unavailable) {
    out << "... and " << unavailable_shown - max_unavailable << " more copies not checked\n";
  }
  for (const std::string& s : r.unavailable_sites) {
    out << "SITE UNAVAILABLE " << s << ": its copies were NOT checked (not corruption); "
        << "they stay due and the next sweep retries them\n";
  }
  for (const std::string& s : r.busy_sites) {
    out << "site " << s << " skipped: another sweep holds its lock\n";
  }
  if (r.uncataloged > r.interrupted_deposit_files) {
    out << "UNCATALOGED: versions on the sites that the catalog has lost. To bring them back, "
           "rebuild the catalog from a site that holds them: `cairn catalog rebuild --from SITE "
           "--into NEW_REPO` to compare, then `--force` to replace this catalog (the old one is "
           "kept aside)\n";
  }
  if (r.interrupted_deposit_files) {
    out << "INTERRUPTED DEPOSITS: " << r.interrupted_deposit_files
        << " files are interrupted deposits' leftovers: tag files without a version.pb (or a "
           "deposit still running), or a version.pb, its tag files and blobs that a deposit "
           "killed before its catalog commit left (the repository's pending mark names it); "
           "never a version: `cairn gc` removes them (no rebuild brings them back)\n";
  }
  if (r.unrecorded_copies) {
    out << "NOT RECORDED YET: copies on the sites of versions the catalog holds, that it does not "
           "record there (a catalog rebuilt while a site was out of reach). No rebuild is needed: "
           "`cairn replicate --wait` verifies the copies the policies want on each site and "
           "records them (an audit repair that finds no good copy the catalog knows also "
           "verifies and records one)\n";
  }
  if (r.stray_files) {
    out << "STRAY FILES: files on the sites that Cairn did not write, in folders where the site "
           "layout (repo/FORMAT.md) allows only its own (or at a site's top level, beside its "
           "folders); each finding names the file, its site "
           "and what the layout allows there. Cairn never removes files it did not write: look "
           "at each, then move or remove it yourself; the audit names them until they are gone\n";
  }
  if (r.damaged) {
    out << "DAMAGED: " << r.damaged << " copies have no good copy left anywhere to repair from\n";
  }
  if (r.stopped) out << "stopped before the end: the copies not checked stay due\n";
  return out.str();
}

}  // namespace cairn::audit
