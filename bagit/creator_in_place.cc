// Bagging a folder where it is (--in-place). Order, so that a failure leaves the
// folder as it was: walk; hash every file where it lies (in parallel, largest
// first); write every tag file into a scratch folder inside SRC; move SRC's
// entries into scratch/data (undone on failure); rename scratch/data to
// SRC/data; rename the tag files up, bagit.txt last, so SRC only claims to be a
// bag once everything else is in place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <numeric>

#include "bagit/creator_internal.h"

namespace cairn::bagit::internal {
namespace {

std::string TrimSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Hashes every file of `tree` where it lies; fills `manifests` and adds the
// bytes read to `*bytes` (the Payload-Oxum is made from what was hashed).
Status HashInPlace(const std::string& src, const SourceTree& tree,
                   const std::vector<Algorithm>& algorithms, unsigned threads,
                   ManifestFiles* manifests, uint64_t* bytes) {
  std::vector<size_t> order(tree.files.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tree.files[a].size > tree.files[b].size; });
  std::mutex mu;
  Status first_error;
  {
    ParallelHasher hasher(ToSet(algorithms), threads,
                          [&](const std::string& path, Result<FileDigests> r) {
                            Status s = r.status();
                            if (s.ok())
                              s = manifests->Add("data/" + path.substr(src.size() + 1), r->digests);
                            std::lock_guard lock(mu);
                            if (s.ok()) *bytes += r->size;
                            if (!s.ok() && first_error.ok()) first_error = s;
                          });
    for (size_t i : order) hasher.Submit(tree.files[i].open);
  }
  return first_error;
}

struct Move {
  std::string from;
  std::string to;
};

// Renames each move in order; on failure renames back those already done.
Status MoveAll(const std::vector<Move>& moves) {
  for (size_t i = 0; i < moves.size(); ++i) {
    if (::rename(moves[i].from.c_str(), moves[i].to.c_str()) != 0) {
      Status s = Status::FromErrno(errno, "move " + moves[i].from + " to", moves[i].to);
      for (size_t k = i; k-- > 0;) ::rename(moves[k].to.c_str(), moves[k].from.c_str());
      return s;
    }
  }
  return Status::OK();
}

}  // namespace

Result<CreatedBag> CreateBagInPlace(const std::string& src_arg,
                                    const std::vector<Algorithm>& algorithms,
                                    const CreateOptions& options) {
  const std::string src = TrimSlashes(src_arg);
  CAIRN_ASSIGN_OR_RETURN(SourceTree tree, ScanSource(src, /*follow_symlinks=*/false));
  // Checks the bag-info fields before anything is written; the real text is
  // made after hashing, from the bytes actually read.
  CAIRN_RETURN_IF_ERROR(BagInfoTxt(options, tree.files.size(), tree.bytes).status());
  std::string scratch = src + "/.cairn-bagging-XXXXXX";
  if (::mkdtemp(scratch.data()) == nullptr) {
    return Status::FromErrno(errno, "create folder", scratch);
  }
  ::chmod(scratch.c_str(), 0755);
  auto fail = [&](Status s) {
    RemoveTree(scratch);
    return s;
  };

  CreatedBag bag;
  uint64_t tree_bytes = 0;
  {
    Result<std::unique_ptr<ManifestFiles>> manifests = ManifestFiles::Create(scratch, algorithms);
    if (!manifests.ok()) return fail(manifests.status());
    uint64_t bytes = 0;
    Status s = HashInPlace(src, tree, algorithms, options.threads, manifests->get(), &bytes);
    if (s.ok()) s = (*manifests)->Close();
    if (s.ok()) s = WriteNewFile(scratch + "/bagit.txt", BagitTxt());
    if (s.ok()) {
      Result<std::string> bag_info = BagInfoTxt(options, tree.files.size(), bytes);
      s = bag_info.ok() ? WriteNewFile(scratch + "/bag-info.txt", *bag_info) : bag_info.status();
    }
    tree_bytes = bytes;
    if (!s.ok()) return fail(s);
    std::vector<std::string> listed = {"bagit.txt", "bag-info.txt"};
    for (const std::string& name : (*manifests)->Names()) listed.push_back(name);
    Result<std::vector<CreatedBag::TagFile>> tags = WriteTagManifests(scratch, listed, algorithms);
    if (!tags.ok()) return fail(tags.status());
    bag.tag_files = std::move(tags).value();
  }

  // Every top-level entry of SRC (as walked) moves into scratch/data.
  const std::string staged_data = scratch + "/data";
  if (::mkdir(staged_data.c_str(), 0755) != 0) {
    return fail(Status::FromErrno(errno, "create folder", staged_data));
  }
  std::vector<Move> moves;
  auto add_top_level = [&](const SourceEntry& e) {
    if (e.rel.find('/') == std::string::npos) {
      moves.push_back({src + "/" + e.rel, staged_data + "/" + e.rel});
    }
  };
  for (const SourceEntry& d : tree.dirs) add_top_level(d);
  for (const SourceEntry& f : tree.files) add_top_level(f);
  moves.push_back({staged_data, src + "/data"});
  if (Status s = MoveAll(moves); !s.ok()) return fail(s);

  // The tag files, bagit.txt last. Plain renames within one folder: if one
  // fails, the payload is already in SRC/data and the error says so.
  std::vector<std::string> order;
  for (const CreatedBag::TagFile& t : bag.tag_files) {
    if (t.name != "bagit.txt") order.push_back(t.name);
  }
  order.push_back("bagit.txt");
  for (const std::string& name : order) {
    std::string from = scratch + "/" + name, to = src + "/" + name;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(errno,
                               "move tag file into place (the payload is already in " + src +
                                   "/data; the tag files are in " + scratch + ")",
                               to);
    }
  }
  ::rmdir(scratch.c_str());
  CAIRN_RETURN_IF_ERROR(SyncDirectory(src));
  bag.path = src;
  bag.format = BagFormat::kDirectory;
  bag.payload_files = tree.files.size();
  bag.payload_bytes = tree_bytes;
  bag.algorithms = algorithms;
  return bag;
}

}  // namespace cairn::bagit::internal
