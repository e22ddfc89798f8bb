// TakeFileLock: a bounded flock wait that names the holder (see lock_wait.h).
#include "repo/lock_wait.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "bagit/time_text.h"
#include "repo/os_user.h"

namespace cairn::repo {
namespace {

std::atomic<int64_t> g_timeout_ms{-1};  // -1: not set, use the environment
std::mutex g_mu;
std::string& HolderCommand() {
  static std::string command = "cairn";
  return command;
}
std::function<void(const std::string&)>& Notice() {
  static std::function<void(const std::string&)> notice = [](const std::string& m) {
    std::cerr << "cairn: " << m << "\n";
  };
  return notice;
}

constexpr std::string_view kRecordInfix = ".holder-";

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "?";
  return host;
}

std::string RecordPath(const std::string& path, pid_t pid) {
  return path + std::string(kRecordInfix) + std::to_string(pid);
}

// Writes `text` to `path` (mode `mode`, whatever the umask); best effort.
void WriteRecord(const std::string& path, const std::string& text, unsigned mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return;
  (void)fchmod(fd, mode);
  (void)!write(fd, text.data(), text.size());
  close(fd);
}

std::string RecordText(const std::string& mode) {
  std::string command;
  {
    std::lock_guard<std::mutex> guard(g_mu);
    command = HolderCommand();
  }
  return "pid " + std::to_string(getpid()) + "\ncommand " + command + "\nuser " + OsUserName() +
         "\nhost " + HostName() + "\nsince " + NowUtc() + "\nmode " + mode + "\n";
}

std::string ModeName(int op) { return (op & LOCK_EX) ? "exclusive" : "shared"; }

// Opens the lock file, creating it with `file_mode` whatever the umask.
Result<int> OpenLockFile(const std::string& path, unsigned file_mode) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, file_mode);
  if (fd < 0 && (errno == EACCES || errno == EROFS)) {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);  // flock works read-only too
  }
  if (fd < 0) {
    const int err = errno;
    Status s = Status::FromErrno(err, "cannot open the lock file", path);
    return Status(s.code(), s.message() +
                                " (this is not a busy lock: check the folder's owner and "
                                "permissions, or whether it is read-only)");
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) != file_mode &&
      st.st_size == 0) {
    (void)fchmod(fd, file_mode);
  }
  return fd;
}

// "2 s", or "0.2 s" below ten seconds when not whole.
std::string Seconds(int64_t ms) {
  if (ms >= 10'000 || ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000);
  return buf;
}

// What every busy lock's message holds (IsLockBusy).
constexpr std::string_view kStillHeld = " is still held after ";

Status Busy(const std::string& path, int op, int64_t timeout_ms) {
  return Status::Unavailable(path + std::string(kStillHeld) + Seconds(timeout_ms) + " (wanted " +
                             ModeName(op) + ") by " + DescribeLockHolders(path) +
                             ": try again later, or wait longer with --lock-timeout SECONDS or "
                             "CAIRN_LOCK_TIMEOUT");
}

}  // namespace

int64_t LockTimeoutMs() {
  int64_t set = g_timeout_ms.load();
  if (set >= 0) return set;
  if (const char* env = std::getenv("CAIRN_LOCK_TIMEOUT"); env && *env) {
    char* end = nullptr;
    double secs = std::strtod(env, &end);
    if (end != env && secs >= 0) return static_cast<int64_t>(secs * 1000);
  }
  return kDefaultLockTimeoutMs;
}

void SetLockTimeoutMs(int64_t ms) { g_timeout_ms.store(ms < 0 ? 0 : ms); }

void SetLockHolderCommand(std::string command) {
  std::lock_guard<std::mutex> guard(g_mu);
  HolderCommand() = std::move(command);
}

namespace {
std::atomic<const std::atomic<bool>*> g_cancel{nullptr};  // SetLockWaitCancel
}  // namespace

void SetLockWaitCancel(const std::atomic<bool>* cancel) { g_cancel.store(cancel); }

void SetLockWaitNotice(std::function<void(const std::string&)> notice) {
  std::lock_guard<std::mutex> guard(g_mu);
  Notice() = std::move(notice);
}

std::string LockHolder::Describe() const {
  std::string out = "pid " + std::to_string(pid) + " (" + (command.empty() ? "?" : command) +
                    ", user " + user + ", host " + host + ", since " + since + ")";
  if (stale) out += " - a stale record: pid " + std::to_string(pid) + " is not running";
  return out;
}

