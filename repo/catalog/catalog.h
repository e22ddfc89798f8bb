// The catalog: a SQLite index (WAL) of sites, partners, policies, objects,
// versions, files, blobs, replicas, jobs and events. Storage is the truth; the
// catalog can be rebuilt from one site. Schema: repo/catalog/SCHEMA.md.
//
// Thread safety: every method is atomic and may be called from any thread
// (calls on one Catalog are serialized by a mutex). Parallel workers that want
// concurrency open one Catalog each: WAL lets readers run beside the writer,
// and writers wait up to busy_timeout for each other.
//
// Durability: synchronous=FULL. A deposit prints a receipt and a witness may
// publish the event chain head right after a commit; with NORMAL a power cut
// could roll back such a commit, losing a receipted deposit and making the
// log look shorter than its published head. One extra fsync per transaction
// is negligible beside the deposit's own fsyncs.
#ifndef CAIRN_REPO_CATALOG_CATALOG_H_
#define CAIRN_REPO_CATALOG_CATALOG_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "proto/policy.pb.h"
#include "proto/settings.pb.h"
#include "repo/catalog/catalog_audit_types.h"
#include "repo/catalog/catalog_principal_types.h"
#include "repo/catalog/catalog_types.h"
#include "repo/catalog/catalog_withdrawal_types.h"
#include "repo/catalog/sqlite.h"
#include "repo/clock.h"

namespace cairn::repo {

struct CatalogOptions {
  Clock* clock = nullptr;  // nullptr: SystemClock::Default(); must outlive the Catalog
  bool create_if_missing = true;
  // How long a writer waits for another one's transaction; negative: the
  // process-wide lock bound (repo/lock_wait.h: --lock-timeout, $CAIRN_LOCK_TIMEOUT).
  int busy_timeout_ms = -1;
  Backoff backoff;
};

class Catalog {
 public:
  // Opens the catalog file at `path` (creating it when allowed), switches it
  // to WAL and applies pending migrations. NotFound if absent and not
  // create_if_missing; InvalidArgument if its schema is newer than this binary.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path,
                                               const CatalogOptions& options = {});
  ~Catalog();

  const std::string& path() const { return db_.path(); }
  // Reads pages through a 256 MiB memory map from now on (see SCHEMA.md): for
  // verbs that read much and write little (`cairn show`). The mapped pages
  // count in the process's resident size, so writers do not use it.
  Status UseMemoryMappedReads();
  Clock& clock() { return *clock_; }
  // Schema version of the open file (PRAGMA user_version).
  Result<int> SchemaVersion();

  // --- sites (catalog_sites.cc) ---
  // AlreadyExists if the name is taken; InvalidArgument for a bad name
  // (layout::ValidateSiteId: the one id rule). Returns the new site.
  Result<SiteRecord> AddSite(const std::string& name, const std::string& url,
                             const std::string& region);
  Result<std::vector<SiteRecord>> ListSites();          // by name
  Result<SiteRecord> GetSite(const std::string& name);  // NotFound names the site
  // Records that site `name` was adopted from repository `from` (the
  // repository its CAIRN-SITE names). NotFound names the site.
  Status SetSiteAdoptedFrom(const std::string& name, const std::string& from);
  // The place site `name` is now at (`cairn site move`). NotFound for an unknown site.
  Status SetSiteUrl(const std::string& name, const std::string& url);

  // --- taking a site out (catalog_site_removal.cc) ---
  // What the catalog holds about site `name` that its removal would drop: its copies (replica
  // rows, any state), the jobs queued for it (target), the keys a purge still has to remove
  // there, and the versions' blobs and tag files it holds (state other than pending or missing)
  // that no other site holds verified (ok, read back at least once): counted, the first
  // `examples` named ("acme/maps@v1 data/a.tif", "acme/maps@v1 version.pb"). NotFound names
  // the site.
  struct SiteRemovalFacts {
    SiteRecord site;
    uint64_t copies = 0;
    uint64_t jobs = 0;
    uint64_t purge_keys = 0;
    uint64_t open_findings = 0;  // audit findings on it not repaired nor closed
    uint64_t last_good = 0;
    std::vector<std::string> last_good_examples;
  };
  Result<SiteRemovalFacts> FactsOfSiteRemoval(const std::string& name, size_t examples);
  // Takes site `name` out of the catalog in ONE transaction with `events`: its jobs, copies
  // (and repairs begun on them), gc candidates, purge keys, segment checks and settings seen,
  // then its row. History that names it (events, audit runs and findings) stays; its open
  // findings and its runs' counts on it are closed (`closed` = kClosedSiteRemoved). Refuses
  // (InvalidArgument, nothing changed) when FactsOfSiteRemoval finds a last good copy on it
  // now. REQUIRES the writers' lock held exclusively. NotFound names the site.
  Status RemoveSite(const std::string& name, std::vector<proto::Event>& events);

