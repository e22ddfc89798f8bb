// Canonical event bytes, SHA-256 (OpenSSL EVP) and UUIDs for the event log.
#include "repo/catalog/event_chain.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <random>

namespace cairn::repo {
namespace {

void Append(std::string& out, std::string_view field) {
  uint64_t n = field.size();
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(field);
}

}  // namespace

std::string GenesisHash() { return std::string(kEventHashSize, '\0'); }

std::string CanonicalEventBytes(const proto::Event& e) {
  std::string out = "cairn-event-v1\n";
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
  return out;
}

std::string EventHash(const proto::Event& event) {
  const std::string bytes = CanonicalEventBytes(event);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    return {};  // only on allocation failure; an empty hash never verifies
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    std::random_device rd;  // OpenSSL's RNG failed: fall back to the OS
    for (auto& byte : b) byte = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace cairn::repo