std::vector<LockHolder> ReadLockHolders(const std::string& path) {
  std::vector<LockHolder> holders;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string prefix =
      (slash == std::string::npos ? path : path.substr(slash + 1)) + std::string(kRecordInfix);
  DIR* d = opendir(dir.c_str());
  if (!d) return holders;
  const std::string here = HostName();
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    int fd = open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    char buf[1024] = {};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    LockHolder h;
    std::istringstream lines(std::string(buf, static_cast<size_t>(n)));
    std::string line;
    while (std::getline(lines, line)) {
      const size_t sp = line.find(' ');
      if (sp == std::string::npos) continue;
      const std::string key = line.substr(0, sp), value = line.substr(sp + 1);
      if (key == "pid") h.pid = static_cast<pid_t>(std::atoi(value.c_str()));
      if (key == "command") h.command = value;
      if (key == "user") h.user = value;
      if (key == "host") h.host = value;
      if (key == "since") h.since = value;
      if (key == "mode") h.mode = value;
    }
    if (h.pid <= 0) continue;
    h.stale = h.host == here && kill(h.pid, 0) != 0 && errno == ESRCH;
    holders.push_back(std::move(h));
  }
  closedir(d);
  return holders;
}

std::string DescribeLockHolders(const std::string& path) {
  std::string out;
  for (const LockHolder& h : ReadLockHolders(path)) {
    out += (out.empty() ? "" : " and ") + h.Describe();
  }
  return out.empty() ? "a process that left no record" : out;
}

FileLock::FileLock(int fd, std::string path, std::string record)
    : fd_(fd), path_(std::move(path)), record_(std::move(record)) {}

FileLock::~FileLock() { Release(); }

FileLock::FileLock(FileLock&& other) noexcept { *this = std::move(other); }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    record_ = std::move(other.record_);
    other.fd_ = -1;
    other.record_.clear();
  }
  return *this;
}

void FileLock::Release() {
  if (!record_.empty()) unlink(record_.c_str());
  record_.clear();
  if (fd_ >= 0) close(fd_);  // releases the flock
  fd_ = -1;
}

void FileLock::SetMode(const std::string& mode) {
  if (record_.empty()) return;
  struct stat st {};
  unsigned file_mode = 0600;
  if (stat(record_.c_str(), &st) == 0) file_mode = st.st_mode & 0777;
  WriteRecord(record_, RecordText(mode), file_mode);
}

Result<FileLock> TakeFileLock(const std::string& path, int op, int64_t timeout_ms,
                              unsigned file_mode) {
  if (timeout_ms < 0) timeout_ms = LockTimeoutMs();
  CAIRN_ASSIGN_OR_RETURN(int fd, OpenLockFile(path, file_mode));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool told = false;
  while (flock(fd, op | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      Status s = Status::FromErrno(errno, "lock", path);
      close(fd);
      return s;
    }
    if (const std::atomic<bool>* cancel = g_cancel.load(); cancel != nullptr && cancel->load()) {
      close(fd);
      return Status::Aborted("interrupted while waiting for the lock " + path);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      close(fd);
      return Busy(path, op, timeout_ms);
    }
    if (!told) {
      told = true;
      std::function<void(const std::string&)> notice;
      {
        std::lock_guard<std::mutex> guard(g_mu);
        notice = Notice();
      }
      if (notice) {
        notice("waiting for the lock " + path + " held by " + DescribeLockHolders(path) +
               " (up to " + Seconds(timeout_ms) + ")");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string record = RecordPath(path, getpid());
  WriteRecord(record, RecordText(ModeName(op)), file_mode);
  // A record left by a holder that died (its lock died with it) is removed by
  // the next exclusive holder: nobody else can hold the lock now.
  if (op & LOCK_EX) {
    for (const LockHolder& h : ReadLockHolders(path)) {
      if (h.stale) unlink(RecordPath(path, h.pid).c_str());
    }
  }
  return FileLock(fd, path, record);
}

bool IsLockBusy(const Status& s) {
  return s.IsUnavailable() && s.message().find(kStillHeld) != std::string::npos;
}

Result<FileLock> TryFileLock(const std::string& path, int op, unsigned file_mode) {
  return TakeFileLock(path, op, 0, file_mode);
}

}  // namespace cairn::repo