  // --- the repository's identity (catalog.cc) ---
  // The id written into the CAIRN-SITE marker of every site this repository
  // makes: random, made with the catalog (migration 3).
  Result<std::string> RepositoryId();
  // Replaces it: catalog rebuild takes the id the site it reads names.
  Status SetRepositoryId(const std::string& id);

  // --- partners (catalog_sites.cc) ---
  // Same id rules as site names. AlreadyExists if the id is taken.
  Result<PartnerRecord> AddPartner(const std::string& id, const std::string& name);
  Result<std::vector<PartnerRecord>> ListPartners();        // by id
  Result<PartnerRecord> GetPartner(const std::string& id);  // NotFound names the partner

  // --- policies (catalog_sites.cc) ---
  // Stores a policy text for `scope` (kDefaultPolicyScope or a partner id that
  // exists), replacing any earlier one. The text is checked with
  // policies::ParsePolicyToStore against the sites that exist first (its profile
  // read and checked too); a bad policy is refused and nothing changes.
  Status SetPolicy(const PolicyRecord& policy);
  // The stored text for a scope; NotFound if none is stored for it.
  Result<PolicyRecord> GetPolicy(const std::string& scope);
  // The policy that applies to `partner` (its own, else the default, else
  // `copies: 2`); an empty partner gives the default.
  Result<proto::Policy> EffectivePolicy(const std::string& partner);
  // The fixity interval, in days, of EffectivePolicy(partner); the default interval
  // (policies::kDefaultFixityIntervalDays) when that policy cannot be read, so that a copy is
  // always due again. The one place that fallback is made.
  uint32_t FixityIntervalDays(const std::string& partner);

  // --- settings restored by a catalog rebuild (catalog_settings.cc) ---
  // The highest version of each setting's record on site `site` this catalog wrote, found
  // equal to its own or restored from, with its value, by (kind, name) (table settings_seen);
  // and raising them (a version below the one noted leaves the row as it is).
  Result<std::map<std::pair<std::string, std::string>, SettingSeen>> SettingsSeen(
      const std::string& site);
  Status NoteSettingsSeen(const std::string& site,
                          const std::map<std::pair<std::string, std::string>, SettingSeen>& seen);
  // The audit schedules as settings (without their run times), by name.
  Result<std::vector<proto::ScheduleSetting>> ListScheduleSettings();
  // Adds a schedule, due at once. AlreadyExists if the name is taken.
  Status RestoreSchedule(const proto::ScheduleSetting& schedule);
  // Adds a site; a site of that name already there (the one a rebuild read) keeps its URL and
  // gets the region and the earlier created time (the record's, not the rebuild's), so that
  // the catalog's record of it equals the sites' and no change rewrites it.
  Status RestoreSite(const proto::SiteSetting& site);
  // Adds a partner, or gives an existing one the name (and earlier created time).
  Status RestorePartner(const proto::PartnerSetting& partner);
  // --- objects and versions (catalog_versions.cc) ---
  // The number the next deposit of partner/object gets: latest + 1, or 1. For a new object,
  // AlreadyExists when the partner has one whose id differs from it only in case.
  Result<uint32_t> NextVersion(const std::string& partner, const std::string& object);
  // Writes the object (if new), version, blobs, files, tag files, replicas on
  // `stored_on`, events and jobs in ONE transaction. Returns the version row
  // id. NotFound for an unknown partner or site; AlreadyExists if that version
  // exists (a concurrent deposit: take NextVersion again).
  Result<int64_t> InsertVersion(NewVersion& version);
  // One version, or the latest when `version` is nullopt; files only when
  // `with_files`. NotFound names "partner/object" or "partner/object@vN".
  Result<VersionInfo> GetVersion(const std::string& partner, const std::string& object,
                                 std::optional<uint32_t> version, bool with_files);
  // Every version of an object, oldest first, without files.
  Result<std::vector<VersionInfo>> ListVersions(const std::string& partner,
                                                const std::string& object);
  // Objects of one partner, or of all when `partner` is empty; by partner, object.
  Result<std::vector<ObjectSummary>> ListObjects(const std::string& partner);

