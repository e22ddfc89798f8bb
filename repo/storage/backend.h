// StorageBackend: the one interface every site's storage implements (posix
// folder, S3 bucket, in-memory for unit tests). Nothing above this interface may
// assume a site is local. Keys are '/'-separated relative names such as
// "blobs/sha256/ab/abcd..." (see repo/site_layout.h); a backend maps them to
// files or objects and never lets a key escape its root.
//
// Retry, rate limiting and fault injection are wrappers around any backend
// (repo/storage/retry_backend.h, repo/storage/fault_backend.h), not flags inside
// a backend; every wrapper derives from ForwardingBackend
// (repo/storage/forwarding_backend.h), which forwards every method below.
//
// Key rules: repo/key_rule.h (ValidateKey), the same on every backend.
#ifndef CAIRN_REPO_STORAGE_BACKEND_H_
#define CAIRN_REPO_STORAGE_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/digest.h"
#include "bagit/status.h"
#include "repo/key_rule.h"

namespace cairn::repo {

// What a posix site says when its root folder is not there (an unmounted share, a lost disk).
inline constexpr std::string_view kSiteRootMissing =
    "root folder is missing or not a folder (not mounted?)";

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

struct PutOptions {
  // Write-once: if the key already exists, Commit() returns AlreadyExists and
  // leaves the existing object untouched (S3: If-None-Match: *).
  bool if_absent = false;
  // Hex SHA-256 of the whole content when the caller knows it in advance. A
  // backend may send it to the server so damaged-in-transit bytes are refused
  // (S3: x-amz-content-sha256); Commit() returns Corruption if it does not match.
  std::string expected_sha256;
  // Total size when known in advance (lets S3 choose single PUT vs multipart).
  std::optional<uint64_t> size_hint;
  // The key Commit() will be given, when the caller knows it before the first
  // Append (a copy of a known blob; a payload file whose SHA-256 the bag's
  // manifest gives). Lets S3 upload a large object's parts straight to that key
  // instead of to temp objects copied on the server at Commit. Commit() with
  // another key fails on every backend and stores nothing (Corruption when the
  // bytes miss expected_sha256, else InvalidArgument). Empty: key known at Commit.
  std::string key_hint;
  // Hex SHA-256 of each piece of the content, in order, where a piece is
  // BackendCapabilities::signed_part_size bytes (the last may be shorter),
  // computed from the same read of the bytes as expected_sha256 (one copy of
  // each byte hashed both ways: bagit::HashOpenFileInPieces), which must be
  // set. A backend that claims signed_part_size signs each part it sends with
  // its digest; see there. Ignored by other backends.
  std::vector<std::string> part_sha256;
  // The caller hashes every byte it appends, from the same memory as it
  // appends it, and commits only under the key its own SHA-256 names (with
  // key_hint set from expected_sha256, the writer refuses any other key). The
  // writer then need not hash the bytes to check expected_sha256 (S3 drops its
  // whole-object digest; each part's signature is still checked by the
  // gateway). Honoured by S3; the other backends may check anyway.
  bool caller_hashes_appended = false;
};

// The optional local-file fast paths of a backend (StorageBackend::Capabilities),
// each with its own section of the conformance suite (backend_conformance.h).
// All false by default; the posix backend claims all three.
struct BackendCapabilities {
  // OpenForCopy gives a file descriptor of the object's local file. Not
  // claimed: OpenForCopy returns NotSupported.
  bool open_for_copy = false;
  // Writers copy AppendFromFile inside the kernel (copy_file_range), never
  // through this process. Not claimed: AppendFromFile still works (it reads
  // the file and calls Append).
  bool append_in_kernel = false;
  // Writers hold their bytes where they can be read back before Commit:
  // DigestAppended works, Commit checks expected_sha256 against that digest,
  // and VerifiedByReadBack() is true after such a Commit. Not claimed:
  // DigestAppended returns NotSupported.
  bool digest_appended = false;
  // Keys are kept by the storage for a retention period (S3 Object Lock): Remove may leave
  // the bytes in place (a delete marker over a retained version). A purge (repo/withdraw)
  // removes with RemoveEveryVersion, which says what is still retained, and until when.
  bool locks_objects = false;
  // NewCommitBarrier gives a barrier that makes a batch of small objects
  // durable at once (posix: one syncfs before the names are made, one after),
  // so committing many from one thread in a batch (Site::CommitBlobs) waits
  // for the disk twice per batch. Not claimed: the barrier has nothing to do
  // and each object commits whole (S3: one request each): commit them one by
  // one on parallel workers instead.
  bool batch_commit = false;
  // Writers send the content in parts of this many bytes, each signed with its
  // SHA-256, and the storage refuses a part (or a whole object sent at once)
  // whose bytes miss the digest it was sent with (S3: x-amz-content-sha256).
  // A caller that knows the digests (PutOptions::part_sha256; for content no
  // larger than one part, expected_sha256) lets the writer sign with them. Where
  // the storage has been seen to refuse a wrong digest (S3: asked on first
  // use, and again hourly), the writer then hashes nothing itself: the storage's check ties
  // the stored bytes to the caller's digests, and so to expected_sha256; a
  // mismatch is Corruption and stores nothing. 0: not claimed.
  uint64_t signed_part_size = 0;
};

// What StorageBackend::RemoveEveryVersion left of a key.
struct Erasure {
  // True when no stored version of the key is left: its bytes are gone.
  bool gone = true;
  // When not gone: the latest retain-until date (UTC microseconds) of the versions the storage
  // still keeps (S3 Object Lock).
  int64_t retained_until_micros = 0;
};

// OK if `options` has no key_hint or it equals `key`; else InvalidArgument.
// Writers call it in Commit, after their expected_sha256 check.
Status CheckKeyHint(const PutOptions& options, std::string_view key);

// BlobWriter::CheckAppended's answer once the writer knows its bytes' SHA-256 `actual`: OK if it
// is `sha256_hex`, else Corruption "WHAT: the bytes' SHA-256 is ACTUAL, not SHA256_HEX".
Status AppendedSha256Is(std::string_view what, std::string_view actual,
                        std::string_view sha256_hex);

// What a batch of commits makes durable together (BlobWriter::PrepareCommit,
// Site::CommitBlobs): each writer of the batch registers what must be synced,
// and one Sync() syncs all of it, each thing once, instead of one wait for the
// disk per object. Made by the backend whose writers it serves
// (StorageBackend::NewCommitBarrier); opaque above it. Not thread-safe: one
// batch is driven by one thread.
class CommitBarrier {
 public:
  virtual ~CommitBarrier() = default;
  // Makes durable everything registered since the last Sync (posix: one
  // syncfs of the site's file system: the prepared temp files' bytes, the
  // names and the new folders) and forgets it. Returns the first
  // failure, after trying every item. The default (a backend whose writers
  // commit each object whole) has nothing to do: OK.
  virtual Status Sync() { return Status::OK(); }
};

// Receives the bytes of one new object. Nothing is visible under any key until
// Commit() succeeds; a writer destroyed without Commit() discards its bytes
// (temp file removed, multipart upload aborted).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends bytes. Returns IOError/NoSpace/Unavailable on failure; after a
  // failure the writer must only be aborted.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Makes the appended bytes durable and visible under `key`, atomically (posix:
  // fsync, rename, fsync dir; S3: single PUT or completed multipart upload).
  // REQUIRES: called at most once.
  virtual Status Commit(std::string_view key) = 0;
  // Discards everything appended. Safe to call more than once.
  virtual void Abort() = 0;

