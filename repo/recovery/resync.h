// Site resync: after a site is lost or replaced (an empty folder, a new
// bucket), put back everything the catalog says it holds, from the other
// sites, verified (`cairn site resync NAME`).
//
//   1. The site gets CAIRN-SITE and README.txt again (Site::Init, same site id
//      as the catalog, this repository's id) when its marker is gone, and
//      only when asked (ResyncOptions::init_site, `--init`): an empty folder
//      is also what an unmounted share looks like, and is never filled
//      without that flag.
//   2. One job per version with a replica on the site is queued in the
//      catalog (kind JOB_KIND_REPAIR, target the site, blob and tag_file empty:
//      "the whole version"), then the queue is drained. A kill at any moment
//      leaves the jobs; the next run reclaims the jobs of resync processes that
//      no longer run and finishes.
//   3. Per job, every blob and tag file of the version that has a replica on
//      the site is checked with Stat: a key that is missing or of the wrong
//      size (or whose replica is not "ok" in the catalog) is copied from
//      another site whose copy is ok (then from the others, asked by its key:
//      SitesToAskByKey; a copy made from one records its copy there), with CopyAndVerify
//      (the source's bytes must hash to the digest, the copy is read back and
//      re-hashed), version.pb last. Copies run on a few threads.
//   4. Copied replicas are set ok (verified now); one PREMIS "recovery" event
//      per version that needed copies; finally the event segments are flushed
//      to every reachable site (the resynced one gets the whole log).
#ifndef CAIRN_REPO_RESYNC_H_
#define CAIRN_REPO_RESYNC_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

class Repository;

struct ResyncProgress {
  uint64_t items_total = 0;  // replicas the catalog puts on the site
  uint64_t items_done = 0;   // checked (present or copied) or failed
  uint64_t copied = 0;
  uint64_t bytes_copied = 0;
};

struct ResyncOptions {
  unsigned threads = 4;  // parallel copies
  int64_t lease_micros = 15 * 60 * 1'000'000LL;
  std::string agent_version;
  std::string user;  // empty: $USER
  // Make the site again (CAIRN-SITE, README.txt) when its marker is gone.
  // Without it, a site without a marker is Unavailable, naming the flag.
  bool init_site = false;
  // Called from worker threads (serialized) every few items, and at the end.
  std::function<void(const ResyncProgress&)> progress;
};

struct ResyncSummary {
  std::string site;
  bool initialised = false;        // the site had no CAIRN-SITE and was made again
  uint64_t versions = 0;           // jobs run
  uint64_t versions_repaired = 0;  // jobs that copied something
  uint64_t items_checked = 0;      // blobs and tag files looked at
  uint64_t present = 0;            // already there with the right size (or verified)
  uint64_t copied = 0;             // copied, read back and verified
  uint64_t bytes_copied = 0;
  uint64_t failed = 0;     // items that could not be copied this run
  uint64_t jobs_left = 0;  // still queued or failed after this run
  uint64_t event_segments_written = 0;
  // Copies the site was owed by replication (queued before the resync, while it was lost, or
  // lacking by policy): made now, and those still owed after it.
  uint64_t replicated = 0;
  uint64_t replication_left = 0;
  std::vector<std::string> errors;
  // What the site still held of purged versions (put back from a backup taken before the
  // purge), removed ("site b: acme/box@v1 (withdrawal 7): 4 keys, ... removed"), and what of it
  // is left and why. Filled by the caller, after ResyncSite: the removal is repo/withdraw's
  // (RemovePurgeLeftovers), a room above this one.
  std::vector<std::string> purge_leftovers_removed;
  std::vector<std::string> purge_leftovers_left;
  double seconds = 0;
  // The settings records the site did not take (repo/site/settings.h); written
  // last, after `seconds`, and not in ToText/ToJson.
  std::vector<std::string> settings_warnings;

  bool complete() const {
    return failed == 0 && jobs_left == 0 && replication_left == 0 && purge_leftovers_left.empty();
  }
  std::string ToText() const;
  nlohmann::json ToJson() const;
};

// Resyncs site `name` of `repo`, under the writers' lock (taken here). NotFound if the catalog has
// no such site; Unavailable if the site cannot be reached or made again; InvalidArgument, nothing
// written, when another reachable site's event log runs past the catalog's or disagrees with it
// (a catalog put back from a backup: the site would be made again from a catalog that lacks
// what the others hold). After the repairs, the copies replication owes the site (queued jobs,
// retried at once, and what the policies lack there) are made too. Items that cannot be
// copied (no good copy elsewhere, a source down) are counted in `failed` and their jobs stay queued
// for a later run. Ends with the new events flushed to every site, the tombstones of every
// approved withdrawal (purged ones too) written where they lack, and the settings written on this
// one. The caller then removes what the site holds of purged versions (`cairn site resync` does:
// a purged version is never made good again).
Result<ResyncSummary> ResyncSite(Repository& repo, const std::string& name,
                                 const ResyncOptions& options = {});

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESYNC_H_
