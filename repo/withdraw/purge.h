// The purge of an approved withdrawal (issue 18): the tombstone on every site first, then the
// catalog forgets the version's copies (one transaction: Catalog::BeginPurge), then the bytes
// go, key by key, each key forgotten only once it is gone. So no copy is removed while still
// counted, no byte is removed from any site before every site has the tombstone, and a rerun
// (after a crash, a site that was down, an Object Lock that had not expired) finishes the work.
//
// Keys are removed from every site of the repository, whatever copies the catalog counts there.
// Dedup-safe: a blob that any other version of any partner references is never in the list,
// and each blob is checked unreferenced again just before it is removed (under the writers'
// lock held exclusively, so no deposit in flight can be counting on it), by the catalog and by
// every version.pb on the sites that the catalog does not know (unless purged): while a site
// cannot be read no blob goes.
#ifndef CAIRN_REPO_WITHDRAW_PURGE_H_
#define CAIRN_REPO_WITHDRAW_PURGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_withdrawal_types.h"
#include "repo/site/tombstone.h"  // WriteTombstones

namespace cairn::repo {

class Repository;

struct PurgeReport {
  WithdrawalRecord withdrawal;  // as it is after this run
  uint64_t keys_removed = 0;
  uint64_t bytes_removed = 0;        // site bytes removed, every site counted
  uint64_t blobs_kept = 0;           // found referenced again before removal: kept
  std::vector<std::string> waiting;  // what is left and why ("site s3: Object Lock ...")
};

// Purges withdrawal `id` as far as it can now. InvalidArgument unless it is an approved
// withdrawal asked with purge, or when retention or a hold refuses it (PurgeAllowedNow);
// Unavailable (nothing removed) when a site could not be given its tombstone, or the writers'
// lock could not be taken. Keys that could not be removed now are in `waiting` and the state is
// `waiting-retention` (a site that keeps objects under Object Lock) or `purging` (a site down);
// the daemon and `cairn withdraw run` retry them.
// `lock_timeout_ms`: how long to wait for writers in flight (-1: LockTimeoutMs(); 0: never).
Result<PurgeReport> RunPurge(Repository& repo, int64_t id, int64_t lock_timeout_ms = -1);

struct LeftoverReport {
  // "site b: acme/box@v1 (withdrawal 7): 4 keys, 20480 bytes removed", one per version and site.
  std::vector<std::string> removed;
  uint64_t keys_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t blobs_kept = 0;            // still needed by a version that is not purged: kept
  std::vector<std::string> problems;  // what is left and why
};

// Removes what the sites still hold of purged versions: a site put back from a backup taken
// before the purge (then made good by `site resync`), or any copy the purge did not know of.
// Each site's folder of each purged version is listed; its tag files and version.pb go (only
// beside its tombstone: a site that lacks it is skipped, named in `problems`), and so do the
// blobs its version.pb names, unless the catalog or a version on a site that the catalog does
// not know (and that is not purged) needs them, or a site could not be read (then they are kept
// and named in `problems`). Each version cleared on a site is a deletion event. Under the
// writers' lock held exclusively, taken only when there is something to remove.
// `only_site`: that site alone ("" every site of the catalog).
Result<LeftoverReport> RemovePurgeLeftovers(Repository& repo, const std::string& only_site,
                                            int64_t lock_timeout_ms = -1);

struct PendingReport {
  std::vector<PurgeReport> purges;
  LeftoverReport leftovers;           // of purges already done (RemovePurgeLeftovers)
  std::vector<std::string> problems;  // "withdrawal 7: ..." for each one not finished
  // Approved purges not due (a retention, a hold): "withdrawal 7 of P/O@vN waits: <why>".
  std::vector<std::string> waiting;
  // What writing the settings (holds, principals...) to sites that missed them left undone.
  std::vector<std::string> settings_warnings;
};

// What the daemon does each round: the settings (holds, principals, policies...) on every site
// that missed a change (SyncSettings), tombstones of withdrawn versions (purged ones and purges
// not due yet too) still missing on a site, then every purge that is due (approved and allowed
// now, or under way), then the leftovers of purged versions on any site (RemovePurgeLeftovers).
// A purge whose writers' lock is busy (Unavailable) waits for the next call, unnamed.
Result<PendingReport> RunPendingWithdrawals(Repository& repo, int64_t lock_timeout_ms = -1);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_WITHDRAW_PURGE_H_