  // Batched commit, the two halves of Commit with a barrier between them
  // (Site::CommitBlobs drives it): PrepareCommit(key, barrier) for each writer
  // of the batch, barrier.Sync() (every object's bytes durable), then
  // CommitPrepared(key, barrier) for each (visible under its key), then
  // barrier.Sync() again (every name durable): only after that second Sync
  // may any of them count as stored. A writer that cannot split its commit
  // keeps the defaults: PrepareCommit does nothing and CommitPrepared is its
  // whole Commit.
  // PrepareCommit checks the bytes as Commit would (Corruption if they miss
  // expected_sha256, InvalidArgument for a key_hint mismatch) and registers
  // with `barrier` what must be durable before a name may point at them;
  // nothing is visible. On error the writer must only be aborted.
  // REQUIRES: `barrier` was made by the backend that made this writer (or a
  // wrapper of it) and outlives the commit; called at most once.
  virtual Status PrepareCommit(std::string_view key, CommitBarrier& barrier);
  // Makes the object visible under `key`, atomically, as Commit does
  // (AlreadyExists under PutOptions::if_absent), without waiting for the disk:
  // the name is durable only once `barrier`'s next Sync() succeeds.
  // A writer whose PrepareCommit registered with the barrier (posix) stays
  // prepared after AlreadyExists: the caller reads back what is there, then
  // aborts, or removes it and calls CommitPrepared again (the name is durable
  // at the next Sync). Any other error, and any error of a writer that
  // commits whole, finishes the writer.
  // REQUIRES: PrepareCommit(key, barrier) succeeded and barrier.Sync() has
  // succeeded since.
  virtual Status CommitPrepared(std::string_view key, CommitBarrier& barrier);

