#include "bagit/profile.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bagit/tag_files.h"
#include "bagit/validator.h"

namespace cairn::bagit {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> StringList(const json& doc, const char* key,
                                            std::string_view name) {
  std::vector<std::string> out;
  const json& v = doc.at(key);
  if (!v.is_array()) {
    return Status::InvalidArgument("profile " + std::string(name) + ": '" + key +
                                   "' must be a list of strings");
  }
  for (const json& item : v) {
    if (!item.is_string()) {
      return Status::InvalidArgument("profile " + std::string(name) + ": '" + key +
                                     "' must be a list of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::vector<Algorithm>> AlgorithmList(const json& doc, const char* key,
                                             std::string_view name) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, StringList(doc, key, name));
  std::vector<Algorithm> out;
  for (const std::string& n : names) {
    std::optional<Algorithm> a = ParseAlgorithm(n);
    if (!a) {
      return Status::InvalidArgument("profile " + std::string(name) + ": '" + key +
                                     "' names unknown algorithm '" + n + "'");
    }
    out.push_back(*a);
  }
  return out;
}

Result<bool> Bool(const json& doc, const char* key, std::string_view name) {
  const json& v = doc.at(key);
  if (!v.is_boolean()) {
    return Status::InvalidArgument("profile " + std::string(name) + ": '" + key +
                                   "' must be true or false");
  }
  return v.get<bool>();
}

// MIME types a serialization is known by (profiles in the wild use several).
std::vector<std::string> MimeAliases(std::string_view serialization) {
  if (serialization == "application/zip") return {"application/zip"};
  if (serialization == "application/tar") return {"application/tar", "application/x-tar"};
  return {"application/tar+gzip", "application/x-tar+gzip", "application/gzip",
          "application/x-gzip",   "application/x-gtar",     "application/tgz"};
}

bool Contains(const std::vector<Algorithm>& list, Algorithm a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

}  // namespace

Result<Profile> Profile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("profile " + path + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxSmallTagFile) {
    return Status::InvalidArgument("profile " + path + ": larger than 8 MiB");
  }
  return Parse(text.str(), path);
}

Result<Profile> Profile::Parse(std::string_view json_text, std::string_view name) {
  Profile p;
  p.name_ = std::string(name);
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    // Parse again with exceptions only to get the byte position of the error.
    std::string detail = "not a JSON object";
    try {
      (void)json::parse(json_text.begin(), json_text.end());
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a huge number
      detail = e.what();
    }
    return Status::InvalidArgument("profile " + p.name_ + ": invalid JSON: " + detail);
  }
  try {
    if (doc.contains("BagIt-Profile-Info") && doc["BagIt-Profile-Info"].is_object() &&
        doc["BagIt-Profile-Info"].contains("BagIt-Profile-Identifier")) {
      p.identifier_ = doc["BagIt-Profile-Info"]["BagIt-Profile-Identifier"].get<std::string>();
    }
    if (doc.contains("Bag-Info")) {
      const json& info = doc["Bag-Info"];
      if (!info.is_object()) {
        return Status::InvalidArgument("profile " + p.name_ + ": 'Bag-Info' must be an object");
      }
      for (const auto& [label, rule_json] : info.items()) {
        if (!rule_json.is_object()) {
          return Status::InvalidArgument("profile " + p.name_ + ": Bag-Info '" + label +
                                         "' must be an object");
        }
        BagInfoRule rule;
        rule.label = label;
        if (rule_json.contains("required")) {
          CAIRN_ASSIGN_OR_RETURN(rule.required, Bool(rule_json, "required", p.name_));
        }
        if (rule_json.contains("repeatable")) {
          CAIRN_ASSIGN_OR_RETURN(rule.repeatable, Bool(rule_json, "repeatable", p.name_));
        }
        if (rule_json.contains("values")) {
          CAIRN_ASSIGN_OR_RETURN(rule.values, StringList(rule_json, "values", p.name_));
        }
        p.bag_info_.push_back(std::move(rule));
      }
    }
    if (doc.contains("Manifests-Required")) {
      CAIRN_ASSIGN_OR_RETURN(p.manifests_required_,
                             AlgorithmList(doc, "Manifests-Required", p.name_));
    }
    if (doc.contains("Manifests-Allowed")) {
      CAIRN_ASSIGN_OR_RETURN(p.manifests_allowed_,
                             AlgorithmList(doc, "Manifests-Allowed", p.name_));
    }
    if (doc.contains("Tag-Manifests-Required")) {
      CAIRN_ASSIGN_OR_RETURN(p.tag_manifests_required_,
                             AlgorithmList(doc, "Tag-Manifests-Required", p.name_));
    }
    if (doc.contains("Tag-Manifests-Allowed")) {
      CAIRN_ASSIGN_OR_RETURN(p.tag_manifests_allowed_,
                             AlgorithmList(doc, "Tag-Manifests-Allowed", p.name_));
    }
    if (doc.contains("Tag-Files-Required")) {
      CAIRN_ASSIGN_OR_RETURN(p.tag_files_required_, StringList(doc, "Tag-Files-Required", p.name_));
    }
    if (doc.contains("Tag-Files-Allowed")) {
      CAIRN_ASSIGN_OR_RETURN(p.tag_files_allowed_, StringList(doc, "Tag-Files-Allowed", p.name_));
    }
    if (doc.contains("Allow-Fetch.txt")) {
      CAIRN_ASSIGN_OR_RETURN(p.allow_fetch_, Bool(doc, "Allow-Fetch.txt", p.name_));
    }
    if (doc.contains("Fetch.txt-Required")) {
      CAIRN_ASSIGN_OR_RETURN(p.fetch_required_, Bool(doc, "Fetch.txt-Required", p.name_));
    }
    if (doc.contains("Data-Empty")) {
      CAIRN_ASSIGN_OR_RETURN(p.data_empty_, Bool(doc, "Data-Empty", p.name_));
    }
    if (doc.contains("Serialization")) {
      const json& s = doc["Serialization"];
      std::string value = s.is_string() ? s.get<std::string>() : "";
      if (value == "forbidden") {
        p.serialization_ = Serialization::kForbidden;
      } else if (value == "required") {
        p.serialization_ = Serialization::kRequired;
      } else if (value == "optional") {
        p.serialization_ = Serialization::kOptional;
      } else {
        return Status::InvalidArgument("profile " + p.name_ +
                                       ": 'Serialization' must be forbidden, required or optional");
      }
    }
    if (doc.contains("Accept-Serialization")) {
      CAIRN_ASSIGN_OR_RETURN(p.accept_serialization_,
                             StringList(doc, "Accept-Serialization", p.name_));
    }
    if (doc.contains("Accept-BagIt-Version")) {
      CAIRN_ASSIGN_OR_RETURN(p.accept_versions_, StringList(doc, "Accept-BagIt-Version", p.name_));
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument("profile " + p.name_ + ": " + e.what());
  }
  return p;
}

void Profile::Check(const BagContents& bag, Report* report) const {
  const std::string where = "profile " + name_ + ": ";
  for (const BagInfoRule& rule : bag_info_) {
    std::vector<std::string> values = bag.bag_info.Values(rule.label);
    if (rule.required && values.empty()) {
      report->Error("bag-info.txt", "profile.bag-info-required",
                    where + "'" + rule.label + "' is required");
    }
    if (!rule.repeatable && values.size() > 1) {
      report->Error("bag-info.txt", "profile.bag-info-repeated",
                    where + "'" + rule.label + "' may appear only once");
    }
    for (const std::string& v : values) {
      if (!rule.values.empty() &&
          std::find(rule.values.begin(), rule.values.end(), v) == rule.values.end()) {
        report->Error("bag-info.txt", "profile.bag-info-value",
                      where + "'" + rule.label + "' may not be '" + Printable(v) + "'");
      }
    }
  }
  std::vector<Algorithm> manifests, tag_manifests;
  bool has_fetch = false;
  for (const TagFileRecord& t : bag.tag_files) {
    std::optional<Algorithm> a;
    TagKind kind = ClassifyTagFile(t.path, &a);
    if (kind == TagKind::kManifest && a) manifests.push_back(*a);
    if (kind == TagKind::kTagManifest && a) tag_manifests.push_back(*a);
    if (kind == TagKind::kFetch) has_fetch = true;
    if (kind == TagKind::kOther && tag_files_allowed_) {
      bool allowed = std::any_of(
          tag_files_allowed_->begin(), tag_files_allowed_->end(),
          [&](const std::string& glob) { return fnmatch(glob.c_str(), t.path.c_str(), 0) == 0; });
      if (!allowed) {
        report->Error(t.path, "profile.tag-file-not-allowed", where + "tag file not allowed");
      }
    }
  }
  auto check_algorithms =
      [&](const std::vector<Algorithm>& present, const std::vector<Algorithm>& required,
          const std::optional<std::vector<Algorithm>>& allowed, std::string_view kind) {
        for (Algorithm a : required) {
          if (!Contains(present, a)) {
            report->Error(std::string(kind) + "-" + std::string(AlgorithmName(a)) + ".txt",
                          "profile." + std::string(kind) + "-required",
                          where + "a " + std::string(AlgorithmName(a)) + " " + std::string(kind) +
                              " is required");
          }
        }
        if (!allowed) return;
        for (Algorithm a : present) {
          if (!Contains(*allowed, a)) {
            report->Error(std::string(kind) + "-" + std::string(AlgorithmName(a)) + ".txt",
                          "profile." + std::string(kind) + "-not-allowed",
                          where + std::string(AlgorithmName(a)) + " is not an allowed algorithm");
          }
        }
      };
  check_algorithms(manifests, manifests_required_, manifests_allowed_, "manifest");
  check_algorithms(tag_manifests, tag_manifests_required_, tag_manifests_allowed_, "tagmanifest");
  for (const std::string& required : tag_files_required_) {
    if (bag.FindTagFile(required) == nullptr) {
      report->Error(required, "profile.tag-file-required", where + "this tag file is required");
    }
  }
  if (has_fetch && !allow_fetch_) {
    report->Error("fetch.txt", "profile.fetch-not-allowed", where + "fetch.txt is not allowed");
  }
  if (!has_fetch && fetch_required_) {
    report->Error("fetch.txt", "profile.fetch-required", where + "fetch.txt is required");
  }
  if (data_empty_ && bag.manifests->size() > 0) {
    report->Error("data", "profile.data-empty", where + "the payload must be empty");
  }
  if (serialization_ == Serialization::kForbidden && bag.serialized) {
    report->Error("", "profile.serialization", where + "serialized bags are not accepted");
  }
  if (serialization_ == Serialization::kRequired && !bag.serialized) {
    report->Error("", "profile.serialization", where + "the bag must be serialized (tar, zip)");
  }
  if (bag.serialized && !accept_serialization_.empty()) {
    bool accepted = false;
    for (const std::string& alias : MimeAliases(bag.serialization)) {
      for (const std::string& ok : accept_serialization_) accepted |= AsciiLower(ok) == alias;
    }
    if (!accepted) {
      report->Error("", "profile.serialization",
                    where + bag.serialization + " is not an accepted serialization");
    }
  }
  if (!accept_versions_.empty()) {
    std::string version = bag.declaration.version.ToString();
    if (std::find(accept_versions_.begin(), accept_versions_.end(), version) ==
        accept_versions_.end()) {
      report->Error("bagit.txt", "profile.bagit-version",
                    where + "BagIt-Version " + version + " is not accepted");
    }
  }
}

}  // namespace cairn::bagit
