// Who is acting: the authenticated principal of a request (issue 17), and its role.
// Every layer that scopes, authorizes or records an action takes a Principal; the
// server makes one from an API token, the local CLI from the OS user.
#ifndef CAIRN_REPO_PRINCIPAL_H_
#define CAIRN_REPO_PRINCIPAL_H_

#include <optional>
#include <string>
#include <string_view>

namespace cairn::repo {

// depositor: deposits to and reads its own partner.
// partner-admin: a depositor that also makes its partner's policy and withdrawal requests.
// auditor: reads metadata, events and reports of every partner; never content bytes.
// operator: everything.
enum class Role { kDepositor, kPartnerAdmin, kAuditor, kOperator };

inline constexpr std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kDepositor:
      return "depositor";
    case Role::kPartnerAdmin:
      return "partner-admin";
    case Role::kAuditor:
      return "auditor";
    case Role::kOperator:
      return "operator";
  }
  return "unknown";
}

// The role named `name` ("partner-admin"); nullopt when there is none.
inline std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kDepositor, Role::kPartnerAdmin, Role::kAuditor, Role::kOperator}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

struct Principal {
  std::string name;  // unique: "alice@yale"; "local:<os user>" for the host's own CLI
  Role role = Role::kOperator;
  std::string partner;  // the partner a depositor or partner-admin belongs to; else empty
  bool local = false;   // the CLI on the server host, without a token (acts as operator)
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_PRINCIPAL_H_
