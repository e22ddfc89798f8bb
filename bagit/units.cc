// ParseByteSize: see units.h.
#include "bagit/units.h"

#include <cctype>
#include <charconv>
#include <string>

namespace cairn {

Result<uint64_t> ParseByteSize(std::string_view text, BareUnits bare) {
  const auto bad = [&text]() {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a byte size (examples: 4096, 500M, 2G, 1Gi)");
  };
  std::string_view t = text;
  if (!t.empty() && (t.back() == 'B' || t.back() == 'b')) t.remove_suffix(1);
  bool binary = bare == BareUnits::kBinary;
  bool explicit_binary = false;
  if (!t.empty() && (t.back() == 'i' || t.back() == 'I')) {
    explicit_binary = true;
    binary = true;
    t.remove_suffix(1);
  }
  int power = 0;
  if (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
    static constexpr std::string_view kUnits = "KMGT";
    size_t index =
        kUnits.find(static_cast<char>(std::toupper(static_cast<unsigned char>(t.back()))));
    if (index == std::string_view::npos) return bad();
    power = static_cast<int>(index) + 1;
    t.remove_suffix(1);
  } else if (explicit_binary) {
    return bad();  // "i" without a unit
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return bad();
  const uint64_t base = binary ? 1024 : 1000;
  for (int i = 0; i < power; ++i) {
    if (value > UINT64_MAX / base) return bad();
    value *= base;
  }
  return value;
}

}  // namespace cairn
