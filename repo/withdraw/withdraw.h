// Governed withdrawal (issue 18): a partner takes a version back out of the repository.
// Two stages: withdrawn (approved: restore, show and listings refuse it; the bytes stay) and,
// when asked with purge, purged (every byte of it that no other version needs is removed from
// every site, after a tombstone on every site; repo/withdraw/purge.h).
//
// Two people, always: a withdrawal is requested by one principal and approved by another one
// (never the requester, whatever its role); a partner with one admin needs an operator as the
// second person. The same for removing a legal hold. The role table is repo/access's
// (kWithdrawRequest, kWithdrawApprove, kHold). Rules that refuse, in each message with the date
// the version becomes eligible: the policy's retention (`retention.min_days` from deposit;
// `forever`: never purged) and a legal hold on the object (no purge while it is on).
#ifndef CAIRN_REPO_WITHDRAW_WITHDRAW_H_
#define CAIRN_REPO_WITHDRAW_WITHDRAW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_withdrawal_types.h"
#include "repo/principal.h"

namespace cairn::repo {

class Catalog;
class Repository;

struct WithdrawRequest {
  std::string partner;
  std::string object;
  std::optional<uint32_t> version;  // nullopt: the latest
  std::string reason;               // required; one line
  bool purge = false;
};

// InvalidArgument for a withdrawal's or hold's reason that is empty or not one line of text
// without control characters; what RequestWithdrawal and AddHold refuse first, so that a client
// can tell this bad argument before anything is asked.
Status CheckReason(const std::string& reason);

// Records a request by `who`, under a number past every withdrawal the catalog and each
// reachable site record, and writes it to every site's settings (settings/withdrawals/<id>,
// repo/site/withdrawal_setting.h), so that a catalog rebuilt from one site keeps it; a site that
// could not be written is named in `warnings` (when not null) and gets it at the next change of
// a setting. InvalidArgument for an empty or multi-line reason; NotFound for a version that is
// not in the catalog; AlreadyExists when the version has an open withdrawal; PermissionDenied
// when `who` may not ask for its partner; with purge, the retention and hold refusals (below)
// at once, so no one approves what cannot be done. A catalog behind the sites is refused
// (InvalidArgument, nothing done, naming the site and `cairn catalog rebuild`): a site's event
// log that runs past it, or a site's record of a withdrawal of the partner that the catalog
// does not know, or has as requested where the site has it cancelled or approved.
Result<WithdrawalRecord> RequestWithdrawal(Repository& repo, const Principal& who,
                                           const WithdrawRequest& request,
                                           std::vector<std::string>* warnings = nullptr);

struct ApproveResult {
  WithdrawalRecord withdrawal;
  // Sites whose tombstone could not be written now (down): written by the next
  // `withdraw run` / daemon round, and before any purge.
  std::vector<std::string> tombstones_pending;
  // Sites whose settings did not take the approval (SyncSettingsAfterChange): written by the
  // next change of a setting, `withdraw run` or the daemon.
  std::vector<std::string> settings_warnings;
};

// Approves withdrawal `id` as `who`: PermissionDenied when `who` requested it or may not
// approve for its partner; InvalidArgument unless it is requested; for a purge, the retention
// and hold refusals; a catalog behind the sites as for a request (a number the catalog does not
// know that a site records is refused so, not NotFound). Then the version is withdrawn (one
// catalog update, with a deaccession event naming requester and approver), its tombstone is
// written to every site, and the approval to every site's settings.
Result<ApproveResult> ApproveWithdrawal(Repository& repo, const Principal& who, int64_t id);

// Cancels a requested withdrawal (the requester, or anyone who may approve it), and writes the
// cancellation to every site's settings (`warnings` as for a request). An approved one is not
// cancelled: InvalidArgument; nor from a catalog behind the sites, as for an approval.
Result<WithdrawalRecord> CancelWithdrawal(Repository& repo, const Principal& who, int64_t id,
                                          std::vector<std::string>* warnings = nullptr);

// The withdrawals `who` may see (its partner's; every partner's for an operator or auditor).
// `behind` (when not null) gets, for each withdrawal of those partners that a reachable site
// records and this catalog does not know, or has as requested where the site has it cancelled
// or approved, words naming the site's record and the rebuild: what the list lacks.
Result<std::vector<WithdrawalRecord>> ListWithdrawals(Repository& repo, const Principal& who,
                                                      std::vector<std::string>* behind = nullptr);

// The refusal a purge of partner/object@version meets now, or OK: the policy's retention
// ("retention.min_days 30 keeps acme/maps@v1 until 2027-01-02T...: eligible then"; forever:
// never) and a hold on the object. InvalidArgument, naming the rule and the date.
Status PurgeAllowedNow(Repository& repo, const std::string& partner, const std::string& object,
                       uint32_t version);

// --- legal holds ---
// Puts a hold on partner/object (its partner's admin, or an operator). AlreadyExists if on.
// Holds, and each change of one, are written to every site's settings (repo/site/settings.h) so
// a catalog rebuilt from one site keeps them; a site that could not be written is named in
// `warnings` (when not null) and gets the record at the next change of a setting.
Result<HoldRecord> AddHold(Repository& repo, const Principal& who, const std::string& partner,
                           const std::string& object, const std::string& reason,
                           std::vector<std::string>* warnings = nullptr);
struct HoldRemoval {
  HoldRecord hold;
  bool removed = false;  // false: the removal is requested and waits for a second person
};
// The first call asks for the removal; a call by another principal removes the hold; the same
// principal again: PermissionDenied. NotFound when no hold is on and no reachable site records
// one; InvalidArgument, nothing changed, when a site records a hold on it that the catalog does
// not know (a catalog put back from a backup older than the hold), or a change of the catalog's
// hold that it never saw (its removal asked or done since): naming the site, the hold and
// `cairn catalog rebuild --from SITE --force`.
Result<HoldRemoval> RemoveHold(Repository& repo, const Principal& who, const std::string& partner,
                               const std::string& object,
                               std::vector<std::string>* warnings = nullptr);
Result<std::vector<HoldRecord>> ListHolds(Repository& repo, const Principal& who);
// What ListHolds cannot show, as the reachable sites record it (for the partners `who` may
// see): holds the catalog does not know at all, and changes of its holds it never saw (a
// catalog put back from a backup), one text each naming the site, the hold and `cairn catalog
// rebuild --from SITE --force`. Empty when the catalog is up to date with every reachable site.
Result<std::vector<std::string>> HoldsTheSitesRecordPastCatalog(Repository& repo,
                                                                const Principal& who);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_WITHDRAW_WITHDRAW_H_
