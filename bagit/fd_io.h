// Reads and writes on a file descriptor that retry an interrupted system
// call (EINTR), the one place that loops on it; every layer above uses these.
#ifndef CAIRN_BAGIT_FD_IO_H_
#define CAIRN_BAGIT_FD_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace cairn {

// read(2) into `buffer`, again while interrupted: the bytes read (fewer than
// asked is not the end), 0 at the end of the file, -1 with errno set.
ssize_t ReadSome(int fd, std::span<std::byte> buffer);

// pread(2) at `offset`, again while interrupted; as ReadSome.
ssize_t PreadSome(int fd, std::span<std::byte> buffer, uint64_t offset);

// write(2) until every byte of `data` is written, again while interrupted:
// 0, or the errno of the write that failed (part of `data` may be written).
int WriteFull(int fd, std::span<const std::byte> data);

}  // namespace cairn

#endif  // CAIRN_BAGIT_FD_IO_H_
