// Ingest driver for a plain folder: Cairn bags it on the fly without writing
// anything into it. Every file becomes payload data/<rel>, read once (hashed
// with sha256 plus the policy's algorithms while written to the first site);
// the tag files are generated in memory afterwards and run through a
// BagChecker with the payload digests, so a folder deposit is checked by the
// same rules (and profile) as a bag.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <numeric>

#include "bagit/dir_list.h"
#include "bagit/paths.h"
#include "repo/deposit_stage.h"

namespace cairn::repo::deposit_internal {
namespace {

using bagit::Algorithm;

struct SourceFile {
  std::string rel;  // below the folder: "a/b.txt"
  uint64_t size = 0;
};

// Lists every regular file below `root` (sorted per folder); anything else
// that is not a folder is reported by name and not read.
void Walk(const std::string& root, std::vector<SourceFile>* files, bagit::Report* report) {
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    std::string abs_dir = dir.empty() ? root : root + "/" + dir;
    Result<std::vector<std::string>> names = bagit::ListDirSorted(abs_dir);
    if (!names.ok()) {
      report->Error(dir, "source.unreadable", names.status().message());
      continue;
    }
    for (const std::string& name : *names) {
      std::string rel = dir.empty() ? name : dir + "/" + name;
      struct stat st;
      if (lstat((root + "/" + rel).c_str(), &st) != 0) {
        report->Error(rel, "source.unreadable",
                      Status::FromErrno(errno, "lstat", root + "/" + rel).message());
      } else if (S_ISDIR(st.st_mode)) {
        pending.push_back(rel);
      } else if (S_ISLNK(st.st_mode)) {
        report->Error(rel, "source.symlink",
                      "symbolic links are not deposited; replace it by the file it points to");
      } else if (!S_ISREG(st.st_mode)) {
        report->Error(rel, "source.special-file",
                      "only regular files can be deposited (this is a device, fifo or socket)");
      } else if (std::optional<bagit::PathViolation> v = bagit::FindPathViolation("data/" + rel)) {
        report->Error(rel, v->rule, "this file name cannot be a bag path: " + v->message);
      } else {
        files->push_back(SourceFile{rel, static_cast<uint64_t>(st.st_size)});
      }
    }
  }
}

// The manifest text of one algorithm: "digest  data/path" in path order.
std::string Manifest(const std::vector<SourceFile>& files, const std::vector<std::string>& hex,
                     const std::vector<size_t>& order) {
  std::string text;
  for (size_t i : order) {
    text += hex[i];
    text += "  ";
    text += bagit::EncodeManifestPath("data/" + files[i].rel);
    text += '\n';
  }
  return text;
}

}  // namespace

