// The garbage collector of blobs (`cairn gc`): removes from every site the
// blobs no catalog version references, once they have stayed unreferenced for
// a grace period. Such blobs are what refused deposits leave while another
// deposit runs (a refused deposit removes its new blobs itself only when no
// other writer is in flight: see deposit_commit.h) and what killed deposits
// leave behind.
//
// Race-free by the writers' lock: gc holds ROOT/writers.lock EXCLUSIVELY while
// it runs, and every deposit holds it shared from before its first blob write
// until its catalog commit, so no deposit is in flight that could hold an
// unreferenced blob as "already there". Blobs named by a version record
// (version.pb) on the site that the catalog does not know are kept too (a
// catalog that lost rows must not cost the bytes). Each removal is a PREMIS
// deletion event.
//
// It also removes the tag files of a deposit killed before its version.pb
// (bags/P/O/vN/ without version.pb or tombstone, a version the catalog does
// not list nor its log records as ingested): never acknowledged, not a
// version. The exclusive writers' lock is what keeps a running deposit's
// folder safe (a deposit writes its tag files and version.pb holding the lock
// shared), so no grace period applies to them.
//
// And the version.pb and tag files of a deposit killed after its version.pb
// but before its catalog commit: a record the catalog does not list that the
// repository's pending mark of its object names with its SHA-256
// (IsInterruptedDeposit, repo/events/interrupted_deposit.h). Removed the same
// way, each a deletion event; its blobs are then unreferenced ones (the grace
// period applies) unless another site's record the catalog lacks names them;
// the mark goes once its leftovers are gone. A record without such a mark is
// a version the catalog lost: kept, as above.
#ifndef CAIRN_REPO_GC_H_
#define CAIRN_REPO_GC_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/events/segments.h"

namespace cairn::repo {

class Repository;

inline constexpr int64_t kDefaultGcGraceMicros = int64_t{24} * 3600 * 1'000'000;

struct GcOptions {
  // A blob is removed once gc has seen it unreferenced for this long (the
  // first run that sees it records the time; 0: remove at once).
  int64_t grace_micros = kDefaultGcGraceMicros;
  bool dry_run = false;          // report, change nothing (no rows, no removal, no event)
  std::string site;              // empty: every site
  std::string user;              // for events; empty: $USER
  std::string agent_version;     // Cairn's version, for events
  int64_t lock_timeout_ms = -1;  // waiting for writers in flight: -1 LockTimeoutMs(), 0 never
};

struct GcBlob {
  std::string site;
  std::string sha256;
  uint64_t size = 0;
  int64_t since_micros = 0;  // first seen unreferenced
};

struct GcReport {
  bool dry_run = false;
  int64_t grace_micros = 0;
  uint64_t blobs_listed = 0;    // blobs on the sites collected
  std::vector<GcBlob> removed;  // dry run: those that would be removed
  std::vector<GcBlob> waiting;  // unreferenced, still within the grace period
  uint64_t bytes_removed = 0;
  // Version records on a site that the catalog does not list ("site a:
  // bags/p/o/v3/version.pb"): the blobs they name were kept.
  std::vector<std::string> unknown_versions;
  // Version folders left by interrupted deposits, removed (dry run: that would be):
  // "site a: bags/p/o/v1/ (3 tag files, no version.pb)", or with their version.pb (killed
  // before the catalog commit) "site a: bags/p/o/v1/ (version.pb and 4 tag files; the pending
  // mark ...)".
  std::vector<std::string> interrupted_deposits;
  std::vector<std::string> errors;  // sites (or blobs) not collected, and why
  EventsFlushed events;             // the deletion events on the sites' logs

  std::string ToText() const;
  nlohmann::json ToJson() const;
};

// Collects every site (or options.site). Unavailable if the writers' lock
// could not be taken within options.lock_timeout_ms; a catalog error stops it.
// InvalidArgument, nothing listed or removed, when a reachable site's event log runs past the
// catalog's (a catalog put back from a backup), naming the site and the rebuild.
// A site that cannot be listed, or whose unknown version records cannot be
// read, is skipped and named in report.errors (nothing removed from it).
// Ends (unless a dry run) with the deletion events copied to every site's log.
Result<GcReport> CollectGarbage(Repository& repo, const GcOptions& options);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_GC_H_
