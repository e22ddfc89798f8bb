// CreateBag: checks, the walk of SRC, and the directory bag, built in a sibling
// scratch folder by worker threads that each copy and hash whole files (largest
// first, so one big file never runs alone at the end), then renamed into place.
#include "bagit/creator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <thread>

#include "bagit/creator_internal.h"
#include "bagit/fd_io.h"
#include "bagit/source_tree.h"

namespace cairn::bagit {
namespace {

using internal::ManifestFiles;

// Copies one file into `dest_path`, hashing it on the way; keeps its mode and mtime.
Status CopyOneFile(const SourceEntry& entry, const std::string& dest_path,
                   std::span<std::byte> buffer, MultiHasher* hasher) {
  int out = ::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                   (entry.mode & 0777) | S_IRUSR | S_IWUSR);
  if (out < 0) return Status::FromErrno(errno, "create", dest_path);
  Status s = StreamSourceFile(entry, buffer, hasher, [&](std::span<const std::byte> chunk) {
    int err = WriteFull(out, chunk);
    return err ? Status::FromErrno(err, "write", dest_path) : Status::OK();
  });
  if (s.ok()) {
    struct timespec times[2] = {entry.mtime, entry.mtime};
    ::futimens(out, times);
  }
  if (::close(out) != 0 && s.ok()) s = Status::FromErrno(errno, "close", dest_path);
  return s;
}

// Copies and hashes every file of `tree` into `bag`/data on `threads` workers.
Status CopyPayload(const SourceTree& tree, const std::string& bag, AlgorithmSet algorithms,
                   unsigned threads, ManifestFiles* manifests) {
  std::vector<size_t> order(tree.files.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tree.files[a].size > tree.files[b].size; });
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(1, order.size())));

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto work = [&] {
    std::byte* raw = static_cast<std::byte*>(std::aligned_alloc(4096, kReadChunk));
    std::span<std::byte> buffer(raw, kReadChunk);
    MultiHasher hasher(algorithms);
    Status s;
    while (s.ok() && !failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= order.size()) break;
      const SourceEntry& entry = tree.files[order[i]];
      std::string rel = "data/" + entry.rel;
      s = CopyOneFile(entry, bag + "/" + rel, buffer, &hasher);
      Digests digests = hasher.Finish();
      if (s.ok()) s = manifests->Add(rel, digests);
    }
    std::free(raw);
    if (!s.ok()) {
      std::lock_guard lock(error_mu);
      if (first_error.ok()) first_error = s;
      failed = true;
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  return first_error;
}

