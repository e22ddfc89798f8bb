// libFuzzer target: BagIt-profile JSON (bagit::Profile::Parse). Built only
// with -DCAIRN_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bagit/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cairn::bagit::Profile::Parse(text, "fuzz.json");
  return 0;
}
