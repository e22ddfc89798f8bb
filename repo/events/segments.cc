// Event segments on the sites: flushing the catalog's log to every site, and
// reading a site's log back (catalog rebuild).
#include "repo/events/segments.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "repo/events/premis.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

// The serialized EventSegment holding `events`, made from their stored
// records without parsing them: the wire form of `repeated Event events = 1`
// is, per event, the field's tag, the record's length and the record.
std::string SegmentBytes(const std::vector<EventRecord>& events) {
  // A field's tag: its number shifted left by 3, then wire type 2 (length-delimited).
  constexpr uint32_t kEventsTag = (proto::EventSegment::kEventsFieldNumber << 3) | 2;
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    for (const EventRecord& e : events) {
      out.WriteTag(kEventsTag);
      out.WriteVarint32(static_cast<uint32_t>(e.bytes.size()));
      out.WriteRaw(e.bytes.data(), static_cast<int>(e.bytes.size()));
    }
  }  // the streams flush into `bytes` here
  return bytes;
}

}  // namespace

namespace {

// The segment keys on the site whose first seq is `from` or later (every one for 0),
// unsorted. A segment's key begins with its first seq in 20 digits, so those are the
// keys that sort after the prefix that names `from` and nothing else.
Result<std::vector<SegmentKey>> ListEventSegmentsFrom(Site& site, uint64_t from) {
  std::vector<SegmentKey> out;
  std::string after;
  if (from > 0) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(from));
    after = std::string(layout::kEventsPrefix) + digits;
  }
  CAIRN_RETURN_IF_ERROR(
      site.ListAfter(layout::kEventsPrefix, after, [&out](const ObjectInfo& info) {
        if (auto ref = layout::ParseEventSegmentKey(info.key)) {
          out.push_back({*ref, info.key});
        }
        return Status::OK();
      }));
  return out;
}

}  // namespace

Result<std::vector<SegmentKey>> ListEventSegments(Site& site) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SegmentKey> out, ListEventSegmentsFrom(site, 0));
  std::sort(out.begin(), out.end(), [](const SegmentKey& a, const SegmentKey& b) {
    return std::pair(a.ref.first_seq, a.ref.last_seq) < std::pair(b.ref.first_seq, b.ref.last_seq);
  });
  return out;
}

Result<std::string> CatalogSegmentBytes(Catalog& catalog, uint64_t first_seq, uint64_t last_seq) {
  if (first_seq == 0 || first_seq > last_seq) {
    return Status::InvalidArgument("event segment range " + std::to_string(first_seq) + "-" +
                                   std::to_string(last_seq));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<EventRecord> events,
                         catalog.ListEventRecords(first_seq - 1, last_seq - first_seq + 1));
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != first_seq + i) events.resize(i);
  }
  if (events.size() != last_seq - first_seq + 1) {
    return Status::NotFound("the catalog does not hold every event " + std::to_string(first_seq) +
                            "-" + std::to_string(last_seq));
  }
  return SegmentBytes(events);
}

namespace {

Result<proto::EventSegment> ReadSegment(Site& site, const std::string& key) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, site.ReadAll(key));
  proto::EventSegment segment;
  if (!segment.ParseFromString(bytes)) {
    return Status::Corruption("site " + site.id() + ": " + key + " is not an event segment");
  }
  return segment;
}

}  // namespace

namespace {

// "site b: why", once even when `why` already names the site.
std::string NamedFlushError(const SiteFlush& s) {
  const std::string prefix = "site " + s.site;
  if (s.error.starts_with(prefix + ": ") || s.error.starts_with(prefix + " ")) return s.error;
  return prefix + ": " + s.error;
}

}  // namespace

std::vector<std::string> FlushSummary::Errors() const {
  std::vector<std::string> out;
  for (const SiteFlush& s : sites) {
    if (!s.error.empty()) out.push_back(NamedFlushError(s));
  }
  return out;
}

std::vector<std::string> FlushSummary::Problems() const {
  std::vector<std::string> out;
  for (const SiteFlush& s : sites) {
    if (s.problem && !s.catalog_behind) out.push_back(NamedFlushError(s));
  }
  return out;
}

std::vector<std::string> FlushSummary::Behind() const {
  std::vector<std::string> out;
  for (const SiteFlush& s : sites) {
    if (!s.catalog_behind) continue;
    out.push_back("the catalog is behind site " + s.site +
                  ", whose event log holds events the catalog lacks (up to seq " +
                  std::to_string(s.held_before) + "; the catalog's ends at seq " +
                  std::to_string(head_seq) +
                  "; put back from a backup, or rebuilt from a site that lagged?): the events "
                  "recorded now stay in the catalog, not yet on the site; `cairn catalog rebuild "
                  "--from " +
                  s.site +
                  " --force` catches the catalog up and carries them over (the catalog it "
                  "replaces is kept beside it)");
  }
  return out;
}

