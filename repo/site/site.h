// Site: one storage site as the repository sees it: a StorageBackend that
// holds the layout of repo/site_layout.h. Knows the rules that make a site
// safe to read without Cairn (marker written last, blobs write-once) and keeps
// "site down" apart from "key missing".
#ifndef CAIRN_REPO_SITE_H_
#define CAIRN_REPO_SITE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/site_layout.h"
#include "repo/storage/backend.h"

namespace cairn::repo {

// Which repository is making or adding a site (Site::Init).
struct SiteOwner {
  std::string repository_id;  // written into a new marker; empty: none (tests)
  // Accept a marker that names another repository (after that repository is
  // gone). Nothing on the site is rewritten: the marker keeps its id.
  bool adopt = false;
  // The layout a new site is made with (an existing site keeps its own). Only
  // tests make sites of an older layout, to check that Cairn still serves them.
  int layout_version = layout::kLayoutVersion;
};

class Site {
 public:
  // Which repository is making or adding a site (Init).
  using Owner = SiteOwner;
  // Makes a new site on `backend` (CreateRoot, README.txt, then CAIRN-SITE
  // last, naming owner.repository_id) and returns it open. `created` is an
  // ISO 8601 UTC time; empty: now. Idempotent: a site that already carries a
  // marker with the same id is just opened (README.txt rewritten if missing).
  // A marker that names another repository is refused (AlreadyExists,
  // whatever its site id, with how to adopt it) unless owner.adopt; a marker
  // without a repository id (written before repositories had ids) is accepted.
  // AlreadyExists if it carries another site's id; InvalidArgument if the
  // location holds other objects but no marker (never adopt a folder or
  // bucket that is not empty).
  static Result<std::unique_ptr<Site>> Init(std::unique_ptr<StorageBackend> backend,
                                            std::string_view site_id, std::string_view created = "",
                                            const Owner& owner = Owner());

  // Opens an existing site by reading its CAIRN-SITE marker. Unavailable if
  // the backend cannot be read or the marker is absent (an unmounted folder or
  // a lost bucket looks like that: never treat it as "everything missing"; a
  // location the backend's Probe finds missing, a deleted bucket, is named so, in
  // `site check`'s words); InvalidArgument if the marker is not Cairn's or its
  // layout version is unknown.
  static Result<std::unique_ptr<Site>> Open(std::unique_ptr<StorageBackend> backend);

  const layout::SiteMarker& marker() const { return marker_; }
  const std::string& id() const { return marker_.site_id; }
  std::string DisplayUrl() const { return backend_->DisplayUrl(); }
  // The raw backend, for the few callers that need it (resync, cleanup).
  StorageBackend& backend() { return *backend_; }

  // The key of blob `sha256_hex` in this site's layout (what its listings show).
  std::string BlobKey(std::string_view sha256_hex) const {
    return layout::BlobKey(sha256_hex, marker_.layout_version);
  }
  // The digest a listed key of this site names, or nullopt if it is not a blob
  // key of this site's layout.
  std::optional<std::string> BlobDigestOf(std::string_view key) const {
    return layout::ParseBlobKey(key, marker_.layout_version);
  }

