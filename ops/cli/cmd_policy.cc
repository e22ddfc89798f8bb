// `cairn policy set [PARTNER] FILE [--partner ID]`, `cairn policy show [PARTNER | --partner ID]
// [--json]`: the text-format policies of proto/policy.proto. A bad policy file
// is refused (exit 1) with "FILE:LINE:COL: field: what is wrong".

#include <google/protobuf/util/json_util.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/remote.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/settings_sync.h"
#include "ops/cli/verbs.h"
#include "ops/server/json_views.h"
#include "policies/policy.h"
#include "repo/replicate/settings_change.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::cli {
namespace {

struct PolicyFlags {
  std::string file;
  std::string partner;
  std::string partner_arg;  // `policy set|show PARTNER`, the same as --partner
  bool json = false;
};

// `policy set|show PARTNER` names the partner as --partner does; both must agree.
Status TakePartnerWord(PolicyFlags& f, const std::string& verb) {
  if (f.partner_arg.empty()) return Status::OK();
  if (!f.partner.empty() && f.partner != f.partner_arg) {
    return Status::InvalidArgument(verb + ": partner " + f.partner_arg + " and --partner " +
                                   f.partner + " disagree");
  }
  f.partner = f.partner_arg;
  return Status::OK();
}

int RunPolicySet(PolicyFlags f, const Globals& g) {
  // One word is the file (CLI11 fills positionals in order: PARTNER took it).
  if (f.file.empty()) std::swap(f.file, f.partner_arg);
  if (f.file.empty()) return ReportError(Status::InvalidArgument("policy set: FILE is required"));
  Status partner = TakePartnerWord(f, "policy set");
  if (!partner.ok()) return ReportError(partner);
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return ReportError(Status::FromErrno(errno, "read policy file", f.file));
  std::ostringstream text;
  text << in.rdbuf();
  // The same document locally and from the server (views::PolicySetJson), printed once.
  Result<nlohmann::json> set = nlohmann::json::object();
  if (IsRemote(g)) {
    const std::string path =
        f.partner.empty() ? "/v1/policy" : "/v1/policy/" + client::PercentEncode(f.partner);
    set = RemoteSend(g, "PUT", path, text.str(), "text/plain");
    if (!set.ok()) set = set.status().WithContext(f.file);  // the server knows no file name
  } else {
    auto repository = OpenRepository(g);
    if (!repository.ok()) return ReportError(repository.status());
    boost::system::error_code ec;
    const std::string base_dir = boost::filesystem::absolute(f.file, ec).parent_path().string();
    repo::PolicyRecord record{
        f.partner.empty() ? std::string(repo::kDefaultPolicyScope) : f.partner, text.str(), f.file,
        base_dir, 0};
    Result<repo::SettingsChange> change = repo::SetPolicy(**repository, record);
    // More copies or other sites: what the stored versions now lack is queued.
    if (change.ok() && !change->queue_status.ok()) {
      PrintSettingsWarnings(change->warnings);
      return ReportError(change->queue_status);
    }
    if (change.ok()) {
      set = views::PolicySetJson(f.partner, f.file, *change);
    } else {
      set = change.status();
    }
  }
  if (set.status().code() == Code::kInvalidArgument) {
    std::cerr << "cairn: policy refused: " << set.status().message() << "\n";
    return kExitProblems;
  }
  if (!set.ok()) return ReportError(set.status());
  if (!g.quiet) {
    std::cout << "policy set for "
              << (f.partner.empty() ? std::string("the default") : "partner " + f.partner)
              << " from " << f.file << "\n";
  }
  PrintWarningsOf(*set);
  for (const nlohmann::json& problem : set->value("problems", nlohmann::json::array())) {
    std::cerr << "warning: " << problem.get<std::string>() << "\n";
  }
  if (!g.quiet && set->value("copies_short", uint64_t{0}) > 0) {
    std::cout << set->value("queued", "") << " (run cairn replicate)\n";
  }
  return kExitOk;
}

// Prints the policy document (views::PolicyShowJson, or GET /v1/policy: the same) as the
// stored text with a comment line saying which policy applies and where it comes from.
int PrintPolicyText(const nlohmann::json& doc) {
  const std::string partner = doc.value("partner", "");
  const std::string applies = doc.value("applies", "builtin");
  const std::string who = partner.empty() ? "the default" : "partner " + partner;
  const std::string from = doc.value("source", "") + ", set " + doc.value("updated", "");
  if (applies == "partner") {
    std::cout << "# policy of " << who << ", from " << from << "\n";
  } else if (applies == "default") {
    std::cout << "# " << (partner.empty() ? "" : who + " has no policy of its own: ")
              << "the default policy applies, from " << from << "\n";
  } else {
    std::cout << "# no policy is stored: the built-in default applies\n";
  }
  if (applies == "builtin") {
    proto::Policy effective;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        doc.value("effective", nlohmann::json::object()).dump(), &effective, options);
    if (!parsed.ok())
      return ReportError(Status::Corruption("the effective policy is not a policy"));
    std::cout << policies::FormatPolicy(effective);
    return kExitOk;
  }
  const std::string text = doc.value("text", "");
  std::cout << text;
  if (!text.empty() && text.back() != '\n') std::cout << "\n";
  return kExitOk;
}

int RunPolicyShow(PolicyFlags f, const Globals& g) {
  Status partner = TakePartnerWord(f, "policy show");
  if (!partner.ok()) return ReportError(partner);
  Result<nlohmann::json> doc = Status::NotFound("no policy document");
  if (IsRemote(g)) {
    doc = RemoteGet(g, "/v1/policy", {{"partner", f.partner}});
  } else {
    auto repository = OpenRepository(g);
    if (!repository.ok()) return ReportError(repository.status());
    doc = views::PolicyShowJson(repository.value()->catalog(), f.partner);
  }
  if (!doc.ok()) return ReportError(doc.status());
  if (f.json) {
    std::cout << views::DumpJson(*doc) << "\n";
    return kExitOk;
  }
  return PrintPolicyText(*doc);
}

}  // namespace

void RegisterPolicy(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "policy", "set and show preservation policies");
  auto flags = std::make_shared<PolicyFlags>();

  CLI::App* set = group->add_subcommand(
      "set", "check a text-format policy file and make it the default or a partner's policy");
  set->add_option("PARTNER", flags->partner_arg,
                  "the partner it applies to (the same as --partner)");
  set->add_option("FILE", flags->file, "policy file (see policies/examples/); required");
  set->add_option("--partner", flags->partner, "the partner it applies to (default: everyone)");
  set->callback([flags, &g]() { g.exit_code = RunPolicySet(*flags, g); });

  CLI::App* show = group->add_subcommand("show", "print the policy that applies");
  show->add_option("PARTNER", flags->partner_arg, "a partner (the same as --partner)");
  show->add_option("--partner", flags->partner, "a partner (default: the default policy)");
  show->add_flag("--json", flags->json, "print JSON (with the effective policy's fields)");
  show->callback([flags, &g]() { g.exit_code = RunPolicyShow(*flags, g); });
}

}  // namespace cairn::cli
