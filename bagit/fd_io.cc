// ReadSome, PreadSome, WriteFull: see fd_io.h.
#include "bagit/fd_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace cairn {

ssize_t ReadSome(int fd, std::span<std::byte> buffer) {
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n >= 0 || errno != EINTR) return n;
  }
}

ssize_t PreadSome(int fd, std::span<std::byte> buffer, uint64_t offset) {
  for (;;) {
    ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    if (n >= 0 || errno != EINTR) return n;
  }
}

namespace {

// write(2) of all of `data`, again while interrupted.
int WriteAllOnce(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace

int WriteFull(int fd, std::span<const std::byte> data) {
  if (data.size() <= kWriteBounce) return WriteAllOnce(fd, data);
  // This thread's bounce buffer, made on its first large write (not a
  // thread_local array: every thread would carry and zero it at its start).
  static thread_local std::unique_ptr<std::byte[]> bounce;
  if (!bounce) bounce.reset(new std::byte[kWriteBounce]);
  while (!data.empty()) {
    const size_t piece = std::min(data.size(), kWriteBounce);
    std::memcpy(bounce.get(), data.data(), piece);
    if (int err = WriteAllOnce(fd, std::span<const std::byte>(bounce.get(), piece))) return err;
    data = data.subspan(piece);
  }
  return 0;
}

void StartWriteback(int fd, uint64_t from, uint64_t to) {
  if (to <= from) return;
  (void)::sync_file_range(fd, static_cast<off_t>(from), static_cast<off_t>(to - from),
                          SYNC_FILE_RANGE_WRITE);
}

}  // namespace cairn
