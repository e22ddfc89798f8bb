// Reading a local file through a memory map, for hashing from the page cache
// without copying it into the process (read(2) copies every byte once: about
// 0.75 s of system time per GiB here, against about 0.2 s of page faults for a
// map). The one home of the SIGBUS handling a map needs: a file that shrinks
// while mapped raises SIGBUS on the next access past its new end; the read
// then reports kFailed and the caller falls back to read(2), which tells what
// really happened.
#ifndef CAIRN_BAGIT_MAPPED_READ_H_
#define CAIRN_BAGIT_MAPPED_READ_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace cairn::bagit {

enum class MappedRead {
  kDone,     // every byte of [0, size) was handed to the callback
  kStopped,  // the callback returned false
  kFailed,   // a window could not be mapped, or the file shrank under the map
};

// Maps [offset, offset + length) of `fd` 16 MiB at a time and hands it to
// `each` in pieces of at most `piece` bytes, in order. `each` must not keep
// the span.
MappedRead ReadMappedRange(int fd, uint64_t offset, uint64_t length, size_t piece,
                           const std::function<bool(std::span<const std::byte>)>& each);

// The first `size` bytes of `fd`.
inline MappedRead ReadMapped(int fd, uint64_t size, size_t piece,
                             const std::function<bool(std::span<const std::byte>)>& each) {
  return ReadMappedRange(fd, 0, size, piece, each);
}

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_MAPPED_READ_H_
