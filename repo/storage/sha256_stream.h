// Incremental SHA-256 (OpenSSL EVP) for backends that check PutOptions::expected_sha256
// while bytes stream through a writer.
#ifndef CAIRN_REPO_STORAGE_SHA256_STREAM_H_
#define CAIRN_REPO_STORAGE_SHA256_STREAM_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace cairn::repo {

class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::span<const std::byte> data);
  // Lower-case hex digest of everything updated so far. Call once.
  std::string FinishHex();

 private:
  evp_md_ctx_st* ctx_;
};

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_SHA256_STREAM_H_
