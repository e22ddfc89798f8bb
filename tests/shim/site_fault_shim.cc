// An LD_PRELOAD shim for the CLI tests (issue 15): makes one folder (a posix
// site) refuse writes the way a real device does, without root, so the real
// `cairn` binary can be driven against a full or read-only site.
//   CAIRN_FAULT_PREFIX=/abs/path  the folder (every path below it)
//   CAIRN_FAULT_KIND=nospace      writes into files there fail with ENOSPC
//                                 (opening and creating still work, as on a
//                                 full disk with inodes left), mkdir too
//   CAIRN_FAULT_KIND=readonly     opening for writing, creating, renaming,
//                                 linking and removing there fail with EROFS
//   CAIRN_FAULT_FREE=BYTES        statvfs of a path there reports BYTES free
// Built only in the test tree (tests/CMakeLists.txt); never linked into cairn.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace {

constexpr int kMaxTrackedFd = 65536;
std::atomic<bool> g_full_fd[kMaxTrackedFd];  // fds open for writing below the prefix

const char* Prefix() {
  static const char* prefix = getenv("CAIRN_FAULT_PREFIX");
  return prefix != nullptr && *prefix != '\0' ? prefix : nullptr;
}
bool Kind(const char* kind) {
  static const char* k = getenv("CAIRN_FAULT_KIND");
  return k != nullptr && strcmp(k, kind) == 0;
}

// True when `path` (relative to `dirfd`) lies below the prefix.
bool Below(int dirfd, const char* path) {
  const char* prefix = Prefix();
  if (prefix == nullptr || path == nullptr) return false;
  char full[4096];
  if (path[0] == '/') {
    snprintf(full, sizeof full, "%s", path);
  } else {
    char base[4096];
    if (dirfd == AT_FDCWD) {
      if (getcwd(base, sizeof base) == nullptr) return false;
    } else {
      char link[64];
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(link, base, sizeof base - 1);
      if (n < 0) return false;
      base[n] = '\0';
    }
    snprintf(full, sizeof full, "%s/%s", base, path);
  }
  size_t len = strlen(prefix);
  return strncmp(full, prefix, len) == 0 && (full[len] == '/' || full[len] == '\0');
}

bool Writes(int flags) { return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0; }

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

bool FullFd(int fd) { return fd >= 0 && fd < kMaxTrackedFd && g_full_fd[fd].load(); }
void Track(int fd, bool full) {
  if (fd >= 0 && fd < kMaxTrackedFd) g_full_fd[fd].store(full);
}

int Refuse(int err) {
  errno = err;
  return -1;
}

int OpenAt(int dirfd, const char* path, int flags, mode_t mode) {
  using Fn = int (*)(int, const char*, int, ...);
  static Fn real = Next<Fn>("openat");
  bool below = Writes(flags) && Below(dirfd, path);
  if (below && Kind("readonly")) return Refuse(EROFS);
  int fd = real(dirfd, path, flags, mode);
  if (fd >= 0) Track(fd, below && Kind("nospace"));
  return fd;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenAt(AT_FDCWD, path, flags, mode);
}
int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenAt(AT_FDCWD, path, flags, mode);
}
int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenAt(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return OpenAt(dirfd, path, flags, mode);
}

int close(int fd) {
  static auto real = Next<int (*)(int)>("close");
  Track(fd, false);
  return real(fd);
}

ssize_t write(int fd, const void* buf, size_t n) {
  static auto real = Next<ssize_t (*)(int, const void*, size_t)>("write");
  if (FullFd(fd) && n > 0) return Refuse(ENOSPC);
  return real(fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto real = Next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (FullFd(fd) && n > 0) return Refuse(ENOSPC);
  return real(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto real = Next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (FullFd(fd) && n > 0) return Refuse(ENOSPC);
  return real(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int count) {
  static auto real = Next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (FullFd(fd)) return Refuse(ENOSPC);
  return real(fd, iov, count);
}
ssize_t copy_file_range(int in, loff_t* in_off, int out, loff_t* out_off, size_t n,
                        unsigned int flags) {
  static auto real =
      Next<ssize_t (*)(int, loff_t*, int, loff_t*, size_t, unsigned int)>("copy_file_range");
  if (FullFd(out) && n > 0) return Refuse(ENOSPC);
  return real(in, in_off, out, out_off, n, flags);
}
int fallocate(int fd, int mode, off_t off, off_t len) {
  static auto real = Next<int (*)(int, int, off_t, off_t)>("fallocate");
  if (FullFd(fd)) return Refuse(ENOSPC);
  return real(fd, mode, off, len);
}
int posix_fallocate(int fd, off_t off, off_t len) {
  static auto real = Next<int (*)(int, off_t, off_t)>("posix_fallocate");
  if (FullFd(fd)) return ENOSPC;
  return real(fd, off, len);
}

// The free space the file system reports below the prefix, as CAIRN_FAULT_FREE says (counted
// in fragments of one byte, so that any figure can be given).
extern "C++" template <typename Stat>
void FakeFree(const char* path, Stat* buf) {
  const char* free = getenv("CAIRN_FAULT_FREE");
  if (free == nullptr || !Below(AT_FDCWD, path)) return;
  buf->f_blocks *= buf->f_frsize;
  buf->f_frsize = 1;
  buf->f_bavail = strtoull(free, nullptr, 10);
  buf->f_bfree = buf->f_bavail;
}
int statvfs(const char* path, struct statvfs* buf) {
  static auto real = Next<int (*)(const char*, struct statvfs*)>("statvfs");
  int r = real(path, buf);
  if (r == 0) FakeFree(path, buf);
  return r;
}
int statvfs64(const char* path, struct statvfs64* buf) {
  static auto real = Next<int (*)(const char*, struct statvfs64*)>("statvfs64");
  int r = real(path, buf);
  if (r == 0) FakeFree(path, buf);
  return r;
}

int mkdir(const char* path, mode_t mode) {
  static auto real = Next<int (*)(const char*, mode_t)>("mkdir");
  struct stat st;
  if (Below(AT_FDCWD, path) && stat(path, &st) != 0) {  // an existing one: EEXIST as ever
    if (Kind("readonly")) return Refuse(EROFS);
    if (Kind("nospace")) return Refuse(ENOSPC);
  }
  return real(path, mode);
}
int rename(const char* from, const char* to) {
  static auto real = Next<int (*)(const char*, const char*)>("rename");
  if (Kind("readonly") && (Below(AT_FDCWD, from) || Below(AT_FDCWD, to))) return Refuse(EROFS);
  return real(from, to);
}
int link(const char* from, const char* to) {
  static auto real = Next<int (*)(const char*, const char*)>("link");
  if (Kind("readonly") && Below(AT_FDCWD, to)) return Refuse(EROFS);
  return real(from, to);
}
int unlink(const char* path) {
  static auto real = Next<int (*)(const char*)>("unlink");
  if (Kind("readonly") && Below(AT_FDCWD, path)) return Refuse(EROFS);
  return real(path);
}
int unlinkat(int dirfd, const char* path, int flags) {
  static auto real = Next<int (*)(int, const char*, int)>("unlinkat");
  if (Kind("readonly") && Below(dirfd, path)) return Refuse(EROFS);
  return real(dirfd, path, flags);
}
int rmdir(const char* path) {
  static auto real = Next<int (*)(const char*)>("rmdir");
  if (Kind("readonly") && Below(AT_FDCWD, path)) return Refuse(EROFS);
  return real(path);
}

}  // extern "C"
