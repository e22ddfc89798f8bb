// Ingest driver for a plain folder: Cairn bags it on the fly without writing
// anything into it. Every file becomes payload data/<rel>, read once (hashed
// with sha256 plus the policy's algorithms while written to the first site);
// the tag files are generated in memory afterwards and run through a
// BagChecker with the payload digests, so a folder deposit is checked by the
// same rules (and profile) as a bag.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <span>

#include "bagit/dir_list.h"
#include "bagit/paths.h"
#include "bagit/source_tree.h"
#include "repo/deposit/deposit_source.h"
#include "repo/deposit/deposit_stage.h"

namespace cairn::repo::deposit_internal {
namespace {

using bagit::Algorithm;

struct SourceFile {
  std::string rel;  // below the folder: "a/b.txt"
};

// Files are stored in batches of this many as the walk finds them, so the
// walk holds one batch and one folder's listing, never the whole tree.

// Walks every file below `root` (each folder sorted), calling `store` with
// batches of regular files; anything else that is not a folder is reported by
// name and not read. Once the report has an error the walk goes on (to name
// every bad file) but stores nothing more. The folders that hold nothing (the
// deepest empty ones: a folder holding only an empty folder holds something)
// go to `empty_folders` as payload paths, "data/<rel>", sorted; past
// bagit::kMaxEmptyFolders none are kept, and the report says so. A folder that holds no file at
// all is refused (source.empty) unless `allow_empty`: the mount point of a share that was not
// mounted would otherwise become the object's latest version, with nothing in it.
Status Walk(const std::string& root, bool allow_empty, bagit::Report* report,
            std::vector<std::string>* empty_folders,
            const std::function<Status(std::vector<SourceFile>&)>& store) {
  empty_folders->clear();
  uint64_t empty_count = 0;
  uint64_t files = 0;
  std::vector<SourceFile> batch;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    std::string abs_dir = dir.empty() ? root : root + "/" + dir;
    // Each name's type as the folder records it: a file needs no lstat (the
    // stager opens it without following a link and refuses what is not a
    // regular file by then).
    Result<std::vector<bagit::DirEntry>> entries = bagit::ListDirSortedTyped(abs_dir);
    if (!entries.ok()) {
      report->Error(dir, "source.unreadable", entries.status().message());
      continue;
    }
    if (entries->empty() && !dir.empty()) {
      // Kept with the version: the bag made of the folder lists files only. Its name was
      // checked as UTF-8 when its parent was listed; the path rules are a file's.
      if (std::optional<bagit::PathViolation> v = bagit::FindPathViolation("data/" + dir)) {
        report->Error(dir, v->rule, "this folder name cannot be a bag path: " + v->message);
      } else if (++empty_count <= bagit::kMaxEmptyFolders) {
        empty_folders->push_back("data/" + dir);
      }
    }
    for (const bagit::DirEntry& entry : *entries) {
      const std::string& name = entry.name;
      std::string rel = dir.empty() ? name : dir + "/" + name;
      struct stat st;
      st.st_mode = entry.type == DT_REG   ? S_IFREG
                   : entry.type == DT_DIR ? S_IFDIR
                   : entry.type == DT_LNK ? S_IFLNK
                                          : S_IFIFO;  // some other kind: named below
      if (!bagit::IsValidUtf8(name)) {
        // Refused here, by name: otherwise the manifest Cairn writes would
        // hold bytes that are not UTF-8 and the bag would fail its own check.
        report->Error(rel, "source.name-not-utf8",
                      "this file or folder name is not valid UTF-8 (a bag's manifests are "
                      "UTF-8): rename it, e.g. with convmv, and deposit again");
      } else if (bagit::PathTooLong(root.size() + 1 + rel.size())) {
        // Named by its own rule: the system's ENAMETOOLONG read as "unreadable", as if a
        // permission were missing.
        report->Error(rel, bagit::kPathTooLongRule,
                      bagit::PathTooLongMessage(root.size() + 1 + rel.size()));
      } else if (entry.type == DT_UNKNOWN && lstat((root + "/" + rel).c_str(), &st) != 0) {
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
        ++files;
        if (!report->valid()) continue;  // named every bad file; stores nothing more
        batch.push_back(SourceFile{rel});
        if (batch.size() >= kStoreBatchFiles) CAIRN_RETURN_IF_ERROR(store(batch));
      }
    }
  }
  if (!batch.empty() && report->valid()) CAIRN_RETURN_IF_ERROR(store(batch));
  if (files == 0 && report->valid() && !allow_empty) {
    report->Error("", "source.empty",
                  root +
                      " holds no file, so there is nothing to preserve (a share not mounted?); "
                      "if an empty version is meant, deposit it with --allow-empty");
  }
  if (empty_count > bagit::kMaxEmptyFolders) {
    report->Warning("", "source.empty-folders-not-kept",
                    std::to_string(empty_count) + " empty folders: more than the " +
                        std::to_string(bagit::kMaxEmptyFolders) +
                        " a version keeps, so none is kept (put a file in those to keep)");
    empty_folders->clear();
  }
  std::sort(empty_folders->begin(), empty_folders->end());
  return Status::OK();
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
  // The digests of the other algorithms go to the scratch with each file.
  bagit::AlgorithmSet kept = algorithms & ~bagit::Only(Algorithm::kSha256);
  PayloadStager stager(target, ingest);
  // Small files on a site that commits in batches: staged by the workers, then
  // committed together (the disk waited for twice per batch, not per file).
  // A batch commits on its own thread while the workers stage the next: its
  // waits for the disk and its names cost the walk nothing. One batch commits
  // at a time, in order, and every one is joined before this returns.
  const bool batched = target.first->capabilities().batch_commit;
  const size_t per_commit = batched ? Site::BlobBatchLimit() : kStoreBatchFiles;
  BatchPipeline pipeline(&stager, target.first, target.threads, kept);
  uint64_t path_bytes = 0;  // of the files walked: the manifests' size follows
  std::vector<std::string> empty_folders;
  Status walked =
      Walk(root, bagging.allow_empty, &ingest->report, &empty_folders,
           [&](std::vector<SourceFile>& batch) {
             for (const SourceFile& file : batch) path_bytes += file.rel.size();
             for (size_t start = 0; start < batch.size(); start += per_commit) {
               const size_t count = std::min(per_commit, batch.size() - start);
               std::vector<PayloadStager::BatchItem> held(count);
               Status s = RunPool(count, target.threads, [&](size_t j) -> Status {
                 const SourceFile& file = batch[start + j];
                 // Hashed first: an unchanged or shared file (its blob stored) is not written
                 // again.
                 Result<PayloadStager::Staged> staged =
                     stager.StageLocalFile(root + "/" + file.rel, algorithms);
                 if (!staged.ok()) {
                   if (stager.IsSiteError(staged.status())) return staged.status();
                   std::lock_guard<std::mutex> lock(ingest->mu);
                   ingest->report.Error(file.rel, "source.unreadable", staged.status().message());
                   return Status::OK();
                 }
                 if (batched && staged->size <= kBatchCommitMaxBytes) {
                   held[j] = {"data/" + file.rel, std::move(staged).value(), true};
                   return Status::OK();
                 }
                 return stager.Commit("data/" + file.rel, &*staged, kept);
               });
               if (!s.ok()) {
                 for (PayloadStager::BatchItem& item : held) PayloadStager::Discard(&item.staged);
                 batch.clear();
                 return s;
               }
               s = pipeline.Commit(std::move(held));
               if (!s.ok()) {
                 batch.clear();
                 return s;
               }
             }
             batch.clear();
             return Status::OK();
           });
  Status finished = pipeline.Finish();
  CAIRN_RETURN_IF_ERROR(walked);
  CAIRN_RETURN_IF_ERROR(finished);
  if (!ingest->report.valid()) return Status::OK();

