// A hand-made holey bag (RFC 8493 section 2.2.3): its manifest lists a payload
// file that is not in the bag, only named in fetch.txt. No Payload-Oxum, so
// that completeness is the only rule it breaks. Header-only, for CLI tests.
#ifndef CAIRN_TESTS_CLI_HOLEY_BAG_H_
#define CAIRN_TESTS_CLI_HOLEY_BAG_H_

#include <string>

#include "bagit/digest.h"
#include "tests/util/test_util.h"

namespace cairn::testing {

// The payload path fetch.txt names and the bag lacks.
inline constexpr const char* kHoleyBagAbsentPath = "data/later/absent.txt";

// Writes the bag at `dir`: data/present.txt is there, data/later/absent.txt is
// listed in manifest-sha256.txt and fetch.txt but absent.
inline void MakeHoleyBag(const fs::path& dir) {
  auto sha256 = [](const std::string& bytes) {
    return bagit::HashBytes(bytes,
                            bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  };
  const std::string present = "here\n";
  const std::string absent = "fetched later\n";
  WriteFile(dir / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
  WriteFile(dir / "bag-info.txt", "Source-Organization: Test\n");
  WriteFile(dir / "data/present.txt", present);
  WriteFile(dir / "manifest-sha256.txt", sha256(absent) + "  " + kHoleyBagAbsentPath + "\n" +
                                             sha256(present) + "  data/present.txt\n");
  WriteFile(dir / "fetch.txt", "https://example.org/absent.txt " + std::to_string(absent.size()) +
                                   " " + kHoleyBagAbsentPath + "\n");
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_CLI_HOLEY_BAG_H_
