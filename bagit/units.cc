// ParseByteSize: see units.h.
#include "bagit/units.h"

#include <cctype>
#include <charconv>
#include <string>

namespace cairn {

Result<uint64_t> ParseByteSize(std::string_view text) {
  const auto bad = [&text]() {
    return Status::InvalidArgument(
        "'" + std::string(text) +
        "' is not a byte size (examples: 4096, 64K, 32M, 2G or 2GiB: powers of 1024; 200MB: "
        "powers of 1000)");
  };
  std::string_view t = text;
  bool bytes_written = false;  // "B" at the end
  if (!t.empty() && (t.back() == 'B' || t.back() == 'b')) {
    bytes_written = true;
    t.remove_suffix(1);
  }
  bool explicit_binary = false;  // "i" before the "B"
  if (!t.empty() && (t.back() == 'i' || t.back() == 'I')) {
    explicit_binary = true;
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
  const uint64_t base = bytes_written && !explicit_binary ? 1000 : 1024;
  for (int i = 0; i < power; ++i) {
    if (value > UINT64_MAX / base) return bad();
    value *= base;
  }
  return value;
}

}  // namespace cairn
