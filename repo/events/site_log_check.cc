// Checking and repairing the sites' copies of the event log (see site_log_check.h).
#include "repo/events/site_log_check.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "proto/event.pb.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "repo/events/premis.h"
#include "repo/events/segments.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

// What a segment's own bytes say: its events, or why they are not the events
// of `first`..`last` (empty: well formed).
struct SegmentParse {
  std::vector<proto::Event> events;
  std::string damage;
};

SegmentParse ParseSegmentBytes(const std::string& bytes, uint64_t first, uint64_t last) {
  SegmentParse out;
  proto::EventSegment segment;
  if (!segment.ParseFromString(bytes)) {
    out.damage =
        "not an event segment (its " + std::to_string(bytes.size()) + " bytes do not parse)";
    return out;
  }
  const uint64_t want = last - first + 1;
  if (static_cast<uint64_t>(segment.events_size()) != want) {
    out.damage = "holds " + std::to_string(segment.events_size()) + " events, its key names " +
                 std::to_string(want);
    return out;
  }
  for (int i = 0; i < segment.events_size(); ++i) {
    const proto::Event& e = segment.events(i);
    const uint64_t seq = first + static_cast<uint64_t>(i);
    if (e.seq() != seq) {
      out.damage = "event " + std::to_string(i + 1) + " of the segment has seq " +
                   std::to_string(e.seq()) + ", its key says " + std::to_string(seq);
      return out;
    }
    if (EventHash(e) != e.hash()) {
      out.damage = "event " + std::to_string(seq) + ": its content does not match its hash";
      return out;
    }
    if (i > 0 && e.prev_hash() != segment.events(i - 1).hash()) {
      out.damage = "event " + std::to_string(seq) + ": its prev_hash is not the hash of event " +
                   std::to_string(seq - 1);
      return out;
    }
  }
  out.events.assign(segment.events().begin(), segment.events().end());
  return out;
}

// The first event of `events` (well formed) that is not the catalog's event
// of that seq: "" when they all agree. Events after `head` are not compared.
Result<std::string> DifferenceFromCatalog(Catalog& catalog, const std::vector<proto::Event>& events,
                                          uint64_t head) {
  if (events.empty() || events.front().seq() > head) return std::string();
  const uint64_t first = events.front().seq();
  const uint64_t last = std::min<uint64_t>(events.back().seq(), head);
  CAIRN_ASSIGN_OR_RETURN(std::vector<EventHead> ours,
                         catalog.ListEventHashes(first - 1, last - first + 1));
  std::map<uint64_t, const std::string*> by_seq;  // seq -> the catalog's hash
  for (const EventHead& e : ours) by_seq[e.seq] = &e.hash;
  for (const proto::Event& e : events) {
    if (e.seq() > head) break;
    auto it = by_seq.find(e.seq());
    if (it == by_seq.end()) {
      return "event " + std::to_string(e.seq()) + " is on the site, the catalog has no event " +
             std::to_string(e.seq());
    }
    if (*it->second != e.hash()) {
      return "event " + std::to_string(e.seq()) + " differs from the catalog's event " +
             std::to_string(e.seq()) + " (hash " + ToHex(e.hash()).substr(0, 16) +
             "... on the site, " + ToHex(*it->second).substr(0, 16) +
             "... in the catalog): the catalog or the site's log was rewritten";
    }
  }
  return std::string();
}

SegmentFinding MakeSegmentFinding(SegmentProblem kind, const std::string& site, uint64_t first,
                                  uint64_t last, std::string detail) {
  SegmentFinding f;
  f.kind = kind;
  f.site = site;
  f.key = layout::EventSegmentKey(first, last);
  f.first_seq = first;
  f.last_seq = last;
  f.detail = std::move(detail);
  return f;
}

// Good bytes for first..last from another site: its segment of that key is
// well formed and agrees with the catalog. "" with the reason when none has.
Result<std::pair<std::string, std::string>> BytesFromAnotherSite(
    Catalog& catalog, const std::vector<std::pair<std::string, Site*>>& others,
    const std::string& self, uint64_t first, uint64_t last, uint64_t head) {
  const std::string key = layout::EventSegmentKey(first, last);
  for (const auto& [name, other] : others) {
    if (name == self) continue;
    Result<std::string> bytes = other->ReadAll(key);
    if (!bytes.ok()) continue;
    SegmentParse parsed = ParseSegmentBytes(*bytes, first, last);
    if (!parsed.damage.empty()) continue;
    CAIRN_ASSIGN_OR_RETURN(std::string differs,
                           DifferenceFromCatalog(catalog, parsed.events, head));
    if (differs.empty()) return std::pair<std::string, std::string>(*bytes, "site " + name);
  }
  return std::pair<std::string, std::string>("", "");
}

}  // namespace

