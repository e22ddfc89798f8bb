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

#include "repo/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

constexpr uint64_t kBusyTempAgeSeconds = 3600;

std::string PendingPath(const std::string& root, const std::string& partner,
                        const std::string& object) {
  return root + "/locks/" + partner + "/" + object + ".pending";
}

}  // namespace

Repository::WriterLock::~WriterLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
}

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockForWriting() {
  std::string path = root_ + "/writers.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  auto lock = std::make_unique<WriterLock>(fd);
  bool alone = flock(fd, LOCK_EX | LOCK_NB) == 0;
  uint64_t min_age = alone ? 0 : kBusyTempAgeSeconds;
  Result<std::vector<SiteRecord>> sites = catalog_->ListSites();
  if (sites.ok()) {
    for (const SiteRecord& record : *sites) {
      Result<Site*> site = OpenSite(record.name);
      if (site.ok()) (void)(*site)->backend().CleanupTemp(min_age);  // best effort
    }
  }
  // Downgrade (or take) the shared lock other writers can share.
  while (flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "lock", path);
  }
  return lock;
}

bool Repository::WriterLock::TryExclusive() {
  return fd_ >= 0 && flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockExclusively(int64_t timeout_ms) {
  std::string path = root_ + "/writers.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  auto lock = std::make_unique<WriterLock>(fd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return Status::FromErrno(errno, "lock", path);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(
          "another writer (deposit, replicate, audit run, site resync or a "
          "daemon round) still holds " +
          path + " after " + std::to_string(timeout_ms / 1000) + " s: try again later");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return lock;
}

Result<std::unique_ptr<Repository::WriterLock>> Repository::LockObject(const std::string& partner,
                                                                       const std::string& object) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  std::string dir = root_ + "/locks/" + partner;
  for (const std::string& d : {root_ + "/locks", dir}) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "create folder", d);
    }
  }
  std::string path = dir + "/" + object + ".lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  auto lock = std::make_unique<WriterLock>(fd);
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "lock", path);
  }
  return lock;
}

Status Repository::MarkVersionPending(const std::string& partner, const std::string& object,
                                      const PendingVersion& pending) {
  CAIRN_RETURN_IF_ERROR(layout::ValidatePartnerId(partner));
  CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  const std::string path = PendingPath(root_, partner, object);
  const std::string text =
      "v" + std::to_string(pending.version) + " " + pending.record_sha256 + "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok) return Status::FromErrno(err, "write", path);
  return Status::OK();
}

std::optional<Repository::PendingVersion> Repository::GetPendingVersion(const std::string& partner,
                                                                        const std::string& object) {
  if (!layout::ValidatePartnerId(partner).ok() || !layout::ValidateObjectId(object).ok()) {
    return std::nullopt;
  }
  int fd = open(PendingPath(root_, partner, object).c_str(), O_RDONLY | O_CLOEXEC);
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
  const std::string path = PendingPath(root_, partner, object);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(errno, "remove", path);
  return Status::OK();
}

}  // namespace cairn::repo
