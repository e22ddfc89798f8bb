// The posix BlobWriter: temp file (unnamed when write-once), fsync, name, fsync of the folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "bagit/fd_io.h"
#include "bagit/mapped_read.h"
#include "repo/crash_point.h"
#include "repo/site_layout.h"
#include "repo/storage/backend.h"
#include "repo/storage/posix_io.h"
#include "repo/storage/posix_ops.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo::posix_io {
namespace {

std::string RandomHex() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t value = rng();
  std::string hex;
  for (int i = 0; i < 16; ++i, value >>= 4) hex.push_back(kHex[value & 0xf]);
  return hex;
}

}  // namespace

// The posix barrier: one syncfs(2) of the site's file system makes every
// prepared temp file's bytes durable (first Sync), then every name and new
// folder the batch made (second Sync): two waits for the disk per batch, where
// one fsync per file and per folder would wait once each (a blob's folder is
// almost never another's: 65,536 of them). Since Linux 5.8 syncfs reports a
// writeback error of any file of the file system since the root was opened
// (once per error), so a temp file whose bytes did not reach the disk fails
// the batch. Goes through Ops(), as every other sync of the posix site.
class PosixCommitBarrier : public CommitBarrier {
 public:
  explicit PosixCommitBarrier(std::shared_ptr<const RootDir> root) : root_(std::move(root)) {}

  const RootDir* root() const { return root_.get(); }

  // Something (a temp file's bytes, a name, a new folder) must be durable at
  // the next Sync. Add and AddNewFolders may be called from several threads
  // at once (a batch's names are made in parallel); Sync from one, after them.
  void Add() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // The parents of folders made for the batch: durable at the next Sync too.
  void AddNewFolders(std::vector<std::string> parents) {
    if (parents.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    for (std::string& parent : parents) new_folder_parents_.push_back(std::move(parent));
  }
  // Successful Syncs so far: a writer prepared before the n-th may be made
  // visible only once syncs() >= n.
  uint64_t syncs() const { return syncs_; }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.load(std::memory_order_relaxed) == 0 && new_folder_parents_.empty()) {
      ++syncs_;
      return Status::OK();
    }
    // Once per batch, not per name: the names were made through the root
    // opened at the start, so if its path no longer leads there (an unmounted
    // share, a swapped folder, a lost marker) what they point at is not the
    // site's, and the batch fails. Before the bytes' Sync, no name is made.
    CAIRN_RETURN_IF_ERROR(root_->CheckBeforeWrite());
    if (Ops().syncfs(root_->fd()) != 0) return Status::FromErrno(errno, "syncfs", root_->path());
    pending_ = 0;
    new_folder_parents_.clear();
    ++syncs_;
    return Status::OK();
  }

 private:
  std::shared_ptr<const RootDir> root_;
  std::atomic<size_t> pending_{0};
  std::mutex mu_;  // guards new_folder_parents_
  std::vector<std::string> new_folder_parents_;
  uint64_t syncs_ = 0;
};

namespace {

class PosixWriter : public BlobWriter {
 public:
  PosixWriter(std::shared_ptr<const RootDir> root, std::string temp_rel, int fd,
              const PutOptions& options)
      : root_(std::move(root)),
        temp_rel_(std::move(temp_rel)),
        temp_path_(temp_rel_.empty() ? "an unnamed temp file in " + root_->path()
                                     : root_->Shown(temp_rel_)),
        fd_(fd),
        options_(options),
        unnamed_(temp_rel_.empty()) {}
  ~PosixWriter() override { Abort(); }

  Status Append(std::span<const std::byte> data) override {
    if (done_ || fd_ < 0 || digested_sha256_) {
      return Status::IOError("append to a finished writer: " + temp_path_);
    }
    // The hash begins with the first bytes appended, not here: a writer filled
    // in the kernel (AppendFromFile) is hashed from its temp file at Commit,
    // and a batch holds a thousand writers waiting for it.
    if (!options_.expected_sha256.empty()) {
      if (!hasher_) hasher_.emplace();
      hasher_->Update(data);
    }
    if (int err = WriteFull(fd_, data)) {
      Status status = Status::FromErrno(err, "write", temp_path_);
      Abort();
      return status;
    }
    written_ += data.size();
    StartWriteback();
    return Status::OK();
  }

