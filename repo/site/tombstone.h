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

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_withdrawal_types.h"

namespace cairn::repo {

class Site;

// The tombstone text of approved withdrawal `w`.
std::string TombstoneText(const WithdrawalRecord& w);

// The withdrawal a tombstone records (state withdrawn; the caller decides whether it was
// purged). Corruption naming `where` and the field for text that is not a tombstone.
Result<WithdrawalRecord> ParseTombstone(std::string_view text, std::string_view where);

class Catalog;
class Repository;

// The approved withdrawal without a purge that purge withdrawal `w` follows (a purge asked
// afterwards), or nullopt when `w` is its version's first.
Result<std::optional<WithdrawalRecord>> WithdrawalBefore(Catalog& catalog,
                                                         const WithdrawalRecord& w);

// The sites where a tombstone is not known to be after WriteTombstones, each "b: why".
struct TombstonesLeft {
  // The site answered and the tombstone could not be written there: it is not there.
  std::vector<std::string> not_written;
  // The site did not answer (down: Unavailable), so it was not checked: a tombstone written
  // there by an earlier round is there still, and a missing one is written once it answers.
  std::vector<std::string> not_checked;
  bool empty() const { return not_written.empty() && not_checked.empty(); }
  void Add(const TombstonesLeft& other);
  // Both, "b: why" each.
  std::vector<std::string> All() const;
  // "tombstone not written on b: why; tombstone not checked on s3, which did not answer (...):
  // why", of what there is; "" when empty.
  std::string Text() const;
};

// Writes the tombstone of approved withdrawal `w` to every site of the repository (write-once:
// a rerun finds the same bytes): WITHDRAWN, or WITHDRAWN-PURGE for a purge asked after an
// approved withdrawal without one (whose WITHDRAWN says "Purge: no"). Returns the sites where
// it is not known to be now, and why: not written, or not checked (the site did not answer).
Result<TombstonesLeft> WriteTombstones(Repository& repo, const WithdrawalRecord& w);

// A site's tombstone outranks the catalog: a catalog put back from a backup older than a
// withdrawal still lists the version as live, and giving its content back (or showing its
// copies as ok) would break the withdrawal (issue 18). Withdrawn, naming the tombstone, the
// withdrawal it records, `nothing_done` ("nothing restored") and the rebuild, when one of
// `sites` holds the tombstone of partner/object vN; one small read per site, a site that cannot
// answer passed over. The overload reads every site of the catalog that opens.
Status RefuseIfTombstoned(const std::map<std::string, Site*, std::less<>>& sites,
                          const std::string& partner, const std::string& object, uint32_t version,
                          const std::string& nothing_done);
Status RefuseIfTombstoned(Repository& repo, const std::string& partner, const std::string& object,
                          uint32_t version, const std::string& nothing_done);

// The tombstones of every approved withdrawal, purged ones too, to every site that lacks them
// (`site resync`, `withdraw run`): the sites where one is not known to be now,
// "withdrawal 7: b: tombstone not written: why" or "withdrawal 7: b: tombstone not checked (the
// site did not answer): why".
Result<std::vector<std::string>> WriteEveryTombstone(Repository& repo);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_TOMBSTONE_H_