Status IngestFolder(const std::string& dir, const FolderBagging& bagging,
                    const IngestTarget& target, Ingest* ingest) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  ingest->kind = "folder";
  ingest->report.bag = dir;
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return Status::FromErrno(errno, "open folder", root);

  std::vector<SourceFile> files;
  Walk(root, &files, &ingest->report);
  std::string bag_info;
  for (const std::string& line : bagging.info) {
    size_t colon = line.find(':');
    std::string label = colon == std::string::npos ? "" : line.substr(0, colon);
    if (label.empty() || label.find_first_of(" \t\r\n") != std::string::npos ||
        line.find_first_of("\r\n") != std::string::npos) {
      ingest->report.Error("bag-info.txt", "info.malformed",
                           "--info '" + bagit::Printable(line) + "' is not \"Label: value\"");
    } else if (label == "Payload-Oxum" || label == "Bag-Software-Agent") {
      ingest->report.Error("bag-info.txt", "info.reserved", label + " is written by Cairn");
    } else {
      std::string value = line.substr(colon + 1);
      size_t start = value.find_first_not_of(" \t");
      bag_info += label + ": " + (start == std::string::npos ? "" : value.substr(start)) + "\n";
    }
  }
  if (!ingest->report.valid()) return Status::OK();  // refused before reading a byte

  bagit::AlgorithmSet algorithms = bagging.algorithms | bagit::Only(Algorithm::kSha256);
  std::vector<Algorithm> list;
  for (size_t a = 0; a < bagit::kAlgorithmCount; ++a) {
    if (algorithms.test(a)) list.push_back(static_cast<Algorithm>(a));
  }
  // hex[k][i]: file i's digest with list[k]; only the algorithms in use, so a
  // deposit of 200,000 files keeps a few hundred bytes per file, not a Digests each.
  std::vector<std::vector<std::string>> hex(list.size(), std::vector<std::string>(files.size()));
  PayloadStager stager(target, ingest);
  CAIRN_RETURN_IF_ERROR(RunPool(files.size(), target.threads, [&](size_t i) -> Status {
    std::string path = "data/" + files[i].rel;
    // Hashed first: an unchanged or shared file (its blob stored) is not written again.
    Result<PayloadStager::Staged> staged =
        stager.StageLocalFile(root + "/" + files[i].rel, algorithms);
    if (!staged.ok()) {
      if (stager.IsSiteError(staged.status())) return staged.status();
      std::lock_guard<std::mutex> lock(ingest->mu);
      ingest->report.Error(files[i].rel, "source.unreadable", staged.status().message());
      return Status::OK();
    }
    CAIRN_RETURN_IF_ERROR(stager.Commit(path, &*staged));
    files[i].size = staged->size;
    for (size_t k = 0; k < list.size(); ++k) hex[k][i] = std::move(staged->digests[list[k]]);
    return Status::OK();
  }));
  if (!ingest->report.valid()) return Status::OK();

  uint64_t total = 0;
  for (const SourceFile& f : files) total += f.size;
  std::vector<size_t> order(files.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return files[a].rel < files[b].rel; });

  std::vector<std::pair<std::string, std::string>> tags;
  tags.emplace_back("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  tags.emplace_back("bag-info.txt", "Bag-Software-Agent: " + bagging.agent +
                                        "\nBagging-Date: " + bagging.bagging_date +
                                        "\nPayload-Oxum: " + std::to_string(total) + "." +
                                        std::to_string(files.size()) + "\n" + bag_info);
  for (size_t k = 0; k < list.size(); ++k) {
    tags.emplace_back("manifest-" + std::string(bagit::AlgorithmName(list[k])) + ".txt",
                      Manifest(files, hex[k], order));
  }
  size_t listed = tags.size();
  for (Algorithm a : list) {
    std::string text;
    for (size_t t = 0; t < listed; ++t) {
      text += bagit::HashBytes(tags[t].second, bagit::Only(a))[a] + "  " + tags[t].first + "\n";
    }
    tags.emplace_back("tagmanifest-" + std::string(bagit::AlgorithmName(a)) + ".txt", text);
  }

  bagit::ValidateOptions options;
  options.profile = target.profile;
  bagit::BagChecker checker(options, &ingest->report, ingest->contents.get());
  checker.SetTagAlgorithms(algorithms);
  for (auto& [name, bytes] : tags) {
    StagedTagFile& tag = ingest->tags.emplace_back();
    tag.name = name;
    tag.size = bytes.size();
    tag.sha256 = bagit::HashBytes(bytes, bagit::Only(Algorithm::kSha256))[Algorithm::kSha256];
    tag.bytes = std::move(bytes);
    CAIRN_RETURN_IF_ERROR(checker.TagFile(name, MemorySource(&*tag.bytes)));
  }
  bagit::Digests digests;
  for (size_t i : order) {
    for (size_t k = 0; k < list.size(); ++k) digests[list[k]] = std::move(hex[k][i]);
    checker.PayloadFile("data/" + files[i].rel, files[i].size, &digests);
  }
  checker.Finish(true);
  return Status::OK();
}

}  // namespace cairn::repo::deposit_internal