std::string_view SegmentProblemName(SegmentProblem problem) {
  switch (problem) {
    case SegmentProblem::kMissing:
      return "missing";
    case SegmentProblem::kDamaged:
      return "damaged";
    case SegmentProblem::kDifferent:
      return "different";
    case SegmentProblem::kAhead:
      return "ahead";
  }
  return "?";
}

std::string SegmentFinding::ToString() const {
  std::string out =
      "site " + site + ": " + key + ": " + std::string(SegmentProblemName(kind)) + ": " + detail;
  if (repaired) {
    out += " (repaired from " + repaired_from + ")";
  } else if (!repair_error.empty()) {
    out += " (NOT repaired: " + repair_error + ")";
  }
  return out;
}

nlohmann::json SegmentFinding::ToJson() const {
  nlohmann::json j = {{"site", site},
                      {"key", key},
                      {"kind", std::string(SegmentProblemName(kind))},
                      {"first_seq", first_seq},
                      {"last_seq", last_seq},
                      {"detail", detail},
                      {"repaired", repaired}};
  if (repaired) j["repaired_from"] = repaired_from;
  if (!repair_error.empty()) j["repair_error"] = repair_error;
  return j;
}

bool SiteLogCheck::ok() const {
  if (!checked) return false;
  for (const SegmentFinding& f : findings) {
    if (!f.repaired) return false;
  }
  return true;
}

nlohmann::json SiteLogCheck::ToJson() const {
  nlohmann::json j = {{"site", site},         {"checked", checked}, {"ok", ok()},
                      {"segments", segments}, {"held", held},       {"catalog_head", catalog_head}};
  if (!error.empty()) j["error"] = error;
  nlohmann::json list = nlohmann::json::array();
  for (const SegmentFinding& f : findings) list.push_back(f.ToJson());
  j["findings"] = list;
  return j;
}