  // --- blobs and replicas (catalog_replicas.cc) ---
  // Size of the blob if the catalog knows it.
  Result<std::optional<uint64_t>> BlobSize(const std::string& sha256);
  bool BlobExists(const std::string& sha256);
  // State of the blob's replica on `site`, nullopt if it has none.
  Result<std::optional<ReplicaState>> BlobOnSite(const std::string& sha256,
                                                 const std::string& site);
  // Every replica of every distinct blob and tag file of a version (by
  // VersionInfo::id), by site then blob/tag. Blobs with no replica at all are
  // not listed: compare with the version's files to find them.
  Result<std::vector<ReplicaRecord>> ReplicasOf(int64_t version_id);
  // For every version (of `partner` only, when not empty) with at least one ok
  // replica: its distinct blobs and tag files ok on some site, and how many of
  // them each site holds ok; by version row id. One SQL pass over the files
  // and replicas (catalog_copies.cc), not a query per version. Stops at, and
  // returns, the first error `fn` returns.
  Status ForEachVersionCopies(const std::string& partner,
                              const std::function<Status(const VersionCopies&)>& fn);
  // Lowest number of ok copies among the version's blobs and tag files.
  Result<uint32_t> MinOkCopies(int64_t version_id);
  // Creates or updates the replica of `ref` on `site`. last_verified and
  // next_due are written only when non-negative (-1: keep).
  Status SetReplicaState(const ReplicaRef& ref, const std::string& site, ReplicaState state,
                         int64_t last_verified_micros, int64_t next_due_micros,
                         const std::string& detail = "");
  // SetReplicaState for each record (ref, site, state, last_verified_micros,
  // next_due_micros, detail) in ONE transaction: all or none are written.
  Status SetReplicaStates(const std::vector<ReplicaRecord>& records);
  // Per partner and per site usage; see PartnerUsage for the fair split.
  Result<Usage> GetUsage();

  // --- blobs no version references, for cairn gc (catalog_gc.cc) ---
  // When `cairn gc` first saw blob `sha256` unreferenced on `site`, or nullopt.
  Result<std::optional<int64_t>> GcCandidateSince(const std::string& site,
                                                  const std::string& sha256);
  // Records that blob `sha256` (`size` bytes) was seen unreferenced on `site`
  // at `since`; an existing row keeps its earlier time.
  Status AddGcCandidate(const std::string& site, const std::string& sha256, uint64_t size,
                        int64_t since);
  // Forgets a candidate (removed, gone, or referenced again). OK if absent.
  Status RemoveGcCandidate(const std::string& site, const std::string& sha256);
  // The candidates recorded for `site`, by sha256.
  Result<std::vector<std::string>> ListGcCandidates(const std::string& site);

  // --- what the sites should hold (catalog_holdings.cc) ---
  // Every version of `partner` / `object` ("": all), by partner, object and
  // version, with its tag file names and the sites whose copy of its
  // version.pb is ok: the auditor compares them with the sites' listings of
  // bags/ (audit/orphans.h).
  Result<std::vector<VersionHoldings>> ListVersionHoldings(const std::string& partner,
                                                           const std::string& object);

