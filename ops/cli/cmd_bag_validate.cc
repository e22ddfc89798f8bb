// `cairn bag validate BAG`: checks a bag directory or a serialized bag against
// RFC 8493 (and optionally a BagIt profile) and prints every error and warning.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bagit/profile.h"
#include "bagit/validator.h"
#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"

namespace cairn::cli {
namespace {

struct ValidateFlags {
  std::string bag;
  bool completeness_only = false;
  bool fast = false;
  bool allow_fetch = false;
  std::string profile;
  bool json = false;
  unsigned threads = 0;
};

int RunValidate(const ValidateFlags& f, const Globals& g) {
  if (f.completeness_only && f.fast) {
    return ReportError(
        Status::InvalidArgument("--fast and --completeness-only exclude each other"));
  }
  bagit::ValidateOptions options;
  options.threads = f.threads;
  options.allow_fetch = f.allow_fetch;
  if (f.fast) options.mode = bagit::ValidationMode::kFast;
  if (f.completeness_only) options.mode = bagit::ValidationMode::kCompletenessOnly;
  std::optional<bagit::Profile> profile;
  if (!f.profile.empty()) {
    Result<bagit::Profile> loaded = bagit::Profile::Load(f.profile);
    if (!loaded.ok()) return ReportError(loaded.status());
    profile = std::move(loaded).value();
    options.profile = &*profile;
  }
  Result<bagit::Validation> v = bagit::ValidateBag(f.bag, options);
  if (!v.ok()) return ReportError(v.status());
  const bagit::Report& report = v->report;
  if (f.json) {
    std::cout << report.ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    for (const bagit::Finding& finding : report.findings()) {
      if (finding.severity == bagit::Severity::kError) {
        std::cerr << "error: " << finding.ToString() << "\n";
      } else if (!g.quiet) {
        std::cerr << "warning: " << finding.ToString() << "\n";
      }
    }
    std::string text = report.ToText(/*errors_only=*/true);
    // The last line of ToText is the summary; findings were printed above.
    std::string summary = text.substr(text.rfind('\n', text.size() - 2) + 1);
    if (report.findings().size() < report.error_count() + report.warning_count()) {
      std::cerr << "(" << (report.error_count() + report.warning_count() - report.findings().size())
                << " more findings not shown)\n";
    }
    if (!g.quiet || !report.valid()) std::cout << summary;
  }
  return report.valid() ? kExitOk : kExitProblems;
}

}  // namespace

void RegisterBagValidate(CLI::App& app, Globals& g) {
  CLI::App* bag = Group(app, "bag", "make and check BagIt bags (RFC 8493)");
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* cmd = bag->add_subcommand(
      "validate",
      "check a bag directory or a .tar/.tar.gz/.tgz/.zip bag (read as a stream, never "
      "extracted): every RFC 8493 rule, every file's digest, Payload-Oxum, tag manifests");
  cmd->add_option("BAG", flags->bag, "bag directory or serialized bag")->required();
  cmd->add_flag("--completeness-only", flags->completeness_only,
                "check that every file is present, listed and sized; no hashing");
  cmd->add_flag("--fast", flags->fast, "check tag files and Payload-Oxum only; no hashing");
  cmd->add_flag("--allow-fetch", flags->allow_fetch,
                "accept a bag whose fetch.txt names files not fetched yet (reported incomplete, "
                "as a warning); without it such a bag is invalid (RFC 8493 section 3)");
  cmd->add_option("--profile", flags->profile, "also check this BagIt profile (JSON, spec 1.4)");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->add_flag("-q,--quiet", g.quiet, "print only errors");
  cmd->add_option("--threads", flags->threads, "hashing threads (default: one per core)");
  cmd->footer(
      "Exit codes:\n"
      "  0  the bag is valid (warnings are printed but do not fail it)\n"
      "  1  the bag is invalid (each error names the file and the rule); an incomplete bag\n"
      "     (files named in fetch.txt and absent) is invalid unless --allow-fetch\n"
      "  2  could not run (unreadable path, bad arguments, bad profile)\n");
  cmd->callback([flags, &g] { g.exit_code = RunValidate(*flags, g); });
}

}  // namespace cairn::cli
