// The tombstone of a withdrawn version: bags/<partner>/<object>/v<N>/WITHDRAWN on every site
// (repo/FORMAT.md, "Tombstones"). Written once, when the withdrawal is approved and always
// before a purge removes any byte, so that a site read alone (by `cairn catalog rebuild`, or by
// hand) says the version is withdrawn, by whom and why, and never gives its content back.
//
// Plain text, one "Name: value" a line (like bag-info.txt), in this order:
//   Cairn-Tombstone: 1
//   Withdrawal: 7
//   Partner: acme / Object: maps / Version: 1
//   Purge: yes|no
//   Reason: consent withdrawn by the donor
//   Requested-By: ann@acme / Requested-Role: partner-admin
//   Requested: 2026-12-03T05:00:00.123456Z
//   Approved-By: local:ops / Approved-Role: operator
//   Approved: 2026-12-03T06:00:00.654321Z
// The bytes depend only on these fields, so a rerun writes the same bytes (write-once holds).
#ifndef CAIRN_REPO_SITE_TOMBSTONE_H_
#define CAIRN_REPO_SITE_TOMBSTONE_H_

#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/catalog/catalog_withdrawal_types.h"

namespace cairn::repo {

// The tombstone text of approved withdrawal `w`.
std::string TombstoneText(const WithdrawalRecord& w);

// The withdrawal a tombstone records (state withdrawn; the caller decides whether it was
// purged). Corruption naming `where` and the field for text that is not a tombstone.
Result<WithdrawalRecord> ParseTombstone(std::string_view text, std::string_view where);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_TOMBSTONE_H_