  // --- job queue (catalog_jobs.cc) ---
  // Queues a job due now (or at job.next_try_unix_micros). Enqueueing a job
  // equal in kind/object/blob/tag/target to one already queued or leased
  // returns that job's id; a failed one is queued again with attempts reset.
  Result<int64_t> EnqueueJob(const proto::Job& job);
  // Queues `jobs` in ONE transaction, skipping each one already queued or
  // leased, and each that failed for good unless `revive_failed` (then it is
  // queued again with attempts reset). Returns how many were queued.
  Result<uint64_t> EnqueueJobs(const std::vector<proto::Job>& jobs, bool revive_failed);
  // Leases up to `max` due jobs matching `filter`, oldest next_try first, for
  // `lease_micros`: queued jobs due now, leased jobs whose lease expired, and
  // leased jobs whose holder was killed (an owner name ending in a pid that no
  // process has any more: "cairn 1234"). A leased job is invisible to other
  // Lease calls while its holder lives.
  Result<std::vector<JobRecord>> LeaseJobs(size_t max, int64_t lease_micros,
                                           const std::string& owner, const JobFilter& filter = {});
  // Removes a finished job. NotFound if it is not in the queue.
  Status CompleteJob(int64_t id);
  // Records a failure: a retryable `error` queues the job again after the
  // backoff delay, until max_attempts; otherwise (or then) the job is "failed".
  Status FailJob(int64_t id, const Status& error);
  // Gives a leased job back to the queue unfinished (its holder stops): queued
  // again, due now, lease cleared, attempts unchanged. NotFound if it is not
  // in the queue.
  Status ReleaseJob(int64_t id);
  // Makes the queued and failed jobs matching `filter` due now, attempts reset (a site made
  // again: what waited for it is tried at once). Returns how many.
  Result<uint64_t> RetryJobsNow(const JobFilter& filter);
  // Makes the queued jobs matching `filter` that wait out a backoff due now, attempts kept (the
  // site they failed on answers again); only those whose last error starts with
  // `error_prefix` when it is not empty. Returns how many.
  Result<uint64_t> MakeQueuedJobsDueNow(const JobFilter& filter,
                                        std::string_view error_prefix = "");
  Result<JobCounts> CountJobs(const JobFilter& filter = {});
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter = {});

  // --- events (catalog_events.cc) ---
  // Appends events in one transaction, filling seq, id (a time-ordered UUID v7
  // when empty), time (clock when 0), prev_hash and hash. Returns the last seq.
  Result<uint64_t> AppendEvents(std::vector<proto::Event>& events);
  Result<std::vector<proto::Event>> ListEvents(const EventFilter& filter = {});
  // The stored records of the events after `after_seq`, in seq order, at most
  // `limit` (> 0) of them, unparsed: for copying the log elsewhere.
  Result<std::vector<EventRecord>> ListEventRecords(uint64_t after_seq, uint64_t limit);
  Result<EventHead> GetEventHead();
  // The (seq, hash column) of the events after `after_seq`, in seq order, at
  // most `limit` (> 0), no record parsed: for comparing copies of the log
  // even where a record is damaged.
  Result<std::vector<EventHead>> ListEventHashes(uint64_t after_seq, uint64_t limit);
  // Walks the whole chain from seq 1: names the first event that was edited,
  // removed, inserted or moved.
  Result<ChainVerdict> VerifyEvents();
  // Raw SHA-256 over the hash column of events first..last (32 bytes each, in
  // seq order); "" when the catalog lacks one of them.
  Result<std::string> EventHashesDigest(uint64_t first_seq, uint64_t last_seq);
  // What full checks found of `site`'s event segments (repo/events/
  // site_log_check.h), and recording more (a row of the same range replaced;
  // never waits for another writer: an error then, nothing kept). NotFound for a
  // site the catalog does not know.
  Result<std::vector<SegmentCheckRecord>> ListSegmentChecks(const std::string& site);
  Status KeepSegmentChecks(const std::string& site, const std::vector<SegmentCheckRecord>& checks);

  // --- trusted witness keys (catalog_witness_keys.cc) ---
  // Registers an Ed25519 public key (64 lower-case hex digits of the raw key)
  // whose witnesses `events verify` trusts. AlreadyExists if registered;
  // InvalidArgument for a malformed key. `added_micros` (0: now) is its added time: a rebuild
  // gives the time the sites' record keeps, so that the record is not written again.
  Status AddWitnessKey(const std::string& public_key_hex, const std::string& label,
                       int64_t added_micros = 0);
  Result<std::vector<WitnessKeyRecord>> ListWitnessKeys();
  // Removes the key whose hex starts with `prefix` (at least 8 digits).
  // NotFound if none; InvalidArgument if the prefix is short or ambiguous.
  // Returns the removed key.
  Result<WitnessKeyRecord> RemoveWitnessKey(const std::string& prefix);

  // --- principals and API tokens (catalog_principals.cc; issue 17) ---
  // Adds a principal (its created time: the clock's when 0). AlreadyExists naming it when the
  // name is taken; NotFound naming the partner when `principal.partner` names none;
  // InvalidArgument when a partner is given to an auditor or operator or missing for a
  // depositor or partner-admin. The name grammar is repo/access/principals.h's.
  Status AddPrincipal(const PrincipalRecord& principal);
  Result<PrincipalRecord> GetPrincipal(const std::string& name);  // NotFound names it
  Result<std::vector<PrincipalRecord>> ListPrincipals();          // by name
  // Disables principal `name` from `when_micros` on; one already disabled keeps its time.
  // NotFound naming it when there is none.
  Status DisablePrincipal(const std::string& name, int64_t when_micros);
  // Enables principal `name` again; true when it was disabled. NotFound naming it when there
  // is none.
  Result<bool> EnablePrincipal(const std::string& name);
  // A principal from a site's settings record (catalog rebuild): added, or an existing one of
  // that name given the record's role, partner and disabled time. NotFound for its partner.
  Status RestorePrincipal(const proto::PrincipalSetting& principal);
  // Stores token `token` of principal `token.principal` with the SHA-256 (32 raw bytes) of its
  // secret. AlreadyExists when the id is taken; NotFound naming the principal when unknown.
  Status AddApiToken(const ApiTokenRecord& token, std::string_view secret_sha256);
  // Every token, by principal then created time; never a secret or its hash.
  Result<std::vector<ApiTokenRecord>> ListApiTokens();
  // Token `id` with its secret's hash and its principal, to authenticate it. NotFound (naming
  // the id only) when there is none.
  Result<ApiTokenCredential> GetApiTokenCredential(const std::string& id);
  // Revokes token `id` from `when_micros` on; one already revoked keeps its time. NotFound.
  Status RevokeApiToken(const std::string& id, int64_t when_micros);
  // Records that token `id` was used at `when_micros`: written only when that is a minute or
  // more after the last use recorded, so a busy client costs one write a minute, not one a
  // request. OK when the token is gone.
  Status RecordApiTokenUse(const std::string& id, int64_t when_micros);

  // --- withdrawals, purges and legal holds (catalog_withdrawals.cc; issue 18) ---
  // Adds a withdrawal in state requested; returns its id (`withdrawal.id` is not read): a
  // number drawn at random from 100000..99999999 that no withdrawal of the catalog (cancelled
  // and purged ones included) and none of `taken` (the numbers the sites record) has, so that
  // a number never names two requests and tells nothing of how many others were made.
  // AlreadyExists naming the open one when the version already has a withdrawal that is not
  // cancelled, except that a purge may follow an approved withdrawal without one; NotFound for
  // the partner.
  Result<int64_t> AddWithdrawal(const WithdrawalRecord& withdrawal,
                                const std::set<int64_t>& taken = {});
  Result<WithdrawalRecord> GetWithdrawal(int64_t id);  // NotFound names the id
  // Every withdrawal (of `partner` only, when not empty), by id.
  Result<std::vector<WithdrawalRecord>> ListWithdrawals(const std::string& partner);
  // The approved (not cancelled) withdrawal of partner/object@version, or nullopt; of two
  // (a purge asked after a withdrawal without one), the later.
  Result<std::optional<WithdrawalRecord>> WithdrawalOf(const std::string& partner,
                                                       const std::string& object, uint32_t version);
  // Writes the state, approval, cancellation, purge time and detail of `withdrawal` if its row
  // is still in state `expected` (compare and set: two approvers racing, one wins).
  // InvalidArgument naming the withdrawal and its state now when it is not. `events` (seq, id,
  // time and hashes filled in) are appended in the same transaction: the state and its event
  // commit together.
  Status UpdateWithdrawal(const WithdrawalRecord& withdrawal, WithdrawalState expected,
                          std::vector<proto::Event> events = {});
  // A withdrawal read back from a site's tombstone or its settings record (catalog rebuild):
  // inserted with its id; one already there is kept, and so is an open withdrawal of the same
  // version (GetWithdrawal tells whether it went in). NotFound for the partner.
  Status RestoreWithdrawal(const WithdrawalRecord& withdrawal);
  // The first step of a purge, in ONE transaction: records every storage key of the version
  // that goes (its tag files and version.pb; its blobs that no other version of any partner
  // references; on every site of the repository, whether or not the catalog counts a copy
  // there: a key found absent is simply forgotten) in purge_keys, then drops the
  // version's rows (replicas, tag files, files, blobs no one else references, the version, the
  // object if it has no version left) and sets the withdrawal `purging`. So a copy is no
  // longer counted (copies, usage, audit) before its bytes are touched. REQUIRES the writers'
  // lock held exclusively. A withdrawal already past this step is left as it is.
  // InvalidArgument unless the withdrawal is an approved purge.
  Status BeginPurge(int64_t withdrawal_id);
  // The keys the purge of `withdrawal_id` still has to remove, by site and key.
  Result<std::vector<PurgeKey>> ListPurgeKeys(int64_t withdrawal_id);
  // Forgets one key, once it is removed (or found referenced again). OK if absent.
  Status RemovePurgeKey(int64_t withdrawal_id, const std::string& site, const std::string& key);
  // Adds a hold on partner/object; returns its id (`hold.id` is not read), drawn as a
  // withdrawal's (AddWithdrawal): not a number any hold of the catalog (removed ones included)
  // or `taken` (the sites' records) has. AlreadyExists naming the hold on when there is one.
  // NotFound for the partner.
  Result<int64_t> AddHold(const HoldRecord& hold, const std::set<int64_t>& taken = {});
  // The hold on partner/object, or nullopt.
  Result<std::optional<HoldRecord>> HoldOn(const std::string& partner, const std::string& object);
  // Every hold (of `partner` only, when not empty), on and removed, by id.
  Result<std::vector<HoldRecord>> ListHolds(const std::string& partner);
  // Writes the removal request and removal of hold `hold.id` (the rules are the caller's).
  Status UpdateHold(const HoldRecord& hold);
  // A hold read back from a site's settings (catalog rebuild): added with its number, or, when
  // that number is known, its removal fields updated (never a removal undone).
  Status RestoreHold(const HoldRecord& hold);
  // Why restore and show refuse partner/object@version, or OK when it is not withdrawn:
  // Withdrawn "acme/maps@v1 is withdrawn since DATE (withdrawal 7: REASON)". Version 0:
  // the highest withdrawn version of the object (for an object whose versions are all purged).
  Status RefuseIfWithdrawn(const std::string& partner, const std::string& object, uint32_t version);

  // --- what `cairn list` and `cairn show` print (catalog_inventory.cc) ---
  // Calls `fn` for each payload file of version row `version_id`, by path,
  // with the state of its blob on each site (copies by site name). One
  // indexed query, streamed: stops at, and returns, the first error of `fn`.
  Status ForEachFileCopies(int64_t version_id, const std::function<Status(const FileCopies&)>& fn);
  // The same for the version's tag files (version.pb included), by name.
  Status ForEachTagFileCopies(int64_t version_id,
                              const std::function<Status(const FileCopies&)>& fn);
  // Fewest ok copies among the version's distinct blobs and tag files,
  // counting only copies on `site_ids`, and with `distinct_regions` one per
  // region: one aggregate query over the replica indexes, kept in the
  // version_copies memo until a copy of the version changes (SCHEMA.md,
  // migration 9), so that listing a large catalog costs only what changed.
  Result<uint32_t> MinCountedCopies(int64_t version_id, const std::vector<int64_t>& site_ids,
                                    bool distinct_regions);
  // Per site and state, how many of the version's distinct blobs and tag
  // files have a replica there (sites without any are not listed).
  Result<std::vector<ReplicaStateCount>> CountVersionReplicas(int64_t version_id);
  // How many distinct blobs and tag files a version has.
  Result<uint64_t> CountVersionItems(int64_t version_id);
  // The version's distinct blobs that no other version of its partner references, and
  // their bytes: what its deposit added to what that partner holds, whatever other
  // partners hold (a receipt must not tell a partner what another one stores).
  struct PartnerNewBlobs {
    uint64_t blobs = 0;
    uint64_t bytes = 0;
  };
  Result<PartnerNewBlobs> CountBlobsNewToPartner(int64_t version_id);
  // Per site, the version's distinct blobs and tag files with an ok copy there verified at or
  // after `since_micros` (by the deposit that made the version). Not a copy the catalog records
  // from before: nobody looked at it for this version (its site may not even have been open),
  // and a receipt must not tell a copy that only another partner's content put there. Sites
  // without any are not listed.
  Result<std::vector<std::pair<std::string, uint64_t>>> CountCopiesVerifiedSince(
      int64_t version_id, int64_t since_micros);

  // --- site resync and catalog rebuild (catalog_recovery.cc) ---
  // Versions (by partner, object, version) with any replica on site row `site_id`.
  Result<std::vector<VersionRef>> VersionsWithReplicasOn(int64_t site_id);
  // Replica rows (any state) on site row `site_id`.
  Result<uint64_t> CountReplicasOn(int64_t site_id);
  // Gives leased job `id` back to the queue if `lease_owner` still holds it.
  Status ReleaseLeaseOf(int64_t id, const std::string& lease_owner);
  // Marks the replicas of `refs` on site row `site_id` ok, verified at
  // `now_micros`, due at `next_due_micros`, in ONE transaction. Rows that do
  // not exist are skipped.
  Status MarkReplicasVerified(int64_t site_id, const std::vector<ReplicaRef>& refs,
                              int64_t now_micros, int64_t next_due_micros);
  // Every replica: never verified, due at `now_micros` (after a rebuild).
  Status MarkAllReplicasUnverified(int64_t now_micros);

  // --- audit schedules (catalog_schedules.cc) ---
  // AlreadyExists if the name is taken. last_run is stored as 0.
  Status AddSchedule(const ScheduleRecord& schedule);
  Result<std::vector<ScheduleRecord>> ListSchedules();  // by name
  // Schedules with next_run <= now_micros, oldest next_run first, then by name.
  Result<std::vector<ScheduleRecord>> DueSchedules(int64_t now_micros);
  // NotFound naming the schedule when there is none by that name.
  Status RemoveSchedule(const std::string& name);
  // After a finished run: its start, the next run time and the sample to use next.
  Status RecordScheduleRun(const std::string& name, int64_t last_run_micros,
                           int64_t next_run_micros, const std::string& sample);

  // --- the auditor (catalog_audit.h; catalog_audit_*.cc) ---
  class Reader;
  class AuditRecorder;
  // A reader connection of its own (catalog_audit.h), reading pages through
  // a memory map of `mmap_bytes` (0: none). Readers only: SCHEMA.md.
  Result<std::unique_ptr<Reader>> OpenReader(int64_t mmap_bytes);
  // The writer connection of one sweep (catalog_audit.h).
  Result<std::unique_ptr<AuditRecorder>> OpenAuditRecorder();
  // The copy of `ref` on `site`, found bad by an audit and repaired since (copied again from
  // `from_site`, read back and verified) by other than a sweep (the replication that copies it
  // again): the findings of finished runs about it (corrupt, missing, unreadable, damaged) not
  // repaired yet are marked repaired from `from_site`, and each run's repaired count (and its
  // site row's, its damaged count down for a damaged one) goes up, so `audit report` no longer
  // counts them as left bad. In one transaction. The findings marked, oldest first (none: the
  // copy had none open). A sweep's own repairs do the same in its batch (WriteBatch).
  Result<std::vector<RepairedFinding>> MarkFindingsRepaired(const ReplicaRef& ref,
                                                            const std::string& site,
                                                            const std::string& from_site);
  // The sweeps started at or after `since_micros` (only run `run_id` when
  // not 0), by start. NotFound naming the run when `run_id` names none.
  Result<std::vector<AuditRunRecord>> ListAuditRuns(int64_t run_id, int64_t since_micros);
  // Their per-site rows (by run, site) and findings (by run, then as written).
  Result<std::vector<AuditRunSiteRecord>> ListAuditRunSites(int64_t run_id, int64_t since_micros);
  Result<std::vector<AuditFindingRecord>> ListAuditFindings(int64_t run_id, int64_t since_micros);
  // Copies not pending whose next_due < now_micros, counted per site (by name).
  Result<std::vector<std::pair<std::string, uint64_t>>> CountOverdueCopies(int64_t now_micros);
  // The `limit` oldest of them, oldest first.
  Result<std::vector<OverdueCopyRecord>> ListOverdueCopies(int64_t now_micros, size_t limit);

 private:
  // AlreadyExists when `table` holds a `column` equal to `id` but for case (caller holds mu_);
  // with `partner`, among that partner's rows only.
  Status RefuseCaseTwin(const std::string& table, const std::string& column,
                        const std::string& what, const std::string& id,
                        const std::string& partner = "");
  // The `column` of `table` equal to `id` but for case, if any (caller holds mu_); with
  // `partner`, among that partner's rows only. Unique: such twins are refused when made.
  Result<std::optional<std::string>> CaseTwin(const std::string& table, const std::string& column,
                                              const std::string& id,
                                              const std::string& partner = "");
  // NotFound "no object P/O[@vN]", naming the partner's object whose id differs only in case
  // when there is one ("did you mean P/o?") (caller holds mu_).
  Status NoObject(const std::string& partner, const std::string& object,
                  std::optional<uint32_t> version);
  friend struct CatalogTestAccess;  // raw SQL, for tests only (catalog_test_access.h)
  sql::Db& db() { return db_; }
  // The connection settings of every connection to the catalog (SCHEMA.md).
  static constexpr int kSweepBusyTimeoutMs = 30'000;
  Result<sql::Db> OpenConnection(bool reader, int64_t mmap_bytes);
  Catalog(sql::Db db, Clock* clock, Backoff backoff)
      : db_(std::move(db)), clock_(clock), backoff_(backoff) {}
  Result<int64_t> SiteId(const std::string& name);
  // SetReplicaState with the site's id known, REQUIRES mu_ held.
  Status SetReplicaStateLocked(const ReplicaRef& ref, int64_t site_id, const std::string& site,
                               ReplicaState state, int64_t last_verified_micros,
                               int64_t next_due_micros, const std::string& detail);
  Result<uint64_t> AppendEventsLocked(std::vector<proto::Event>& events);
  // InsertVersion's memo of a new version (NewVersion::listed_rule): its
  // items' copies are those on `stored_on`; `empty`: it has none.
  Status KeepNewVersionCopiesLocked(int64_t version_id, const std::vector<int64_t>& stored_on,
                                    const NewVersion::CountedSites& rule, bool empty);
  Result<int64_t> EnqueueJobLocked(const proto::Job& job);

  std::recursive_mutex mu_;
  sql::Db db_;
  Clock* clock_;
  Backoff backoff_;
  // Statements of the lookups a deposit makes once or twice per file, kept
  // (sql::PrepareOnce; destroyed before db_) and reset after each use, so
  // none holds a read transaction open.
  std::optional<sql::Stmt> blob_on_site_;  // BlobOnSite
  // And the upserts of SetReplicaState(s), once per copy a replication, a
  // restore or a catalog rebuild records: compiling them each time was 31% of
  // a replication's CPU.
  std::optional<sql::Stmt> upsert_blob_replica_;
  std::optional<sql::Stmt> upsert_tag_replica_;
};

// Catalog::AppendEvents through another connection `db` to the catalog file,
// inside the caller's write transaction (sql::Transaction: BEGIN IMMEDIATE,
// so no other writer moves the chain head until it commits): the events
// commit or roll back with the caller's other rows. Fills seq, id, time
// (`now_micros` when 0), prev_hash and hash as AppendEvents does. Returns the
// last seq. InvalidArgument when `db` is not inside a transaction.
Result<uint64_t> AppendEventsInTransaction(sql::Db& db, int64_t now_micros,
                                           std::vector<proto::Event>& events);

// True for schedule names: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. (Partner, object
// and site ids follow the one id rule of layout::ValidateId.)
bool IsValidName(std::string_view name);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_H_
