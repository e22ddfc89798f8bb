#include "bagit/report.h"

#include <nlohmann/json.hpp>

namespace cairn::bagit {

std::string Finding::ToString() const {
  std::string out = file.empty() ? std::string("<bag>") : Printable(file);
  if (line != 0) out += ":" + std::to_string(line);
  out += ": " + rule + ": " + message;
  return out;
}

std::string_view ValidationModeName(ValidationMode mode) {
  switch (mode) {
    case ValidationMode::kFull:
      return "full";
    case ValidationMode::kCompletenessOnly:
      return "completeness-only";
    case ValidationMode::kFast:
      return "fast";
  }
  return "full";
}

void Report::Error(std::string_view file, std::string_view rule, std::string message,
                   uint64_t line) {
  Add(Finding{Severity::kError, std::string(file), std::string(rule), std::move(message), line});
}

void Report::Warning(std::string_view file, std::string_view rule, std::string message,
                     uint64_t line) {
  Add(Finding{Severity::kWarning, std::string(file), std::string(rule), std::move(message), line});
}

void Report::Add(Finding finding) {
  if (finding.severity == Severity::kError) {
    ++error_count_;
  } else {
    ++warning_count_;
  }
  if (findings_.size() >= kMaxStoredFindings) {
    ++dropped_;
    return;
  }
  findings_.push_back(std::move(finding));
}

bool Report::Has(std::string_view rule) const {
  for (const Finding& f : findings_) {
    if (f.rule == rule) return true;
  }
  return false;
}

std::string Report::ToText(bool errors_only) const {
  std::string out;
  for (const Finding& f : findings_) {
    if (errors_only && f.severity == Severity::kWarning) continue;
    out += f.severity == Severity::kError ? "error: " : "warning: ";
    out += f.ToString();
    out += "\n";
  }
  if (dropped_ > 0) out += "(" + std::to_string(dropped_) + " more findings not shown)\n";
  out += Printable(bag) + ": " + (valid() ? "valid" : "INVALID");
  out += " (" + std::string(ValidationModeName(mode));
  if (mode == ValidationMode::kFast) out += ": Payload-Oxum only, no file was hashed";
  if (mode == ValidationMode::kCompletenessOnly)
    out += ": files and sizes only, no file was hashed";
  out += "; " + std::to_string(error_count_) + " errors, " + std::to_string(warning_count_) +
         " warnings; " + std::to_string(payload_files) + " payload files, " +
         std::to_string(payload_bytes) + " bytes";
  if (!complete) out += "; incomplete: fetch.txt lists files that are not present";
  out += ")\n";
  return out;
}

nlohmann::json Report::ToJson() const {
  auto finding_json = [](const Finding& f) {
    nlohmann::json j = {{"file", f.file}, {"rule", f.rule}, {"message", f.message}};
    if (f.line != 0) j["line"] = f.line;
    return j;
  };
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  for (const Finding& f : findings_) {
    (f.severity == Severity::kError ? errors : warnings).push_back(finding_json(f));
  }
  return nlohmann::json{{"bag", bag},
                        {"valid", valid()},
                        {"mode", ValidationModeName(mode)},
                        {"version", version},
                        {"payload", {{"files", payload_files}, {"bytes", payload_bytes}}},
                        {"complete", complete},
                        {"error_count", error_count_},
                        {"warning_count", warning_count_},
                        {"errors", std::move(errors)},
                        {"warnings", std::move(warnings)},
                        {"dropped", dropped_}};
}

std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace cairn::bagit
