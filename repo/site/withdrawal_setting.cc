// Withdrawal records on the sites: to and from the catalog's rows, and what the sites record.
#include "repo/site/withdrawal_setting.h"

#include <algorithm>

#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kRequested = "requested";
constexpr std::string_view kCancelled = "cancelled";
constexpr std::string_view kApproved = "approved";

}  // namespace

proto::WithdrawalSetting WithdrawalSettingOf(const WithdrawalRecord& w) {
  proto::WithdrawalSetting s;
  s.set_id(w.id);
  s.set_partner(w.partner);
  s.set_object(w.object);
  s.set_version(w.version);
  s.set_reason(w.reason);
  s.set_purge(w.purge);
  s.set_requested_by(w.requested_by);
  s.set_requested_role(w.requested_role);
  s.set_requested_unix_micros(w.requested_micros);
  if (w.state == WithdrawalState::kRequested) {
    s.set_state(std::string(kRequested));
  } else if (w.state == WithdrawalState::kCancelled) {
    s.set_state(std::string(kCancelled));
    s.set_cancelled_by(w.cancelled_by);
    s.set_cancelled_unix_micros(w.cancelled_micros);
  } else {
    s.set_state(std::string(kApproved));
    s.set_approved_by(w.approved_by);
    s.set_approved_role(w.approved_role);
    s.set_approved_unix_micros(w.approved_micros);
  }
  return s;
}

Result<WithdrawalRecord> WithdrawalOfSetting(const proto::WithdrawalSetting& s) {
  WithdrawalRecord w;
  w.id = s.id();
  w.partner = s.partner();
  w.object = s.object();
  w.version = s.version();
  w.reason = s.reason();
  w.purge = s.purge();
  w.requested_by = s.requested_by();
  w.requested_role = s.requested_role();
  w.requested_micros = s.requested_unix_micros();
  if (s.state() == kRequested) {
    w.state = WithdrawalState::kRequested;
  } else if (s.state() == kCancelled) {
    w.state = WithdrawalState::kCancelled;
    w.cancelled_by = s.cancelled_by();
    w.cancelled_micros = s.cancelled_unix_micros();
  } else if (s.state() == kApproved) {
    w.state = WithdrawalState::kWithdrawn;
    w.approved_by = s.approved_by();
    w.approved_role = s.approved_role();
    w.approved_micros = s.approved_unix_micros();
  } else {
    return Status::InvalidArgument("withdrawal " + std::to_string(s.id()) + " is in state '" +
                                   s.state() + "', which this build does not know");
  }
  return w;
}

Result<SitesWithdrawals> ReadSitesWithdrawals(Repository& repo) {
  SitesWithdrawals out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  for (const auto& [site_name, settings] : sites) {
    for (const auto& [name, record] : settings) {
      if (name.first != kWithdrawalsKind || !record.has_withdrawal() || record.removed()) continue;
      out.highest_id = std::max(out.highest_id, record.withdrawal().id());
    }
  }
  return out;
}

}  // namespace cairn::repo
