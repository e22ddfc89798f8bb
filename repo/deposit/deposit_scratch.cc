// DepositScratch: a deposit's per-file lists in a throwaway SQLite file
// (deposit_scratch.h).
#include "repo/deposit/deposit_scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

#include "bagit/paths.h"
#include "repo/file_modes.h"
#include "repo/site/repository_layout.h"

namespace cairn::repo::deposit_internal {
namespace {

constexpr std::string_view kPrefix = "deposit-";
constexpr std::string_view kSuffix = ".scratch";
// A scratch file is made under this prefix, locked, then renamed: the cleaner
// never sees a scratch file that is not locked yet.
constexpr std::string_view kCreatingPrefix = ".creating-deposit-";
constexpr time_t kCreatingMaxAgeSeconds = 3600;
std::atomic<uint64_t> scratch_counter{0};
// Generated manifests are handed on in chunks of this size.
constexpr size_t kManifestChunk = 256 * 1024;

std::string TmpDir(const std::string& repo_root) { return repo_layout::TmpDir(repo_root); }

}  // namespace

Result<std::unique_ptr<DepositScratch>> DepositScratch::Create(const std::string& repo_root) {
  std::string dir = TmpDir(repo_root);
  const AccessModes modes = ModesInside(repo_root);
  CAIRN_RETURN_IF_ERROR(MakeDirWithModes(dir, modes));
  std::string unique = std::to_string(getpid()) + "-" + std::to_string(time(nullptr)) + "-" +
                       std::to_string(scratch_counter.fetch_add(1));
  std::string creating = dir + "/" + std::string(kCreatingPrefix) + unique;
  std::string path = dir + "/" + std::string(kPrefix) + unique + std::string(kSuffix);
  int fd = open(creating.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, modes.file);
  if (fd < 0) return Status::FromErrno(errno, "create", creating);
  FixFileMode(fd, modes.file);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(creating.c_str(), path.c_str()) != 0) {
    Status s = Status::FromErrno(errno, "lock", creating);
    close(fd);
    unlink(creating.c_str());
    return s;
  }
  std::unique_ptr<DepositScratch> scratch(new DepositScratch(path, fd));
  // On failure the scratch goes: its file is removed and unlocked.
  CAIRN_ASSIGN_OR_RETURN(scratch->store_, ScratchStore::Open(path));
  return scratch;
}

void DepositScratch::CleanupStale(const std::string& repo_root) {
  std::string dir = TmpDir(repo_root);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  time_t now = time(nullptr);
  while (struct dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    std::string path = dir + "/" + std::string(name);
    if (name.starts_with(kCreatingPrefix)) {
      struct stat st;
      if (stat(path.c_str(), &st) == 0 && now - st.st_mtime > kCreatingMaxAgeSeconds) {
        unlink(path.c_str());
      }
      continue;
    }
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) continue;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    // A lock we can take is a lock no running deposit holds.
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) unlink(path.c_str());
    close(fd);
  }
  closedir(d);
}

DepositScratch::~DepositScratch() {
  store_.reset();  // closes the database before its file goes
  unlink(path_.c_str());
  if (lock_fd_ >= 0) close(lock_fd_);
}

Status DepositScratch::AddFile(std::string_view path, uint64_t size, std::string_view sha256,
                               bool created, std::string_view other_digests) {
  Status s = store_->AddFile(path, size, sha256, created, other_digests);
  if (s.IsAlreadyExists())
    return Status::AlreadyExists("payload file stored twice: " + std::string(path));
  return s.WithContext("deposit scratch " + path_);
}

Status DepositScratch::ForEachFile(const std::function<Status(const IngestedFile&)>& fn,
                                   Order order) {
  return store_->ForEachFile(fn, order);
}

Status DepositScratch::HoldPayload(std::string_view path, uint64_t size,
                                   const bagit::Digests& digests) {
  Status s = store_->HoldPayload(path, size, JoinDigests(digests, bagit::AlgorithmSet().set()));
  return s.ok() ? s : s.WithContext("deposit scratch " + path_);
}

Status DepositScratch::ForEachHeldPayload(
    const std::function<void(const std::string&, uint64_t, const bagit::Digests&)>& fn) {
  bagit::Digests digests;
  return store_->ForEachHeld(
      [&](const std::string& path, uint64_t size, const std::string& joined) {
        for (size_t a = 0; a < bagit::kAlgorithmCount; ++a) {
          digests.hex[a] = std::string(NthDigest(joined, a));
        }
        fn(path, size, digests);
      });
}

Status DepositScratch::RenameFile(std::string_view from, std::string_view to) {
  Status s = store_->RenameFile(from, to);
  if (s.IsAlreadyExists()) {
    return Status::AlreadyExists("payload file stored twice: " + std::string(to));
  }
  return s.WithContext("deposit scratch " + path_);
}

Status DepositScratch::ForEachCreatedBlob(const std::function<void(const std::string&)>& fn) {
  return store_->ForEachCreatedBlob(fn);
}

std::string JoinDigests(const bagit::Digests& digests, bagit::AlgorithmSet which) {
  std::string joined;
  bool first = true;
  for (size_t a = 0; a < bagit::kAlgorithmCount; ++a) {
    if (!which.test(a)) continue;
    if (!first) joined += ' ';  // an empty digest keeps its place
    joined += digests.hex[a];
    first = false;
  }
  return joined;
}

std::string_view NthDigest(std::string_view joined, size_t n) {
  for (; n > 0; --n) {
    size_t space = joined.find(' ');
    if (space == std::string_view::npos) return {};
    joined.remove_prefix(space + 1);
  }
  return joined.substr(0, joined.find(' '));
}

// The hex digest of `algorithm` among a file's digests as the stager kept
// them: sha256 is the file's own, the others are `other` (those of `kept`,
// JoinDigests in algorithm order).
std::string_view DigestOf(const IngestedFile& file, bagit::Algorithm algorithm,
                          bagit::AlgorithmSet kept) {
  if (algorithm == bagit::Algorithm::kSha256) return file.sha256;
  size_t skip = 0;
  for (size_t a = 0; a < static_cast<size_t>(algorithm); ++a) skip += kept.test(a) ? 1 : 0;
  return NthDigest(file.other_digests, skip);
}

// The manifest of one algorithm ("digest  data/path" in path order), read
// from the scratch in chunks: never whole in memory.
bagit::ByteSource ManifestSource(DepositScratch* scratch, bagit::Algorithm algorithm,
                                 bagit::AlgorithmSet kept) {
  return [scratch, algorithm, kept](const bagit::ChunkSink& sink) -> Status {
    std::string chunk;
    auto flush = [&]() -> Status {
      Status s = sink(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())));
      chunk.clear();
      return s;
    };
    CAIRN_RETURN_IF_ERROR(scratch->ForEachFile([&](const IngestedFile& f) -> Status {
      chunk += DigestOf(f, algorithm, kept);
      chunk += "  ";
      chunk += bagit::EncodeManifestPath(f.path);
      chunk += '\n';
      return chunk.size() >= kManifestChunk ? flush() : Status::OK();
    }));
    return chunk.empty() ? Status::OK() : flush();
  };
}

}  // namespace cairn::repo::deposit_internal
