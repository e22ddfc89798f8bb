// `cairn bag create SRC DEST`: makes a new bag (directory, tar, tgz or zip) from
// a folder without touching it, or bags the folder where it is (--in-place).
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bagit/archive.h"
#include "bagit/creator.h"
#include "bagit/report.h"
#include "ops/cli/cli.h"
#include "ops/cli/verbs.h"

namespace cairn::cli {
namespace {

struct CreateFlags {
  std::string src;
  std::string dest;
  std::vector<std::string> algorithms;
  std::vector<std::string> info;
  std::string format;
  bool in_place = false;
  bool follow_symlinks = false;
  unsigned threads = 0;
  bool json = false;
};

// Options from the flags; InvalidArgument for a bad flag value.
Result<bagit::CreateOptions> BuildOptions(const CreateFlags& f) {
  bagit::CreateOptions options;
  for (const std::string& name : f.algorithms) {
    std::optional<bagit::Algorithm> a = bagit::ParseAlgorithm(name);
    if (!a) {
      return Status::InvalidArgument("--algorithm " + name +
                                     ": unknown (use sha512, sha384, sha256, sha224, sha1 or md5)");
    }
    options.algorithms.set(static_cast<size_t>(*a));
  }
  for (const std::string& arg : f.info) {
    Result<bagit::InfoField> field = bagit::ParseInfoArgument(arg);
    if (!field.ok()) return field.status().WithContext("--info '" + bagit::Printable(arg) + "'");
    options.info.push_back(std::move(field).value());
  }
  // Every field is checked now (a reserved label such as Payload-Oxum too), so a
  // bad --info is a bad argument, told before anything is read.
  CAIRN_RETURN_IF_ERROR(bagit::BagInfoTxt(options, 0, 0).status().WithContext("--info"));
  if (std::optional<std::string> other = bagit::OtherArchiveExtension(f.dest)) {
    return Status::InvalidArgument(
        "DEST '" + bagit::Printable(f.dest) + "': " + bagit::Printable(*other) +
        " names an archive format bag create does not write; it writes a folder (a DEST with "
        "no archive extension), .tar, .tar.gz or .tgz, .zip (rule create.dest-format)");
  }
  std::optional<bagit::BagFormat> by_name;
  if (std::optional<bagit::ArchiveFormat> a = bagit::FormatFromName(f.dest)) {
    by_name = *a == bagit::ArchiveFormat::kTar   ? bagit::BagFormat::kTar
              : *a == bagit::ArchiveFormat::kZip ? bagit::BagFormat::kZip
                                                 : bagit::BagFormat::kTarGz;
  }
  if (!f.format.empty()) {
    CAIRN_ASSIGN_OR_RETURN(options.format, bagit::ParseBagFormat(f.format));
    if (by_name && *by_name != options.format) {
      return Status::InvalidArgument("--format " + f.format + " disagrees with DEST '" +
                                     bagit::Printable(f.dest) + "', whose extension says " +
                                     std::string(bagit::BagFormatName(*by_name)) +
                                     ": change one of them");
    }
  } else if (by_name) {
    options.format = *by_name;
  }
  options.in_place = f.in_place;
  options.follow_symlinks = f.follow_symlinks;
  options.threads = f.threads;
  options.software_agent = std::string("Cairn ") + CAIRN_VERSION;
  if (!f.in_place && f.dest.empty()) return Status::InvalidArgument("DEST is required");
  if (f.in_place && !f.dest.empty()) {
    return Status::InvalidArgument("--in-place bags SRC where it is: give no DEST");
  }
  std::error_code ec;
  if (f.in_place && std::filesystem::exists(std::filesystem::path(f.src) / "bagit.txt", ec)) {
    return Status::InvalidArgument(
        "--in-place: " + bagit::Printable(f.src) +
        " is already a bag (it has a bagit.txt): bagging it again would bury the bag in "
        "data/; validate it with cairn bag validate, or bag a copy into a new DEST");
  }
  return options;
}

nlohmann::json ToJson(const bagit::CreatedBag& bag) {
  nlohmann::json j;
  j["bag"] = bag.path;
  j["format"] = std::string(bagit::BagFormatName(bag.format));
  if (!bag.top_folder.empty()) j["top_folder"] = bag.top_folder;
  j["payload_files"] = bag.payload_files;
  j["payload_bytes"] = bag.payload_bytes;
  j["payload_oxum"] = std::to_string(bag.payload_bytes) + "." + std::to_string(bag.payload_files);
  j["algorithms"] = nlohmann::json::array();
  for (bagit::Algorithm a : bag.algorithms) j["algorithms"].push_back(bagit::AlgorithmName(a));
  j["tag_files"] = nlohmann::json::array();
  for (const auto& tag : bag.tag_files) {
    nlohmann::json digests;
    for (bagit::Algorithm a : bag.algorithms) digests[bagit::AlgorithmName(a)] = tag.digests[a];
    j["tag_files"].push_back({{"name", tag.name}, {"size", tag.size}, {"digests", digests}});
  }
  return j;
}

int RunCreate(const CreateFlags& f, const Globals& g) {
  Result<bagit::CreateOptions> options = BuildOptions(f);
  if (!options.ok()) return ReportError(options.status());
  Result<bagit::CreatedBag> bag = bagit::CreateBag(f.src, f.dest, *options);
  if (!bag.ok()) {
    int code = ReportError(bag.status());
    // A source that cannot be bagged as it is (symlinks, special files, bad
    // names, files changing underneath) is a problem found, not a failure to run.
    return bag.status().code() == Code::kInvalidArgument ? kExitProblems : code;
  }
  if (f.json) {
    std::cout << ToJson(*bag).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (!g.quiet) {
    std::string algs;
    for (bagit::Algorithm a : bag->algorithms) {
      algs += (algs.empty() ? "" : ", ") + std::string(bagit::AlgorithmName(a));
    }
    std::cout << "created bag " << bag->path << " (" << bagit::BagFormatName(bag->format)
              << "): " << bag->payload_files << " files, " << bag->payload_bytes << " bytes, "
              << algs << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterBagCreate(CLI::App& app, Globals& g) {
  CLI::App* bag = Group(app, "bag", "make and check BagIt bags (RFC 8493)");
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* cmd = bag->add_subcommand(
      "create",
      "make a new bag at DEST from folder SRC (SRC is not touched): a directory, or a "
      ".tar/.tgz/.zip written directly; each file is read once and hashed with every algorithm");
  cmd->add_option("SRC", flags->src, "folder to bag")->required();
  cmd->add_option("DEST", flags->dest,
                  "new bag: a folder that does not exist (or is empty), or an archive file name "
                  "(.tar, .tar.gz/.tgz, .zip; another archive extension, .rar, .7z, ..., is "
                  "refused)");
  cmd->add_option("--algorithm", flags->algorithms,
                  "digest algorithm, repeatable: sha512 (default), sha384, sha256, sha224, sha1, "
                  "md5")
      ->allow_extra_args(false);  // one value each time: it may stand before SRC and DEST
  cmd->add_option("--info", flags->info, "bag-info.txt field \"Label: value\", repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--format", flags->format,
                  "dir, tar, tgz or zip (default: from DEST's extension, else dir)");
  cmd->add_flag("--in-place", flags->in_place,
                "bag SRC where it is: move its content into SRC/data and add the tag files");
  cmd->add_flag("--follow-symlinks", flags->follow_symlinks,
                "follow symlinks whose target is inside SRC (default: refuse symlinks)");
  cmd->add_option("--threads", flags->threads, "copy/hash threads (default: one per core)");
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Exit codes: 0 bag created; 1 SRC cannot be bagged as it is (symlinks, special files, "
      "bad names); 2 could not run (bad arguments: a bad --info, --format disagreeing with "
      "DEST's extension, DEST named as an archive format not written, --in-place on a folder that "
      "is already a bag; DEST exists; I/O error).");
  cmd->callback([flags, &g]() { g.exit_code = RunCreate(*flags, g); });
}

}  // namespace cairn::cli
