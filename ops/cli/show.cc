// `cairn show PARTNER/OBJECT[@vN]`: an object's versions, then one version's
// tag files and payload files with sizes, digests and the state of each copy
// on each site. Files are streamed from the catalog, never all held at once.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "ops/cli/cli.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "repo/inventory.h"
#include "repo/restore.h"

namespace cairn::cli {
namespace {

struct ShowFlags {
  std::string ref;
  bool json = false;
  bool no_files = false;
};

// Buffered writes to stdout: 200,000 lines must not cost 200,000 syscalls.
class Out {
 public:
  ~Out() { Flush(); }
  Out& operator<<(std::string_view s) {
    buf_.append(s);
    if (buf_.size() > (1 << 16)) Flush();
    return *this;
  }
  void Flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
  }

 private:
  std::string buf_;
};

std::string CopiesText(const repo::FileCopies& f) {
  if (f.copies.empty()) return "no copies";
  std::string s;
  for (const repo::CopyState& c : f.copies) s += (s.empty() ? "" : " ") + c.site + ":" + c.state;
  return s;
}

nlohmann::json FileJson(const repo::FileCopies& f) {
  nlohmann::json copies = nlohmann::json::array();
  for (const repo::CopyState& c : f.copies)
    copies.push_back({{"site", c.site}, {"state", c.state}});
  return {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}, {"copies", copies}};
}

int RunShow(const ShowFlags& f, const Globals& g) {
  std::string partner, object;
  uint32_t wanted_version = 0;
  Status parsed = repo::ParseObjectRef(f.ref, &partner, &object, &wanted_version);
  if (!parsed.ok()) return ReportError(parsed);
  auto repository = OpenRepository(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Catalog& catalog = repository.value()->catalog();
  auto versions = catalog.ListVersions(partner, object);
  if (!versions.ok()) return ReportError(versions.status());
  if (versions->empty())
    return ReportError(Status::NotFound(partner + "/" + object + " not found"));
  auto chosen = catalog.GetVersion(
      partner, object, wanted_version ? std::optional(wanted_version) : std::nullopt, false);
  if (!chosen.ok()) return ReportError(chosen.status());
  const repo::VersionInfo& v = chosen.value();
  auto policy = catalog.EffectivePolicy(partner);
  if (!policy.ok()) return ReportError(policy.status());
  auto counts = repo::CountVersionCopies(catalog, v.id);
  if (!counts.ok()) return ReportError(counts.status());
  auto min_ok = catalog.MinOkCopies(v.id);
  if (!min_ok.ok()) return ReportError(min_ok.status());

  Out out;
  if (f.json) {
    nlohmann::json head = {{"partner", partner}, {"object", object}};
    nlohmann::json list = nlohmann::json::array();
    for (const repo::VersionInfo& x : versions.value()) {
      list.push_back({{"version", x.version},
                      {"created", IsoTime(x.created_micros)},
                      {"depositor", x.depositor},
                      {"files", x.file_count},
                      {"bytes", x.payload_bytes}});
    }
    head["versions"] = list;
    head["version"] = v.version;
    head["copies_wanted"] = policy->copies();
    head["copies_ok"] = min_ok.value();
    nlohmann::json sites = nlohmann::json::array();
    for (const repo::VersionCopyCounts& c : counts.value()) {
      sites.push_back({{"site", c.site},
                       {"ok", c.ok},
                       {"pending", c.pending},
                       {"corrupt", c.corrupt},
                       {"missing", c.missing},
                       {"unavailable", c.unavailable}});
    }
    head["copies_by_site"] = sites;
    nlohmann::json tags = nlohmann::json::array();
    Status s = repo::ForEachTagFileCopies(catalog, v.id, [&](const repo::FileCopies& t) {
      tags.push_back(FileJson(t));
      return Status::OK();
    });
    if (!s.ok()) return ReportError(s);
    head["tag_files"] = tags;
    std::string text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.pop_back();  // the closing '}': the files follow, streamed
    out << text << ",\"files\":[";
    bool first = true;
    if (!f.no_files) {
      s = repo::ForEachFileCopies(catalog, v.id, [&](const repo::FileCopies& file) {
        out << (first ? "\n" : ",\n")
            << FileJson(file).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        first = false;
        return Status::OK();
      });
      if (!s.ok()) return ReportError(s);
    }
    out << "\n]}\n";
    return kExitOk;
  }

  out << partner << "/" << object << ": " << std::to_string(versions->size()) << " version(s)\n";
  for (const repo::VersionInfo& x : versions.value()) {
    out << "  v" << std::to_string(x.version) << "  " << IsoTime(x.created_micros) << "  "
        << x.depositor << "  " << std::to_string(x.file_count) << " files  "
        << std::to_string(x.payload_bytes) << " bytes (" << HumanBytes(x.payload_bytes) << ")\n";
  }
  out << "\n"
      << partner << "/" << object << "@v" << std::to_string(v.version) << ": "
      << std::to_string(v.file_count) << " files, " << std::to_string(v.payload_bytes)
      << " bytes; copies: " << std::to_string(min_ok.value()) << " ok of "
      << std::to_string(policy->copies()) << " the policy demands"
      << (min_ok.value() >= policy->copies() ? "" : "  ** LACKING COPIES **") << "\n";
  for (const repo::VersionCopyCounts& c : counts.value()) {
    out << "  site " << c.site << ": " << std::to_string(c.ok) << " ok";
    if (c.pending) out << ", " << std::to_string(c.pending) << " pending";
    if (c.corrupt) out << ", " << std::to_string(c.corrupt) << " CORRUPT";
    if (c.missing) out << ", " << std::to_string(c.missing) << " MISSING";
    if (c.unavailable) out << ", " << std::to_string(c.unavailable) << " unavailable";
    out << "\n";
  }
  auto line = [&](const repo::FileCopies& file) {
    out << "  " << file.path << "  " << std::to_string(file.size) << "  sha256:" << file.sha256
        << "  " << CopiesText(file) << "\n";
    return Status::OK();
  };
  out << "tag files:\n";
  Status s = repo::ForEachTagFileCopies(catalog, v.id, line);
  if (!s.ok()) return ReportError(s);
  if (!f.no_files) {
    out << "payload files:\n";
    s = repo::ForEachFileCopies(catalog, v.id, line);
    if (!s.ok()) return ReportError(s);
  }
  return kExitOk;
}

}  // namespace

void RegisterShow(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* cmd = app.add_subcommand(
      "show",
      "show an object: its versions, then one version's files with sizes, SHA-256 "
      "digests, and where each copy is and its state (ok, pending, corrupt, missing, "
      "unavailable)");
  cmd->add_option("OBJECT", flags->ref, "PARTNER/OBJECT or PARTNER/OBJECT@vN (default: latest)")
      ->required();
  cmd->add_flag("--json", flags->json, "print as JSON (files streamed one per line)");
  cmd->add_flag("--no-files", flags->no_files, "leave out the payload file list");
  cmd->footer("Exit codes: 0 shown; 2 could not run (no repository, unknown object or version).\n");
  cmd->callback([flags, &g] { g.exit_code = RunShow(*flags, g); });
}

}  // namespace cairn::cli
