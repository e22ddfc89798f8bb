// The rows of the withdrawals, purge_keys and holds tables (migration 8, issue 18), as the
// Catalog's withdrawal and hold methods take and return them. The rules (who may ask, who may
// approve, retention, holds) are repo/withdraw/'s; the catalog only keeps the rows consistent.
#ifndef CAIRN_REPO_CATALOG_CATALOG_WITHDRAWAL_TYPES_H_
#define CAIRN_REPO_CATALOG_CATALOG_WITHDRAWAL_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::repo {

// requested -> withdrawn (approved) -> [purge only] purging <-> waiting-retention -> purged;
// requested -> cancelled. A withdrawn (or later) version is refused to restore, show and list.
enum class WithdrawalState {
  kRequested,
  kWithdrawn,
  kCancelled,
  kPurging,
  kWaitingRetention,
  kPurged
};

std::string_view WithdrawalStateName(WithdrawalState state);
std::optional<WithdrawalState> ParseWithdrawalState(std::string_view name);
// True for the states in which the version is withdrawn (approved, not cancelled).
bool IsWithdrawn(WithdrawalState state);

struct WithdrawalRecord {
  int64_t id = 0;
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string reason;
  bool purge = false;
  WithdrawalState state = WithdrawalState::kRequested;
  std::string requested_by;
  std::string requested_role;
  int64_t requested_micros = 0;
  std::string approved_by;  // empty until approved
  std::string approved_role;
  int64_t approved_micros = 0;
  std::string cancelled_by;
  int64_t cancelled_micros = 0;
  int64_t purged_micros = 0;
  std::string detail;  // why a purge waits

  std::string VersionName() const {
    return partner + "/" + object + "@v" + std::to_string(version);
  }
};

// One storage key a purge still has to remove.
struct PurgeKey {
  std::string site;
  std::string key;
  std::string sha256;  // a blob's digest; empty for a bag file
  uint64_t size = 0;
};

struct HoldRecord {
  int64_t id = 0;
  std::string partner;
  std::string object;
  std::string reason;
  std::string added_by;
  std::string added_role;
  int64_t added_micros = 0;
  std::string removal_requested_by;  // empty: no removal asked
  std::string removal_requested_role;
  int64_t removal_requested_micros = 0;
  std::string removed_by;
  std::string removed_role;
  int64_t removed_micros = 0;  // 0: the hold is on
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_WITHDRAWAL_TYPES_H_
