// The outcome of validating a bag: a verdict plus every error and warning found,
// each naming the file, a stable rule id and (where it applies) the line.
// Printed as text ("file:line: rule: message") or as JSON for machines.
#ifndef CAIRN_BAGIT_REPORT_H_
#define CAIRN_BAGIT_REPORT_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::bagit {

enum class Severity { kError, kWarning };

// One problem found in a bag.
struct Finding {
  Severity severity = Severity::kError;
  std::string file;     // bag-relative file the finding is about ("" for the bag itself)
  std::string rule;     // stable id such as "manifest.path-outside-data"
  std::string message;  // human-readable explanation
  uint64_t line = 0;    // 1-based line in `file`, 0 when not about a line

  // "file:line: rule: message" (line omitted when 0, file "<bag>" when empty).
  std::string ToString() const;
};

// How deep a validation went; a report says which so a reader never mistakes a
// quick check for a full one.
enum class ValidationMode { kFull, kCompletenessOnly, kFast };
std::string_view ValidationModeName(ValidationMode mode);  // "full", "completeness-only", "fast"

// Collects findings. Memory is bounded: after kMaxStoredFindings findings only
// the counts grow, and the report says how many were not kept.
class Report {
 public:
  static constexpr size_t kMaxStoredFindings = 10000;

  void Error(std::string_view file, std::string_view rule, std::string message, uint64_t line = 0);
  void Warning(std::string_view file, std::string_view rule, std::string message,
               uint64_t line = 0);
  void Add(Finding finding);

  // True when no error was found (warnings do not make a bag invalid).
  bool valid() const { return error_count_ == 0; }
  uint64_t error_count() const { return error_count_; }
  uint64_t warning_count() const { return warning_count_; }
  const std::vector<Finding>& findings() const { return findings_; }
  // True if some finding carries `rule` (tests and callers that branch on a rule).
  bool Has(std::string_view rule) const;

  // What was validated, for the summary line and the JSON.
  std::string bag;  // the path given to the validator
  ValidationMode mode = ValidationMode::kFull;
  std::string version;  // BagIt-Version as declared, "" if unknown
  uint64_t payload_files = 0;
  uint64_t payload_bytes = 0;
  bool complete = true;  // false when fetch.txt names files that are absent (a holey bag)

  // Every finding on its own line (warnings too unless `errors_only`), then a summary.
  std::string ToText(bool errors_only = false) const;
  // {"bag", "valid", "mode", "version", "payload": {"files", "bytes"}, "complete",
  //  "error_count", "warning_count", "errors": [...], "warnings": [...], "dropped"}.
  // Paths are raw bytes: dump with error_handler_t::replace in case they are not UTF-8.
  nlohmann::json ToJson() const;

 private:
  std::vector<Finding> findings_;
  uint64_t error_count_ = 0;
  uint64_t warning_count_ = 0;
  uint64_t dropped_ = 0;
};

// Quotes a path or value for a message or any text output: control
// characters (C0, DEL, C1) and bytes that are not well-formed UTF-8 are shown as
// \xNN, so a hostile name can neither forge report lines nor drive a terminal.
// Well-formed UTF-8 text is kept as it is.
std::string Printable(std::string_view text);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_REPORT_H_
