// ReadSome, PreadSome, WriteFull: see fd_io.h.
#include "bagit/fd_io.h"

#include <unistd.h>

#include <cerrno>

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

int WriteFull(int fd, std::span<const std::byte> data) {
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

}  // namespace cairn
