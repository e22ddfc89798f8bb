// Byte sizes as people write them ("500M", "2Gi", "16MiB", "200MB", "4096"): the one parser, and
// the one reading, for every flag, policy field and URL parameter that takes a size.
#ifndef CAIRN_BAGIT_UNITS_H_
#define CAIRN_BAGIT_UNITS_H_

#include <cstdint>
#include <string_view>

#include "bagit/status.h"

namespace cairn {

// Parses a byte count: digits, then optionally a unit K, M, G or T (case-insensitive). A unit
// counts in powers of 1024 ("32M" = 32 MiB, as the README writes sizes), with or without "i"
// and "B" after it ("32Mi", "32MiB"); only a unit followed by "B" alone ("200MB", "2kb") counts
// in powers of 1000. A bare "B" after the digits is allowed ("4096B"). InvalidArgument naming
// the text for anything else, and for a value that does not fit in 64 bits.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_BAGIT_UNITS_H_
