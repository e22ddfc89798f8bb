#include "repo/access/authorize.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/util/assert_ok.h"

namespace cairn::repo::access {
namespace {

Principal Make(Role role, std::string partner) {
  return Principal{"p-" + std::string(RoleName(role)), role, std::move(partner), false};
}

struct Row {
  Action action;
  bool depositor, partner_admin, auditor, op;
};

// The role table of issue 17, row by row, for a principal's own partner ("yale").
const std::vector<Row> kTable = {
    {Action::kDeposit, true, true, false, true},
    {Action::kReadMetadata, true, true, true, true},
    {Action::kReadContent, true, true, false, true},
    {Action::kReadEvents, true, true, true, true},
    {Action::kReadReports, true, true, true, true},
    {Action::kRunAudit, false, false, true, true},
    {Action::kPolicyRequest, false, true, false, true},
    {Action::kWithdrawRequest, false, true, false, true},
    {Action::kWithdrawApprove, false, true, false, true},
    {Action::kHold, false, true, false, true},
    {Action::kOperate, false, false, false, true},
};

TEST(Authorize, RoleTableOnOwnPartner) {
  for (const Row& row : kTable) {
    SCOPED_TRACE(std::string(ActionName(row.action)));
    EXPECT_EQ(Authorize(Make(Role::kDepositor, "yale"), row.action, "yale").ok(), row.depositor);
    EXPECT_EQ(Authorize(Make(Role::kPartnerAdmin, "yale"), row.action, "yale").ok(),
              row.partner_admin);
    EXPECT_EQ(Authorize(Make(Role::kAuditor, ""), row.action, "yale").ok(), row.auditor);
    EXPECT_EQ(Authorize(Make(Role::kOperator, ""), row.action, "yale").ok(), row.op);
  }
}

TEST(Authorize, PartnerRolesNeverReachAnotherPartner) {
  for (const Row& row : kTable) {
    for (Role role : {Role::kDepositor, Role::kPartnerAdmin}) {
      Status s = Authorize(Make(role, "yale"), row.action, "mit");
      EXPECT_EQ(s.code(), Code::kPermissionDenied) << ActionName(row.action);
      // The refusal names the caller's own partner, never describes the other one.
      EXPECT_EQ(s.message().find("holds"), std::string::npos) << s.message();
    }
    // Nor every partner at once.
    EXPECT_FALSE(Authorize(Make(Role::kDepositor, "yale"), row.action, "").ok());
  }
}

// A partner-admin setting its own partner's policy was told "the partner-admin role acts on its
// own partner only", which it did: an operator's action says so.
TEST(Authorize, APartnerAdminIsToldAnOperatorDoesWhatItMayNot) {
  for (Action a : {Action::kOperate, Action::kRunAudit}) {
    Status s = Authorize(Make(Role::kPartnerAdmin, "yale"), a, "yale");
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_NE(s.message().find("an operator does that"), std::string::npos) << s.message();
  }
}

TEST(Authorize, PartnerRoleWithoutPartnerIsRefused) {
  EXPECT_FALSE(Authorize(Make(Role::kDepositor, ""), Action::kReadMetadata, "").ok());
}

TEST(ScopePartner, EmptyRequestMeansOwnPartnerOrAll) {
  Result<std::string> own = ScopePartner(Make(Role::kDepositor, "yale"), Action::kReadMetadata, "");
  ASSERT_OK(own);
  EXPECT_EQ(*own, "yale");
  Result<std::string> all = ScopePartner(Make(Role::kAuditor, ""), Action::kReadMetadata, "");
  ASSERT_OK(all);
  EXPECT_EQ(*all, "");
  EXPECT_FALSE(ScopePartner(Make(Role::kDepositor, "yale"), Action::kReadMetadata, "mit").ok());
  EXPECT_FALSE(ScopePartner(Make(Role::kAuditor, ""), Action::kReadContent, "").ok());
}

TEST(LocalPrincipal, IsAnOperatorNamedAfterTheOsUser) {
  Principal p = LocalPrincipal();
  EXPECT_TRUE(p.local);
  EXPECT_EQ(p.role, Role::kOperator);
  EXPECT_EQ(p.name.rfind("local:", 0), 0u) << p.name;
  EXPECT_GT(p.name.size(), 6u);
}

TEST(ParseRole, RoundTripsEveryRole) {
  for (Role r : {Role::kDepositor, Role::kPartnerAdmin, Role::kAuditor, Role::kOperator}) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_FALSE(ParseRole("admin").has_value());
}

}  // namespace
}  // namespace cairn::repo::access
