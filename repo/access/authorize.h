// The role table (issue 17): what each role may do, in one place. The server's routes and the
// CLI's verbs ask here before calling a library operation; nothing else decides access.
#ifndef CAIRN_REPO_ACCESS_AUTHORIZE_H_
#define CAIRN_REPO_ACCESS_AUTHORIZE_H_

#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/principal.h"

namespace cairn::repo::access {

// What a request does. Partner-scoped actions name the partner they touch.
enum class Action {
  kDeposit,          // store a new version for a partner
  kReadMetadata,     // list, show, usage, policy show of a partner
  kReadContent,      // restore or download content bytes of a partner
  kReadEvents,       // events of a partner (text, JSON, PREMIS)
  kReadReports,      // audit runs and reports
  kRunAudit,         // start an audit run
  kPolicyRequest,    // ask for a partner's policy to change
  kWithdrawRequest,  // request a withdrawal of a partner's object
  kWithdrawApprove,  // approve (or cancel) a withdrawal of a partner's object
  kHold,             // add or remove a legal hold on a partner's object
  kOperate,          // sites, partners, policies, schedules, principals, tokens, gc, resync
};

std::string_view ActionName(Action action);

// OK when `who` may do `action` on `partner` ("" for an action that names no partner, or one
// over every partner, such as listing all holdings). PermissionDenied otherwise, with a message
// that names the principal, its role and the rule, and says nothing about what `partner` holds.
//   depositor:     deposit, read metadata/content/events/reports of its own partner
//   partner-admin: a depositor's rights, plus policy requests, withdrawals and holds of its partner
//   auditor:       read metadata, events and reports of every partner, run audits; never content
//   operator:      everything
Status Authorize(const Principal& who, Action action, std::string_view partner);

// Whether `s` is Authorize's refusal of a role ("principal NAME (ROLE) may not ..."), as opposed
// to a refusal by a rule (two people, retention, a hold), also PermissionDenied; also when a
// server relays it. Verbs that exit 1 for a rule exit 2 for a role, as every verb does.
bool IsRoleRefusal(const Status& s);

// The partner a request by `who` is about: `requested` when `who` may act on it, the principal's
// own partner when `requested` is empty and the role is tied to one partner, "" (every partner)
// for an empty `requested` and a role that spans partners. PermissionDenied as Authorize.
Result<std::string> ScopePartner(const Principal& who, Action action, std::string_view requested);

// The principal of the `cairn` CLI run on the server host without a token: an operator named
// "local:<os user>" (the effective uid's login name, else "local:uid-<n>").
Principal LocalPrincipal();

}  // namespace cairn::repo::access

#endif  // CAIRN_REPO_ACCESS_AUTHORIZE_H_
