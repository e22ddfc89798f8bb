// Repository::LockForWriting: the writers' lock and the cleanup of temp files
// left by killed writers.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

constexpr uint64_t kBusyTempAgeSeconds = 3600;

}  // namespace

Repository::WriterLock::~WriterLock() = default;  // releases the flock and the record

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockForWriting() {
  const std::string path = repo_layout::WritersLockPath(root_);
  const unsigned mode = FileMode();
  Result<FileLock> alone = TryFileLock(path, LOCK_EX, mode);
  if (!alone.ok() && alone.status().code() != Code::kUnavailable) return alone.status();
  uint64_t min_age = alone.ok() ? 0 : kBusyTempAgeSeconds;
  Result<std::vector<SiteRecord>> sites = catalog_->ListSites();
  if (sites.ok()) {
    for (const SiteRecord& record : *sites) {
      Result<Site*> site = OpenSite(record.name);
      if (site.ok()) (void)(*site)->backend().CleanupTemp(min_age);  // best effort
    }
  }
  if (alone.ok()) {
    // Downgrade to the shared lock other writers can share.
    while (flock(alone->fd(), LOCK_SH) != 0) {
      if (errno != EINTR) return Status::FromErrno(errno, "lock", path);
    }
    alone->SetMode("shared");
    return std::make_unique<WriterLock>(std::move(alone).value());
  }
  CAIRN_ASSIGN_OR_RETURN(FileLock shared, TakeFileLock(path, LOCK_SH, -1, mode));
  return std::make_unique<WriterLock>(std::move(shared));
}

bool Repository::WriterLock::TryExclusive() {
  if (lock_.fd() < 0 || flock(lock_.fd(), LOCK_EX | LOCK_NB) != 0) return false;
  lock_.SetMode("exclusive");
  return true;
}

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockExclusively(int64_t timeout_ms) {
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, TakeFileLock(repo_layout::WritersLockPath(root_), LOCK_EX,
                                                     timeout_ms, FileMode()));
  return std::make_unique<WriterLock>(std::move(lock));
}

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockObject(const std::string& partner,
                                                                       const std::string& object) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  for (const std::string& d :
       {repo_layout::ObjectLocksDir(root_), repo_layout::PartnerLocksDir(root_, partner)}) {
    CAIRN_RETURN_IF_ERROR(MakePrivateDir(d));
  }
  CAIRN_ASSIGN_OR_RETURN(
      FileLock lock,
      TakeFileLock(repo_layout::ObjectLockPath(root_, partner, object), LOCK_EX, -1, FileMode()));
  return std::make_unique<WriterLock>(std::move(lock));
}

Status Repository::MarkVersionPending(const std::string& partner, const std::string& object,
                                      const PendingVersion& pending) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  const std::string path = repo_layout::PendingVersionPath(root_, partner, object);
  const std::string text =
      "v" + std::to_string(pending.version) + " " + pending.record_sha256 + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FileMode());
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  (void)fchmod(fd, FileMode());
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok) return Status::FromErrno(err, "write", path);
  return Status::OK();
}

std::optional<Repository::PendingVersion> Repository::GetPendingVersion(const std::string& partner,
                                                                        const std::string& object) {
  return PendingVersionIn(root_, partner, object);
}

bool Repository::MarkNamesRecord(const std::string& root, const std::string& partner,
                                 const std::string& object, uint32_t version,
                                 std::string_view record_sha256) {
  std::optional<PendingVersion> mark = PendingVersionIn(root, partner, object);
  return mark && mark->version == version && !mark->record_sha256.empty() &&
         mark->record_sha256 == record_sha256;
}

std::optional<Repository::PendingVersion> Repository::PendingVersionIn(const std::string& root,
                                                                       const std::string& partner,
                                                                       const std::string& object) {
  if (root.empty() || !layout::ValidatePartnerId(partner).ok() ||
      !layout::ValidateObjectId(object).ok()) {
    return std::nullopt;
  }
  int fd =
      open(repo_layout::PendingVersionPath(root, partner, object).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char text[128] = {};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n < 3 || text[0] != 'v') return std::nullopt;
  char* end = nullptr;
  unsigned long version = std::strtoul(text + 1, &end, 10);
  if (end == text + 1 || *end != ' ' || version == 0 || version > UINT32_MAX) return std::nullopt;
  PendingVersion pending;
  pending.version = static_cast<uint32_t>(version);
  std::string_view sha(end + 1);
  if (sha.ends_with('\n')) sha.remove_suffix(1);
  if (layout::IsSha256Hex(sha)) pending.record_sha256 = std::string(sha);
  return pending;
}

Status Repository::ClearVersionPending(const std::string& partner, const std::string& object) {
  const std::string path = repo_layout::PendingVersionPath(root_, partner, object);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(errno, "remove", path);
  return Status::OK();
}

}  // namespace cairn::repo
