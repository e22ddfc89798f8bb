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

namespace {

// Length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t n = lead < 0x80           ? 1
             : (lead >> 5) == 0x6  ? 2
             : (lead >> 4) == 0xe  ? 3
             : (lead >> 3) == 0x1e ? 4
                                   : 0;
  if (n == 0 || n > text.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && lead < 0xc2) return 0;                                         // overlong
  if (n == 3 && lead == 0xe0 && byte(1) < 0xa0) return 0;                      // overlong
  if (n == 3 && lead == 0xed && byte(1) >= 0xa0) return 0;                     // surrogate
  if (n == 4 && lead == 0xf0 && byte(1) < 0x90) return 0;                      // overlong
  if (n == 4 && (lead > 0xf4 || (lead == 0xf4 && byte(1) >= 0x90))) return 0;  // > U+10FFFF
  return n;
}

void AppendHexEscape(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += "\\x";
  *out += kHex[c >> 4];
  *out += kHex[c & 15];
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = Utf8SequenceLength(text.substr(i));
    // C0 controls, DEL, bytes that are not well-formed UTF-8, and the C1
    // controls (U+0080..U+009F, which some terminals obey) are escaped.
    const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if (n == 0 || c < 0x20 || c == 0x7f || c1) {
      AppendHexEscape(c, &out);
      if (c1) AppendHexEscape(static_cast<unsigned char>(text[i + 1]), &out);
      i += c1 ? 2 : 1;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace cairn::bagit
