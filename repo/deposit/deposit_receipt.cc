// The deposit receipt as text and JSON.
#include <nlohmann/json.hpp>

#include "repo/deposit/deposit.h"

namespace cairn::repo {

std::string Receipt::ToText() const {
  std::string text = partner + "/" + object + " v" + std::to_string(version) + ": " +
                     std::to_string(files) + " files, " + std::to_string(bytes) + " bytes (" +
                     source_kind + " " + source + ")\n";
  if (stored_figures_known) {
    text += "  stored on site " + first_site + ": " + std::to_string(bytes_stored) +
            " new payload bytes, " + std::to_string(blobs_reused) + " files already stored\n";
  } else {
    text += "  stored on site " + first_site + " (how many of its bytes were new was not kept)\n";
  }
  for (const auto& [name, sha256] : manifest_digests) {
    text += "  sha256 " + sha256 + "  " + name + "\n";
  }
  if (cairn_added_sha256_manifest) {
    text += "  (manifest-sha256.txt added by Cairn: the bag had none; restore leaves it out)\n";
  }
  text += "  copies wanted: " + std::to_string(copies_wanted) + "\n";
  for (const SiteCopies& c : copies) {
    text += "  site " + c.site + ": " + std::to_string(c.ok) + " verified" +
            (c.pending ? ", " + std::to_string(c.pending) + " pending" : "") + "\n";
  }
  for (const std::string& w : warnings) text += "  warning: " + w + "\n";
  return text;
}

nlohmann::json Receipt::ToJson() const {
  nlohmann::json j;
  j["partner"] = partner;
  j["object"] = object;
  j["version"] = version;
  j["id"] = partner + "/" + object + "@v" + std::to_string(version);
  j["source"] = source;
  j["source_kind"] = source_kind;
  j["files"] = files;
  j["bytes"] = bytes;
  j["bytes_stored"] = stored_figures_known ? nlohmann::json(bytes_stored) : nlohmann::json();
  j["blobs_reused"] = stored_figures_known ? nlohmann::json(blobs_reused) : nlohmann::json();
  j["manifests"] = nlohmann::json::object();
  for (const auto& [name, sha256] : manifest_digests) j["manifests"][name] = {{"sha256", sha256}};
  j["cairn_added_sha256_manifest"] = cairn_added_sha256_manifest;
  j["first_site"] = first_site;
  j["copies_wanted"] = copies_wanted;
  j["copies"] = nlohmann::json::array();
  for (const SiteCopies& c : copies) {
    j["copies"].push_back({{"site", c.site}, {"ok", c.ok}, {"pending", c.pending}});
  }
  j["warnings"] = warnings;
  return j;
}

Result<Receipt> Receipt::FromJson(const nlohmann::json& j) {
  // partner, object and version are required; the rest may be absent (a receipt recovered by a
  // server after a crash carries fewer figures).
  try {
    Receipt r;
    r.partner = j.at("partner").get<std::string>();
    r.object = j.at("object").get<std::string>();
    r.version = j.at("version").get<uint32_t>();
    r.source = j.value("source", "");
    r.source_kind = j.value("source_kind", "");
    r.files = j.value("files", uint64_t{0});
    r.bytes = j.value("bytes", uint64_t{0});
    if (j.contains("bytes_stored") && j["bytes_stored"].is_null()) {
      r.stored_figures_known = false;
    } else {
      r.bytes_stored = j.value("bytes_stored", uint64_t{0});
      r.blobs_reused = j.value("blobs_reused", uint64_t{0});
    }
    const nlohmann::json manifests = j.value("manifests", nlohmann::json::object());
    for (const auto& [name, digest] : manifests.items()) {
      r.manifest_digests.emplace_back(name, digest.at("sha256").get<std::string>());
    }
    r.cairn_added_sha256_manifest = j.value("cairn_added_sha256_manifest", false);
    r.first_site = j.value("first_site", "");
    r.copies_wanted = j.value("copies_wanted", uint32_t{0});
    const nlohmann::json copies = j.value("copies", nlohmann::json::array());
    for (const nlohmann::json& c : copies) {
      r.copies.push_back({c.at("site").get<std::string>(), c.at("ok").get<uint64_t>(),
                          c.at("pending").get<uint64_t>(), ""});
    }
    r.warnings = j.value("warnings", std::vector<std::string>{});
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("not a deposit receipt: ") + e.what());
  }
}

}  // namespace cairn::repo
