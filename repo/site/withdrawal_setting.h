// settings/withdrawals/<id> (repo/FORMAT.md, "Settings"): a governed withdrawal as the sites
// keep it, written with every request, cancellation and approval (SyncSettings), so that a
// catalog rebuilt from one site alone still has the requests that wait for their second person
// (and the cancelled ones), and so that no catalog gives a request's number to another one.
//
// A request is requested, then cancelled or approved, never back. So a site's record that holds
// another request under the same number, or a cancellation or approval of a request the catalog
// has as requested, is a change this catalog never saw (a catalog put back from a backup, or
// rebuilt from a site that missed it), whatever the records' version numbers say: SyncSettings
// leaves it as it is, and `cairn withdraw` refuses to act from such a catalog.
#ifndef CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_
#define CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "proto/settings.pb.h"
#include "repo/catalog/catalog_withdrawal_types.h"

namespace cairn::repo {

class Catalog;
class Repository;

inline constexpr std::string_view kWithdrawalsKind = "withdrawals";

// The record of `w`: its request, and its cancellation or approval. Every state from withdrawn
// on is "approved": how far a purge got is the tombstones' and the events' to say, not this.
proto::WithdrawalSetting WithdrawalSettingOf(const WithdrawalRecord& w);

// The withdrawal a record describes ("approved": withdrawn). InvalidArgument for a state this
// build does not know.
Result<WithdrawalRecord> WithdrawalOfSetting(const proto::WithdrawalSetting& s);

// True when `there` (a site's record) says what `catalog` (the catalog's record of the same
// number; null: the catalog has no withdrawal of that number) does not: another request under
// the number, or the cancellation or approval of a request the catalog has as requested.
bool WithdrawalSettingAhead(const proto::WithdrawalSetting& there,
                            const proto::WithdrawalSetting* catalog);

// "site a records withdrawal 3 of acme/maps@v1 cancelled by ann@acme at ..., where this catalog
// has it requested: ...; `cairn catalog rebuild --from a --force` brings it up to date".
std::string WithdrawalAheadText(const std::string& site_name, const proto::WithdrawalSetting& there,
                                const proto::WithdrawalSetting* catalog);

// "requested by ann@acme", "cancelled by ann@acme", or the state's name ("withdrawn",
// "purging", ...): what a rebuild's list of restored settings says of a withdrawal.
std::string WithdrawalStateText(const WithdrawalRecord& w);

// What a catalog rebuilt from site `read` (`catalog rebuild --from`) took from site `other`'s
// record of a withdrawal.
struct WithdrawalTaken {
  // "withdrawal 3 of acme/maps@v1: site b records it requested, site a cancelled by ann@acme at
  // ...: taken from site a ...", or why it was not taken.
  std::string text;
  // Not a note: the version is withdrawn where `read` holds it as if not (its tombstone and
  // record are written there by `cairn withdraw run`), or the two sites disagree on the request.
  bool problem = false;
  // "withdrawal 3 of acme/maps@v1 (cancelled by ann@acme, from site a)": in place of the one
  // RestoreSettings listed (`replaces`), or added; empty when nothing was taken.
  std::string label;
  bool replaces = false;
};

// Merges `there`, site `other`'s record, into `catalog`, rebuilt from site `read`'s records:
// a request the catalog has as requested that `there` cancels or approves is updated to say so
// (Catalog::UpdateWithdrawal: who, when, the number kept), and a withdrawal of a number the
// catalog lacks is restored as `there` records it (Catalog::RestoreWithdrawal), as a request is
// requested, then cancelled or approved, never back. Another request under the number is left
// as `read` records it, named. nullopt when `there` says nothing the catalog does not; an
// error only when the catalog fails.
Result<std::optional<WithdrawalTaken>> TakeWithdrawalFromSite(
    Catalog& catalog, const std::string& read, const std::string& other,
    const proto::WithdrawalSetting& there);

// What the reachable sites record of withdrawals.
struct SitesWithdrawals {
  std::set<int64_t> ids;  // every number a reachable site records
  struct Ahead {
    std::string site;
    int64_t id = 0;
    std::string partner;
    std::string text;  // WithdrawalAheadText
  };
  // Each record some reachable site holds past the catalog (WithdrawalSettingAhead), by site in
  // the catalog's order, then by number.
  std::vector<Ahead> ahead;
};

// Reads every reachable site's withdrawal records, then the catalog's withdrawals: in that
// order, so that a record another process wrote meanwhile is in the catalog read after it
// (records are written after the catalog's change). A site that is down is passed over. Read
// only; an error only when the catalog fails.
Result<SitesWithdrawals> ReadSitesWithdrawals(Repository& repo);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_WITHDRAWAL_SETTING_H_
