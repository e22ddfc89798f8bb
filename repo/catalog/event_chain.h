// The hash chain of the event log. Each event's hash is SHA-256 over a
// canonical serialization of its fields, prev_hash included, so changing,
// removing, inserting or reordering any event breaks every later link.
//
// Canonical serialization, version 1 (fixed: changing it breaks old chains):
//   "cairn-event-v1\n", then for each field in this order
//     seq, id, type, type_uri, time_unix_micros, agent, agent_version, user,
//     partner, object, version, file, site, outcome, detail, prev_hash
//   an 8-byte big-endian length followed by the field's bytes. Integers are
//   written in decimal ASCII; prev_hash as its raw 32 bytes. `hash` itself is
//   not part of the input. Then, only when it is not empty, role (issue 17),
//   written the same way: an event without a role (every event written before
//   it existed) has the same bytes, so old chains still verify, and a role,
//   once written, is covered by the chain like every other field.
#ifndef CAIRN_REPO_CATALOG_EVENT_CHAIN_H_
#define CAIRN_REPO_CATALOG_EVENT_CHAIN_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proto/event.pb.h"

namespace cairn::repo {

inline constexpr size_t kEventHashSize = 32;

// prev_hash of the first event: 32 zero bytes.
std::string GenesisHash();
// The canonical bytes of `event` described above.
std::string CanonicalEventBytes(const proto::Event& event);
// Raw 32-byte SHA-256 of CanonicalEventBytes(event).
std::string EventHash(const proto::Event& event);
// Raw 32-byte SHA-256 of `bytes` (empty only if OpenSSL cannot allocate).
std::string Sha256Raw(std::string_view bytes);
// A random (version 4) UUID: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewUuid();
// Fills `out` from OpenSSL's random generator (the OS's if OpenSSL's fails).
void FillRandom(std::span<unsigned char> out);
// A time-ordered (version 7, RFC 9562 section 5.7) UUID, the ids of new
// events: the 48-bit Unix time in milliseconds of `unix_micros` (0 if
// negative), then (section 6.2, method 3) its sub-millisecond part scaled to
// 12 bits, then 62 random bits taken from `random` (all 8 bytes but the top
// two bits of the first). Ids made later sort later (to the millisecond), so
// the events' UNIQUE id index grows at its right edge instead of taking a
// random page per insert; 62 random bits per microsecond keep them unique.
std::string UuidV7(int64_t unix_micros, std::span<const unsigned char, 8> random);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_EVENT_CHAIN_H_
