// Shared by the auditor's verb files (audit.cc, audit_schedule.cc,
// audit_report.cc, daemon.cc): the sub-commands they add to `cairn audit`
// and how they open the repository.
#ifndef CAIRN_OPS_CLI_AUDIT_VERBS_H_
#define CAIRN_OPS_CLI_AUDIT_VERBS_H_

#include <memory>
#include <string>

#include "ops/cli/cli.h"
#include "repo/site/repository.h"

namespace cairn::cli {

// Adds `schedule add|list|remove` to the `audit` group.
void AddAuditScheduleCommands(CLI::App* audit_group, Globals& g);
// Adds `report` to the `audit` group.
void AddAuditReportCommand(CLI::App* audit_group, Globals& g);

// Opens the repository of --repo / $CAIRN_REPO. FOR TESTS ONLY, and only in a
// build with the test hooks (repo/test_hooks.h: cairn-testing): when
// $CAIRN_FAKE_NOW is set (an ISO 8601 UTC date "2027-03-01" or
// "2027-03-01T12:00:00Z", or seconds since the epoch), the repository's clock
// is frozen at that time, so "due in 90 days" can be tested from the command
// line without waiting. InvalidArgument when the variable is not a time.
Result<std::unique_ptr<repo::Repository>> OpenRepositoryForAudit(const Globals& g);

// Fills scope->partner and scope->object from --partner and --object
// PARTNER/OBJECT. InvalidArgument for a malformed --object or one of another
// partner than --partner.
Status ParseObjectScope(const std::string& partner_flag, const std::string& object_flag,
                        std::string* partner, std::string* object);

// Parses "2027-03-01", "2027-03-01T12:00:00Z" or seconds since the epoch into
// microseconds since the epoch. InvalidArgument naming `what` and the text.
Result<int64_t> ParseTime(const std::string& text, const std::string& what);

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_AUDIT_VERBS_H_
