#include "repo/site/tombstone.h"

#include <charconv>
#include <map>

#include "bagit/time_text.h"
#include "repo/crash_point.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kMagic = "Cairn-Tombstone";

}  // namespace

std::string TombstoneText(const WithdrawalRecord& w) {
  std::string out;
  auto line = [&](std::string_view name, const std::string& value) {
    out.append(name).append(": ").append(value).append("\n");
  };
  line(kMagic, "1");
  line("Withdrawal", std::to_string(w.id));
  line("Partner", w.partner);
  line("Object", w.object);
  line("Version", std::to_string(w.version));
  line("Purge", w.purge ? "yes" : "no");
  line("Reason", w.reason);
  line("Requested-By", w.requested_by);
  line("Requested-Role", w.requested_role);
  line("Requested", FormatUtc(w.requested_micros, TimeText::kMicros));
  line("Approved-By", w.approved_by);
  line("Approved-Role", w.approved_role);
  line("Approved", FormatUtc(w.approved_micros, TimeText::kMicros));
  return out;
}

Result<WithdrawalRecord> ParseTombstone(std::string_view text, std::string_view where) {
  std::map<std::string, std::string, std::less<>> fields;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) {
      return Status::Corruption(std::string(where) +
                                ": not a tombstone line: " + std::string(line.substr(0, 80)));
    }
    fields.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
  }
  auto get = [&](std::string_view name) -> Result<std::string> {
    auto it = fields.find(name);
    if (it == fields.end()) {
      return Status::Corruption(std::string(where) + ": tombstone has no " + std::string(name));
    }
    return it->second;
  };
  auto number = [&](std::string_view name) -> Result<int64_t> {
    CAIRN_ASSIGN_OR_RETURN(std::string v, get(name));
    int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 1) {
      return Status::Corruption(std::string(where) + ": tombstone " + std::string(name) +
                                " is not a number: " + v);
    }
    return n;
  };
  auto time = [&](std::string_view name) -> Result<int64_t> {
    CAIRN_ASSIGN_OR_RETURN(std::string v, get(name));
    Result<int64_t> t = ParseUtc(v);
    if (!t.ok()) {
      return Status::Corruption(std::string(where) + ": tombstone " + std::string(name) + ": " +
                                t.status().message());
    }
    return *t;
  };
  CAIRN_ASSIGN_OR_RETURN(std::string magic, get(kMagic));
  if (magic != "1") {
    return Status::Corruption(std::string(where) + ": tombstone format " + magic + " is unknown");
  }
  WithdrawalRecord w;
  CAIRN_ASSIGN_OR_RETURN(w.id, number("Withdrawal"));
  CAIRN_ASSIGN_OR_RETURN(w.partner, get("Partner"));
  CAIRN_ASSIGN_OR_RETURN(w.object, get("Object"));
  CAIRN_ASSIGN_OR_RETURN(int64_t version, number("Version"));
  w.version = static_cast<uint32_t>(version);
  CAIRN_ASSIGN_OR_RETURN(std::string purge, get("Purge"));
  w.purge = purge == "yes";
  CAIRN_ASSIGN_OR_RETURN(w.reason, get("Reason"));
  CAIRN_ASSIGN_OR_RETURN(w.requested_by, get("Requested-By"));
  CAIRN_ASSIGN_OR_RETURN(w.requested_role, get("Requested-Role"));
  CAIRN_ASSIGN_OR_RETURN(w.requested_micros, time("Requested"));
  CAIRN_ASSIGN_OR_RETURN(w.approved_by, get("Approved-By"));
  CAIRN_ASSIGN_OR_RETURN(w.approved_role, get("Approved-Role"));
  CAIRN_ASSIGN_OR_RETURN(w.approved_micros, time("Approved"));
  w.state = WithdrawalState::kWithdrawn;
  return w;
}

// The approved withdrawal without a purge that purge withdrawal `w` follows, or nullopt when
// `w` is the version's first (its tombstone is then WITHDRAWN, else WITHDRAWN-PURGE).
Result<std::optional<WithdrawalRecord>> WithdrawalBefore(Catalog& catalog,
                                                         const WithdrawalRecord& w) {
  std::optional<WithdrawalRecord> before;
  if (!w.purge) return before;
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> all, catalog.ListWithdrawals(w.partner));
  for (const WithdrawalRecord& o : all) {
    if (o.id < w.id && o.object == w.object && o.version == w.version && !o.purge &&
        IsWithdrawn(o.state)) {
      before = o;
    }
  }
  return before;
}

