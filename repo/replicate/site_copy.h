// The verified site-to-site copy, used by replication, resync and the auditor's repair:
// copying one blob or tag file from one site to
// another, then reading it back from the target and re-hashing it.
#ifndef CAIRN_REPO_REPLICATE_SITE_COPY_H_
#define CAIRN_REPO_REPLICATE_SITE_COPY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "repo/catalog/catalog_types.h"
#include "repo/site/site.h"

namespace cairn::repo {

class Catalog;

// One blob or tag file of a version, as the catalog knows it.
struct SiteCopyItem {
  ReplicaRef ref;
  std::string key;     // storage key, the same on every site
  std::string name;    // for messages: "blob <sha256>" or the tag file name
  std::string sha256;  // what the bytes must hash to
  uint64_t size = 0;
  bool version_record = false;
  bool target_ok = false;  // the target's copy is already ok
  // The catalog once read the target's copy back with `sha256` (its row has
  // a last_verified time): other bytes found there now are that copy decayed
  // (Site::CopyBagFile's `verified_here`).
  bool target_verified_once = false;
  // The catalog has no row at all for the target's copy (never copied there,
  // as far as it knows): see PrepareBlobCopy's `ask_first`.
  bool target_unrecorded = false;
  std::vector<std::string> ok_sites;  // sites whose copy the catalog says is ok
};

struct SiteCopyResult {
  Status status;
  bool target_failed = false;    // the error is the target's (another source won't help)
  bool already_present = false;  // a blob the target already held, verified
  uint64_t bytes_written = 0;
  // What was moved out of the blob's way on the target first (Site::MakeRoomForBlob: a
  // directory where its file should be), naming the paths; "" when nothing was.
  std::string made_room;
};

// The catalog's sites other than `known` (those whose copy of an item it records) and `except`:
// where a copy it does not record may be (a catalog rebuilt while that site was out of reach).
// When no copy the catalog knows serves, the audit's repair, replication and resync ask them
// for the bytes under the item's key (a blob by its digest, as restore does), verify what they
// give (CopyAndVerify reads the copy back and re-hashes it) and record the copy found.
Result<std::vector<std::string>> SitesToAskByKey(Catalog& catalog,
                                                 const std::vector<std::string>& known,
                                                 std::string_view except);

// Makes `item` present and verified on `to`, reading from `from`. A blob
// already on the target is verified instead of written (and rewritten if it
// is wrong). A tag file or version.pb goes through Site::CopyBagFile,
// write-once: one already holding these bytes counts as present; one holding
// other bytes is never replaced (AlreadyExists, target_failed: another
// deposit of that version number) unless the Site proves them damaged (or
// item.target_verified_once vouches that they are this copy decayed). The
// copy is read back from `to` and must hash to item.sha256 with item.size
// bytes. Errors name the site at fault.
SiteCopyResult CopyAndVerify(Site& from, Site& to, const SiteCopyItem& item);

// CopyAndVerify of a blob in two steps around its commit, so that many copies
// to a site that commits in batches (BackendCapabilities::batch_commit) are
// committed together by Site::CommitBlobs, their durability waited for once.
struct BlobCopy {
  // Set when the copy waits for its commit: the bytes, read back from the
  // target's temp file and hashed when the target can (DigestAppended).
  std::unique_ptr<BlobWriter> writer;
  SiteCopyResult result;  // when there is no writer: the copy's outcome
};
// Verifies a blob already on `to` (then done, already_present) or fills a new
// writer on `to` from `from`. With `ask_first` false, `to` is not asked for
// the blob before the writer is filled: for a target that commits in batches
// (Site::BlobBatches), which reads back a blob it finds there when it names
// the new one and keeps it if it verifies (FinishBlobCopy then counts it as
// already present). Worth it where the blob is most likely absent.
BlobCopy PrepareBlobCopy(Site& from, Site& to, const SiteCopyItem& item, bool ask_first = true);
// The outcome of a copy whose writer was committed (Site::CommitBlob or
// CommitBlobs gave `committed`): read back from the target when the writer
// did not. REQUIRES: copy.writer was set.
SiteCopyResult FinishBlobCopy(Site& from, Site& to, const SiteCopyItem& item, BlobCopy& copy,
                              const Result<Site::BlobCommitResult>& committed);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REPLICATE_SITE_COPY_H_
