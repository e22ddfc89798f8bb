#include "ops/cli/show_text.h"

#include <cstdio>

#include "bagit/report.h"
#include "ops/cli/repo_print.h"

namespace cairn::cli {
namespace {

std::string CopiesText(const repo::FileCopies& f) {
  if (f.copies.empty()) return "no copies";
  std::string s;
  for (const repo::CopyState& c : f.copies) s += (s.empty() ? "" : " ") + c.site + ":" + c.state;
  return s;
}

VersionLine VersionFromJson(const nlohmann::json& v) {
  return {v.value("version", 0u), v.value("created", ""), v.value("depositor", ""),
          v.value("files", uint64_t{0}), v.value("bytes", uint64_t{0})};
}

repo::FileCopies FileFromJson(const nlohmann::json& f) {
  repo::FileCopies file{
      f.value("path", ""), f.value("size", uint64_t{0}), f.value("sha256", ""), {}};
  for (const nlohmann::json& c : f.value("copies", nlohmann::json::array())) {
    file.copies.push_back({c.value("site", ""), c.value("state", "")});
  }
  return file;
}

}  // namespace

Out& Out::operator<<(std::string_view s) {
  buf_.append(s);
  if (buf_.size() > (1 << 16)) Flush();
  return *this;
}

void Out::Flush() {
  std::fwrite(buf_.data(), 1, buf_.size(), stdout);
  buf_.clear();
}

void ShowText::Head(const std::string& partner, const std::string& object,
                    const std::vector<VersionLine>& versions, const VersionLine& v) {
  out_ << partner << "/" << object << ": " << std::to_string(versions.size()) << " version(s)\n";
  for (const VersionLine& x : versions) {
    out_ << "  v" << std::to_string(x.version) << "  " << x.created << "  " << x.depositor << "  "
         << std::to_string(x.files) << " files  " << std::to_string(x.bytes) << " bytes ("
         << HumanBytes(x.bytes) << ")\n";
  }
  out_ << "\n"
       << partner << "/" << object << "@v" << std::to_string(v.version) << ": "
       << std::to_string(v.files) << " files, " << std::to_string(v.bytes)
       << " bytes\ntag files:\n";
}

void ShowText::FileLine(const repo::FileCopies& file) {
  out_ << "  " << bagit::Printable(file.path) << "  " << std::to_string(file.size)
       << "  sha256:" << file.sha256 << "  " << CopiesText(file) << "\n";
}

void ShowText::TagFile(const repo::FileCopies& file) { FileLine(file); }

void ShowText::BeginPayload() {
  if (!no_files_) out_ << "payload files:\n";
}

void ShowText::PayloadFile(const repo::FileCopies& file) {
  if (!no_files_) FileLine(file);
}

void ShowText::EmptyFolders(const std::vector<std::string>& folders) {
  if (no_files_ || folders.empty()) return;
  out_ << "empty folders:\n";
  for (const std::string& folder : folders) out_ << "  " << bagit::Printable(folder) << "/\n";
}

void ShowText::Summary(const CopySummary& s) {
  // The summary comes last: it is counted while the files stream by.
  out_ << "copies: " << std::to_string(s.min_ok) << " that count of the policy's " << s.policy_text
       << (s.min_ok >= s.wanted ? "" : "  ** LACKING COPIES **") << "\n";
  for (const auto& [site, states] : s.by_site) {
    auto count = [&](const char* state) {
      auto it = states.find(state);
      return it == states.end() ? uint64_t{0} : it->second;
    };
    out_ << "  site " << site << ": " << std::to_string(count("ok")) << " ok";
    if (count("unverified")) {
      out_ << ", " << std::to_string(count("unverified")) << " not yet verified ("
           << UnverifiedHint(reader_, site) << ")";
    }
    if (count("pending")) out_ << ", " << std::to_string(count("pending")) << " pending";
    if (count("corrupt")) out_ << ", " << std::to_string(count("corrupt")) << " CORRUPT";
    if (count("missing")) out_ << ", " << std::to_string(count("missing")) << " MISSING";
    if (count("unavailable")) {
      out_ << ", " << std::to_string(count("unavailable")) << " unavailable";
    }
    if (count("unreadable")) out_ << ", " << std::to_string(count("unreadable")) << " UNREADABLE";
    out_ << "\n";
  }
}

std::string UnverifiedHint(repo::Role reader, const std::string& site) {
  switch (reader) {
    case repo::Role::kOperator:
      return "cairn audit run --site " + site;
    case repo::Role::kAuditor:
      return "the consortium's audit checks them; cairn audit report shows what it found";
    default:
      return "the consortium's auditor checks them";
  }
}

bool HasUnverifiedCopies(const nlohmann::json& doc) {
  for (const nlohmann::json& site : doc.value("copies_by_site", nlohmann::json::array())) {
    if (site.is_object() && site.value("unverified", uint64_t{0}) > 0) return true;
  }
  return false;
}

bool PrintShowDocument(const nlohmann::json& doc, bool no_files, repo::Role reader) {
  const nlohmann::json none = nlohmann::json::array();
  if (!doc.is_object() || !doc.contains("versions") || !doc.contains("version")) return false;
  std::vector<VersionLine> versions;
  VersionLine chosen;
  const uint32_t wanted = doc.value("version", 0u);
  for (const nlohmann::json& v : doc.value("versions", none)) {
    versions.push_back(VersionFromJson(v));
    if (versions.back().version == wanted) chosen = versions.back();
  }
  Out out;
  ShowText text(out, no_files, reader);
  text.Head(doc.value("partner", ""), doc.value("object", ""), versions, chosen);
  for (const nlohmann::json& f : doc.value("tag_files", none)) text.TagFile(FileFromJson(f));
  text.BeginPayload();
  for (const nlohmann::json& f : doc.value("files", none)) text.PayloadFile(FileFromJson(f));
  std::vector<std::string> empty_folders;
  for (const nlohmann::json& folder : doc.value("empty_folders", none)) {
    if (folder.is_string()) empty_folders.push_back(folder.get<std::string>());
  }
  text.EmptyFolders(empty_folders);
  CopySummary summary{doc.value("copies_ok", uint64_t{0}),
                      doc.value("copies_wanted", uint64_t{0}),
                      doc.value("policy", ""),
                      {}};
  for (const nlohmann::json& site : doc.value("copies_by_site", none)) {
    auto& states = summary.by_site[site.value("site", "")];
    for (const char* state :
         {"ok", "unverified", "pending", "corrupt", "missing", "unavailable", "unreadable"}) {
      if (uint64_t n = site.value(state, uint64_t{0}); n > 0) states[state] = n;
    }
  }
  text.Summary(summary);
  return true;
}

}  // namespace cairn::cli
