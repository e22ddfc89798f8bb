#include "repo/events/event_types.h"

#include <cctype>
#include <cstdlib>

#include "repo/os_user.h"

namespace cairn::repo {
namespace {

constexpr EventType kAll[] = {kIngestion,   kValidation,  kMessageDigestCalculation,
                              kReplication, kFixityCheck, kDissemination,
                              kDeletion,    kRecovery,    kDeaccession};

std::string Fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_') c = ' ';
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

std::string EventTypeUri(const EventType& t) {
  return std::string(kEventTypeScheme) + "/" + std::string(t.code);
}

std::optional<EventType> FindEventType(std::string_view label_or_code) {
  const std::string want = Fold(label_or_code);
  for (const EventType& t : kAll) {
    if (want == t.label || want == t.code) return t;
  }
  return std::nullopt;
}

std::string KnownEventTypes() {
  std::string out;
  for (const EventType& t : kAll) {
    if (!out.empty()) out += ", ";
    out += std::string(t.label) + "/" + std::string(t.code);
  }
  return out;
}

std::string EventUser(const std::string& given) { return given.empty() ? LocalUserName() : given; }

proto::Event NewEvent(const EventType& type, EventFields fields) {
  proto::Event e;
  e.set_type(std::string(type.label));
  e.set_type_uri(EventTypeUri(type));
  e.set_agent(std::move(fields.agent));
  e.set_agent_version(std::move(fields.agent_version));
  e.set_user(EventUser(fields.user));  // every event names who acted
  e.set_role(std::move(fields.role));
  e.set_partner(std::move(fields.partner));
  e.set_object(std::move(fields.object));
  e.set_version(fields.version);
  e.set_file(std::move(fields.file));
  e.set_site(std::move(fields.site));
  e.set_outcome(std::move(fields.outcome));
  e.set_detail(std::move(fields.detail));
  return e;
}

}  // namespace cairn::repo