Result<CreatedBag> BuildDirectoryBag(const SourceTree& tree, const std::string& bag,
                                     const std::string& bag_info,
                                     const std::vector<Algorithm>& algorithms,
                                     const CreateOptions& options) {
  CAIRN_RETURN_IF_ERROR(internal::WriteNewFile(bag + "/bagit.txt", BagitTxt()));
  CAIRN_RETURN_IF_ERROR(internal::WriteNewFile(bag + "/bag-info.txt", bag_info));
  std::string data = bag + "/data";
  if (::mkdir(data.c_str(), 0755) != 0) return Status::FromErrno(errno, "create folder", data);
  for (const SourceEntry& dir : tree.dirs) {
    std::string path = data + "/" + dir.rel;
    if (::mkdir(path.c_str(), (dir.mode & 0777) | S_IRWXU) != 0) {
      return Status::FromErrno(errno, "create folder", path);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ManifestFiles> manifests,
                         ManifestFiles::Create(bag, algorithms));
  CAIRN_RETURN_IF_ERROR(
      CopyPayload(tree, bag, internal::ToSet(algorithms), options.threads, manifests.get()));
  CAIRN_RETURN_IF_ERROR(manifests->Close());
  std::vector<std::string> listed = {"bagit.txt", "bag-info.txt"};
  for (const std::string& name : manifests->Names()) listed.push_back(name);
  CreatedBag result;
  CAIRN_ASSIGN_OR_RETURN(result.tag_files, internal::WriteTagManifests(bag, listed, algorithms));
  // One flush of the whole file system instead of an fsync per payload file.
  int fd = ::open(bag.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open folder", bag);
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "sync", bag);
  return result;
}

// OK if a new bag may be made at `dest`: nothing there (or, for a directory
// bag, an empty folder, which the final rename replaces), and not inside `src`.
Status CheckDestination(const std::string& src, const std::string& dest, BagFormat format) {
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) {
    bool is_empty = false;
    if (S_ISDIR(st.st_mode) && format == BagFormat::kDirectory) {
      boost::system::error_code ec;
      is_empty = boost::filesystem::is_empty(dest, ec) && !ec;
    }
    if (!is_empty) {
      return Status::AlreadyExists(
          "destination " + dest + " already exists (a new bag needs a new name" +
          (format == BagFormat::kDirectory ? " or an empty folder)" : ")"));
    }
  } else if (errno != ENOENT) {
    return Status::FromErrno(errno, "destination", dest);
  }
  std::string parent = internal::ParentOf(dest);
  char* real_parent = ::realpath(parent.c_str(), nullptr);
  if (real_parent == nullptr) return Status::FromErrno(errno, "destination folder", parent);
  std::string rp(real_parent);
  std::free(real_parent);
  char* real_src = ::realpath(src.c_str(), nullptr);
  if (real_src == nullptr) return Status::FromErrno(errno, "source folder", src);
  std::string rs(real_src);
  std::free(real_src);
  if (rp == rs || (rp.size() > rs.size() && rp.compare(0, rs.size(), rs) == 0 &&
                   (rs == "/" || rp[rs.size()] == '/'))) {
    return Status::InvalidArgument("destination " + dest + " is inside the source folder " + src +
                                   " (use --in-place to bag a folder where it is)");
  }
  return Status::OK();
}

}  // namespace

Result<CreatedBag> CreateBag(const std::string& src, const std::string& dest,
                             const CreateOptions& options) {
  const std::vector<Algorithm> algorithms = BagAlgorithms(options.algorithms);
  for (const InfoField& f : options.info) CAIRN_RETURN_IF_ERROR(CheckInfoField(f));
  if (options.in_place) {
    if (options.format != BagFormat::kDirectory) {
      return Status::InvalidArgument(
          "--in-place makes a directory bag: it cannot be used with --format " +
          std::string(BagFormatName(options.format)));
    }
    if (options.follow_symlinks) {
      return Status::InvalidArgument(
          "--in-place cannot be used with --follow-symlinks (moving links into data/ would break "
          "them)");
    }
    return internal::CreateBagInPlace(src, algorithms, options);
  }
  if (dest.empty()) return Status::InvalidArgument("no destination given");
  CAIRN_RETURN_IF_ERROR(CheckDestination(src, dest, options.format));
  CAIRN_ASSIGN_OR_RETURN(SourceTree tree, ScanSource(src, options.follow_symlinks));
  CAIRN_ASSIGN_OR_RETURN(std::string bag_info, BagInfoTxt(options, tree.files.size(), tree.bytes));
  if (options.format != BagFormat::kDirectory) {
    return internal::CreateArchiveBag(tree, dest, bag_info, algorithms, options);
  }

  CAIRN_ASSIGN_OR_RETURN(std::string scratch, internal::MakeScratchFolder(dest));
  Result<CreatedBag> built = BuildDirectoryBag(tree, scratch, bag_info, algorithms, options);
  if (!built.ok()) {
    internal::RemoveTree(scratch);
    return built.status();
  }
  // rename(2) replaces an empty folder atomically; anything else fails (EEXIST/ENOTEMPTY).
  if (::rename(scratch.c_str(), dest.c_str()) != 0) {
    Status s = Status::FromErrno(errno, "rename bag to", dest);
    internal::RemoveTree(scratch);
    return s;
  }
  CAIRN_RETURN_IF_ERROR(internal::SyncDirectory(internal::ParentOf(dest)));
  CreatedBag bag = std::move(built).value();
  bag.path = dest;
  bag.format = BagFormat::kDirectory;
  bag.payload_files = tree.files.size();
  bag.payload_bytes = tree.bytes;
  bag.algorithms = algorithms;
  return bag;
}

}  // namespace cairn::bagit
