#include "repo/access/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo::access {
namespace {

constexpr std::string_view kTokenPrefix = "cairn_";
constexpr size_t kIdBytes = 6;       // 12 hex digits: public, for list and revoke
constexpr size_t kSecretBytes = 32;  // 43 base64url characters
constexpr size_t kSecretChars = 43;
constexpr int kIdAttempts = 4;  // a fresh id on the rare clash with an existing one

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Status::IOError("the OpenSSL random generator failed");
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// RFC 4648 section 5, without padding.
std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string Sha256(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsBase64Url(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

struct TokenParts {
  std::string_view id;
  std::string_view secret;
};

// Splits "cairn_<id>_<secret>"; nullopt when `token` does not have that form. The secret may
// itself hold '_' (base64url): the id, hex, never does.
std::optional<TokenParts> SplitToken(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return std::nullopt;
  token.remove_prefix(kTokenPrefix.size());
  if (token.size() != kIdBytes * 2 + 1 + kSecretChars || token[kIdBytes * 2] != '_') {
    return std::nullopt;
  }
  TokenParts parts{token.substr(0, kIdBytes * 2), token.substr(kIdBytes * 2 + 1)};
  if (!IsLowerHex(parts.id) || !IsBase64Url(parts.secret)) return std::nullopt;
  return parts;
}

}  // namespace

Result<NewToken> CreateToken(Catalog& catalog, const std::string& principal,
                             std::optional<int64_t> lifetime_micros, int64_t now_micros) {
  if (lifetime_micros && *lifetime_micros <= 0) {
    return Status::InvalidArgument("a token's lifetime must be positive");
  }
  CAIRN_ASSIGN_OR_RETURN(PrincipalRecord who, catalog.GetPrincipal(principal));
  if (who.disabled_micros != 0) {
    return Status::InvalidArgument("principal " + principal + " is disabled: no new tokens");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string secret_bytes, RandomBytes(kSecretBytes));
  const std::string secret = Base64Url(secret_bytes);
  NewToken made;
  made.record.principal = principal;
  made.record.created_micros = now_micros;
  made.record.expires_micros = lifetime_micros ? now_micros + *lifetime_micros : 0;
  Status stored;
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    CAIRN_ASSIGN_OR_RETURN(std::string id_bytes, RandomBytes(kIdBytes));
    made.record.id = Hex(id_bytes);
    stored = catalog.AddApiToken(made.record, Sha256(secret));
    if (!stored.IsAlreadyExists()) break;
  }
  CAIRN_RETURN_IF_ERROR(stored);
  made.token = std::string(kTokenPrefix) + made.record.id + "_" + secret;
  return made;
}

Result<std::vector<ApiTokenRecord>> ListTokens(Catalog& catalog) { return catalog.ListApiTokens(); }

Status RevokeToken(Catalog& catalog, const std::string& id, int64_t now_micros) {
  if (id.size() != kIdBytes * 2 || !IsLowerHex(id)) {
    // Never echoed: it may be a whole token, secret included.
    return Status::InvalidArgument(
        "not a token id: give the 12 hex digits after cairn_ (see cairn token list)");
  }
  return catalog.RevokeApiToken(id, now_micros);
}

Result<std::vector<std::string>> RevokeToken(Repository& repo, const std::string& id,
                                             int64_t now_micros) {
  CAIRN_RETURN_IF_ERROR(RevokeToken(repo.catalog(), id, now_micros));
  return SyncSettingsAfterChange(repo);
}

Result<Principal> AuthenticateToken(Catalog& catalog, std::string_view token, int64_t now_micros) {
  std::optional<TokenParts> parts = SplitToken(token);
  if (!parts) {
    return Status::Unauthenticated("malformed API token (expected cairn_<id>_<secret>)");
  }
  const std::string id(parts->id);
  const std::string not_valid = "API token " + id + " is not valid";
  Result<ApiTokenCredential> found = catalog.GetApiTokenCredential(id);
  if (found.status().IsNotFound()) return Status::Unauthenticated(not_valid);
  CAIRN_RETURN_IF_ERROR(found.status());
  const ApiTokenCredential& credential = *found;
  const std::string presented = Sha256(parts->secret);
  if (credential.secret_sha256.size() != presented.size() ||
      CRYPTO_memcmp(credential.secret_sha256.data(), presented.data(), presented.size()) != 0) {
    return Status::Unauthenticated(not_valid);
  }
  if (credential.token.revoked_micros != 0) {
    return Status::Unauthenticated("API token " + id + " was revoked");
  }
  if (credential.token.expires_micros != 0 && now_micros >= credential.token.expires_micros) {
    return Status::Unauthenticated("API token " + id + " has expired");
  }
  if (credential.principal.disabled_micros != 0) {
    return Status::Unauthenticated("API token " + id + ": its principal " +
                                   credential.principal.name + " is disabled");
  }
  (void)catalog.RecordApiTokenUse(id, now_micros);  // bookkeeping only: see the contract
  Principal who;
  who.name = credential.principal.name;
  who.role = credential.principal.role;
  who.partner = credential.principal.partner;
  who.local = false;
  return who;
}

}  // namespace cairn::repo::access
