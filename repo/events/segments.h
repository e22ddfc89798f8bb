// The event log on the sites: append-only segments events/<first>-<last>.pb
// (proto EventSegment, key from layout::EventSegmentKey), written once each.
// The catalog holds the log; every site holds a copy in segments, so that the
// history survives the loss of the catalog (`cairn catalog rebuild`).
//
// Every library operation that appends events (deposit, replication, restore,
// audit run, gc, resync, rebuild in place, a daemon round) ends with a flush
// (FlushNewEvents, or FlushEventSegments where it reports per site) and
// reports its outcome in its result, so that any caller (the CLI, a server)
// gets the same finished work. A flush writes, for each reachable site, ONE
// segment (more only past kMaxSegmentEvents) with the events the site does
// not hold yet. A site that is down is skipped; the next flush catches it up.
// Two concurrent flushes may write overlapping segments; readers
// (ReadSiteEventLog) accept overlaps whose events agree.
#ifndef CAIRN_REPO_EVENTS_SEGMENTS_H_
#define CAIRN_REPO_EVENTS_SEGMENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bagit/status.h"
#include "proto/event.pb.h"
#include "repo/catalog/catalog_types.h"
#include "repo/site_layout.h"

namespace cairn::repo {

class Catalog;
class Repository;
class Site;

// Events per segment at most (a segment stays small enough to read whole).
inline constexpr uint64_t kMaxSegmentEvents = 1000;

struct SiteFlush {
  std::string site;
  uint64_t held_before = 0;  // last seq the site held before the flush
  uint64_t held_after = 0;   // last seq it holds now
  uint64_t segments_written = 0;
  std::string error;  // why the site was skipped or stopped (empty: fine)
  // True when `error` is more than "down, the next flush catches up": the
  // site's log diverged from the catalog's (it holds later or different
  // events) or a reachable site refused the write.
  bool problem = false;
  // Among those problems, a catalog behind the site: the site's log holds events the catalog
  // lacks (it runs past the catalog's head, or its intact last event is not the catalog's: a
  // catalog put back from a backup, or rebuilt from a site that lagged); `held_before` is its
  // last seq. The events stay in
  // the catalog; `cairn catalog rebuild --from SITE --force` catches it up and carries over the
  // ones a read records (CarriedOverByRebuild), so they are not lost.
  bool catalog_behind = false;
};

struct FlushSummary {
  uint64_t head_seq = 0;  // the catalog's last seq
  std::vector<SiteFlush> sites;
  // "site b: ..." for every site that was skipped or failed.
  std::vector<std::string> Errors() const;
  // "site b: ..." for the sites whose flush is a problem (SiteFlush::problem) other than a
  // catalog behind them: verbs that flush report these and exit 1.
  std::vector<std::string> Problems() const;
  // "the catalog is behind site b: ..." for the sites whose log runs past the catalog's
  // (SiteFlush::catalog_behind), with the rebuild that catches it up and keeps the events.
  std::vector<std::string> Behind() const;
};

// One segment key on a site and the range its name gives.
struct SegmentKey {
  layout::EventSegmentRef ref;
  std::string key;
};
// Every segment key on the site, sorted by first seq then last seq.
// Unavailable if the site cannot be listed.
Result<std::vector<SegmentKey>> ListEventSegments(Site& site);

// The bytes of the segment the catalog's events first..last make (what a
// flush writes): NotFound unless the catalog holds exactly those events.
Result<std::string> CatalogSegmentBytes(Catalog& catalog, uint64_t first_seq, uint64_t last_seq);

// The last seq held by `site` (0: none), from the segment keys under events/.
// Unavailable if the site cannot be listed.
Result<uint64_t> LastSeqOnSite(Site& site);

// Where a site's copy of the log ends, and the catalog's head read after it (so that segments
// another writer of this catalog flushes meanwhile are never past it).
struct SiteLogPosition {
  uint64_t held = 0;  // the last seq the site holds (0: none)
  EventHead head;
};
// The site's log must be a prefix of the catalog's: its last event the catalog's event of that
// seq (same hash). InvalidArgument naming the site and seq when it runs past the catalog's
// head (with the `cairn catalog rebuild` that catches a catalog up) or disagrees with it, the
// text `left` (what the caller left undone) following the reason; Unavailable if the site
// cannot be listed or read.
Result<SiteLogPosition> CheckSiteLogFollowsCatalog(Catalog& catalog, Site& site,
                                                   const std::string& site_name,
                                                   std::string_view left);

// CheckSiteLogFollowsCatalog for every reachable site of `repo` but `except`: the first
// disagreement (InvalidArgument, worded as there), or OK. With `runs_past_only`, only a log that
// runs past the catalog's head counts (one that disagrees at its last event may be a rotted
// segment, an audit's to repair). A site that cannot be opened or read is skipped. `site`
// (when not null) gets the name of the site found.
Status FirstSiteLogAheadOfCatalog(Repository& repo, const std::string& except, bool runs_past_only,
                                  std::string* site = nullptr);

// Brings one site's segments up to the catalog's head. Before writing, the
// last event the site holds must be the catalog's event of that seq (same
// hash): a site whose log diverges from the catalog (a catalog rebuilt from an
// older site) or runs ahead of it is left untouched and reported as an error
// (FailedPrecondition-like InvalidArgument naming the site and seq).
Result<SiteFlush> FlushEventSegmentsToSite(Catalog& catalog, Site& site,
                                           const std::string& site_name);

// FlushEventSegmentsToSite for each (name, site) pair; never fails as a
// whole: per-site problems are in the summary (an Unavailable site is only
// skipped; any other failure is a SiteFlush::problem). Returns an error only when the
// catalog cannot be read.
Result<FlushSummary> FlushEventSegments(Catalog& catalog,
                                        const std::vector<std::pair<std::string, Site*>>& sites);

// Every site of the repository's catalog; a site that cannot be opened
// (down, unmounted) is skipped and reported in the summary.
Result<FlushSummary> FlushEventSegments(Repository& repo);

// How an operation's new events reached the sites' logs: `status` is not ok
// when the catalog could not be read (nothing was copied); `problems` names
// each site whose copy of the log is a problem (FlushSummary::Problems). A
// site that is down is neither: the next flush catches it up.
struct EventsFlushed {
  Status status;
  std::vector<std::string> problems;
  // Each site whose log runs past the catalog's (FlushSummary::Behind): warned of, no problem of
  // a read that recorded only events a rebuild carries over (a restore's, gc's); a verb that
  // records others is refused on such a catalog before it records any.
  std::vector<std::string> behind;
  // False when the operation recorded no event of its own (its flush only caught the sites'
  // logs up to the catalog's): a problem then is no "new events not copied". Set by the caller
  // that knows (Replicate); true otherwise.
  bool new_events = true;
  // "site a: README.txt brought up to date (...)" for each site whose README.txt this flush
  // replaced (Readmes::kBringUpToDate), or could not: said, never a problem.
  std::vector<std::string> notes;
  bool ok() const { return status.ok() && problems.empty(); }
};

// Whether a flush also brings each site's README.txt up to date (Site::BringReadmeUpToDate), as
// the verbs that print EventsFlushed::notes ask: a site keeps the README it was made with until
// then.
enum class Readmes { kLeave, kBringUpToDate };

// FlushEventSegments(repo) at the end of an operation; never fails as a whole. With
// Readmes::kBringUpToDate, every site the flush reached then gets this Cairn's README.txt if it
// holds another (named in `notes`).
EventsFlushed FlushNewEvents(Repository& repo, Readmes readmes = Readmes::kLeave);

// FlushNewEvents (Readmes::kLeave) told of the events up to `seq` alone: an earlier operation's,
// asked again whether they are on every site's log now (a deposit's kept receipt given to a
// rerun). A site whose flush is a problem counts only while its log lacks them: one that holds
// event `seq` as the catalog holds it (its log follows the catalog's up to at least `seq`) is
// left out, its refusal of later events being the later operations' to tell. A site that is down
// is skipped, as there.
EventsFlushed FlushEventsThrough(Repository& repo, uint64_t seq);

// The event log a site holds, read from its segments in order and checked as
// it is read: seq without gaps from 1, each prev_hash the hash of the event
// before, each hash the hash of its content; overlapping segments must agree.
struct SiteEventLog {
  std::vector<proto::Event> events;  // the good prefix of the chain
  uint64_t segments = 0;
  bool chain_ok = true;
  uint64_t first_bad_seq = 0;       // when !chain_ok
  std::string problem;              // "events/...pb: event 12: ..." when !chain_ok
  uint64_t events_after_break = 0;  // events on the site not loaded
};
// Unavailable if the site cannot be read; a segment that cannot be parsed is
// a chain break (reported in the log), not an error.
Result<SiteEventLog> ReadSiteEventLog(Site& site);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_SEGMENTS_H_