  Status AppendFromFile(int fd, uint64_t offset, uint64_t length) override {
    if (done_ || fd_ < 0 || digested_sha256_) {
      return Status::IOError("append to a finished writer: " + temp_path_);
    }
    // Inside the kernel: no copy through this process's memory. With an
    // expected SHA-256 the bytes are hashed when the temp file is read back at
    // Commit, before the rename (or by DigestAppended).
    copied_in_kernel_ = true;
    while (length > 0) {
      loff_t in = static_cast<loff_t>(offset);
      size_t step = static_cast<size_t>(std::min<uint64_t>(length, kWritebackChunk));
      ssize_t n = ::copy_file_range(fd, &in, fd_, nullptr, step, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) &&
          written_ == 0) {
        copied_in_kernel_ = false;  // not between these files: copy by reading
        return BlobWriter::AppendFromFile(fd, offset, length);
      }
      if (n < 0) {
        Status status = Status::FromErrno(errno, "copy into", temp_path_);
        Abort();
        return status;
      }
      if (n == 0) return Status::InvalidArgument("file ends before the bytes to copy");
      offset += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
      written_ += static_cast<uint64_t>(n);
      StartWriteback();
    }
    return Status::OK();
  }

  bool VerifiedByReadBack() const override { return verified_by_read_back_; }

  Result<bagit::Digests> DigestAppended(bagit::AlgorithmSet algorithms) override {
    if (done_ || fd_ < 0) return Status::IOError("read back of a finished writer: " + temp_path_);
    bagit::MultiHasher hasher(algorithms | bagit::Only(bagit::Algorithm::kSha256));
    CAIRN_RETURN_IF_ERROR(
        ReadTempFile([&](std::span<const std::byte> chunk) { hasher.Update(chunk); }));
    bagit::Digests digests = hasher.Finish();
    digested_sha256_ = digests[bagit::Algorithm::kSha256];
    read_back_ = true;
    return digests;
  }

  // Read back once: a copy hashed already (DigestAppended) is not read again.
  Status CheckAppended(std::string_view sha256_hex) override {
    if (!digested_sha256_) CAIRN_RETURN_IF_ERROR(DigestAppended({}).status());
    return AppendedSha256Is(temp_path_, *digested_sha256_, sha256_hex);
  }

  Status Commit(std::string_view key) override {
    Status status = CommitImpl(key);
    Abort();  // closes the fd and removes the temp name in every case
    return status;
  }

  // With a barrier of this writer's site: the checks of Commit, then the
  // temp file is left to the barrier (its next Sync, a syncfs, makes it
  // durable) and kept open until CommitPrepared. Any other barrier: nothing (CommitPrepared
  // commits whole).
  Status PrepareCommit(std::string_view key, CommitBarrier& barrier) override {
    auto* posix = dynamic_cast<PosixCommitBarrier*>(&barrier);
    if (posix == nullptr || posix->root() != root_.get()) return Status::OK();
    Status status = CheckBeforeSync(key);
    if (!status.ok()) {
      Abort();
      return status;
    }
    posix->Add();
    prepared_ = posix;
    prepared_before_sync_ = posix->syncs() + 1;
    return Status::OK();
  }

  Status CommitPrepared(std::string_view key, CommitBarrier& barrier) override {
    if (prepared_ == nullptr || prepared_ != &barrier) return Commit(key);
    Status status = PublishPrepared(key);
    // Something is under the name: still prepared, for the caller to read it
    // back and either abort or remove it and call again.
    if (status.IsAlreadyExists()) return status;
    Abort();
    return status;
  }

