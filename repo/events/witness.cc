#include "repo/events/witness.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "bagit/time_text.h"
#include "repo/events/premis.h"

namespace cairn::repo {
namespace {

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

constexpr const char* kFormat = "cairn-witness-1";

// The exact bytes that are signed.
std::string SignedMessage(const ChainHead& h) {
  return std::string(kFormat) + "\nseq=" + std::to_string(h.seq) + "\nhash=" + h.hash_hex +
         "\ntime=" + std::to_string(h.time_micros) + "\n";
}

Result<std::string> FromHex(const std::string& hex, std::string_view what) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument(std::string(what) + ": odd-length hex");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[i + k];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return Status::InvalidArgument(std::string(what) + ": not lower-case hex");
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

Result<PKeyPtr> ReadKey(const std::string& path, bool is_private) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status::FromErrno(errno, "open key", path);
  EVP_PKEY* key = is_private ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr)
                             : PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key)
    return Status::InvalidArgument(path + ": not a PEM " + (is_private ? "private" : "public") +
                                   " key");
  PKeyPtr ptr(key, EVP_PKEY_free);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument(path + ": witness keys must be Ed25519");
  }
  return ptr;
}

std::string RawPublicKey(EVP_PKEY* key) {
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) return "";
  return std::string(reinterpret_cast<char*>(raw), len);
}

Status WritePem(const std::string& path, EVP_PKEY* key, bool is_private) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, is_private ? 0600 : 0644);
  if (fd < 0) return Status::FromErrno(errno, "create", path);
  FILE* f = fdopen(fd, "w");
  int ok = is_private ? PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr)
                      : PEM_write_PUBKEY(f, key);
  if (std::fflush(f) != 0 || fsync(fd) != 0) ok = 0;
  std::fclose(f);
  return ok == 1 ? Status::OK() : Status::IOError("cannot write key " + path);
}

}  // namespace

Status GenerateWitnessKey(const std::string& private_pem_path, const std::string& public_pem_path) {
  struct stat st;
  if (::stat(private_pem_path.c_str(), &st) == 0) {
    return Status::AlreadyExists(private_pem_path + " exists: a witness key is never overwritten");
  }
  if (::stat(public_pem_path.c_str(), &st) == 0) {
    return Status::AlreadyExists(public_pem_path + " exists: a witness key is never overwritten");
  }
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) return Status::IOError("Ed25519 key generation failed");
  PKeyPtr key(raw, EVP_PKEY_free);
  CAIRN_RETURN_IF_ERROR(WritePem(private_pem_path, key.get(), true));
  return WritePem(public_pem_path, key.get(), false);
}

Result<Witness> MakeWitness(const ChainHead& head, const std::string& private_pem_path) {
  Witness w{head, "", ""};
  if (private_pem_path.empty()) return w;
  CAIRN_ASSIGN_OR_RETURN(PKeyPtr key, ReadKey(private_pem_path, true));
  const std::string msg = SignedMessage(head);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t sig_len = sizeof sig;
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(msg.data()),
                     msg.size()) != 1) {
    return Status::IOError("Ed25519 signing failed with " + private_pem_path);
  }
  w.public_key_hex = ToHex(RawPublicKey(key.get()));
  w.signature_hex = ToHex(std::string(reinterpret_cast<char*>(sig), sig_len));
  return w;
}

std::string WitnessToJson(const Witness& w) {
  nlohmann::json j;
  j["format"] = kFormat;
  j["seq"] = w.head.seq;
  j["hash"] = w.head.hash_hex;
  j["time"] = w.head.time_micros;
  j["time_text"] = FormatUtc(w.head.time_micros, TimeText::kMicros);
  if (!w.signature_hex.empty()) {
    j["algorithm"] = "ed25519";
    j["public_key"] = w.public_key_hex;
    j["signature"] = w.signature_hex;
  }
  return j.dump(2) + "\n";
}

Result<Witness> ParseWitness(const std::string& json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("witness: not a JSON object");
  }
  if (j.value("format", "") != kFormat) {
    return Status::InvalidArgument(std::string("witness: format must be ") + kFormat);
  }
  if (!j.contains("seq") || !j["seq"].is_number_unsigned() || !j.contains("hash") ||
      !j["hash"].is_string() || !j.contains("time") || !j["time"].is_number_integer()) {
    return Status::InvalidArgument("witness: seq, hash and time are required");
  }
  Witness w;
  w.head.seq = j["seq"].get<uint64_t>();
  w.head.hash_hex = j["hash"].get<std::string>();
  w.head.time_micros = j["time"].get<int64_t>();
  if (w.head.seq > 0) {
    auto raw = FromHex(w.head.hash_hex, "witness hash");
    if (!raw.ok() || raw->size() != 32) {
      return Status::InvalidArgument("witness: hash must be 64 lower-case hex digits");
    }
  }
  w.public_key_hex = j.value("public_key", "");
  w.signature_hex = j.value("signature", "");
  return w;
}

Result<std::string> WitnessPublicKeyHex(const std::string& public_pem_path) {
  CAIRN_ASSIGN_OR_RETURN(PKeyPtr key, ReadKey(public_pem_path, false));
  std::string raw = RawPublicKey(key.get());
  if (raw.size() != 32) return Status::InvalidArgument(public_pem_path + ": no raw Ed25519 key");
  return ToHex(raw);
}

Status VerifyWitnessSignature(const Witness& w, const std::string& trusted_public_pem_path) {
  if (trusted_public_pem_path.empty()) {
    return VerifyWitnessSignature(w, std::vector<std::string>{});
  }
  CAIRN_ASSIGN_OR_RETURN(std::string trusted, WitnessPublicKeyHex(trusted_public_pem_path));
  Status s = VerifyWitnessSignature(w, std::vector<std::string>{trusted});
  if (s.IsCorruption() && s.message().find("not trusted") != std::string::npos) {
    return Status::Corruption("witness was signed by a key other than " + trusted_public_pem_path +
                              " (" + w.public_key_hex + ")");
  }
  return s;
}

Status VerifyWitnessSignature(const Witness& w, const std::vector<std::string>& trusted_keys_hex) {
  if (w.signature_hex.empty()) return Status::InvalidArgument("witness is not signed");
  if (trusted_keys_hex.empty()) {
    return Status::InvalidArgument(
        "no trusted witness key: the signer was not checked (give --key PUBLIC.pem, or register "
        "the signer's key with `cairn events trust add PUBLIC.pem`)");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string raw_key, FromHex(w.public_key_hex, "witness public_key"));
  CAIRN_ASSIGN_OR_RETURN(std::string sig, FromHex(w.signature_hex, "witness signature"));
  bool trusted = false;
  for (const std::string& k : trusted_keys_hex) trusted = trusted || k == w.public_key_hex;
  if (!trusted) {
    return Status::Corruption("witness was signed by key " + w.public_key_hex +
                              ", which is not trusted (not --key, not registered with `cairn "
                              "events trust add`)");
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_key.data()),
      raw_key.size());
  if (!raw) return Status::InvalidArgument("witness public_key is not an Ed25519 key");
  PKeyPtr key(raw, EVP_PKEY_free);
  const std::string msg = SignedMessage(w.head);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
    return Status::Corruption("witness signature does not verify (seq " +
                              std::to_string(w.head.seq) + ")");
  }
  return Status::OK();
}

}  // namespace cairn::repo