  // Appends `length` bytes of the open file `fd` from `offset` (the caller
  // keeps the fd). The default reads them and calls Append; the posix writer
  // copies inside the kernel (copy_file_range) and, when the writer has an
  // expected_sha256, reads the temp file back at Commit to check it before the
  // object becomes visible. InvalidArgument if the file is shorter.
  virtual Status AppendFromFile(int fd, uint64_t offset, uint64_t length);
  // True once Commit has succeeded after reading the stored bytes back from
  // the storage and matching expected_sha256 (then a caller's own read-back
  // would check the same bytes again).
  virtual bool VerifiedByReadBack() const { return false; }
  // Reads back every byte appended so far from where the writer holds them and
  // returns their digests (`algorithms` plus SHA-256). Commit then checks the
  // key hint and expected_sha256 (if set) against that SHA-256 without reading
  // the bytes again, and a successful Commit counts as verified by read-back.
  // REQUIRES: no Append or AppendFromFile afterwards. NotSupported where the
  // bytes cannot be read before Commit (the default; S3: they are in flight):
  // see BackendCapabilities::digest_appended.
  virtual Result<bagit::Digests> DigestAppended(bagit::AlgorithmSet algorithms);
  // Whether the bytes appended so far have the SHA-256 `sha256_hex`, told before Commit from
  // what the writer holds or computed of them, committing nothing (Site::CommitBlob asks before
  // it removes a damaged copy these bytes are to replace): OK if they have; Corruption naming
  // both digests if not; NotSupported where the writer cannot tell before Commit. The default
  // reads them back (DigestAppended: posix); memory hashes its buffer; S3 hashes a small
  // object's buffer, or, once its parts are all sent (a part that failed is this call's error),
  // takes the digest it computed as it sent them or the caller's part digests the gateway
  // checked (PutOptions::part_sha256, read with expected_sha256); a large object whose caller
  // hashes it (caller_hashes_appended, or no expected_sha256) is NotSupported there.
  // REQUIRES: no Append or AppendFromFile afterwards; after an error other than Corruption or
  // NotSupported the writer must only be aborted.
  virtual Status CheckAppended(std::string_view sha256_hex);
};

// Called with consecutive chunks of an object's bytes; a non-OK return stops
// the read and is returned by Read().
using ByteSink = std::function<Status(std::span<const std::byte>)>;

class StorageBackend {
 public:
  virtual ~StorageBackend() = default;

