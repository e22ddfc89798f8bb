// Withdrawal records on the sites: to and from the catalog's rows, and what a site records past
// the catalog.
#include "repo/site/withdrawal_setting.h"

#include <algorithm>
#include <map>

#include "bagit/time_text.h"
#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kRequested = "requested";
constexpr std::string_view kCancelled = "cancelled";
constexpr std::string_view kApproved = "approved";

std::string VersionName(const proto::WithdrawalSetting& s) {
  return s.partner() + "/" + s.object() + "@v" + std::to_string(s.version());
}

// The request itself: what, why, by whom, when.
bool SameRequest(const proto::WithdrawalSetting& a, const proto::WithdrawalSetting& b) {
  return a.id() == b.id() && a.partner() == b.partner() && a.object() == b.object() &&
         a.version() == b.version() && a.reason() == b.reason() && a.purge() == b.purge() &&
         a.requested_by() == b.requested_by() && a.requested_role() == b.requested_role() &&
         a.requested_unix_micros() == b.requested_unix_micros();
}

std::string Requested(const proto::WithdrawalSetting& s) {
  return "requested by " + s.requested_by() + " at " + FormatUtc(s.requested_unix_micros()) +
         (s.purge() ? ", with purge" : "") + ": " + s.reason();
}

// What became of the request: "cancelled by ann@acme at ...", "approved by ...", or the request.
std::string Outcome(const proto::WithdrawalSetting& s) {
  if (s.state() == kCancelled) {
    return "cancelled by " + s.cancelled_by() + " at " + FormatUtc(s.cancelled_unix_micros());
  }
  if (s.state() == kApproved) {
    return "approved by " + s.approved_by() + " at " + FormatUtc(s.approved_unix_micros());
  }
  if (s.state() == kRequested) return Requested(s);
  return "in state '" + s.state() + "'";
}

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

bool WithdrawalSettingAhead(const proto::WithdrawalSetting& there,
                            const proto::WithdrawalSetting* catalog) {
  if (!catalog || !SameRequest(there, *catalog)) return true;
  return catalog->state() == kRequested && there.state() != kRequested;
}

std::string WithdrawalAheadText(const std::string& site_name, const proto::WithdrawalSetting& there,
                                const proto::WithdrawalSetting* catalog) {
  std::string text = "site " + site_name + " records withdrawal " + std::to_string(there.id()) +
                     " of " + VersionName(there) + " ";
  if (!catalog) {
    text += "(" + Outcome(there) + "), which this catalog does not know";
  } else if (!SameRequest(there, *catalog)) {
    // Not what the catalog's is: it may be another partner's.
    text += "(" + Requested(there) + "), where this catalog has another request under that number";
  } else {
    text += Outcome(there) + ", where this catalog has it " + catalog->state();
  }
  return text +
         ": the catalog is behind the site (put back from a backup, or rebuilt from a site that "
         "missed it); `cairn catalog rebuild --from " +
         site_name + " --force` brings it up to date";
}

std::string WithdrawalStateText(const WithdrawalRecord& w) {
  if (w.state == WithdrawalState::kRequested) return "requested by " + w.requested_by;
  if (w.state == WithdrawalState::kCancelled) return "cancelled by " + w.cancelled_by;
  return std::string(WithdrawalStateName(w.state));
}

Result<std::optional<WithdrawalTaken>> TakeWithdrawalFromSite(
    Catalog& catalog, const std::string& read, const std::string& other,
    const proto::WithdrawalSetting& there) {
  Result<WithdrawalRecord> in = catalog.GetWithdrawal(there.id());
  if (!in.ok() && !in.status().IsNotFound()) return in.status();
  std::optional<proto::WithdrawalSetting> known;
  if (in.ok()) known = WithdrawalSettingOf(*in);
  if (!WithdrawalSettingAhead(there, known ? &*known : nullptr))
    return std::optional<WithdrawalTaken>();
  const std::string name = "withdrawal " + std::to_string(there.id()) + " of " + VersionName(there);
  WithdrawalTaken taken;
  if (known && !SameRequest(there, *known)) {
    taken.problem = true;
    taken.text = name + ": site " + other + " records it (" + Requested(there) + "), where site " +
                 read + " records another request under that number (of " + in->VersionName() +
                 ", " + Requested(*known) + "): rebuilt as site " + read +
                 " records it; `cairn catalog rebuild --from " + other + " --force` takes site " +
                 other + "'s instead";
    return std::optional<WithdrawalTaken>(std::move(taken));
  }
  Result<WithdrawalRecord> w = WithdrawalOfSetting(there);
  Status took = w.status();
  if (took.ok()) {
    took = known ? catalog.UpdateWithdrawal(*w, WithdrawalState::kRequested)
                 : catalog.RestoreWithdrawal(*w);
  }
  Result<WithdrawalRecord> now = catalog.GetWithdrawal(there.id());
  if (took.ok() && now.status().IsNotFound()) {
    took = Status::AlreadyExists("another withdrawal of " + VersionName(there) +
                                 " is open in the rebuilt catalog");
  } else if (took.ok() && !now.ok()) {
    return now.status();
  }
  if (!took.ok()) {
    if (took.code() != Code::kInvalidArgument && took.code() != Code::kNotFound &&
        took.code() != Code::kAlreadyExists) {
      return took;
    }
    taken.problem = true;
    taken.text = name + ": site " + other + " records it " + Outcome(there) +
                 ", not taken: " + took.message() + "; rebuilt as site " + read + " records it";
    return std::optional<WithdrawalTaken>(std::move(taken));
  }
  taken.replaces = known.has_value();
  taken.label = name + " (" + WithdrawalStateText(*now) + ", from site " + other + ")";
  taken.text = name + ": site " + read +
               (known ? " records it requested, site " + other + " "
                      : " does not record it, site " + other + " records it ") +
               Outcome(there) + ": taken from site " + other + " (site " + read +
               " missed it while it was away";
  if (there.state() == kApproved) {
    // The version is withdrawn, but the site read holds it without its tombstone.
    taken.problem = true;
    taken.text +=
        "), so the version is withdrawn; `cairn withdraw run` (the daemon's next round) "
        "writes its tombstone and record to site " +
        read;
  } else {
    taken.text +=
        "; `cairn withdraw run`, the daemon's next round or the next change of a "
        "setting writes it there)";
  }
  return std::optional<WithdrawalTaken>(std::move(taken));
}

Result<SitesWithdrawals> ReadSitesWithdrawals(Repository& repo) {
  SitesWithdrawals out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> rows, repo.catalog().ListWithdrawals(""));
  std::map<int64_t, proto::WithdrawalSetting> known;
  for (const WithdrawalRecord& w : rows) known.emplace(w.id, WithdrawalSettingOf(w));
  for (const auto& [site_name, settings] : sites) {
    const size_t first = out.ahead.size();
    for (const auto& [name, record] : settings) {
      if (name.first != kWithdrawalsKind || !record.has_withdrawal() || record.removed()) continue;
      const proto::WithdrawalSetting& there = record.withdrawal();
      out.ids.insert(there.id());
      auto it = known.find(there.id());
      const proto::WithdrawalSetting* catalog = it == known.end() ? nullptr : &it->second;
      if (!WithdrawalSettingAhead(there, catalog)) continue;
      out.ahead.push_back(
          {site_name, there.id(), there.partner(), WithdrawalAheadText(site_name, there, catalog)});
    }
    // Names are text ("10" before "2"): by number.
    std::sort(out.ahead.begin() + first, out.ahead.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return out;
}

}  // namespace cairn::repo
