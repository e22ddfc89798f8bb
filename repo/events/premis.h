// Exports of the preservation event log: PREMIS 3 XML (valid against the PREMIS
// 3.0 schema), JSON, and one-line text.
#ifndef CAIRN_REPO_EVENTS_PREMIS_H_
#define CAIRN_REPO_EVENTS_PREMIS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bagit/time_text.h"
#include "proto/event.pb.h"

namespace cairn::repo {

// Escapes text for an XML (or HTML) element or attribute: & < > " ' become
// entities; control characters XML 1.0 forbids are dropped.
std::string XmlEscape(const std::string& s);

// One <premis:premis version="3.0"> document: an intellectualEntity object for
// every partner/object the events link to, then the events in order, then one
// software agent per Cairn version that acted. Event ids are the events' UUIDs;
// file, site, sequence and chain hash go in eventDetail (sequence and hashes only
// when the event has them: WithoutChainPlace).
std::string EventsToPremisXml(const std::vector<proto::Event>& events);

// Clears the event's place in the hash chain (seq, prev_hash, hash), as `cairn serve` gives
// events to a principal of one partner: the gaps between its own events' numbers would count
// every other partner's events. The exports below then leave them out; the event is named by
// its UUID. Auditors and operators keep them (they verify the chain).
void WithoutChainPlace(proto::Event& event);

// Rewords the event's detail without the audit history's numbers, as `cairn serve` gives events
// to a principal of one partner: audit runs and their findings are numbered across the
// repository, so a recovery's "found corrupt by audit run 3 (finding 7, now marked repaired)"
// would tell how many audits and findings every partner had. It becomes "found corrupt by an
// audit (now marked repaired)" ("audit runs 3, 5": "audits"; a fixity check's "the repair by
// audit run 3 was interrupted": "by an audit"). Auditors and operators keep the numbers (they
// read `audit report --run N` by them).
void WithoutAuditNumbers(proto::Event& event);

// {"seq":..,"id":..,"type":..,"type_uri":..,"time":"2026-11-21T12:00:00.000000Z",..,
//  "prev_hash":hex,"hash":hex}; empty fields are left out (seq 0 and an empty hash too).
nlohmann::json EventToJson(const proto::Event& event);

// "seq time type outcome partner/object@vN file site: detail" on one line ("time ..." for
// an event without its seq).
std::string EventToText(const proto::Event& event);

// Lower-case hex of raw bytes.
std::string ToHex(const std::string& bytes);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_PREMIS_H_
