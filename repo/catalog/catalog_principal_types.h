// The rows of the principals and api_tokens tables (migration 7, issue 17), as
// the Catalog's principal and token methods take and return them.
#ifndef CAIRN_REPO_CATALOG_CATALOG_PRINCIPAL_TYPES_H_
#define CAIRN_REPO_CATALOG_CATALOG_PRINCIPAL_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "repo/principal.h"

namespace cairn::repo {

// A named account that may act through `cairn serve`.
struct PrincipalRecord {
  std::string name;
  Role role = Role::kOperator;
  std::string partner;  // depositor and partner-admin: their partner; else empty
  int64_t created_micros = 0;
  int64_t disabled_micros = 0;  // when it was disabled; 0: enabled
};

// An API token, without its secret or the secret's hash.
struct ApiTokenRecord {
  std::string id;  // the public part of "cairn_<id>_<secret>"
  std::string principal;
  int64_t created_micros = 0;
  int64_t expires_micros = 0;  // 0: never
  int64_t revoked_micros = 0;  // 0: not revoked
  std::optional<int64_t> last_used_micros;
};

// What authenticating a token needs: the token, the SHA-256 of its secret (32
// raw bytes) and the principal it names.
struct ApiTokenCredential {
  ApiTokenRecord token;
  std::string secret_sha256;
  PrincipalRecord principal;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_PRINCIPAL_TYPES_H_
