// `cairn usage`: bytes and files stored per partner and per site, with shared
// (deduplicated) bytes split fairly among the partners that hold them.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"

namespace cairn::cli {
namespace {

constexpr const char* kRule = views::kUsageRule;

struct UsageFlags {
  bool json = false;
};

int RunUsage(const UsageFlags& f, const Globals& g) {
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  auto usage = repository.value()->catalog().GetUsage();
  if (!usage.ok()) return ReportError(usage.status());
  const repo::Usage& u = usage.value();
  if (f.json) {
    nlohmann::json out = views::UsageJson(u);
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::printf("Per partner (shared file contents split evenly among the partners holding them):\n");
  std::printf("%-20s %9s %14s %14s %16s %16s\n", "PARTNER", "FILES", "DEPOSITED", "DISTINCT",
              "FAIR SHARE", "STORED (copies)");
  for (const repo::PartnerUsage& p : u.partners) {
    std::printf("%-20s %9llu %14llu %14llu %16.0f %16.0f\n", p.partner.c_str(),
                static_cast<unsigned long long>(p.files),
                static_cast<unsigned long long>(p.logical_bytes),
                static_cast<unsigned long long>(p.unique_bytes), p.fair_bytes, p.stored_bytes);
  }
  std::printf("\nPer site (verified copies):\n");
  std::printf("%-20s %9s %16s %9s %14s %12s\n", "SITE", "BLOBS", "BLOB BYTES", "TAG FILES",
              "TAG BYTES", "TOTAL");
  for (const repo::SiteUsage& s : u.sites) {
    std::printf(
        "%-20s %9llu %16llu %9llu %14llu %12s\n", s.site.c_str(),
        static_cast<unsigned long long>(s.blobs), static_cast<unsigned long long>(s.blob_bytes),
        static_cast<unsigned long long>(s.tag_files), static_cast<unsigned long long>(s.tag_bytes),
        HumanBytes(static_cast<double>(s.blob_bytes + s.tag_bytes)).c_str());
  }
  if (!g.quiet) {
    uint64_t saved =
        u.logical_bytes > u.unique_blob_bytes ? u.logical_bytes - u.unique_blob_bytes : 0;
    std::printf(
        "\nDeposited payload: %llu bytes (%s); distinct content: %llu bytes (%s); "
        "saved by deduplication: %s per copy.\n",
        static_cast<unsigned long long>(u.logical_bytes),
        HumanBytes(static_cast<double>(u.logical_bytes)).c_str(),
        static_cast<unsigned long long>(u.unique_blob_bytes),
        HumanBytes(static_cast<double>(u.unique_blob_bytes)).c_str(),
        HumanBytes(static_cast<double>(saved)).c_str());
    std::printf("Rule: %s\n", kRule);
  }
  return kExitOk;
}

}  // namespace

void RegisterUsage(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<UsageFlags>();
  CLI::App* cmd = app.add_subcommand(
      "usage", "bytes and files stored per partner and per site, for cost sharing");
  cmd->add_flag("--json", flags->json, "print the figures as JSON");
  cmd->footer(
      std::string("Columns: FILES and DEPOSITED count every file of every version as deposited;\n"
                  "DISTINCT counts each distinct content the partner holds once; FAIR SHARE is\n"
                  "the partner's part of one copy; STORED is the fair share on every site.\n"
                  "Rule: ") +
      kRule + "\nExit codes: 0 shown; 2 could not run (no repository).\n");
  cmd->callback([flags, &g] { g.exit_code = RunUsage(*flags, g); });
}

}  // namespace cairn::cli