  // A new writer for one object; the key is chosen at Commit().
  virtual Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) = 0;

  // Streams `length` bytes of `key` from `offset` into `sink` (length ==
  // kToEnd: to the end). NotFound if the key does not exist; Unavailable if the
  // storage could not be reached (never Corruption: the backend does not know
  // what the bytes should be). Reading past the end yields the bytes that exist.
  static constexpr uint64_t kToEnd = ~uint64_t{0};
  virtual Status Read(std::string_view key, uint64_t offset, uint64_t length,
                      const ByteSink& sink) = 0;

  // Size of `key`; NotFound if absent.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // Calls `fn` for every object whose key starts with `prefix`, in no
  // particular order. Temp objects of unfinished writers are not listed.
  virtual Status List(std::string_view prefix,
                      const std::function<Status(const ObjectInfo&)>& fn) = 0;
  // List's objects whose keys also sort after `start_after` (byte order), in
  // no particular order: what a caller that knows where the keys it wants begin
  // asks for (the newest event segments of a long log). The default lists
  // `prefix` and skips the rest; S3 asks the storage to start there
  // (ListObjectsV2 `start-after`), so the keys before it cost no request.
  virtual Status ListAfter(std::string_view prefix, std::string_view start_after,
                           const std::function<Status(const ObjectInfo&)>& fn);
  // Calls `fn` once for each name at the root (a posix site's folder, an S3 site's bucket
  // prefix), in no particular order, without listing below it: a file (object) as its key and
  // size ("README.txt"), a folder as its name and '/' with size 0 ("blobs/"); never the temp
  // folder of unfinished writers (tmp/). What the auditor compares with the layout's names. The
  // default lists every key (List("")) and gives each first folder once; posix reads the root
  // folder alone (any entry that is not a folder, a symlink included, as a file) and S3 asks
  // ListObjectsV2 with delimiter '/'.
  virtual Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn);

  // Removes `key`. OK if it did not exist (idempotent).
  virtual Status Remove(std::string_view key) = 0;

  // Makes room for an object under `key` where something that is not an object holds its
  // name, so that a writer can commit there (posix: a directory at the file's path, made by
  // hand or by a restore tool; Stat, Read and OpenForCopy call the key NotFound and say so).
  // Nothing it holds is removed unnamed: an empty directory is removed; one holding anything
  // is moved whole to layout::LostAndFoundKey(key, n), the first n free. Returns what was
  // done, naming both paths ("removed the empty directory P", "moved the directory P (N files,
  // B bytes) to Q"); "" if the key is free or holds an object. Errors name the path. Default:
  // "" (on S3 and in memory only an object can hold a key).
  virtual Result<std::string> MakeRoomFor(std::string_view key);

  // Removes the folder `prefix` names ("bags/acme/obj/v1/", the trailing '/' optional) if it
  // is empty, so that removing a folder's last object leaves no empty folder where the storage
  // has folders (posix). Returns true if a folder was removed; false, changing nothing, when it
  // holds anything (an object, a folder, a file Cairn did not write), is absent or is not a
  // folder. A prefix that is no key once its '/' is dropped ("", "../x/", "tmp/") is
  // InvalidArgument on every backend; other errors name the path. Default: false (on S3 and in
  // memory a prefix is no folder: it goes with its last key). Conformance:
  // BackendConformance.RemoveEmptyFolderRemovesAnEmptiedFolderOnly.
  virtual Result<bool> RemoveEmptyFolder(std::string_view prefix);

  // Removes leftovers of writers killed before Commit/Abort (temp files,
  // incomplete multipart uploads) older than `min_age_seconds`.
  virtual Status CleanupTemp(uint64_t min_age_seconds) = 0;

  // The site's URL with any secret removed: safe to print, log or store.
  virtual std::string DisplayUrl() const = 0;

  // Prepares the storage of a NEW site (called once, by Site::Init): posix
  // creates the root folder, never its missing parents (Unavailable naming
  // the parent: an unmounted share); memory does nothing; S3 may check that
  // the bucket exists. Every other call on a posix site whose root folder is
  // missing returns Unavailable (a site that is not mounted is "could not
  // read", never "every key is missing"). Default: OK, nothing to do.
  virtual Status CreateRoot() { return Status::OK(); }

  // Checks, changing nothing, that the storage answers and the site's location
  // exists: Unavailable if it cannot be reached, PermissionDenied if the
  // credentials are refused, NotFound if the location (bucket) is missing, and
  // any other error for a location that cannot hold the site as configured (S3:
  // the URL asks for Object Lock and the bucket has none). Default: a Stat of
  // "CAIRN-SITE" where a missing key counts as OK.
  virtual Status Probe();

  // A barrier for a batch of commits of this backend's writers
  // (BlobWriter::PrepareCommit). Default: one that has nothing to sync (each
  // writer commits whole in CommitPrepared); posix: fdatasync of the batch's
  // temp files before the names are made, fsync of their folders after.
  virtual std::unique_ptr<CommitBarrier> NewCommitBarrier();

  // What this backend's local-file fast paths can do (Capabilities below).
  // Callers ask this, never the backend's type; wrappers forward it.
  virtual BackendCapabilities Capabilities() const { return {}; }
  // An open read-only file descriptor of `key`'s local file, for
  // AppendFromFile or hashing in place; the caller closes it. NotFound if the
  // key is absent; NotSupported unless Capabilities().open_for_copy (stream
  // with Read instead).
  virtual Result<int> OpenForCopy(std::string_view key);
  // True when copying a local file into a writer first and hashing the copy
  // (DigestAppended) reads its bytes once: the writers copy AppendFromFile
  // inside the kernel and support DigestAppended (posix).
  bool DigestsBeforeCommit() const {
    BackendCapabilities c = Capabilities();
    return c.append_in_kernel && c.digest_appended;
  }

  // Keeps `key`, an object that exists and that a new version now counts on
  // (a blob reused by a deposit, found present by a copy), protected at least
  // as long as writing it now would: with S3 Object Lock, its retain-until
  // date is moved forward to now + the site's retention when that is later
  // (never shortened). OK for keys the backend does not lock (the default:
  // posix, memory); NotFound if the key is absent; errors name the key.
  virtual Status ExtendRetention(std::string_view key);

  // Removes `key` with every stored version of it, so that its bytes are gone, not hidden
  // (a purge, repo/withdraw): on a versioned or Object Lock bucket a plain Remove leaves the
  // old versions under a delete marker. A version the storage still retains (Object Lock) is
  // left, hidden under a delete marker, and reported (gone false, with its retain-until date):
  // the retention is never bypassed. OK (gone) if the key was absent. Default: Remove, for
  // storage that keeps one version of a key (posix, memory).
  virtual Result<Erasure> RemoveEveryVersion(std::string_view key);

  // Convenience: one whole object from memory through NewWriter/Commit.
  Status Put(std::string_view key, std::string_view bytes, const PutOptions& options = {});
  // Convenience: a whole object into memory. REQUIRES: the object is small.
  Result<std::string> ReadAll(std::string_view key);
};

// Opens the backend a URL names, by scheme: file:///abs/path, mem://name,
// s3://bucket[/prefix]?endpoint=...&region=... . InvalidArgument for an unknown
// scheme or a malformed URL; the error never contains credentials.
Result<std::unique_ptr<StorageBackend>> OpenBackend(std::string_view url);

// Tests only (fault injection around a real site, issue 7; a test hook,
// repo/test_hooks.h: not in the shipped binary): when set, every
// backend OpenBackend makes is passed through `wrap` (with its URL) and the
// result is used instead. Empty function: off (the default). Set it before a
// Repository opens its sites; not synchronised with concurrent OpenBackend.
using BackendWrapper = std::function<std::unique_ptr<StorageBackend>(
    std::string_view url, std::unique_ptr<StorageBackend> backend)>;
void SetBackendWrapperForTesting(BackendWrapper wrap);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_BACKEND_H_
