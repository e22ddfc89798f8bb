// Canonical event bytes, SHA-256 (OpenSSL EVP) and UUIDs for the event log.
#include "repo/catalog/event_chain.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <random>

namespace cairn::repo {
namespace {

void Append(std::string& out, std::string_view field) {
  uint64_t n = field.size();
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(field);
}

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in lower-case hex.
std::string FormatUuid(const std::array<unsigned char, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace

std::string GenesisHash() { return std::string(kEventHashSize, '\0'); }

std::string CanonicalEventBytes(const proto::Event& e) {
  std::string out;
  // 16 length prefixes, the integers in decimal and the text fields: one allocation.
  out.reserve(15 + 16 * 8 + 3 * 20 + e.id().size() + e.type().size() + e.type_uri().size() +
              e.agent().size() + e.agent_version().size() + e.user().size() + e.partner().size() +
              e.object().size() + e.file().size() + e.site().size() + e.outcome().size() +
              e.detail().size() + e.prev_hash().size() + 8 + e.role().size());
  out.append("cairn-event-v1\n");
  Append(out, std::to_string(e.seq()));
  Append(out, e.id());
  Append(out, e.type());
  Append(out, e.type_uri());
  Append(out, std::to_string(e.time_unix_micros()));
  Append(out, e.agent());
  Append(out, e.agent_version());
  Append(out, e.user());
  Append(out, e.partner());
  Append(out, e.object());
  Append(out, std::to_string(e.version()));
  Append(out, e.file());
  Append(out, e.site());
  Append(out, e.outcome());
  Append(out, e.detail());
  Append(out, e.prev_hash());
  if (!e.role().empty()) Append(out, e.role());  // see event_chain.h: old events unchanged
  return out;
}

std::string EventHash(const proto::Event& event) { return Sha256Raw(CanonicalEventBytes(event)); }

std::string Sha256Raw(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  // Fetched once: EVP_sha256() looks the implementation up again on every digest.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (sha256 == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, sha256, nullptr) != 1) {
    return {};  // only on allocation failure; an empty hash never verifies
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

void FillRandom(std::span<unsigned char> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::random_device rd;  // OpenSSL's RNG failed: fall back to the OS
    for (auto& byte : out) byte = static_cast<unsigned char>(rd());
  }
}

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  FillRandom(b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return FormatUuid(b);
}

std::string UuidV7(int64_t unix_micros, std::span<const unsigned char, 8> random) {
  const uint64_t micros = unix_micros > 0 ? static_cast<uint64_t>(unix_micros) : 0;
  const uint64_t millis = micros / 1000;
  const uint64_t sub_milli = (micros % 1000) * 4096 / 1000;  // 12 bits
  std::array<unsigned char, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(millis >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | ((sub_milli >> 8) & 0x0f));
  b[7] = static_cast<unsigned char>(sub_milli & 0xff);
  b[8] = static_cast<unsigned char>(0x80 | (random[0] & 0x3f));
  for (int i = 1; i < 8; ++i) b[8 + i] = random[i];
  return FormatUuid(b);
}

}  // namespace cairn::repo
