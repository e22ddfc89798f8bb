// `cairn audit report [--run ID|--since DATE] [--format text|json|csv|html]
// [--output FILE]`: what past sweeps checked and found, what was repaired, and
// the copies overdue for a check (logic in audit/history.h).
#include <fstream>
#include <iostream>
#include <memory>

#include "audit/history.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/remote.h"

namespace cairn::cli {
namespace {

struct ReportFlags {
  int64_t run = 0;
  std::string since, format = "text", output;
  bool json = false;
};

// Writes `text` to --output (or stdout).
int WriteReport(const ReportFlags& f, const std::string& text) {
  if (f.output.empty()) {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream out(f.output, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return ReportError(Status::IOError("cannot write " + f.output));
  return kExitOk;
}

// The report made by the server (GET /v1/audit/runs), in any format, and the local verb's exit
// code: from the JSON's totals, or from the X-Cairn-Audit-Problems header of the others.
int RemoteReport(const ReportFlags& f, const std::string& format, const Globals& g) {
  const std::string path =
      f.run != 0 ? "/v1/audit/runs/" + std::to_string(f.run) : "/v1/audit/runs";
  auto api = ConnectServer(g);
  if (!api.ok()) return ReportError(api.status());
  std::string text;
  auto answer = (*api)->GetStream(
      client::ApiClient::WithQuery(path, {{"since", f.since}, {"format", format}}),
      [&text](std::string_view chunk) {
        text.append(chunk);
        return Status::OK();
      });
  if (!answer.ok()) return ReportError(answer.status());
  bool problems = false;
  if (format == "json") {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return ReportError(Status::Corruption("the server's audit report is not valid JSON"));
    }
    // The totals less what was closed since (a site taken out; none from an older server).
    auto counts = [](const nlohmann::json& j) {
      auto n = [&j](const char* key) { return j.value(key, uint64_t{0}); };
      audit::SiteCounts c;
      c.corrupt = n("corrupt");
      c.missing = n("missing");
      c.unavailable = n("unavailable");
      c.repaired = n("repaired");
      c.damaged = n("damaged");
      return c;
    };
    const nlohmann::json none = nlohmann::json::object();
    problems = audit::CountsHaveProblems(counts(doc.value("totals", none)),
                                         counts(doc.value("closed", none).value("counts", none)));
    text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    auto flag = answer->headers.find("x-cairn-audit-problems");
    if (flag == answer->headers.end()) {
      return ReportError(Status::Corruption(
          "the server's audit report came without X-Cairn-Audit-Problems (an older server?)"));
    }
    problems = flag->second.starts_with("yes");
  }
  if (int written = WriteReport(f, text); written != kExitOk) return written;
  return problems ? kExitProblems : kExitOk;
}

int RunReport(const ReportFlags& f, const Globals& g) {
  std::string format = f.json ? "json" : f.format;
  if (format != "text" && format != "json" && format != "csv" && format != "html") {
    return ReportError(
        Status::InvalidArgument("--format '" + format + "': expected text, json, csv or html"));
  }
  if (f.run != 0 && !f.since.empty()) {
    return ReportError(Status::InvalidArgument("--run and --since exclude each other"));
  }
  if (IsRemote(g)) return RemoteReport(f, format, g);
  audit::HistoryQuery query;
  query.run_id = f.run;
  if (!f.since.empty()) {
    Result<int64_t> since = ParseTime(f.since, "--since");
    if (!since.ok()) return ReportError(since.status());
    query.since_micros = *since;
  }
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  Result<audit::AuditHistory> history = audit::LoadAuditHistory(**repository, query);
  if (!history.ok()) return ReportError(history.status());
  std::string text;
  if (format == "json") {
    text = audit::HistoryJson(*history).dump(2) + "\n";
  } else if (format == "csv") {
    text = audit::HistoryCsv(*history);
  } else if (format == "html") {
    text = audit::HistoryHtml(*history);
  } else {
    text = audit::HistoryText(*history);
  }
  if (int written = WriteReport(f, text); written != kExitOk) return written;
  return audit::HistoryHasProblems(*history) ? kExitProblems : kExitOk;
}

}  // namespace

void AddAuditReportCommand(CLI::App* audit_group, Globals& g) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = audit_group->add_subcommand(
      "report", "what past sweeps checked, what failed where, what was repaired, what is overdue");
  cmd->add_option("--run", flags->run, "only this audit run (its id)");
  cmd->add_option("--since", flags->since, "runs started since DATE (2027-03-01 or ISO 8601 UTC)");
  cmd->add_option("--format", flags->format,
                  "text (default), json, csv or html (one self-contained file, with charts)");
  cmd->add_flag("--json", flags->json, "same as --format json");
  cmd->add_option("--output,-o", flags->output, "write to FILE instead of standard output");
  cmd->footer(
      "Exit codes: 0 nothing left wrong in the runs shown (every corrupt or missing copy\n"
      "repaired); 1 some copies were found bad and not repaired, damaged, or not checked;\n"
      "2 could not run.\n");
  cmd->callback([flags, &g] { g.exit_code = RunReport(*flags, g); });
}

}  // namespace cairn::cli