Result<uint64_t> LastSeqOnSite(Site& site) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SegmentKey> segments, ListEventSegments(site));
  uint64_t last = 0;
  for (const SegmentKey& s : segments) last = std::max(last, s.ref.last_seq);
  return last;
}

Result<SiteLogPosition> CheckSiteLogFollowsCatalog(Catalog& catalog, Site& site,
                                                   const std::string& site_name,
                                                   std::string_view left) {
  const std::string left_text = left.empty() ? "" : ": " + std::string(left);
  // A flush brings a site's log to the catalog's head, so a site is at most a deposit's or a
  // sweep's events behind it, and no segment holds more than kMaxSegmentEvents. Only the
  // segments that begin within twice that of the head are listed first (every deposit and
  // every flush comes here, and on S3 the keys of a long history before them then cost no
  // request). A segment not listed begins before `from`, so it ends before from +
  // kMaxSegmentEvents - 1: a listed one that ends there or later is the site's last. A site
  // further behind (it was down) is listed in full.
  CAIRN_ASSIGN_OR_RETURN(EventHead before, catalog.GetEventHead());
  constexpr uint64_t kWindow = 2 * kMaxSegmentEvents;
  std::vector<SegmentKey> segments;
  const SegmentKey* last_segment = nullptr;
  auto find_last = [&] {
    last_segment = nullptr;
    for (const SegmentKey& s : segments) {
      if (!last_segment || s.ref.last_seq > last_segment->ref.last_seq) last_segment = &s;
    }
  };
  bool found = false;
  if (before.seq > kWindow) {
    const uint64_t from = before.seq - kWindow + 1;
    CAIRN_ASSIGN_OR_RETURN(segments, ListEventSegmentsFrom(site, from));
    find_last();
    found = last_segment && last_segment->ref.last_seq >= from + kMaxSegmentEvents - 1;
  }
  if (!found) {
    CAIRN_ASSIGN_OR_RETURN(segments, ListEventSegmentsFrom(site, 0));
    find_last();
  }
  SiteLogPosition at;
  at.held = last_segment ? last_segment->ref.last_seq : 0;
  // Read after the listing: whatever another writer of this catalog flushed meanwhile is in it.
  CAIRN_ASSIGN_OR_RETURN(at.head, catalog.GetEventHead());
  if (at.held > at.head.seq) {
    return Status::InvalidArgument(
        "site " + site_name + " holds events up to seq " + std::to_string(at.held) +
        " but the catalog ends at seq " + std::to_string(at.head.seq) +
        " (the logs diverged: was the catalog truncated, put back from a backup or rebuilt from "
        "an older site?)" +
        left_text +
        "; a catalog older than the site catches up with `cairn catalog rebuild --from " +
        site_name + " --force` (the catalog it replaces is kept beside it)");
  }
  if (last_segment) {
    CAIRN_ASSIGN_OR_RETURN(proto::EventSegment held, ReadSegment(site, last_segment->key));
    EventFilter filter;
    filter.after_seq = at.held - 1;
    filter.limit = 1;
    CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> ours, catalog.ListEvents(filter));
    if (held.events_size() == 0 || ours.empty() ||
        held.events(held.events_size() - 1).seq() != at.held ||
        held.events(held.events_size() - 1).hash() != ours.front().hash()) {
      return Status::InvalidArgument("site " + site_name + ": " + last_segment->key +
                                     " disagrees with the catalog at seq " +
                                     std::to_string(at.held) + " (the logs diverged)" + left_text);
    }
  }
  return at;
}

Status FirstSiteLogAheadOfCatalog(Repository& repo, const std::string& except, bool runs_past_only,
                                  std::string* site_name) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, repo.catalog().ListSites());
  for (const SiteRecord& record : sites) {
    if (record.name == except) continue;
    Result<Site*> site = repo.OpenSite(record.name);
    if (!site.ok()) continue;
    Result<SiteLogPosition> log =
        CheckSiteLogFollowsCatalog(repo.catalog(), **site, record.name, "");
    if (log.ok() || log.status().code() != Code::kInvalidArgument) continue;
    if (runs_past_only) {
      Result<uint64_t> held = LastSeqOnSite(**site);
      Result<EventHead> head = repo.catalog().GetEventHead();
      if (!held.ok() || !head.ok() || *held <= head->seq) continue;
    }
    if (site_name) *site_name = record.name;
    return log.status();
  }
  return Status::OK();
}

