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
// file, site, sequence and chain hash go in eventDetail.
std::string EventsToPremisXml(const std::vector<proto::Event>& events);

// {"seq":..,"id":..,"type":..,"type_uri":..,"time":"2026-11-21T12:00:00.000000Z",..,
//  "prev_hash":hex,"hash":hex}; empty fields are left out.
nlohmann::json EventToJson(const proto::Event& event);

// "seq time type outcome partner/object@vN file site: detail" on one line.
std::string EventToText(const proto::Event& event);

// Lower-case hex of raw bytes.
std::string ToHex(const std::string& bytes);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_PREMIS_H_