void TombstonesLeft::Add(const TombstonesLeft& other) {
  not_written.insert(not_written.end(), other.not_written.begin(), other.not_written.end());
  not_checked.insert(not_checked.end(), other.not_checked.begin(), other.not_checked.end());
}

std::vector<std::string> TombstonesLeft::All() const {
  std::vector<std::string> all = not_written;
  all.insert(all.end(), not_checked.begin(), not_checked.end());
  return all;
}

std::string TombstonesLeft::Text() const {
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  };
  std::string out;
  if (!not_written.empty()) out = "tombstone not written on " + join(not_written);
  if (!not_checked.empty()) {
    out += (out.empty() ? "" : "; ") + std::string("tombstone not checked on ") +
           join(not_checked) +
           " (the site did not answer: one written there by an earlier round stays; a missing "
           "one is written once it answers)";
  }
  return out;
}

Result<TombstonesLeft> WriteTombstones(Repository& repo, const WithdrawalRecord& w) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, repo.catalog().ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> before,
                         WithdrawalBefore(repo.catalog(), w));
  const std::string_view name = before ? layout::kPurgeTombstoneName : layout::kTombstoneName;
  const std::string text = TombstoneText(w);
  TombstonesLeft left;
  for (const SiteRecord& s : sites) {
    Result<Site*> site = repo.OpenSite(s.name);
    Status written = site.ok() ? (*site)->PutTombstone(w.partner, w.object, w.version, text, name)
                               : site.status();
    if (!written.ok()) {
      (written.IsUnavailable() ? left.not_checked : left.not_written)
          .push_back(s.name + ": " + written.message());
    }
    CrashPoint("withdraw.tombstone-written");
  }
  return left;
}

Status RefuseIfTombstoned(const std::map<std::string, Site*, std::less<>>& sites,
                          const std::string& partner, const std::string& object, uint32_t version,
                          const std::string& nothing_done) {
  for (const auto& [name, site] : sites) {
    Result<std::string> text = site->ReadTombstone(partner, object, version);
    if (!text.ok()) continue;
    const std::string where =
        "site " + name + ": " + layout::TombstoneKey(partner, object, version);
    Result<WithdrawalRecord> w = ParseTombstone(*text, where);
    std::string what = w.ok() ? "withdrawal " + std::to_string(w->id) + " approved " +
                                    FormatUtc(w->approved_micros) + " by " + w->approved_by + ": " +
                                    w->reason
                              : w.status().message();
    return Status::Withdrawn(
        where + " is the tombstone of this version (" + what +
        "); the catalog does not know it was withdrawn (a catalog restored from an older "
        "backup?): " +
        nothing_done + "; `cairn catalog rebuild --from " + name +
        " --force` makes a catalog that knows");
  }
  return Status::OK();
}

Status RefuseIfTombstoned(Repository& repo, const std::string& partner, const std::string& object,
                          uint32_t version, const std::string& nothing_done) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> records, repo.catalog().ListSites());
  std::map<std::string, Site*, std::less<>> sites;
  for (const SiteRecord& r : records) {
    Result<Site*> site = repo.OpenSite(r.name);
    if (site.ok()) sites[r.name] = *site;
  }
  return RefuseIfTombstoned(sites, partner, object, version, nothing_done);
}

Result<std::vector<std::string>> WriteEveryTombstone(Repository& repo) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> all, repo.catalog().ListWithdrawals(""));
  std::vector<std::string> pending;
  for (const WithdrawalRecord& w : all) {
    if (!IsWithdrawn(w.state)) continue;
    CAIRN_ASSIGN_OR_RETURN(TombstonesLeft left, WriteTombstones(repo, w));
    const std::string id = "withdrawal " + std::to_string(w.id) + ": ";
    for (const std::string& l : left.not_written) pending.push_back(id + l);
    for (const std::string& l : left.not_checked) {
      const size_t colon = l.find(": ");
      pending.push_back(id + l.substr(0, colon) +
                        ": tombstone not checked (the site did not answer)" + l.substr(colon));
    }
  }
  return pending;
}

}  // namespace cairn::repo