Result<SiteFlush> FlushEventSegmentsToSite(Catalog& catalog, Site& site,
                                           const std::string& site_name) {
  SiteFlush flush;
  flush.site = site_name;
  CAIRN_ASSIGN_OR_RETURN(
      SiteLogPosition at,
      CheckSiteLogFollowsCatalog(catalog, site, site_name, "its segments were left untouched"));
  const EventHead& head = at.head;
  flush.held_before = at.held;
  flush.held_after = flush.held_before;
  uint64_t cursor = flush.held_before;
  while (cursor < head.seq) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<EventRecord> events,
                           catalog.ListEventRecords(cursor, kMaxSegmentEvents));
    if (events.empty()) break;
    const uint64_t first = events.front().seq;
    const uint64_t last = events.back().seq;
    const std::string bytes = SegmentBytes(events);
    CAIRN_RETURN_IF_ERROR(
        site.PutEventSegment(first, last, bytes).WithContext("site " + site_name));
    ++flush.segments_written;
    flush.held_after = last;
    cursor = last;
  }
  return flush;
}

namespace {

// The last seq `site` holds when its log holds events the catalog lacks: it runs past the
// catalog's head, or its last event is intact (its own hash) and not the catalog's event of
// that seq (the catalog, put back from a backup, recorded reads of its own under numbers the
// site holds for others). 0 otherwise: no log, in step, or a damaged last segment (an audit's
// to repair, never a catalog behind).
Result<uint64_t> SiteLogAheadOfCatalog(Catalog& catalog, Site& site) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SegmentKey> segments, ListEventSegments(site));
  const SegmentKey* last = nullptr;
  for (const SegmentKey& s : segments) {
    if (!last || s.ref.last_seq > last->ref.last_seq) last = &s;
  }
  if (!last) return uint64_t{0};
  const uint64_t held = last->ref.last_seq;
  CAIRN_ASSIGN_OR_RETURN(EventHead head, catalog.GetEventHead());
  if (held > head.seq) return held;
  Result<proto::EventSegment> segment = ReadSegment(site, last->key);
  if (!segment.ok() || segment->events_size() == 0) return uint64_t{0};
  const proto::Event& theirs = segment->events(segment->events_size() - 1);
  if (theirs.seq() != held || EventHash(theirs) != theirs.hash()) return uint64_t{0};
  EventFilter filter;
  filter.after_seq = held - 1;
  filter.limit = 1;
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> ours, catalog.ListEvents(filter));
  if (!ours.empty() && ours.front().hash() == theirs.hash()) return uint64_t{0};
  return held;
}

}  // namespace

Result<FlushSummary> FlushEventSegments(Catalog& catalog,
                                        const std::vector<std::pair<std::string, Site*>>& sites) {
  FlushSummary summary;
  CAIRN_ASSIGN_OR_RETURN(EventHead head, catalog.GetEventHead());
  summary.head_seq = head.seq;
  for (const auto& [name, site] : sites) {
    Result<SiteFlush> flush = FlushEventSegmentsToSite(catalog, *site, name);
    if (flush.ok()) {
      summary.sites.push_back(*flush);
    } else {
      SiteFlush failed;
      failed.site = name;
      failed.error = flush.status().message();
      failed.problem = !flush.status().IsUnavailable();
      if (flush.status().code() == Code::kInvalidArgument) {
        // Refused by CheckSiteLogFollowsCatalog: is it a catalog behind the site?
        Result<uint64_t> held = SiteLogAheadOfCatalog(catalog, *site);
        if (held.ok() && *held > 0) {
          failed.catalog_behind = true;
          failed.held_before = *held;
        }
      }
      summary.sites.push_back(std::move(failed));
    }
  }
  return summary;
}

