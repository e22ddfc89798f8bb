// libFuzzer target: policy files (text-format protobuf, policies::ParsePolicy
// with its semantic checks). Built only with -DCAIRN_FUZZ=ON (clang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policies/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cairn::policies::ParsePolicy(text, "fuzz.policy", "/nonexistent");
  return 0;
}