  void Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!done_) {
      if (!unnamed_) Ops().unlinkat(root_->fd(), temp_rel_.c_str(), 0);
      done_ = true;
    }
  }

 private:
  // The checks before the bytes are made durable: the key, and the bytes
  // against expected_sha256 and the key hint.
  Status CheckBeforeSync(std::string_view key) {
    CAIRN_RETURN_IF_ERROR(ValidateKey(key));
    if (done_ || fd_ < 0) return Status::IOError("commit of a finished writer: " + temp_path_);
    const std::string final_path = root_->Shown(key);
    if (digested_sha256_) {
      // DigestAppended read the stored bytes: they are what the key names.
      if (!options_.expected_sha256.empty() && *digested_sha256_ != options_.expected_sha256) {
        return Status::Corruption("write " + final_path + ": SHA-256 of the bytes is " +
                                  *digested_sha256_ + ", expected " + options_.expected_sha256);
      }
    } else if (!options_.expected_sha256.empty()) {
      if (copied_in_kernel_) {
        // Read back what the kernel copied into the temp file, before any name
        // points at it. (Appends mixed with kernel copies are read back too.)
        CAIRN_RETURN_IF_ERROR(HashTempFile());
      } else if (!hasher_) {
        hasher_.emplace();  // nothing appended: the digest of no bytes
      }
      std::string actual = hasher_->FinishHex();
      if (actual != options_.expected_sha256) {
        return Status::Corruption("write " + final_path + ": SHA-256 of the bytes is " + actual +
                                  ", expected " + options_.expected_sha256);
      }
    }
    return CheckKeyHint(options_, key);
  }

  Status CommitImpl(std::string_view key) {
    CAIRN_RETURN_IF_ERROR(CheckBeforeSync(key));
    const std::string final_rel(key);
    if (Ops().fsync(fd_) != 0) return Status::FromErrno(errno, "fsync", temp_path_);
    if (!unnamed_) {  // an unnamed temp file is named through its descriptor: open till then
      if (::close(fd_) != 0) {
        fd_ = -1;
        return Status::FromErrno(errno, "close", temp_path_);
      }
      fd_ = -1;
    }
    // Written relative to the root opened at the start, and only while the
    // site's path still leads to it: never into a swapped or unmounted folder.
    CAIRN_RETURN_IF_ERROR(root_->CheckBeforeWrite());
    CAIRN_RETURN_IF_ERROR(MakeVisible(key, nullptr));
    if (unnamed_) {
      const int fd = std::exchange(fd_, -1);
      if (::close(fd) != 0) return Status::FromErrno(errno, "close", temp_path_);
    }
    const size_t slash = final_rel.rfind('/');
    Status synced = SyncDirAt(*root_, slash == std::string::npos ? "" : final_rel.substr(0, slash));
    verified_by_read_back_ = synced.ok() && read_back_;
    return synced;
  }

  // CommitPrepared after the barrier's Sync made the bytes durable: the name
  // is made now, and its folder (and the parent of any new folder) is synced
  // by the barrier's next Sync.
  Status PublishPrepared(std::string_view key) {
    if (done_ || fd_ < 0) return Status::IOError("commit of a finished writer: " + temp_path_);
    if (prepared_->syncs() < prepared_before_sync_) {
      return Status::IOError("commit of " + temp_path_ + " before the barrier made it durable");
    }
    // The root was checked by the barrier's Sync before (and is again by the
    // next, before any of the batch counts).
    std::vector<std::string> new_folder_parents;
    Status named = MakeVisible(key, &new_folder_parents);
    prepared_->AddNewFolders(std::move(new_folder_parents));  // made even if the name was not
    CAIRN_RETURN_IF_ERROR(named);
    prepared_->Add();
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return Status::FromErrno(errno, "close", temp_path_);
    // Read back before the rename, and the name's durability is the batch's:
    // Site::CommitBlobs reports nothing stored before the barrier's Sync.
    verified_by_read_back_ = read_back_;
    return Status::OK();
  }

  // Names the durable temp file `key`, between the two crash points: renames
  // it (under if_absent, without replacing: AlreadyExists if `key` exists).
  // Its parent folders are made only when the name cannot be (ENOENT), as
  // MakeParents does (`unsynced_parents`: nullptr syncs each new folder's
  // parent now).
  Status MakeVisible(std::string_view key, std::vector<std::string>* unsynced_parents) {
    const std::string final_rel(key);
    CrashPoint("storage.before-visible");
    int err = NameOnce(final_rel);
    if (err == ENOENT) {
      CAIRN_RETURN_IF_ERROR(MakeParents(*root_, key, unsynced_parents));
      err = NameOnce(final_rel);
    }
    if (err != 0) {
      const std::string final_path = root_->Shown(key);
      if (err == EEXIST) return Status::AlreadyExists(final_path + " already exists");
      return Status::FromErrno(err, options_.if_absent ? "link to" : "rename to", final_path);
    }
    if (key == layout::kSiteMarkerKey) root_->MarkerWritten();
    CrashPoint("storage.after-visible");
    return Status::OK();
  }

  // One attempt at the name: 0 or the errno.
  int NameOnce(const std::string& final_rel) {
    const int dir = root_->fd();
    if (unnamed_) {
      // Its first name, through the descriptor: link(2) never replaces.
      int refused = 0;
      if (root_->links_by_descriptor()) {
        if (Ops().linkat(fd_, "", dir, final_rel.c_str(), AT_EMPTY_PATH) == 0) {
          done_ = true;
          return 0;
        }
        // A kernel that does not let us link by descriptor says ENOENT (or
        // EPERM), as it does for a parent folder not made yet: /proc says which.
        if (errno != ENOENT && errno != EPERM) return errno;
        refused = errno;
      }
      const std::string self = "/proc/self/fd/" + std::to_string(fd_);
      if (Ops().linkat(AT_FDCWD, self.c_str(), dir, final_rel.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        return errno;
      }
      if (refused != 0) root_->NoLinksByDescriptor();
      done_ = true;
      return 0;
    }
    if (!options_.if_absent) {
      if (Ops().renameat(dir, temp_rel_.c_str(), dir, final_rel.c_str()) != 0) return errno;
      done_ = true;  // the temp name is gone: nothing to unlink
      return 0;
    }
    // Write-once even under races: EEXIST instead of replacing. One call where
    // the file system can rename without replacing; elsewhere link(2), and
    // the temp name is unlinked by Abort.
    if (Ops().renameat_noreplace(dir, temp_rel_.c_str(), dir, final_rel.c_str()) == 0) {
      done_ = true;
      return 0;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
    if (Ops().linkat(dir, temp_rel_.c_str(), dir, final_rel.c_str(), 0) != 0) return errno;
    return 0;
  }

  std::shared_ptr<const RootDir> root_;
  std::string temp_rel_;   // "tmp/w-...", relative to the root
  std::string temp_path_;  // for messages
  int fd_;
  PutOptions options_;
  // Starts writing back what is complete now (every 8 MiB), so the fsync at
  // Commit finds most of a large blob already on its way to the disk.
  void StartWriteback() {
    if (written_ - flushed_ < kWritebackChunk) return;
    cairn::StartWriteback(fd_, flushed_, written_);
    flushed_ = written_;
  }

  // Passes the temp file's bytes as stored to `fn`, in 1 MiB chunks.
  Status ReadTempFile(const std::function<void(std::span<const std::byte>)>& fn) {
    constexpr size_t kReadChunk = 1 << 20;
    struct stat st;
    if (written_ > kMapFrom && ::fstat(fd_, &st) == 0 &&
        static_cast<uint64_t>(st.st_size) == written_) {
      // Through a memory map: the bytes as stored, without copying them here.
      bagit::MappedRead read =
          bagit::ReadMapped(fd_, written_, kReadChunk, [&](std::span<const std::byte> chunk) {
            fn(chunk);
            return true;
          });
      if (read == bagit::MappedRead::kDone) return Status::OK();
      // Only this writer holds the temp file: it shrank under the map, or could not be mapped.
      return Status::IOError("read back " + temp_path_ + ": the file changed while it was read");
    }
    auto buffer = std::make_unique_for_overwrite<std::byte[]>(kReadChunk);
    uint64_t offset = 0;
    for (;;) {
      // Nobody else can write an unnamed file: its end is where the writer's is.
      if (unnamed_ && offset == written_) break;
      ssize_t n = PreadSome(fd_, std::span<std::byte>(buffer.get(), kReadChunk), offset);
      if (n < 0) return Status::FromErrno(errno, "read back", temp_path_);
      if (n == 0) break;
      fn(std::span<const std::byte>(buffer.get(), static_cast<size_t>(n)));
      offset += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  // Replaces the running hash by one of the temp file's bytes as stored.
  Status HashTempFile() {
    hasher_.emplace();
    CAIRN_RETURN_IF_ERROR(ReadTempFile([&](std::span<const std::byte> c) { hasher_->Update(c); }));
    read_back_ = true;
    return Status::OK();
  }

  std::optional<Sha256Stream> hasher_;
  std::optional<std::string> digested_sha256_;  // set by DigestAppended
  bool done_ = false;
  const bool unnamed_;  // an O_TMPFILE: no temp name, nothing left by a crash
  bool copied_in_kernel_ = false;
  bool read_back_ = false;                  // the hash checked at Commit is of the stored bytes
  bool verified_by_read_back_ = false;      // ... and it matched
  PosixCommitBarrier* prepared_ = nullptr;  // set by PrepareCommit
  uint64_t prepared_before_sync_ = 0;       // the barrier's Sync that makes it durable
  static constexpr uint64_t kMapFrom = 256 << 10;  // read back larger temp files through a map
  uint64_t written_ = 0;                           // bytes appended
  uint64_t flushed_ = 0;                           // bytes handed to writeback by sync_file_range
};

}  // namespace

Status SyncFolder(const std::string& path) {
  int fd = Ops().open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "open folder", path);
  int rc = Ops().fsync(fd);
  int err = errno;
  ::close(fd);
  // Some filesystems refuse fsync on folders; their entries are durable anyway.
  if (rc != 0 && err != EINVAL && err != ENOTSUP) return Status::FromErrno(err, "fsync", path);
  return Status::OK();
}

Status SyncDirAt(const RootDir& root, const std::string& rel) {
  const char* name = rel.empty() ? "." : rel.c_str();
  int fd = Ops().openat(root.fd(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "open folder", root.Shown(rel));
  int rc = Ops().fsync(fd);
  int err = errno;
  ::close(fd);
  // Some filesystems refuse fsync on folders; their entries are durable anyway.
  if (rc != 0 && err != EINVAL && err != ENOTSUP) {
    return Status::FromErrno(err, "fsync", root.Shown(rel));
  }
  return Status::OK();
}

Status MakeParents(const RootDir& root, std::string_view key,
                   std::vector<std::string>* unsynced_parents) {
  // The folders of `key`, outermost first: "blobs", "blobs/sha256", ...
  std::vector<std::string> folders;
  for (size_t slash = key.find('/'); slash != std::string_view::npos;
       slash = key.find('/', slash + 1)) {
    folders.emplace_back(key.substr(0, slash));
  }
  auto made = [&](size_t i) -> Status {
    (void)::fchmodat(root.fd(), folders[i].c_str(), root.modes().dir, 0);  // whatever the umask
    std::string parent = i == 0 ? "" : folders[i - 1];
    if (unsynced_parents != nullptr) {
      unsynced_parents->push_back(std::move(parent));
      return Status::OK();
    }
    return SyncDirAt(root, parent);
  };
  // From the innermost up to one that exists or can be made (a site's fan-out
  // folders mostly exist: one call), then down again making the rest.
  size_t have = folders.size();  // folders[0, have) exist
  while (have > 0) {
    const std::string& rel = folders[have - 1];
    if (Ops().mkdirat(root.fd(), rel.c_str(), 0700) == 0) {
      CAIRN_RETURN_IF_ERROR(made(have - 1));
      break;
    }
    if (errno == EEXIST) break;
    if (errno != ENOENT || have == 1)
      return Status::FromErrno(errno, "create folder", root.Shown(rel));
    --have;
  }
  for (size_t i = have; i < folders.size(); ++i) {
    if (Ops().mkdirat(root.fd(), folders[i].c_str(), 0700) == 0) {
      CAIRN_RETURN_IF_ERROR(made(i));
    } else if (errno != EEXIST) {
      return Status::FromErrno(errno, "create folder", root.Shown(folders[i]));
    }
  }
  return Status::OK();
}

std::unique_ptr<CommitBarrier> NewCommitBarrier(std::shared_ptr<const RootDir> root) {
  return std::make_unique<PosixCommitBarrier>(std::move(root));
}

Result<std::unique_ptr<BlobWriter>> NewTempFileWriter(std::shared_ptr<const RootDir> root,
                                                      const PutOptions& options) {
  // The caller checked the root (PosixBackend::RootForWrite); a temp file is
  // no name of the site, and each name is made only after another check.
  const AccessModes& modes = root->modes();
  if (options.if_absent && root->unnamed_temp_files()) {
    int fd = Ops().openat(root->fd(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, modes.file);
    if (fd >= 0) {
      if (!root->unnamed_files_keep_mode() && FixFileMode(fd, modes.file)) {
        root->UnnamedFilesKeepMode();
      }
      return std::unique_ptr<BlobWriter>(new PosixWriter(std::move(root), "", fd, options));
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      return Status::FromErrno(errno, "create an unnamed temp file in", root->path());
    }
    root->NoUnnamedTempFiles();  // named ones under tmp/, from now on
  }
  bool made_tmp = false;
  for (int attempt = 0;; ++attempt) {
    std::string rel = "tmp/w-" + std::to_string(::getpid()) + "-" + RandomHex() + ".tmp";
    int fd =
        Ops().openat(root->fd(), rel.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, modes.file);
    if (fd >= 0) {
      FixFileMode(fd, modes.file);  // 0600, or 0660 in a group's site
      return std::unique_ptr<BlobWriter>(new PosixWriter(std::move(root), rel, fd, options));
    }
    if (errno == ENOENT && !made_tmp) {  // the first temp file of this site: its folder
      made_tmp = true;
      if (Ops().mkdirat(root->fd(), "tmp", 0700) == 0) {
        (void)::fchmodat(root->fd(), "tmp", modes.dir, 0);
      } else if (errno != EEXIST) {
        return Status::FromErrno(errno, "create folder", root->Shown("tmp"));
      }
      continue;
    }
    if (errno != EEXIST || attempt >= 8) {
      return Status::FromErrno(errno, "create temp file", root->Shown(rel));
    }
  }
}

Result<std::shared_ptr<RootDir>> RootDir::Open(const std::string& path,
                                               const std::string& display_url) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open folder", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status status = Status::FromErrno(errno, "stat", path);
    ::close(fd);
    return status;
  }
  // The storage knows the marker's name only to refuse writes once it is gone
  // (kSiteMarkerKey views a string literal: NUL-terminated).
  struct stat marker;
  const bool has_marker = ::fstatat(fd, layout::kSiteMarkerKey.data(), &marker, 0) == 0;
  return std::shared_ptr<RootDir>(
      new RootDir(fd, st.st_dev, st.st_ino, path, display_url, has_marker, ModesInside(path)));
}

RootDir::~RootDir() { ::close(fd_); }

namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status RootDir::CheckBeforeNewTempFile() const {
  const int64_t passed = last_check_passed_.load(std::memory_order_relaxed);
  if (passed != INT64_MIN && SteadyNanos() - passed < kRecentCheckNanos) return Status::OK();
  return CheckBeforeWrite();
}

Status RootDir::CheckBeforeWrite() const {
  const int64_t started = SteadyNanos();
  Status checked = CheckPathAndMarker();
  // A failed check makes every new temp file look again until one passes.
  last_check_passed_.store(checked.ok() ? started : INT64_MIN, std::memory_order_relaxed);
  return checked;
}

Status RootDir::CheckPathAndMarker() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Unavailable("site " + url_ + ": " + std::string(kSiteRootMissing) +
                               ": nothing is written");
  }
  if (st.st_dev != dev_ || st.st_ino != ino_) {
    return Status::Unavailable(
        "site " + url_ +
        ": the folder at this path is no longer the one the site was opened on (device/inode " +
        std::to_string(dev_) + ":" + std::to_string(ino_) + ", now " + std::to_string(st.st_dev) +
        ":" + std::to_string(st.st_ino) +
        "): an unmounted share or a swapped folder; nothing is written into it (if the folder "
        "there now is the right one, restart this process to open it)");
  }
  if (marker_expected_) {
    struct stat marker;
    if (::fstatat(fd_, layout::kSiteMarkerKey.data(), &marker, 0) != 0) {
      return Status::Unavailable("site " + url_ +
                                 ": CAIRN-SITE marker is gone (not mounted?): nothing is written");
    }
  }
  return Status::OK();
}

}  // namespace cairn::repo::posix_io
