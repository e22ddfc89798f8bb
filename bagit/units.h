// Byte sizes as people write them ("500M", "2Gi", "16MiB", "4096"): the one
// parser for every flag, policy field and URL parameter that takes a size.
#ifndef CAIRN_BAGIT_UNITS_H_
#define CAIRN_BAGIT_UNITS_H_

#include <cstdint>
#include <string_view>

#include "bagit/status.h"

namespace cairn {

// What a bare unit letter (K, M, G, T without "i") means.
enum class BareUnits {
  kDecimal,  // powers of 1000: "500M" = 500,000,000 (flags, samples, rates)
  kBinary,   // powers of 1024: "5M" = 5 MiB (S3 part sizes, as S3 tools write them)
};

// Parses a byte count: digits, then optionally K/M/G/T (see BareUnits), or
// Ki/Mi/Gi/Ti (powers of 1024), then optionally "B"; case-insensitive units.
// InvalidArgument naming the text for anything else, and for a value that
// does not fit in 64 bits.
Result<uint64_t> ParseByteSize(std::string_view text, BareUnits bare = BareUnits::kDecimal);

}  // namespace cairn

#endif  // CAIRN_BAGIT_UNITS_H_