Result<FlushSummary> FlushEventSegments(Repository& repo) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> records, repo.catalog().ListSites());
  std::vector<std::pair<std::string, Site*>> open;
  std::vector<SiteFlush> skipped;
  for (const SiteRecord& r : records) {
    Result<Site*> site = repo.OpenSite(r.name);
    if (site.ok()) {
      open.emplace_back(r.name, *site);
    } else {
      SiteFlush s;
      s.site = r.name;
      s.error = "skipped (next flush catches up): " + site.status().message();
      skipped.push_back(std::move(s));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(FlushSummary summary, FlushEventSegments(repo.catalog(), open));
  for (SiteFlush& s : skipped) summary.sites.push_back(std::move(s));
  std::sort(summary.sites.begin(), summary.sites.end(),
            [](const SiteFlush& a, const SiteFlush& b) { return a.site < b.site; });
  return summary;
}

namespace {

// FlushNewEvents; with `through`, FlushEventsThrough's count of problems.
EventsFlushed Flush(Repository& repo, Readmes readmes, std::optional<uint64_t> through) {
  EventsFlushed out;
  Result<FlushSummary> flushed = FlushEventSegments(repo);
  if (!flushed.ok()) {
    out.status = flushed.status();
    return out;
  }
  if (through) {
    // A site that holds event `through` as the catalog does: its problem is with later events.
    std::erase_if(flushed->sites, [&repo, seq = *through](const SiteFlush& s) {
      if (!s.problem || s.catalog_behind) return false;
      Result<Site*> site = repo.OpenSite(s.site);
      if (!site.ok()) return false;
      Result<SiteLogPosition> at = CheckSiteLogFollowsCatalog(repo.catalog(), **site, s.site, "");
      return at.ok() && at->held >= seq;
    });
  }
  out.problems = flushed->Problems();
  out.behind = flushed->Behind();
  if (readmes == Readmes::kLeave) return out;
  for (const SiteFlush& s : flushed->sites) {
    if (!s.error.empty()) continue;  // down, or its log a problem: its README waits too
    Result<Site*> site = repo.OpenSite(s.site);
    if (!site.ok()) continue;
    Result<std::optional<std::string>> why = (*site)->BringReadmeUpToDate();
    if (!why.ok()) {
      out.notes.push_back("site " + s.site + ": README.txt is not this Cairn's and was not " +
                          "replaced: " + why.status().message());
    } else if (*why) {
      out.notes.push_back("site " + s.site + ": README.txt brought up to date (" + **why +
                          "): the site kept the text it was made with");
    }
  }
  return out;
}

}  // namespace

EventsFlushed FlushNewEvents(Repository& repo, Readmes readmes) {
  return Flush(repo, readmes, std::nullopt);
}

EventsFlushed FlushEventsThrough(Repository& repo, uint64_t seq) {
  return Flush(repo, Readmes::kLeave, seq);
}

Result<SiteEventLog> ReadSiteEventLog(Site& site) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SegmentKey> segments, ListEventSegments(site));
  SiteEventLog log;
  std::string head_hash = GenesisHash();
  auto broken = [&log](uint64_t seq, std::string problem) {
    log.chain_ok = false;
    log.first_bad_seq = seq;
    log.problem = std::move(problem);
  };
  for (size_t i = 0; i < segments.size() && log.chain_ok; ++i) {
    const SegmentKey& s = segments[i];
    ++log.segments;
    const uint64_t have = log.events.size();
    if (s.ref.last_seq <= have) continue;  // fully overlapped by what is loaded
    Result<proto::EventSegment> segment = ReadSegment(site, s.key);
    if (!segment.ok()) {
      if (segment.status().IsCorruption()) {
        broken(std::max(have + 1, s.ref.first_seq), segment.status().message());
        break;
      }
      return segment.status();
    }
    for (const proto::Event& e : segment->events()) {
      const uint64_t loaded = log.events.size();
      std::string where = s.key + ": event " + std::to_string(e.seq()) + ": ";
      if (e.seq() >= 1 && e.seq() <= loaded) {
        if (log.events[e.seq() - 1].hash() != e.hash()) {
          broken(e.seq(), where + "differs from the same event in an earlier segment");
          break;
        }
        continue;
      }
      if (e.seq() != loaded + 1) {
        broken(loaded + 1, where + "event " + std::to_string(loaded + 1) +
                               " is missing (segments leave a gap)");
        break;
      }
      if (e.prev_hash() != head_hash) {
        broken(e.seq(), where + "its prev_hash is not the hash of event " + std::to_string(loaded) +
                            " (removed, inserted or reordered)");
        break;
      }
      if (EventHash(e) != e.hash()) {
        broken(e.seq(), where + "its content does not match its hash (edited)");
        break;
      }
      head_hash = e.hash();
      log.events.push_back(e);
    }
  }
  if (!log.chain_ok) {
    uint64_t last_on_site = 0;
    for (const SegmentKey& s : segments) last_on_site = std::max(last_on_site, s.ref.last_seq);
    log.events_after_break =
        last_on_site > log.events.size() ? last_on_site - log.events.size() : 0;
  }
  return log;
}

}  // namespace cairn::repo
