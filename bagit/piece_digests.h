// Hashing an open file for its whole digests and, from the same bytes, the
// SHA-256 of each fixed-size piece of it: what an S3 upload signs each part
// with (x-amz-content-sha256), tied to the blob's name by one read of the file.
#ifndef CAIRN_BAGIT_PIECE_DIGESTS_H_
#define CAIRN_BAGIT_PIECE_DIGESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/digest.h"
#include "bagit/status.h"

namespace cairn::bagit {

// Reads the open file `fd` (`path` names it in errors) from its start to its
// end once, with pread(2), 256 KiB at a time into a small ring of buffers. The
// calling thread feeds each buffer to `hasher` (which must be empty), and a
// second thread hashes the same buffer into the SHA-256 of each `piece_size`
// piece of the file (the last one may be shorter; none for an empty file).
// Both hashes read the one copy of each byte, so the pieces and the whole
// describe the same bytes even if the file changes while it is read. The
// pieces' lower-case hex SHA-256 digests, in order; hasher.bytes() is then the
// number of bytes read. The file's own offset is not moved.
// REQUIRES: piece_size > 0.
Result<std::vector<std::string>> HashOpenFileInPieces(int fd, const std::string& path,
                                                      uint64_t piece_size, MultiHasher& hasher);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_PIECE_DIGESTS_H_