  // Reads, like StorageBackend::Read/Stat/ReadAll, except that NotFound is
  // turned into Unavailable when the site's marker has disappeared since Open
  // (a mount that went away): only a key missing from a live site is NotFound.
  Status Read(std::string_view key, uint64_t offset, uint64_t length, const ByteSink& sink);
  Result<ObjectInfo> Stat(std::string_view key);
  Result<std::string> ReadAll(std::string_view key);
  // The local-file read path (StorageBackend::OpenForCopy), with Read's rule
  // for NotFound; NotSupported unless capabilities().open_for_copy. A caller
  // that asked the capability takes this error as its read's: it does not
  // read the key again by Read.
  Result<int> OpenForCopy(std::string_view key);
  BackendCapabilities capabilities() const { return backend_->Capabilities(); }
  // Lists keys under `prefix` after checking that the marker is still there
  // (Unavailable if not), so an empty listing means an empty prefix.
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn);
  // The same for the keys under `prefix` that sort after `start_after`
  // (StorageBackend::ListAfter).
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn);
  // The names at the site's root, files as keys and folders as "name/", nothing below them
  // (StorageBackend::ListTopLevel), after the same check of the marker.
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn);

  // --- blobs (write-once, named by SHA-256) ---
  // A blob found already present is verified, never trusted: every method
  // below that meets an existing blob reads it back before counting on it.

  // True if the blob exists on this site (a size check is the caller's).
  Result<bool> HasBlob(std::string_view sha256_hex);
  // A writer for a new blob. With `sha256_hex` the bytes are checked against
  // it at commit (the backend refuses with Corruption if they do not match)
  // and S3 may upload them straight to the blob's key; empty: the name is
  // known only at CommitBlob (the caller hashes the bytes, or reads them back
  // with BlobWriter::DigestAppended first). `part_sha256`: the SHA-256 of
  // each piece of the bytes the backend signs parts with
  // (PutOptions::part_sha256: from the same read as `sha256_hex`).
  // `caller_hashes`: the caller hashes the very bytes it appends and commits
  // them under the name its own digest gives (PutOptions::caller_hashes_appended).
  Result<std::unique_ptr<BlobWriter>> NewBlobWriter(std::string_view sha256_hex,
                                                    std::optional<uint64_t> size = std::nullopt,
                                                    std::vector<std::string> part_sha256 = {},
                                                    bool caller_hashes = false);

  // What CommitBlob found under the blob's name.
  enum class BlobCommit {
    kCreated,   // nothing: the writer's bytes are the blob now
    kVerified,  // a blob whose bytes, read back, hash to its name: kept, the writer's discarded
    kReplaced,  // a blob with wrong or unreadable (I/O error) bytes: replaced by the writer's
  };
  struct BlobCommitResult {
    BlobCommit how = BlobCommit::kCreated;
    std::string replaced;  // kReplaced: what the wrong blob held ("read N bytes with sha256 X")
  };
  // Commits `writer` as blob `sha256_hex`, write-once. REQUIRES: the writer's
  // bytes hash to `sha256_hex` (its expected_sha256, or the caller's own
  // digest of them). A blob already under that name is read back first
  // (VerifyBlob): kept if it verifies, else (wrong bytes, or an I/O error on a
  // site that answers; never when the site is Unavailable) removed and replaced by the
  // writer's bytes. `size`, when given, is the size the blob must have.
  // Errors name the site and the blob; the writer is aborted on any error.
  Result<BlobCommitResult> CommitBlob(BlobWriter& writer, std::string_view sha256_hex,
                                      std::optional<uint64_t> size = std::nullopt);
  // One blob of a batch (CommitBlobs): the arguments of one CommitBlob.
  struct BlobToCommit {
    BlobWriter* writer = nullptr;
    std::string sha256_hex;
    std::optional<uint64_t> size;
  };
  // Commits many blobs, each as CommitBlob would (the same results, errors and
  // write-once rule; result i is blobs[i]'s), waiting for the disk once per
  // batch instead of once per blob: the new blobs' bytes are made durable
  // together (CommitBarrier::Sync: posix, one syncfs of the site's file
  // system), then every name is made, then the names are made durable together
  // (the same again). No result is OK before that second
  // Sync: a blob counts as stored only once its bytes and its name are
  // durable. A first Sync that fails leaves none of the batch's new blobs
  // visible (each fails with its error); a second that fails fails every blob
  // made visible in this batch (visible, not known durable: the garbage
  // collector's, as after a failed commit of one blob). A blob already under
  // its name is read back, kept or replaced one by one, as CommitBlob does.
  // Every writer is aborted or committed on return.
  std::vector<Result<BlobCommitResult>> CommitBlobs(std::span<const BlobToCommit> blobs);
  // Batches of blobs committed one after another (CommitBlobs for each), with
  // one Sync between two batches instead of two: the Sync that makes a batch's
  // bytes durable makes the names of the batch before durable too, so a
  // batch's results are known only at the next Add (or at Finish). One thread
  // drives it (a batch's names are made by up to `threads` workers); the site
  // outlives it.
  class BlobBatches {
   public:
    explicit BlobBatches(Site* site, unsigned threads = 1);
    ~BlobBatches();
    BlobBatches(const BlobBatches&) = delete;
    BlobBatches& operator=(const BlobBatches&) = delete;
    // Commits `blobs` as CommitBlobs does up to its second Sync, and returns
    // the results of the batch given to the Add before (each as CommitBlobs
    // would give it; none on the first call). Every writer of `blobs` is
    // aborted or committed on return.
    std::vector<Result<BlobCommitResult>> Add(std::span<const BlobToCommit> blobs);
    // The results of the last batch added, once its names are durable.
    std::vector<Result<BlobCommitResult>> Finish();

   private:
    // Settles the last batch added: its visible blobs fail with
    // `names_durable` unless it is OK. Returns its results.
    std::vector<Result<BlobCommitResult>> Settle(const Status& names_durable);

    Site* site_;
    unsigned threads_;
    std::unique_ptr<CommitBarrier> barrier_;
    // The last batch added: its results, which of its blobs are visible (their
    // names not yet known durable), and the message prefix of each.
    std::vector<Result<BlobCommitResult>> results_;
    std::vector<size_t> visible_;
    std::vector<std::string> where_;
  };
  // How many writers a caller should hold open for one CommitBlobs: each may
  // hold an open file until it commits, so a quarter of the process's file
  // limit, at most `at_most` (at least 16). The limit is read once, at the
  // first call. A caller whose batch holds more than its writers (a deposit's
  // staged files, with their paths) keeps the default; replication, whose
  // items are in memory anyway, asks for more (one syncfs per batch whatever
  // its size).
  static constexpr size_t kBlobBatchDefault = 1024;
  static size_t BlobBatchLimit(size_t at_most = kBlobBatchDefault);
  // Raises the process's soft limit of open files to its hard limit (at most
  // 65,536), as `ulimit -n` would, so that a soft limit of 1,024 (the default of
  // many systems) does not cut BlobBatchLimit() to 256 and multiply a small-file
  // deposit's syncs by four. Returns the soft limit now in force. The `cairn`
  // command calls it first thing.
  static uint64_t RaiseOpenFileLimit();
  // Whole blob from memory: NewBlobWriter + Append + CommitBlob.
  Status PutBlob(std::string_view sha256_hex, std::string_view bytes);
  // Streams a blob (Read on its key).
  Status ReadBlob(std::string_view sha256_hex, const ByteSink& sink);
  // Reads blob `sha256_hex` back and hashes it. OK if its bytes hash to its
  // name (and it has `size` bytes, when given); Corruption if they do not
  // ("site S: blob X: read N bytes with sha256 Y"); NotFound if it is absent;
  // Unavailable (or another read error) if it could not be read: never
  // Corruption for "could not read".
  Status VerifyBlob(std::string_view sha256_hex, std::optional<uint64_t> size = std::nullopt);
  // A blob found present that a new version now counts on (reused by a
  // deposit, verified by a copy): its protection on the storage is extended
  // to what writing it now would give (S3 Object Lock: retain-until moved
  // forward, never back; OK where the site locks nothing). CommitBlob does it
  // for kVerified. Errors name the site and the blob.
  Status ExtendBlobRetention(std::string_view sha256_hex);
  // A blob found under its name is read back, never trusted: kVerified (kept,
  // its retention extended), kReplaced with why (wrong bytes, or unreadable on
  // this live site: the caller removes it and names the writer's known-good
  // bytes), kCreated if it vanished meanwhile (the caller names its own), or
  // the error that leaves it alone (the site went away). CommitBlob,
  // BlobBatches::Add and a deposit that asks before it copies (repo/deposit,
  // PayloadStager::ReuseStored) decide alike through it.
  Result<BlobCommitResult> JudgeExistingBlob(std::string_view sha256_hex,
                                             std::optional<uint64_t> size);
  // Makes room for blob `sha256_hex` where something that is no blob holds its name
  // (StorageBackend::MakeRoomFor: a directory at its path on a posix site, removed if empty,
  // else moved whole to lost-and-found/), so that a good copy can be written there. Returns
  // what was done, naming the paths; "" if nothing was in the way. Errors name the site and
  // the blob. For a copy that found the blob missing (VerifyBlob: NotFound).
  Result<std::string> MakeRoomForBlob(std::string_view sha256_hex);
  // Removes blob `sha256_hex`. For the garbage collector and abandoned
  // deposits only. REQUIRES: the caller holds the repository's writers' lock
  // exclusively (no deposit in flight can have adopted the blob) and found that
  // no catalog version references it. OK if it was absent.
  Status RemoveUnreferencedBlob(std::string_view sha256_hex);
  // The same for a purge (repo/withdraw): every stored version of the blob goes, so its bytes
  // are gone, not hidden; what Object Lock still retains is reported (Erasure), not bypassed.
  Result<Erasure> PurgeBlob(std::string_view sha256_hex);

  // --- bags (write-once: a version record and its tag files are never replaced) ---
  // Every write below checks the marker first (Unavailable if it is gone).
  // Writes one tag file of a version, write-once: OK if the key is absent or
  // already holds exactly these bytes (a rerun); AlreadyExists naming the key
  // and the site if it holds other bytes (never replaced). InvalidArgument for
  // bad ids or name.
  Status PutTagFile(std::string_view partner, std::string_view object, uint32_t version,
                    std::string_view name, std::string_view bytes);
  Result<std::string> ReadTagFile(std::string_view partner, std::string_view object,
                                  uint32_t version, std::string_view name);
  // Writes version.pb, write-once like PutTagFile; REQUIRES: every tag file and
  // blob of the version is already durable on this site (the record marks the
  // version complete).
  Status PutVersionRecord(std::string_view partner, std::string_view object, uint32_t version,
                          std::string_view bytes);
  Result<std::string> ReadVersionRecord(std::string_view partner, std::string_view object,
                                        uint32_t version);
  // A writer for a tag file or version record streamed in pieces; commit it
  // with CommitTagFile or CommitVersionRecord (and nothing else).
  Result<std::unique_ptr<BlobWriter>> NewBagFileWriter();
  // Commits `writer` (from NewBagFileWriter, or any writer made with
  // PutOptions::if_absent) as tag file `name` of the version, write-once: OK
  // if the key was absent or already holds bytes whose SHA-256 is `sha256_hex`
  // (read back to compare); AlreadyExists naming the key and site otherwise.
  // The writer is aborted on failure.
  Status CommitTagFile(BlobWriter& writer, std::string_view partner, std::string_view object,
                       uint32_t version, std::string_view name, std::string_view sha256_hex);
  // The same for the version's version.pb.
  Status CommitVersionRecord(BlobWriter& writer, std::string_view partner, std::string_view object,
                             uint32_t version, std::string_view sha256_hex);

  // --- bag files copied from another site (replication, audit repair, resync) ---
  // What CopyBagFile found under the key.
  enum class BagFileCopy {
    kCreated,   // nothing: the copy is written
    kPresent,   // exactly these bytes (read back and hashed): nothing written
    kReplaced,  // bytes proven damaged (see CopyBagFile): replaced by the copy
  };
  struct BagFileCopyResult {
    BagFileCopy how = BagFileCopy::kCreated;
    std::string replaced;  // kReplaced: what the key held and why it was proven wrong
  };
  // Writes tag file or version record `ref` of a version that another site
  // holds: `fill` appends its bytes (streamed from that site) to the writer it
  // is given, which checks at commit that they hash to `sha256_hex` (Corruption
  // if not: the source's bytes are bad). Write-once, like CommitTagFile: OK
  // (kPresent, nothing written, `fill` not called) if the key already holds
  // those bytes; AlreadyExists naming the key and the site if it holds other
  // bytes (another deposit of that version number: never replaced). The one
  // exception is bytes proven damaged, replaced (kReplaced): for a tag file,
  // this site's own version.pb of that version lists the name with
  // `sha256_hex`; for version.pb, the bytes held do not parse as a consistent
  // record of that partner, object and version; for either, `verified_here`:
  // the caller's catalog records this site read back holding exactly
  // `sha256_hex` under this key once (a replica row verified at some time),
  // and bag files are written once, so any other bytes there now are those
  // bytes decayed (a flip that still parses as a record included). A catalog
  // that never verified this site's copy (a pending row, a rebuilt catalog's
  // unverified rows) vouches for nothing. Unavailable if the marker is gone.
  // Errors from `fill` are returned as they are (the writer aborted).
  Result<BagFileCopyResult> CopyBagFile(const layout::TagFileRef& ref, std::string_view sha256_hex,
                                        std::optional<uint64_t> size,
                                        const std::function<Status(BlobWriter&)>& fill,
                                        bool verified_here = false);

  // What this site holds of one object: its version folders, and for each
  // whether it has version.pb (complete) or not (a deposit that stopped
  // before its record: never acknowledged, to be ignored), and whether it holds
  // a tombstone (withdrawn, maybe purged: the number is taken for good).
  struct VersionFolder {
    uint32_t version = 0;
    bool complete = false;
    bool withdrawn = false;
  };
  Result<std::vector<VersionFolder>> ListVersionFolders(std::string_view partner,
                                                        std::string_view object);
  // Removes a version folder that was never acknowledged: its tag files, and
  // its version.pb only when that holds bytes whose SHA-256 is
  // `own_record_sha256` (the record the caller's own killed deposit wrote;
  // removed first, so a reader that stops half way sees an incomplete
  // folder). Any other version.pb (or any, when `own_record_sha256` is empty)
  // is a complete version: AlreadyExists naming it, and nothing is removed.
  // REQUIRES: the caller holds the object's lock and knows no catalog lists
  // this version.
  // The folders it empties go too (StorageBackend::RemoveEmptyFolder: on a posix site), the
  // deepest first, up to the object's and partner's folders while each is left empty.
  Status RemoveUnacknowledgedVersion(std::string_view partner, std::string_view object,
                                     uint32_t version, std::string_view own_record_sha256);

  // --- tombstones of withdrawn versions (repo/site/tombstone.h) ---
  // Writes the tombstone of partner/object@version, write-once: OK if absent or already these
  // bytes; AlreadyExists naming the key and site if it holds other bytes.
  // `name`: layout::kTombstoneName, or kPurgeTombstoneName for a purge asked afterwards.
  Status PutTombstone(std::string_view partner, std::string_view object, uint32_t version,
                      std::string_view bytes, std::string_view name = layout::kTombstoneName);
  // Removes the tag file or version.pb under `key` of a version being purged. Refused
  // (InvalidArgument, nothing removed) unless `key` is such a key and this site holds that
  // version's tombstone: no bag file goes without the tombstone that says why. Every stored
  // version of the key goes; what Object Lock still retains is reported (Erasure).
  Result<Erasure> RemovePurgedBagFile(std::string_view key);
  // NotFound if the version has none.
  Result<std::string> ReadTombstone(std::string_view partner, std::string_view object,
                                    uint32_t version,
                                    std::string_view name = layout::kTombstoneName);

  // --- events ---
  // Writes one event segment, write-once: AlreadyExists if that range was
  // written before with different bytes; OK if with the same bytes.
  Status PutEventSegment(uint64_t first_seq, uint64_t last_seq, std::string_view bytes);
  // Replaces an event segment that was proven wrong: REQUIRES the caller read
  // it as `damaged` and showed those bytes are not the events of that range
  // (they do not parse, or fail the hash chain). The one exception to
  // write-once, and only for such bytes: AlreadyExists (nothing written) if
  // the key no longer holds exactly `damaged`; a missing key is written
  // write-once. `bytes` are read back after the write (Corruption if they
  // differ). InvalidArgument if `damaged` equals `bytes` or first > last.
  Status ReplaceDamagedEventSegment(uint64_t first_seq, uint64_t last_seq, std::string_view damaged,
                                    std::string_view bytes);

  // --- README.txt ---
  // Brings README.txt to this Cairn's text for the site's layout (layout::SiteReadmeText): a site
  // keeps the README it was made with, whose by-hand recipe may lack steps made since (step 3,
  // a bag's empty folders). Written only when it differs or is missing, whole: a temp file
  // renamed over it (posix) or one PUT (S3), so no half-written README is ever visible. Returns
  // why it was replaced ("its by-hand recipe lacked step 3, ..."), or nullopt when it was up to
  // date. Unavailable if the marker is gone.
  Result<std::optional<std::string>> BringReadmeUpToDate();

  // --- settings ---
  // Writes one version of a setting (layout::SettingsRecordKey), write-once:
  // AlreadyExists if that version holds different bytes; OK if the same.
  Status PutSettingsRecord(std::string_view kind, std::string_view name, uint64_t version,
                           std::string_view bytes);

 private:
  // After RemoveUnacknowledgedVersion removed `removed` (keys below `version_prefix`): the
  // folders that held them, then the version's, object's and partner's while each is empty.
  Status RemoveFoldersEmptied(const std::string& version_prefix,
                              const std::vector<std::string>& removed);
  Site(std::unique_ptr<StorageBackend> backend, layout::SiteMarker marker)
      : backend_(std::move(backend)), marker_(std::move(marker)) {}
  // Unavailable if the marker can no longer be read; else `not_found`.
  Status MissingOrDown(Status not_found);
  // `key` as stored here: a blob key of any layout becomes this site's key of
  // that blob (callers above the site name blobs by layout::BlobKey); any other
  // key is itself.
  std::string StorageKey(std::string_view key) const;
  // Unavailable if the marker is gone (an emptied mount point, a lost
  // bucket): checked before every bag-file and event-segment write, so such
  // a place is never written into.
  Status CheckMarkerBeforeWrite();
  // The write-once rule after a commit or put that said AlreadyExists: OK if
  // `key` holds bytes with SHA-256 `sha256_hex`, else AlreadyExists naming the
  // key and the site, "already holds " + `conflict`. Other statuses pass through.
  Status SettleWriteOnce(const std::string& key, Status written, std::string_view sha256_hex,
                         std::string_view conflict = kOtherDeposit);
  // Every write-once put of small bytes: checks the marker, puts `bytes` under
  // `key` if absent, then SettleWriteOnce.
  Status PutOnce(const std::string& key, std::string_view bytes, std::string_view conflict);
  // SHA-256 of what `key` holds now (read through Read: NotFound only when the
  // site is live). Errors name the site and the key.
  Result<std::string> HashOf(const std::string& key);
  // Why the bytes under `ref`'s key, with SHA-256 `held_sha256`, are proven not
  // to be that bag file (see CopyBagFile); empty if they are not proven wrong.
  Result<std::string> ProvenDamaged(const layout::TagFileRef& ref, const std::string& key,
                                    std::string_view held_sha256, std::string_view sha256_hex,
                                    bool verified_here);
  static constexpr std::string_view kOtherDeposit =
      "other bytes (written once, never replaced: another deposit of this version number)";

  std::unique_ptr<StorageBackend> backend_;
  layout::SiteMarker marker_;
};

// What Site::Open says of a place without its CAIRN-SITE marker.
inline constexpr std::string_view kNoSiteMarker =
    "has no CAIRN-SITE marker: not mounted, lost, or never initialised";
// `opened` (a failed open of site `name`) with the way forward when the site's place has no
// marker or (posix) no folder, in `site resync`'s words: mount it, or make it again with `cairn
// site resync NAME --init`, or take it out with `cairn site remove NAME` (added by mistake,
// retired). Any other status is returned as it is.
Status WithMarkerNextStep(const std::string& name, Status opened);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_H_
