// Catalog: the trusted witness keys (table witness_keys, migration 3).
#include "repo/catalog/catalog.h"

namespace cairn::repo {
namespace {

bool IsWitnessKeyHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Status Catalog::AddWitnessKey(const std::string& public_key_hex, const std::string& label,
                              int64_t added_micros) {
  if (public_key_hex.size() != 64 || !IsWitnessKeyHex(public_key_hex)) {
    return Status::InvalidArgument("witness key " + public_key_hex +
                                   ": not a raw Ed25519 public key (64 lower-case hex digits)");
  }
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO witness_keys (public_key, label, added) VALUES (?, ?, ?)"));
  stmt.Bind(1, public_key_hex)
      .Bind(2, label)
      .Bind(3, added_micros ? added_micros : clock_->NowMicros());
  Status s = stmt.Run();
  if (s.IsAlreadyExists()) {
    return Status::AlreadyExists("witness key " + public_key_hex + " is already trusted");
  }
  return s;
}

Result<std::vector<WitnessKeyRecord>> Catalog::ListWitnessKeys() {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT public_key, label, added FROM witness_keys ORDER BY added, public_key"));
  std::vector<WitnessKeyRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Text(0), stmt.Text(1), stmt.Int(2)});
  }
  return out;
}

Result<WitnessKeyRecord> Catalog::RemoveWitnessKey(const std::string& prefix) {
  if (prefix.size() < 8 || prefix.size() > 64 || !IsWitnessKeyHex(prefix)) {
    return Status::InvalidArgument("witness key " + prefix +
                                   ": give at least 8 lower-case hex digits of the key");
  }
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(std::vector<WitnessKeyRecord> keys, ListWitnessKeys());
  std::vector<WitnessKeyRecord> matched;
  for (const WitnessKeyRecord& k : keys) {
    if (k.public_key_hex.starts_with(prefix)) matched.push_back(k);
  }
  if (matched.empty()) return Status::NotFound("no trusted witness key starts with " + prefix);
  if (matched.size() > 1) {
    return Status::InvalidArgument("witness key " + prefix + " matches " +
                                   std::to_string(matched.size()) + " keys: give more digits");
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("DELETE FROM witness_keys WHERE public_key = ?"));
  stmt.Bind(1, matched.front().public_key_hex);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return matched.front();
}

}  // namespace cairn::repo
