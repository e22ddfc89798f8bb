// PREMIS 3 event types Cairn records, with their codes in the Library of
// Congress vocabulary (http://id.loc.gov/vocabulary/preservation/eventType).
#ifndef CAIRN_REPO_EVENTS_EVENT_TYPES_H_
#define CAIRN_REPO_EVENTS_EVENT_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/event.pb.h"
#include "repo/principal.h"

namespace cairn::repo {

struct EventType {
  std::string_view label;  // PREMIS label: "fixity check"
  std::string_view code;   // id.loc.gov code: "fix"
};

// The types Cairn writes. Their labels are what Event.type holds.
inline constexpr EventType kIngestion{"ingestion", "ing"};
inline constexpr EventType kValidation{"validation", "val"};
inline constexpr EventType kMessageDigestCalculation{"message digest calculation", "mes"};
inline constexpr EventType kReplication{"replication", "rep"};
inline constexpr EventType kFixityCheck{"fixity check", "fix"};
inline constexpr EventType kDissemination{"dissemination", "dis"};
inline constexpr EventType kDeletion{"deletion", "del"};
inline constexpr EventType kRecovery{"recovery", "rec"};
// An approved withdrawal (issue 18): the version leaves the collection.
inline constexpr EventType kDeaccession{"deaccession", "dea"};

inline constexpr std::string_view kEventTypeScheme =
    "http://id.loc.gov/vocabulary/preservation/eventType";
inline constexpr std::string_view kEventOutcomeScheme =
    "http://id.loc.gov/vocabulary/preservation/eventOutcome";

// "http://id.loc.gov/vocabulary/preservation/eventType/fix".
std::string EventTypeUri(const EventType& t);
// The type with this label or code ("fixity check", "fix", case-insensitive,
// '-' and '_' read as spaces: "fixity-check"); nullopt if Cairn does not know it.
std::optional<EventType> FindEventType(std::string_view label_or_code);
// Every type FindEventType knows, "ingestion/ing, validation/val, ...", for messages.
std::string KnownEventTypes();

// The parts of an event its writer knows (seq, id, time and the hashes are
// set by Catalog::AppendEvents). Empty strings and version 0 are left unset.
struct EventFields {
  std::string agent = "cairn";
  std::string agent_version;
  std::string user;  // empty: the local OS account (EventUser)
  // The role of `user` (RoleName): the local CLI and the daemon act as operators; a server
  // request sets its principal's role.
  std::string role = std::string(RoleName(Role::kOperator));
  std::string partner;
  std::string object;
  uint32_t version = 0;  // 0: not version specific
  std::string file;      // payload path or tag file name
  std::string site;
  std::string outcome;  // "success" | "failure" | "warning"
  std::string detail;
};

// The one builder of the events Cairn writes: type and type_uri from `type`,
// the rest from `fields`.
proto::Event NewEvent(const EventType& type, EventFields fields);

// The user an event names: `given` (an authenticated principal) when set, else the local OS
// account the process runs as (LocalUserName(): "local:NAME").
std::string EventUser(const std::string& given);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_EVENTS_EVENT_TYPES_H_
