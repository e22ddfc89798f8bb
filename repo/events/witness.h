// Witnesses of the event log: the chain head (sequence number and hash of the
// last event), optionally signed with an Ed25519 key (OpenSSL), so it can be
// published outside Cairn. A published witness later proves that the log up to
// that event has not been rewritten: `cairn events verify --witness FILE`.
#ifndef CAIRN_REPO_EVENTS_WITNESS_H_
#define CAIRN_REPO_EVENTS_WITNESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

struct ChainHead {
  uint64_t seq = 0;         // 0: empty log
  std::string hash_hex;     // SHA-256 of event `seq`, lower-case hex
  int64_t time_micros = 0;  // when the head was taken
};

struct Witness {
  ChainHead head;
  std::string public_key_hex;  // raw 32-byte Ed25519 key; empty if unsigned
  std::string signature_hex;   // 64-byte signature; empty if unsigned
};

// Writes a new Ed25519 key pair as PEM files (private key mode 0600).
// AlreadyExists if either file exists: a witness key is never overwritten.
Status GenerateWitnessKey(const std::string& private_pem_path, const std::string& public_pem_path);

// The witness of `head`, signed with the private key in `private_pem_path`, or
// unsigned when the path is empty. InvalidArgument if the key is not Ed25519.
Result<Witness> MakeWitness(const ChainHead& head, const std::string& private_pem_path);

// JSON text of a witness ({"format":"cairn-witness-1",...}), and back.
// ParseWitness: InvalidArgument naming the rule when fields are missing or malformed.
std::string WitnessToJson(const Witness& w);
Result<Witness> ParseWitness(const std::string& json_text);

// The raw Ed25519 key of a PEM public key file, lower-case hex (what a
// witness's public_key holds). InvalidArgument if it is not an Ed25519 key.
Result<std::string> WitnessPublicKeyHex(const std::string& public_pem_path);

// Checks the signature against trusted keys only: the witness's key must be
// one of `trusted_keys_hex` (a signature is no evidence when anyone could
// have signed a forged head with a key of their own), and the signature must
// verify. Corruption if the key is not trusted (naming it) or the signature
// does not verify; InvalidArgument if the witness is unsigned or no trusted
// key is given (the signer cannot be checked).
Status VerifyWitnessSignature(const Witness& w, const std::vector<std::string>& trusted_keys_hex);
// The same with the one key in `trusted_public_pem_path` (empty: none given,
// InvalidArgument).
Status VerifyWitnessSignature(const Witness& w, const std::string& trusted_public_pem_path);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_WITNESS_H_
