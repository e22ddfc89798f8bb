// `cairn usage [PARTNER]`: bytes and files stored per partner and per site, with shared
// (deduplicated) bytes split fairly among the partners that hold them.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"

namespace cairn::cli {
namespace {

constexpr const char* kRule = views::kUsageRule;

struct UsageFlags {
  std::string partner;  // only this partner's entry
  bool json = false;
};

// The usage document cut to `partner`'s own entry (as a partner's principal gets it from the
// server: no sites, no totals). NotFound when the document has no such partner.
Result<nlohmann::json> OnlyPartner(const nlohmann::json& u, const std::string& partner) {
  for (const nlohmann::json& p : u.value("partners", nlohmann::json::array())) {
    if (p.value("partner", "") == partner) {
      return nlohmann::json{{"rule", u.value("rule", "")},
                            {"partners", nlohmann::json::array({p})}};
    }
  }
  return Status::NotFound("no partner " + partner + " (see `cairn partner list`)");
}

// Prints the usage document (views::UsageJson, or GET /v1/usage: the same; a partner's
// principal gets its own entry only, without sites and totals) as text or JSON.
int PrintUsage(const nlohmann::json& u, const UsageFlags& f, const Globals& g) {
  if (f.json) {
    std::cout << u.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  const nlohmann::json none = nlohmann::json::array();
  auto number = [](const nlohmann::json& o, const char* key) {
    return static_cast<unsigned long long>(o.value(key, uint64_t{0}));
  };
  std::printf("Per partner (shared file contents split evenly among the partners holding them):\n");
  std::printf("%-20s %9s %14s %14s %16s %16s\n", "PARTNER", "FILES", "DEPOSITED", "DISTINCT",
              "FAIR SHARE", "STORED (copies)");
  // "-" where the document leaves a figure out (a partner's own view has no fair share).
  auto shown = [](const nlohmann::json& o, const char* key) {
    if (!o.contains(key)) return std::string("-");
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", o.value(key, 0.0));
    return std::string(text);
  };
  for (const nlohmann::json& p : u.value("partners", none)) {
    std::printf("%-20s %9llu %14llu %14llu %16s %16s\n", p.value("partner", "").c_str(),
                number(p, "files"), number(p, "logical_bytes"), number(p, "unique_bytes"),
                shown(p, "fair_bytes").c_str(), shown(p, "stored_bytes").c_str());
  }
  if (!u.contains("sites")) {  // a partner's own entry: nothing more to show
    if (!g.quiet && !u.value("rule", "").empty())
      std::printf("Rule: %s\n", u.value("rule", "").c_str());
    return kExitOk;
  }
  std::printf("\nPer site (verified copies):\n");
  std::printf("%-20s %9s %16s %9s %14s %12s\n", "SITE", "BLOBS", "BLOB BYTES", "TAG FILES",
              "TAG BYTES", "TOTAL");
  for (const nlohmann::json& s : u.value("sites", none)) {
    std::printf(
        "%-20s %9llu %16llu %9llu %14llu %12s\n", s.value("site", "").c_str(), number(s, "blobs"),
        number(s, "blob_bytes"), number(s, "tag_files"), number(s, "tag_bytes"),
        HumanBytes(static_cast<double>(number(s, "blob_bytes") + number(s, "tag_bytes"))).c_str());
  }
  if (!g.quiet) {
    const unsigned long long logical = number(u, "logical_bytes");
    const unsigned long long unique = number(u, "unique_blob_bytes");
    const unsigned long long saved = logical > unique ? logical - unique : 0;
    std::printf(
        "\nDeposited payload: %llu bytes (%s); distinct content: %llu bytes (%s); "
        "saved by deduplication: %s per copy.\n",
        logical, HumanBytes(static_cast<double>(logical)).c_str(), unique,
        HumanBytes(static_cast<double>(unique)).c_str(),
        HumanBytes(static_cast<double>(saved)).c_str());
    std::printf("Rule: %s\n", kRule);
  }
  return kExitOk;
}

int RunUsage(const UsageFlags& f, const Globals& g) {
  Result<nlohmann::json> doc = Status::NotFound("no usage document");
  if (IsRemote(g)) {
    // The partner asked goes to the server, which refuses another partner's as every verb's
    // route does (it was filtered here, and said "no partner" of one that exists).
    doc = RemoteGet(g, "/v1/usage", {{"partner", f.partner}});
  } else {
    auto repository = OpenRepository(g);
    if (!repository.ok()) return ReportError(repository.status());
    auto usage = repository.value()->catalog().GetUsage();  // every partner, zeros included
    if (!usage.ok()) return ReportError(usage.status());
    doc = views::UsageJson(usage.value());
  }
  if (!doc.ok()) return ReportError(doc.status());
  if (f.partner.empty()) return PrintUsage(*doc, f, g);
  Result<nlohmann::json> own = OnlyPartner(*doc, f.partner);
  if (!own.ok()) return ReportError(own.status());
  return PrintUsage(*own, f, g);
}

}  // namespace

void RegisterUsage(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<UsageFlags>();
  CLI::App* cmd = app.add_subcommand(
      "usage", "bytes and files stored per partner and per site, for cost sharing");
  cmd->add_option("PARTNER", flags->partner, "only this partner's figures");
  cmd->add_flag("--json", flags->json, "print the figures as JSON");
  cmd->footer(
      std::string("Columns: FILES and DEPOSITED count every file of every version as deposited;\n"
                  "DISTINCT counts each distinct content the partner holds once; FAIR SHARE is\n"
                  "the partner's part of one copy; STORED is the fair share on every site.\n"
                  "Rule: ") +
      kRule + "\nExit codes: 0 shown; 2 could not run (no repository, unknown partner).\n");
  cmd->callback([flags, &g] { g.exit_code = RunUsage(*flags, g); });
}

}  // namespace cairn::cli
