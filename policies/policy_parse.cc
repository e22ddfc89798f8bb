// Text-format parsing of policies (google::protobuf::TextFormat), with every
// syntax error reported as "SOURCE:LINE:COL: message (field "name")".
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <boost/filesystem.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

#include "policies/policy.h"
#include "policies/policy_check_internal.h"

namespace cairn::policies {
namespace {

namespace fs = boost::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// The line of `text` numbered `line` (0-based), without its newline.
std::string_view LineOf(std::string_view text, int line) {
  size_t start = 0;
  for (int i = 0; i < line && start != std::string_view::npos; ++i) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos || start > text.size()) return {};
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// The last "name:" or "name {" before `column` on a line: the field a bad
// value belongs to. Empty when there is none.
std::string FieldBefore(std::string_view line, int column) {
  if (column < 0) return {};
  std::string_view prefix = line.substr(0, std::min<size_t>(column, line.size()));
  std::string found;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] == '"') {  // skip string literals
      size_t close = prefix.find('"', i + 1);
      if (close == std::string_view::npos) break;
      i = close;
      continue;
    }
    if (!(std::isalpha(static_cast<unsigned char>(prefix[i])) || prefix[i] == '_')) continue;
    size_t j = i;
    while (j < prefix.size() &&
           (std::isalnum(static_cast<unsigned char>(prefix[j])) || prefix[j] == '_')) {
      ++j;
    }
    size_t k = j;
    while (k < line.size() && line[k] == ' ') ++k;
    if (k < line.size() && (line[k] == ':' || line[k] == '{' || line[k] == '<')) {
      found = std::string(prefix.substr(i, j - i));
    }
    i = j;
  }
  return found;
}

// Keeps the first error; protobuf's line and column are 0-based.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  FirstErrorCollector(std::string_view text, const std::string& source)
      : text_(text), source_(source) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = source_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
             message;
    std::string field = FieldBefore(LineOf(text_, line), column);
    if (!field.empty() && message.find('"' + field + '"') == std::string::npos) {
      first_ += " (field \"" + field + "\")";
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string_view text_;
  const std::string& source_;
  std::string first_;
};

// Finds where a field path ("fixity.interval_days") was written.
std::string LocateIn(const TextFormat::ParseInfoTree& tree, const std::string& source,
                     std::string_view path, int index) {
  const google::protobuf::Descriptor* desc = proto::Policy::descriptor();
  const TextFormat::ParseInfoTree* node = &tree;
  size_t dot = path.find('.');
  if (dot != std::string_view::npos) {
    const FieldDescriptor* outer = desc->FindFieldByName(std::string(path.substr(0, dot)));
    if (outer == nullptr) return source;
    TextFormat::ParseLocation outer_at = node->GetLocation(outer, -1);
    node = node->GetTreeForNested(outer, -1);
    desc = outer->message_type();
    path = path.substr(dot + 1);
    if (node == nullptr) {
      if (outer_at.line < 0) return source;
      return source + ":" + std::to_string(outer_at.line + 1) + ":" +
             std::to_string(outer_at.column + 1);
    }
  }
  const FieldDescriptor* field = desc->FindFieldByName(std::string(path));
  if (field == nullptr) return source;
  TextFormat::ParseLocation at = node->GetLocation(field, field->is_repeated() ? index : -1);
  if (at.line < 0) return source;
  return source + ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1);
}

// The syntax alone: the message, its fields' places in `tree`.
Status ParseText(std::string_view text, const std::string& source, proto::Policy* policy,
                 TextFormat::ParseInfoTree* tree) {
  FirstErrorCollector errors(text, source);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(tree);
  if (!parser.ParseFromString(std::string(text), policy)) {
    return Status::InvalidArgument(errors.first().empty() ? source + ": not a valid policy"
                                                          : errors.first());
  }
  return Status::OK();
}

}  // namespace

Result<proto::Policy> ParsePolicy(std::string_view text, const std::string& source,
                                  const std::string& base_dir) {
  proto::Policy policy;
  TextFormat::ParseInfoTree tree;
  CAIRN_RETURN_IF_ERROR(ParseText(text, source, &policy, &tree));
  CAIRN_RETURN_IF_ERROR(internal::CheckPolicyAt(
      policy, base_dir,
      [&](std::string_view field, int index) { return LocateIn(tree, source, field, index); }));
  policy.set_bagit_profile(internal::ResolveProfilePath(policy.bagit_profile(), base_dir));
  return policy;
}

Result<proto::Policy> ParsePolicyToStore(std::string_view text, const std::string& source,
                                         const std::string& base_dir, const StoreContext& context) {
  proto::Policy policy;
  TextFormat::ParseInfoTree tree;
  CAIRN_RETURN_IF_ERROR(ParseText(text, source, &policy, &tree));
  const internal::Locate locate = [&](std::string_view field, int index) {
    return LocateIn(tree, source, field, index);
  };
  CAIRN_RETURN_IF_ERROR(internal::CheckSitesExist(policy, context.sites, locate));
  // Before the profile is looked for: nothing is said of a file outside the folder.
  if (context.profile_inside_base_dir) {
    CAIRN_RETURN_IF_ERROR(internal::CheckProfileInside(policy, locate));
  }
  CAIRN_RETURN_IF_ERROR(internal::CheckPolicyAt(policy, base_dir, locate));
  CAIRN_RETURN_IF_ERROR(internal::CheckProfileContent(policy, base_dir, locate));
  policy.set_bagit_profile(internal::ResolveProfilePath(policy.bagit_profile(), base_dir));
  CAIRN_RETURN_IF_ERROR(CheckPolicyAgainstSites(policy, context.sites, source));
  return policy;
}

Result<proto::Policy> LoadPolicyFile(const std::string& path) {
  boost::system::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("policy file " + path + " does not exist");
  if (fs::is_directory(path, ec)) {
    return Status::InvalidArgument("policy file " + path + " is a folder");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "open policy file", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("read policy file " + path + " failed");
  fs::path abs = fs::absolute(path, ec);
  return ParsePolicy(text.str(), path, abs.parent_path().string());
}

uint32_t FixityIntervalDays(const proto::Policy& policy) {
  return policy.fixity().interval_days() > 0 ? policy.fixity().interval_days()
                                             : kDefaultFixityIntervalDays;
}

std::string BuiltinDefaultPolicyText() {
  return "copies: " + std::to_string(kBuiltinDefaultCopies) + "\n";
}

proto::Policy BuiltinDefaultPolicy() {
  proto::Policy p;
  p.set_copies(kBuiltinDefaultCopies);
  return p;
}

Result<proto::Policy> EffectivePolicy(const std::optional<StoredPolicy>& partner_policy,
                                      const std::optional<StoredPolicy>& default_policy) {
  const std::optional<StoredPolicy>& chosen = partner_policy ? partner_policy : default_policy;
  if (!chosen) return BuiltinDefaultPolicy();
  return ParsePolicy(chosen->text, chosen->source, chosen->base_dir);
}

std::string FormatPolicy(const proto::Policy& policy) {
  std::string out;
  TextFormat::Printer printer;
  printer.PrintToString(policy, &out);
  return out;
}

}  // namespace cairn::policies
