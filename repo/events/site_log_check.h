// The sites' copies of the event log checked against the catalog's chain
// (issue 14, item 10), and a missing or damaged segment rewritten.
//
// Every segment events/<first>-<last>.pb of a site is read and checked:
//   missing    no segment holds events first..last, though later ones exist
//              (a deleted segment). The key named is the range's key.
//   damaged    the segment does not parse, or its events are not exactly
//              first..last, or an event's content does not match its hash, or
//              its prev_hash is not the hash of the event before it in the
//              segment. Proven wrong by its own bytes: it may be replaced.
//   different  a well-formed segment whose event N is not the catalog's
//              event N (the catalog was rewritten, or the site's log is
//              another repository's). Never replaced: a person decides.
//   ahead      a segment holding events after the catalog's last one (the
//              catalog was truncated or rebuilt from an older site). Never
//              replaced.
// A site that merely lacks the newest events (it was down, or the command's
// flush has not run yet) is "behind": not a finding; the next flush copies them.
#ifndef CAIRN_REPO_EVENTS_SITE_LOG_CHECK_H_
#define CAIRN_REPO_EVENTS_SITE_LOG_CHECK_H_

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

class Catalog;
class Repository;
class Site;

enum class SegmentProblem { kMissing, kDamaged, kDifferent, kAhead };
// "missing", "damaged", "different", "ahead".
std::string_view SegmentProblemName(SegmentProblem problem);

struct SegmentFinding {
  SegmentProblem kind = SegmentProblem::kDamaged;
  std::string site;
  std::string key;  // the segment's key (missing: the key of the absent range)
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string detail;
  bool repaired = false;
  std::string repaired_from;  // "the catalog" or "site NAME"
  std::string repair_error;   // why a missing or damaged segment was not repaired
  // "site a: events/...pb: damaged: event 12: ... (repaired from the catalog)".
  std::string ToString() const;
  nlohmann::json ToJson() const;
};

struct SiteLogCheck {
  std::string site;
  bool checked = false;  // false: the site could not be opened or read (`error`)
  std::string error;
  uint64_t segments = 0;      // segment keys on the site
  uint64_t held = 0;          // the last seq its segments hold
  uint64_t catalog_head = 0;  // the catalog's last seq when it was checked
  std::vector<SegmentFinding> findings;
  // Read, and every finding (if any) repaired.
  bool ok() const;
  nlohmann::json ToJson() const;
};

// Catalog::EventHashesDigest of event ranges (first, last), read once for
// the checks of several sites, which hold the same segments.
using EventRangeDigests = std::map<std::pair<uint64_t, uint64_t>, std::string>;

// Checks `site`'s segments against `catalog` as described above. Lists the
// site before reading the catalog's head, so a concurrent flush never looks
// like "ahead". A site that cannot be listed or read is returned with
// checked == false; an error Status only when the catalog cannot be read.
//
// A segment a full check found good is recorded in the catalog (the SHA-256
// of its bytes and of the catalog's event hashes it matched, table
// segment_checks); a later check whose two digests are the same skips the
// parse and the event-by-event comparison, which is what a sweep's check of
// the log cost as it grew (each sweep adds an event per copy it checks).
// Different bytes, or any change to the catalog's hashes of the range, get
// the full check again. `digests` (optional) shares the catalog's range
// digests between the sites of one sweep.
Result<SiteLogCheck> CheckSiteEventLog(Catalog& catalog, Site& site, const std::string& site_name,
                                       EventRangeDigests* digests = nullptr);

// Rewrites `check`'s missing and damaged segments (never the different or
// ahead ones) through Site: from the catalog when its chain is intact up to
// the segment's last event, else from another site in `others` whose segment
// of the same key is well formed and agrees with the catalog's hashes. A
// damaged segment is read again and proven wrong again before it is replaced
// (Site::ReplaceDamagedEventSegment). Sets repaired / repaired_from /
// repair_error per finding; an error Status only when the catalog cannot be read.
Status RepairSiteEventLog(Catalog& catalog, Site& site, SiteLogCheck& check,
                          const std::vector<std::pair<std::string, Site*>>& others);

// CheckSiteEventLog on every site of the repository (only `only_site` when
// not empty), then RepairSiteEventLog when `repair`. A site that cannot be
// opened is returned with checked == false.
Result<std::vector<SiteLogCheck>> CheckEventLogCopies(Repository& repo,
                                                      const std::string& only_site, bool repair);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_SITE_LOG_CHECK_H_
