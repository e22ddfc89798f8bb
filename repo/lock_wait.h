// Waiting for a lock file (flock(2)) with a bound, and saying who holds it.
//
// Every lock Cairn takes (ROOT/writers.lock shared or exclusive, the object
// locks ROOT/locks/PARTNER/OBJECT.lock, an auditor's ROOT/audit-SITE.lock) is
// taken through TakeFileLock. The holder writes who it is into a side file
// beside the lock (LOCK.holder-PID: pid, command, user, host, since), removed
// when it lets go; a waiter reads those records to name the holder. A record
// whose pid no longer runs on this host is reported as stale.
//
//   CAIRN_ASSIGN_OR_RETURN(FileLock lock, TakeFileLock(root + "/writers.lock", LOCK_SH));
#ifndef CAIRN_REPO_LOCK_WAIT_H_
#define CAIRN_REPO_LOCK_WAIT_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

// The default bound of every lock wait: 120 s, or $CAIRN_LOCK_TIMEOUT seconds.
inline constexpr int64_t kDefaultLockTimeoutMs = 120'000;

// The process-wide bound of every lock wait (and of the catalog's busy
// timeout), in ms: the value given to SetLockTimeoutMs (the CLI's
// --lock-timeout), else $CAIRN_LOCK_TIMEOUT (seconds, may be fractional),
// else kDefaultLockTimeoutMs. 0 means: never wait.
int64_t LockTimeoutMs();
void SetLockTimeoutMs(int64_t ms);

// What this process says it is in its holder records ("cairn deposit");
// default "cairn".
void SetLockHolderCommand(std::string command);

// Called once per wait with "waiting for the lock PATH held by ..."; the
// default prints "cairn: " + message on stderr.
void SetLockWaitNotice(std::function<void(const std::string&)> notice);

// Once `*cancel` is set (a command's SIGINT/SIGTERM flag), a wait for a busy lock ends with
// Aborted "interrupted while waiting for the lock PATH"; null (the default): waits run their
// course.
void SetLockWaitCancel(const std::atomic<bool>* cancel);

// One holder record, as read from a side file.
struct LockHolder {
  pid_t pid = 0;
  std::string command, user, host, since, mode;
  bool stale = false;  // the pid does not run on this host
  // "pid N (cairn VERB, user U, host H, since T)" + " - stale: pid N is not running".
  std::string Describe() const;
};

// The holder records of the lock file at `path` (stale ones included).
std::vector<LockHolder> ReadLockHolders(const std::string& path);
// "pid 12 (...)" for each record joined with " and ", or "a process that left
// no record" when there is none.
std::string DescribeLockHolders(const std::string& path);

// A held lock: closing the descriptor releases it; the holder record goes too.
class FileLock {
 public:
  FileLock() = default;
  FileLock(int fd, std::string path, std::string record);
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Rewrites this holder's record with mode `mode` ("shared"/"exclusive").
  void SetMode(const std::string& mode);

 private:
  void Release();
  int fd_ = -1;
  std::string path_, record_;
};

// Opens (creating, with mode `file_mode`) the lock file at `path` and takes
// flock `op` (LOCK_SH or LOCK_EX). Busy: prints the wait notice once, naming
// the holders, and waits up to `timeout_ms` (LockTimeoutMs() when negative);
// then Unavailable "PATH is still held ... by pid N (...)". A lock file that
// cannot be opened is PermissionDenied/IOError "cannot open the lock file
// PATH: ..." (never called busy). On success the holder record is written.
Result<FileLock> TakeFileLock(const std::string& path, int op, int64_t timeout_ms = -1,
                              unsigned file_mode = 0600);

// Whether `s` is the Unavailable of TakeFileLock or TryFileLock for a lock another process held
// past the wait (not one that could not be opened), context before it or not: so that a server
// can say so in its own words, never its paths, processes and flags.
bool IsLockBusy(const Status& s);

// Like TakeFileLock but never waits: Unavailable (naming the holders) when busy.
Result<FileLock> TryFileLock(const std::string& path, int op, unsigned file_mode = 0600);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_LOCK_WAIT_H_