  // Each manifest line: "<digest>  data/<path>\n", the path as the index
  // holds it (decoded: percent-encoding a name does not grow the index).
  uint64_t manifest_bytes = 0;
  for (Algorithm a : list) {
    manifest_bytes += ingest->file_count * (bagit::HexLength(a) + 8) + path_bytes;
  }
  CAIRN_RETURN_IF_ERROR(ChooseManifestIndex(manifest_bytes, target, ingest));

  // bagit.txt, bag-info.txt and the manifests, then the tag manifests listing
  // them: each read once by the checker while it is staged on the site.
  bagit::ValidateOptions options;
  options.profile = target.profile;
  options.refuse_normalization_twins = true;
  bagit::BagChecker checker(options, &ingest->report, ingest->contents.get());
  checker.SetTagAlgorithms(algorithms);
  std::vector<std::pair<std::string, bagit::Digests>> listed;
  // A generated tag file held in memory (all but the manifests are small);
  // `listed`: a tag manifest lists it.
  auto stage_bytes = [&](std::string name, std::string bytes, bool list_it) -> Status {
    StagedTagFile& tag = ingest->tags.emplace_back();
    tag.name = name;
    tag.size = bytes.size();
    bagit::Digests digests = bagit::HashBytes(bytes, algorithms);
    tag.sha256 = digests[Algorithm::kSha256];
    tag.bytes = std::move(bytes);
    if (list_it) listed.emplace_back(std::move(name), std::move(digests));
    return checker.TagFile(tag.name, MemorySource(&*tag.bytes));
  };
  CAIRN_RETURN_IF_ERROR(
      stage_bytes("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", true));
  CAIRN_RETURN_IF_ERROR(stage_bytes("bag-info.txt",
                                    "Bag-Software-Agent: " + bagging.agent +
                                        "\nBagging-Date: " + bagging.bagging_date +
                                        "\nPayload-Oxum: " + std::to_string(ingest->payload_bytes) +
                                        "." + std::to_string(ingest->file_count) + "\n" + bag_info,
                                    true));
  for (Algorithm a : list) {
    std::string name = "manifest-" + std::string(bagit::AlgorithmName(a)) + ".txt";
    CAIRN_ASSIGN_OR_RETURN(
        bagit::ByteSource teed,
        StageTagFile(target, ingest, name, ManifestSource(ingest->scratch.get(), a, kept)));
    bagit::MultiHasher hasher(algorithms);
    CAIRN_RETURN_IF_ERROR(checker.TagFile(name, [&](const bagit::ChunkSink& sink) {
      return teed([&](std::span<const std::byte> chunk) {
        hasher.Update(chunk);
        return sink(chunk);
      });
    }));
    listed.emplace_back(std::move(name), hasher.Finish());
  }
  for (Algorithm a : list) {
    std::string text;
    for (const auto& [name, digests] : listed) text += digests[a] + "  " + name + "\n";
    CAIRN_RETURN_IF_ERROR(
        stage_bytes("tagmanifest-" + std::string(bagit::AlgorithmName(a)) + ".txt", text, false));
  }
  CAIRN_RETURN_IF_ERROR(ingest->scratch->ForEachFile([&](const IngestedFile& f) -> Status {
    bagit::Digests digests;
    for (Algorithm a : list) digests[a] = std::string(DigestOf(f, a, kept));
    checker.PayloadFile(f.path, f.size, &digests);
    return Status::OK();
  }));
  checker.Finish(true);
  ingest->contents->empty_folders = std::move(empty_folders);  // the checker saw no folder
  return Status::OK();
}

}  // namespace cairn::repo::deposit_internal

namespace cairn::repo {

bagit::Report CheckSourceFolder(const std::string& dir, bool allow_empty) {
  bagit::Report report;
  report.bag = dir;
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::vector<std::string> empty_folders;
  Status walked = deposit_internal::Walk(
      root, allow_empty, &report, &empty_folders,
      [](std::vector<deposit_internal::SourceFile>&) { return Status::OK(); });
  if (!walked.ok()) report.Error("", "source.unreadable", walked.message());
  return report;
}

}  // namespace cairn::repo
