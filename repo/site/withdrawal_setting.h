// settings/withdrawals/<id> (repo/FORMAT.md, "Settings"): a governed withdrawal as the sites
// keep it, written with every request, cancellation and approval (SyncSettings), so that a
// catalog rebuilt from one site alone still has the requests that wait for their second person
// (and the cancelled ones), and so that no catalog gives a request's number to another one.

#ifndef CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_
#define CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "proto/settings.pb.h"
#include "repo/catalog/catalog_withdrawal_types.h"

namespace cairn::repo {

class Repository;

inline constexpr std::string_view kWithdrawalsKind = "withdrawals";

// The record of `w`: its request, and its cancellation or approval. Every state from withdrawn
// on is "approved": how far a purge got is the tombstones' and the events' to say, not this.
proto::WithdrawalSetting WithdrawalSettingOf(const WithdrawalRecord& w);

// The withdrawal a record describes ("approved": withdrawn). InvalidArgument for a state this
// build does not know.
Result<WithdrawalRecord> WithdrawalOfSetting(const proto::WithdrawalSetting& s);

// What the reachable sites record of withdrawals.
struct SitesWithdrawals {
  int64_t highest_id = 0;  // the highest number any reachable site records
};

// Reads every reachable site's withdrawal records. A site that is down is passed over. Read
// only; an error only when the catalog fails.
Result<SitesWithdrawals> ReadSitesWithdrawals(Repository& repo);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_