Result<SiteLogCheck> CheckSiteEventLog(Catalog& catalog, Site& site, const std::string& site_name,
                                       EventRangeDigests* digests) {
  EventRangeDigests own;
  if (digests == nullptr) digests = &own;
  SiteLogCheck check;
  check.site = site_name;
  Result<std::vector<SegmentKey>> listed = ListEventSegments(site);
  if (!listed.ok()) {
    check.error = "segments not listed: " + listed.status().ToString();
    return check;
  }
  // Read after the listing: a flush running meanwhile only moves the head on.
  CAIRN_ASSIGN_OR_RETURN(EventHead head, catalog.GetEventHead());
  check.catalog_head = head.seq;
  check.segments = listed->size();
  // What earlier full checks found of this site's segments (a memo): a
  // segment whose bytes and catalog events give the digests recorded then has
  // nothing new to show, and is not parsed again.
  std::map<std::pair<uint64_t, uint64_t>, SegmentCheckRecord> known;
  if (Result<std::vector<SegmentCheckRecord>> rows = catalog.ListSegmentChecks(site_name);
      rows.ok()) {
    for (SegmentCheckRecord& r : *rows) known[{r.first_seq, r.last_seq}] = std::move(r);
  }
  std::vector<SegmentCheckRecord> passed;  // found good by a full check now
  uint64_t covered = 0;
  for (const SegmentKey& s : *listed) {
    const uint64_t first = s.ref.first_seq, last = s.ref.last_seq;
    if (first > covered + 1) {
      check.findings.push_back(
          MakeSegmentFinding(SegmentProblem::kMissing, site_name, covered + 1, first - 1,
                             "no segment holds events " + std::to_string(covered + 1) + "-" +
                                 std::to_string(first - 1) + ", though the site holds later ones"));
    }
    covered = std::max(covered, last);
    Result<std::string> bytes = site.ReadAll(s.key);
    if (!bytes.ok()) {
      if (bytes.status().IsNotFound()) continue;  // removed since listed: a gap next time
      check.error = s.key + " not read: " + bytes.status().ToString();
      return check;
    }
    const std::string bytes_sha256 = Sha256Raw(*bytes);
    if (auto it = known.find({first, last});
        it != known.end() && last <= head.seq && it->second.bytes_sha256 == bytes_sha256) {
      auto [digest, fresh] = digests->try_emplace({first, last});
      if (fresh) {
        CAIRN_ASSIGN_OR_RETURN(digest->second, catalog.EventHashesDigest(first, last));
      }
      if (!digest->second.empty() && digest->second == it->second.hashes_sha256) {
        continue;  // as found before
      }
    }
    SegmentParse parsed = ParseSegmentBytes(*bytes, first, last);
    if (!parsed.damage.empty()) {
      check.findings.push_back(
          MakeSegmentFinding(SegmentProblem::kDamaged, site_name, first, last, parsed.damage));
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(std::string differs,
                           DifferenceFromCatalog(catalog, parsed.events, head.seq));
    if (!differs.empty()) {
      check.findings.push_back(
          MakeSegmentFinding(SegmentProblem::kDifferent, site_name, first, last, differs));
    } else if (last <= head.seq) {
      // Every event agrees with the catalog's: its hashes are the catalog's.
      std::string hashes;
      hashes.reserve(parsed.events.size() * kEventHashSize);
      for (const proto::Event& e : parsed.events) hashes += e.hash();
      passed.push_back({first, last, bytes_sha256, Sha256Raw(hashes)});
    }
    if (last > head.seq) {
      const uint64_t from = std::max(first, head.seq + 1);
      check.findings.push_back(MakeSegmentFinding(
          SegmentProblem::kAhead, site_name, first, last,
          "holds events " + std::to_string(from) + "-" + std::to_string(last) +
              " that the catalog does not (its log ends at seq " + std::to_string(head.seq) +
              ": truncated, put back from a backup, or rebuilt from an older site? `cairn catalog "
              "rebuild --from " +
              site_name + " --force` brings it up to date)"));
    }
  }
  // Only a memo: not keeping it costs the next check its time, nothing else.
  (void)catalog.KeepSegmentChecks(site_name, passed);
  check.held = covered;
  check.checked = true;
  return check;
}

Status RepairSiteEventLog(Catalog& catalog, Site& site, SiteLogCheck& check,
                          const std::vector<std::pair<std::string, Site*>>& others) {
  std::optional<ChainVerdict> chain;
  for (SegmentFinding& f : check.findings) {
    if (f.repaired || (f.kind != SegmentProblem::kMissing && f.kind != SegmentProblem::kDamaged)) {
      continue;
    }
    if (!chain) {
      CAIRN_ASSIGN_OR_RETURN(chain, catalog.VerifyEvents());
    }
    std::string good, from;
    const bool catalog_intact = chain->ok || chain->first_bad_seq > f.last_seq;
    if (catalog_intact && f.last_seq <= chain->head.seq) {
      Result<std::string> bytes = CatalogSegmentBytes(catalog, f.first_seq, f.last_seq);
      if (bytes.ok()) {
        good = *bytes;
        from = "the catalog";
      } else if (!bytes.status().IsNotFound()) {
        return bytes.status();
      }
    }
    if (good.empty() && f.kind == SegmentProblem::kDamaged) {
      CAIRN_ASSIGN_OR_RETURN(
          auto found, BytesFromAnotherSite(catalog, others, check.site, f.first_seq, f.last_seq,
                                           check.catalog_head));
      std::tie(good, from) = found;
    }
    if (good.empty()) {
      f.repair_error = chain->ok
                           ? "the catalog does not hold events " + std::to_string(f.first_seq) +
                                 "-" + std::to_string(f.last_seq) + " and no other site has them"
                           : "the catalog's chain is broken at seq " +
                                 std::to_string(chain->first_bad_seq) +
                                 " and no other site holds a good copy";
      continue;
    }
    Status written;
    if (f.kind == SegmentProblem::kMissing) {
      written = site.PutEventSegment(f.first_seq, f.last_seq, good);
    } else {
      // Proven wrong again on the bytes it holds now, then replaced.
      Result<std::string> now = site.ReadAll(f.key);
      if (now.ok() && ParseSegmentBytes(*now, f.first_seq, f.last_seq).damage.empty()) {
        f.repair_error = "it reads well formed now: left untouched";
        continue;
      }
      written = now.ok() ? site.ReplaceDamagedEventSegment(f.first_seq, f.last_seq, *now, good)
                : now.status().IsNotFound() ? site.PutEventSegment(f.first_seq, f.last_seq, good)
                                            : now.status();
    }
    if (written.ok()) {
      f.repaired = true;
      f.repaired_from = from;
    } else {
      f.repair_error = written.ToString();
    }
  }
  return Status::OK();
}

Result<std::vector<SiteLogCheck>> CheckEventLogCopies(Repository& repo,
                                                      const std::string& only_site, bool repair) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> records, repo.catalog().ListSites());
  std::vector<std::pair<std::string, Site*>> open;
  std::vector<SiteLogCheck> out;
  EventRangeDigests digests;  // the sites hold the same ranges: read each once
  for (const SiteRecord& r : records) {
    Result<Site*> site = repo.OpenSite(r.name);
    if (site.ok()) {
      open.emplace_back(r.name, *site);
    } else if (only_site.empty() || r.name == only_site) {
      SiteLogCheck down;
      down.site = r.name;
      down.error = "not opened: " + site.status().ToString();
      out.push_back(std::move(down));
    }
  }
  for (const auto& [name, site] : open) {
    if (!only_site.empty() && name != only_site) continue;
    CAIRN_ASSIGN_OR_RETURN(SiteLogCheck check,
                           CheckSiteEventLog(repo.catalog(), *site, name, &digests));
    if (repair && check.checked) {
      CAIRN_RETURN_IF_ERROR(RepairSiteEventLog(repo.catalog(), *site, check, open));
    }
    out.push_back(std::move(check));
  }
  std::sort(out.begin(), out.end(),
            [](const SiteLogCheck& a, const SiteLogCheck& b) { return a.site < b.site; });
  return out;
}

}  // namespace cairn::repo
