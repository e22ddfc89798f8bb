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

// Data larger than this is written by WriteFull in pieces of this size, each
// first copied into a small buffer of the calling thread. The kernel's copy of
// a write(2) from a large buffer that is no longer in the core's caches ran at
// 150-300 MB/s here (AMD EPYC under KVM, Linux 6.18), against about 12 GB/s
// for a memcpy of the same memory: an S3 restore of a 2 GiB blob, written
// from 8 MiB ranges, spent 5-13 s of system time in it; through the bounce
// buffer 0.8-1.0 s (docs/PERFORMANCE.md). A piece stays in the L2 cache.
inline constexpr size_t kWriteBounce = 256 << 10;

// write(2) until every byte of `data` is written, again while interrupted
// (through the thread's bounce buffer when larger than kWriteBounce): 0, or
// the errno of the write that failed (part of `data` may be written).
int WriteFull(int fd, std::span<const std::byte> data);

// How often a writer of a large file hands what it wrote to the disk's writeback.
inline constexpr uint64_t kWritebackChunk = 8 << 20;

// Starts the disk's writeback of bytes [from, to) of `fd` without waiting for it
// (sync_file_range(SYNC_FILE_RANGE_WRITE)), so that a later fsync or syncfs finds
// them on their way. A hint only: errors are left to that sync, which reports them.
void StartWriteback(int fd, uint64_t from, uint64_t to);

}  // namespace cairn

#endif  // CAIRN_BAGIT_FD_IO_H_
