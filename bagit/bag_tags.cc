// The text of the tag files a new bag gets: bagit.txt, bag-info.txt and
// manifest lines, plus the rules for --info labels (bagit/creator.h).
#include <ctime>

#include "bagit/creator.h"
#include "bagit/paths.h"
#include "bagit/report.h"
#include "bagit/source_tree.h"
#include "bagit/time_text.h"

namespace cairn::bagit {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

bool SameLabel(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string_view BagFormatName(BagFormat format) {
  switch (format) {
    case BagFormat::kDirectory:
      return "dir";
    case BagFormat::kTar:
      return "tar";
    case BagFormat::kTarGz:
      return "tgz";
    case BagFormat::kZip:
      return "zip";
  }
  return "dir";
}

Result<BagFormat> ParseBagFormat(std::string_view name) {
  if (name == "dir") return BagFormat::kDirectory;
  if (name == "tar") return BagFormat::kTar;
  if (name == "tgz" || name == "tar.gz") return BagFormat::kTarGz;
  if (name == "zip") return BagFormat::kZip;
  return Status::InvalidArgument("unknown bag format '" + std::string(name) +
                                 "' (expected dir, tar, tgz or zip)");
}

Status CheckInfoField(const InfoField& field) {
  const std::string shown = field.label + ": " + field.value;
  auto bad = [&](const std::string& rule) {
    return Status::InvalidArgument("bag-info field '" + Printable(shown) + "': " + rule);
  };
  if (field.label.empty()) return bad("the label is empty");
  if (IsSpace(field.label.front()) || IsSpace(field.label.back())) {
    return bad("the label has leading or trailing whitespace");
  }
  for (unsigned char c : field.label) {
    if (c == ':') return bad("the label contains ':'");
    if (c < 0x20 || c == 0x7f) return bad("the label contains a control character");
  }
  if (!IsValidUtf8(field.label) || !IsValidUtf8(field.value)) return bad("not valid UTF-8");
  for (char c : field.value) {
    if (c == '\n' || c == '\r') return bad("the value contains a line break");
  }
  return Status::OK();
}

Result<InfoField> ParseInfoArgument(std::string_view argument) {
  size_t colon = argument.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("--info '" + Printable(argument) +
                                   "': expected \"Label: value\" (no ':' found)");
  }
  InfoField field{std::string(argument.substr(0, colon)), std::string(argument.substr(colon + 1))};
  // One conventional space after the colon belongs to the separator.
  size_t start = 0;
  while (start < field.value.size() && IsSpace(field.value[start])) ++start;
  field.value.erase(0, start);
  CAIRN_RETURN_IF_ERROR(CheckInfoField(field));
  return field;
}

std::string BagitTxt() { return "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"; }

Result<std::string> BagInfoTxt(const CreateOptions& options, uint64_t payload_files,
                               uint64_t payload_bytes) {
  bool has_date = false, has_agent = false;
  for (const InfoField& f : options.info) {
    CAIRN_RETURN_IF_ERROR(CheckInfoField(f));
    if (SameLabel(f.label, "Payload-Oxum")) {
      return Status::InvalidArgument(
          "bag-info field 'Payload-Oxum' is computed by cairn and cannot be given");
    }
    if (SameLabel(f.label, "Bagging-Date")) {
      if (!IsIsoDate(f.value)) {
        return Status::InvalidArgument("bag-info field 'Bagging-Date: " + Printable(f.value) +
                                       "': expected YYYY-MM-DD");
      }
      has_date = true;
    }
    if (SameLabel(f.label, "Bag-Software-Agent")) has_agent = true;
  }
  std::string date = options.bagging_date.empty() ? NowUtc(TimeText::kDate) : options.bagging_date;
  if (!IsIsoDate(date)) {
    return Status::InvalidArgument("bagging date '" + Printable(date) + "': expected YYYY-MM-DD");
  }
  std::string out;
  if (!has_date) out += "Bagging-Date: " + date + "\n";
  out +=
      "Payload-Oxum: " + std::to_string(payload_bytes) + "." + std::to_string(payload_files) + "\n";
  if (!has_agent && !options.software_agent.empty()) {
    out += "Bag-Software-Agent: " + options.software_agent + "\n";
  }
  for (const InfoField& f : options.info) out += f.label + ": " + f.value + "\n";
  return out;
}

std::string FormatManifestLine(std::string_view hex_digest, std::string_view path) {
  std::string line(hex_digest);
  line += "  ";
  line += EncodeManifestPath(path);
  line += '\n';
  return line;
}

std::vector<Algorithm> BagAlgorithms(const AlgorithmSet& algorithms) {
  std::vector<Algorithm> out;
  for (size_t i = 0; i < kAlgorithmCount; ++i) {
    if (algorithms.test(i)) out.push_back(static_cast<Algorithm>(i));
  }
  if (out.empty()) out.push_back(Algorithm::kSha512);
  return out;
}

}  // namespace cairn::bagit
