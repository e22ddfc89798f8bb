#include "repo/access/authorize.h"

#include <string>

#include "repo/os_user.h"

namespace cairn::repo::access {
namespace {

// Whether a role tied to one partner (depositor, partner-admin) may do `action` on it.
bool PartnerRoleMay(Role role, Action action) {
  switch (action) {
    case Action::kDeposit:
    case Action::kReadMetadata:
    case Action::kReadContent:
    case Action::kReadEvents:
    case Action::kReadReports:
      return true;
    case Action::kPolicyRequest:
    case Action::kWithdrawRequest:
    case Action::kWithdrawApprove:
    case Action::kHold:
      return role == Role::kPartnerAdmin;
    case Action::kRunAudit:
    case Action::kOperate:
      return false;
  }
  return false;
}

bool AuditorMay(Action action) {
  switch (action) {
    case Action::kReadMetadata:
    case Action::kReadEvents:
    case Action::kReadReports:
    case Action::kRunAudit:
      return true;
    default:
      return false;
  }
}

// Between the role and the action in every refusal of a role (a principal's name holds no ')').
constexpr std::string_view kRoleMayNot = ") may not ";

Status Denied(const Principal& who, Action action, std::string_view why) {
  return Status::PermissionDenied("principal " + who.name + " (" + std::string(RoleName(who.role)) +
                                  std::string(kRoleMayNot) + std::string(ActionName(action)) +
                                  ": " + std::string(why));
}

}  // namespace

bool IsRoleRefusal(const Status& s) {
  return s.code() == Code::kPermissionDenied && s.message().find(kRoleMayNot) != std::string::npos;
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kDeposit:
      return "deposit";
    case Action::kReadMetadata:
      return "read metadata";
    case Action::kReadContent:
      return "read content";
    case Action::kReadEvents:
      return "read events";
    case Action::kReadReports:
      return "read audit reports";
    case Action::kRunAudit:
      return "run an audit";
    case Action::kPolicyRequest:
      return "request a policy change";
    case Action::kWithdrawRequest:
      return "request a withdrawal";
    case Action::kWithdrawApprove:
      return "approve a withdrawal";
    case Action::kHold:
      return "place or lift a legal hold";
    case Action::kOperate:
      return "operate the repository";
  }
  return "act";
}

Status Authorize(const Principal& who, Action action, std::string_view partner) {
  switch (who.role) {
    case Role::kOperator:
      return Status::OK();
    case Role::kAuditor:
      if (AuditorMay(action)) return Status::OK();
      return Denied(who, action, "the auditor role reads metadata, events and reports only");
    case Role::kDepositor:
    case Role::kPartnerAdmin:
      if (!PartnerRoleMay(who.role, action)) {
        return Denied(who, action,
                      who.role == Role::kDepositor
                          ? "the depositor role deposits and reads its own partner only"
                          : "an operator does that; the partner-admin role deposits, reads, "
                            "withdraws and puts on a legal hold for its own partner only");
      }
      if (who.partner.empty()) return Denied(who, action, "the principal has no partner");
      if (partner != who.partner) {
        return Denied(who, action, "it acts for partner " + who.partner + " only");
      }
      return Status::OK();
  }
  return Denied(who, action, "unknown role");
}

Result<std::string> ScopePartner(const Principal& who, Action action, std::string_view requested) {
  std::string partner(requested);
  if (partner.empty() && (who.role == Role::kDepositor || who.role == Role::kPartnerAdmin)) {
    partner = who.partner;
  }
  if (Status s = Authorize(who, action, partner); !s.ok()) return s;
  return partner;
}

Principal LocalPrincipal() {
  Principal p;
  p.role = Role::kOperator;
  p.local = true;
  p.name = LocalUserName();
  return p;
}

}  // namespace cairn::repo::access
