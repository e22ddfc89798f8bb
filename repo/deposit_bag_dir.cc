// Ingest driver for a bag folder: a BagChecker is driven over the folder as
// the validator does (tag files first, bagit.txt before the rest, then the
// payload), but every byte read also goes to the first site: tag files are
// teed into writers, and each payload file is read ONCE, hashed with the
// manifest algorithms plus sha256 while appended to a blob writer, and its
// blob committed only when every manifest listing it agrees.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "bagit/dir_list.h"
#include "bagit/paths.h"
#include "bagit/tag_files.h"
#include "repo/deposit_stage.h"

namespace cairn::repo::deposit_internal {
namespace {

using bagit::Algorithm;

// Payload files stored per batch of the walk.

class BagDirIngest {
 public:
  BagDirIngest(std::string root, const IngestTarget& target, Ingest* ingest)
      : root_(std::move(root)),
        target_(target),
        ingest_(ingest),
        stager_(target, ingest),
        checker_(Options(target), &ingest->report, ingest->contents.get()) {}

  Status Run(const std::vector<std::string>& top) {
    bagit::AlgorithmSet tag_algorithms = bagit::Only(Algorithm::kSha256);
    for (const std::string& name : top) {
      std::optional<Algorithm> a;
      if (bagit::ClassifyTagFile(name, &a) == bagit::TagKind::kTagManifest && a) {
        tag_algorithms |= bagit::Only(*a);
      }
    }
    checker_.SetTagAlgorithms(tag_algorithms);
    struct stat st;
    if (lstat((root_ + "/bagit.txt").c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(TagFile("bagit.txt"));
    } else {
      checker_.BagitTxtMissing();
    }
    for (const std::string& name : top) {
      if (name == "data" || name == "bagit.txt") continue;
      CAIRN_RETURN_IF_ERROR(TagEntry(name));
    }
    bool data_present = lstat((root_ + "/data").c_str(), &st) == 0;
    if (data_present && S_ISDIR(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(Payload());
    } else if (data_present) {
      checker_.Refuse("data", "bag.data-not-directory", "data must be a directory");
    }
    checker_.Finish(data_present);
    return Status::OK();
  }

 private:
  static bagit::ValidateOptions Options(const IngestTarget& target) {
    bagit::ValidateOptions options;
    options.mode = bagit::ValidationMode::kFull;
    options.threads = target.threads;
    options.profile = target.profile;
    return options;
  }

  Status TagFile(const std::string& rel) {
    CAIRN_ASSIGN_OR_RETURN(bagit::ByteSource source,
                           StageTagFile(target_, ingest_, rel, LocalFileSource(root_ + "/" + rel)));
    Status s = checker_.TagFile(rel, source);
    if (IsSiteErrorOf(target_, s)) return s;  // the site failed, not the bag
    if (!s.ok()) ingest_->report.Error(rel, "tag.unreadable", s.message());
    return Status::OK();
  }

  Status TagEntry(const std::string& rel) {
    struct stat st;
    if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
      ingest_->report.Error(rel, "tag.unreadable",
                            Status::FromErrno(errno, "lstat", root_ + "/" + rel).message());
      return Status::OK();
    }
    if (S_ISREG(st.st_mode)) return TagFile(rel);
    if (!S_ISDIR(st.st_mode)) {
      checker_.Refuse(
          rel, S_ISLNK(st.st_mode) ? "tag.symlink" : "tag.special-file",
          "tag files must be regular files; this is a " + bagit::SpecialFileKind(st.st_mode));
      return Status::OK();
    }
    Result<std::vector<std::string>> names = bagit::ListDirSorted(root_ + "/" + rel);
    if (!names.ok()) {
      ingest_->report.Error(rel, "tag.unreadable", names.status().message());
      return Status::OK();
    }
    for (const std::string& name : *names) CAIRN_RETURN_IF_ERROR(TagEntry(rel + "/" + name));
    return Status::OK();
  }

  // Walks data/ (lstat: never follows a link) and stores the files it finds
  // on the pool in batches: the walk holds one batch and one folder's
  // listing, never the whole tree.
  Status Payload() {
    std::vector<std::string> files;
    auto store = [&]() -> Status {
      Status s =
          RunPool(files.size(), target_.threads, [&](size_t i) { return StoreFile(files[i]); });
      files.clear();
      return s;
    };
    std::vector<std::string> pending = {"data"};
    while (!pending.empty()) {
      std::string dir = std::move(pending.back());
      pending.pop_back();
      Result<std::vector<std::string>> names = bagit::ListDirSorted(root_ + "/" + dir);
      if (!names.ok()) {
        checker_.Refuse(dir, "payload.unreadable", names.status().message());
        continue;
      }
      for (const std::string& name : *names) {
        std::string rel = dir + "/" + name;
        struct stat st;
        if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
          checker_.Refuse(rel, "payload.unreadable",
                          Status::FromErrno(errno, "lstat", rel).message());
        } else if (S_ISDIR(st.st_mode)) {
          checker_.PayloadDirectory(rel);
          pending.push_back(rel);
        } else if (!S_ISREG(st.st_mode)) {
          checker_.Refuse(
              rel, S_ISLNK(st.st_mode) ? "payload.symlink" : "payload.special-file",
              "payload must be regular files; this is a " + bagit::SpecialFileKind(st.st_mode));
        } else {
          files.push_back(std::move(rel));
          if (files.size() >= kStoreBatchFiles) CAIRN_RETURN_IF_ERROR(store());
        }
      }
    }
    return store();
  }

  // Reads one payload file once into the site; a non-OK Status stops the deposit.
  Status StoreFile(const std::string& rel) {
    const bagit::ManifestIndex& index = *ingest_->contents->manifests;
    std::optional<bagit::ManifestIndex::EntryId> id = index.Find(rel);
    bagit::AlgorithmSet algorithms = checker_.PayloadAlgorithms();
    // Hashed first: a file whose blob is stored (unchanged, shared) is not written again.
    Result<PayloadStager::Staged> staged = stager_.StageLocalFile(root_ + "/" + rel, algorithms);
    if (!staged.ok()) {
      if (stager_.IsSiteError(staged.status())) return staged.status();
      checker_.Refuse(rel, "payload.unreadable", staged.status().message());
      return Status::OK();
    }
    if (id && index.Mismatches(*id, staged->digests).empty()) {
      CAIRN_RETURN_IF_ERROR(stager_.Commit(rel, &*staged));
    } else {
      PayloadStager::Discard(&*staged);  // the checker names what is wrong with it
    }
    checker_.PayloadFile(rel, staged->size, &staged->digests);
    return Status::OK();
  }

  std::string root_;
  const IngestTarget& target_;
  Ingest* ingest_;
  PayloadStager stager_;
  bagit::BagChecker checker_;
};

}  // namespace

Status IngestBagDirectory(const std::string& dir, const IngestTarget& target, Ingest* ingest) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  ingest->kind = "bag";
  ingest->report.bag = dir;
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> top, bagit::ListDirSorted(root));
  BagDirIngest run(root, target, ingest);
  return run.Run(top);
}

}  // namespace cairn::repo::deposit_internal
