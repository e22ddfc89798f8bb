// API tokens (issue 17): how a principal proves who it is to `cairn serve`. A token reads
// "cairn_<id>_<secret>": <id> is 12 lower-case hex digits, public (listed, and named when
// revoking); <secret> is 32 random bytes (OpenSSL RAND_bytes) in unpadded base64url. The
// secret is shown once, when the token is made; the catalog keeps only SHA-256 of the secret
// text. Tokens are never written to a site: after `cairn catalog rebuild` they are issued anew.
#ifndef CAIRN_REPO_ACCESS_TOKENS_H_
#define CAIRN_REPO_ACCESS_TOKENS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_principal_types.h"
#include "repo/principal.h"

namespace cairn::repo {
class Catalog;
class Repository;
}  // namespace cairn::repo

namespace cairn::repo::access {

struct NewToken {
  std::string token;      // "cairn_<id>_<secret>": the only time the secret is ever seen
  ApiTokenRecord record;  // what `token list` shows of it
};

// Makes a token for principal `principal`, valid from `now_micros` for `lifetime_micros`
// (nullopt: it never expires). NotFound naming the principal when there is none;
// InvalidArgument for a disabled principal or a lifetime that is not positive.
Result<NewToken> CreateToken(Catalog& catalog, const std::string& principal,
                             std::optional<int64_t> lifetime_micros, int64_t now_micros);

// Every token (id, principal, created, expires, revoked, last used), by principal then
// created time: never a secret or its hash.
Result<std::vector<ApiTokenRecord>> ListTokens(Catalog& catalog);

// Revokes token `id` (the public part) from `now_micros` on. NotFound naming the id;
// InvalidArgument, without echoing it (it may be a whole token), for text that is no token id.
Status RevokeToken(Catalog& catalog, const std::string& id, int64_t now_micros);

// As above, then the principal's record written to every site (its revoked token ids: a catalog
// put back from a backup older than the revocation is known to be behind it, and `cairn serve`
// refuses that principal's tokens until the rebuild). The warnings are those of
// SyncSettingsAfterChange (a site not written: the next change or `cairn site resync` writes it).
Result<std::vector<std::string>> RevokeToken(Repository& repo, const std::string& id,
                                             int64_t now_micros);

// The principal `token` authenticates at `now_micros`. Unauthenticated for a token that is
// malformed, unknown, has the wrong secret, has expired or was revoked, or whose principal is
// disabled; its message names the token id at most, never the token or its secret. The
// secret's hash is compared in constant time (CRYPTO_memcmp). Records the use (at most one
// write a minute per token; a failure to record it does not fail authentication). Other
// errors (the catalog cannot be read) as the catalog returns them.
Result<Principal> AuthenticateToken(Catalog& catalog, std::string_view token, int64_t now_micros);

}  // namespace cairn::repo::access

#endif  // CAIRN_REPO_ACCESS_TOKENS_H_
