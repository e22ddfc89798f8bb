// Settings records on the sites: what the catalog holds, what a site holds,
// bringing a site up to the catalog, and a rebuilt catalog up to a site.
#include "repo/site/settings.h"

#include <algorithm>
#include <optional>

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site/withdrawal_setting.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kPartners = "partners";
constexpr std::string_view kPolicies = "policies";
constexpr std::string_view kSites = "sites";
constexpr std::string_view kSchedules = "schedules";
constexpr std::string_view kWitnessKeys = "witness-keys";
constexpr std::string_view kPrincipals = "principals";
constexpr std::string_view kHolds = "holds";
constexpr std::string_view kDefaultPolicyName = "default";
constexpr std::string_view kPartnerPolicyPrefix = "partner.";

// The kinds of setting a catalog removes (`audit schedule remove`, `events trust remove`, `site
// remove`): a site that still holds one the catalog no longer has gets a removal record.
bool RemovableKind(std::string_view kind) {
  return kind == kSchedules || kind == kWitnessKeys || kind == kSites;
}

std::string PolicyName(const std::string& scope) {
  return scope == kDefaultPolicyScope ? std::string(kDefaultPolicyName)
                                      : std::string(kPartnerPolicyPrefix) + scope;
}

// The value of a record, without its version and time: equal when the
// setting did not change.
std::string ValueBytes(const proto::SettingsRecord& record) {
  proto::SettingsRecord value = record;
  value.clear_version();
  value.clear_written_unix_micros();
  return value.SerializeAsString();
}

// The key and version of the latest record of each setting on `site`, from one listing.
using LatestKeys = std::map<SettingName, std::pair<uint64_t, std::string>>;
Result<LatestKeys> ListLatestSettings(Site& site) {
  LatestKeys latest;
  CAIRN_RETURN_IF_ERROR(site.List(layout::kSettingsPrefix, [&](const ObjectInfo& info) {
    std::optional<layout::SettingsRecordRef> ref = layout::ParseSettingsRecordKey(info.key);
    if (!ref) return Status::OK();
    auto& slot = latest[{ref->kind, ref->name}];
    if (ref->version > slot.first) slot = {ref->version, info.key};
    return Status::OK();
  }));
  return latest;
}

// The record under `version_key` (ListLatestSettings); nullopt, named in `unreadable` (when not
// null), when it is not a settings record of that version.
Result<std::optional<proto::SettingsRecord>> ReadSettingsRecord(
    Site& site, const std::pair<uint64_t, std::string>& version_key,
    std::vector<std::string>* unreadable) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, site.ReadAll(version_key.second));
  proto::SettingsRecord record;
  if (!record.ParseFromString(bytes) || record.version() != version_key.first) {
    if (unreadable) unreadable->push_back(version_key.second + ": not a settings record");
    return std::optional<proto::SettingsRecord>();
  }
  return std::optional<proto::SettingsRecord>(std::move(record));
}

// What a site holds of a setting when it holds `record` (Catalog::SettingSeen).
SettingSeen SeenOf(const proto::SettingsRecord& record) {
  return SettingSeen{record.version(), Sha256Hex(ValueBytes(record)), record.removed()};
}

using SeenSettings = std::map<SettingName, SettingSeen>;

// The most settings a warning names one by one; the rest are counted.
constexpr size_t kLackingNamed = 10;

// What the catalog knows `site` lacks of its settings `want` (`seen`: what it last wrote, found or
// restored there): each setting whose value there is another or not known, and each schedule,
// trusted witness key or site the catalog removed whose removal is not there. "hold 1, withdrawal
// 2". Empty when, as far as the catalog knows, the site holds them all.
std::string LackingText(const std::map<SettingName, proto::SettingsRecord>& want,
                        const SeenSettings& seen) {
  std::vector<std::string> lacking;
  for (const auto& [name, record] : want) {
    auto it = seen.find(name);
    if (it == seen.end() || it->second.removed || it->second.value_sha256.empty() ||
        it->second.value_sha256 != Sha256Hex(ValueBytes(record))) {
      lacking.push_back(DescribeSetting(name));
    }
  }
  for (const auto& [name, s] : seen) {
    if (RemovableKind(name.first) && !s.removed && !want.count(name)) {
      lacking.push_back("the removal of " + DescribeSetting(name));
    }
  }
  std::string text;
  for (size_t i = 0; i < lacking.size() && i < kLackingNamed; ++i) {
    text += (i ? ", " : "") + lacking[i];
  }
  if (lacking.size() > kLackingNamed) {
    text += " and " + std::to_string(lacking.size() - kLackingNamed) + " more";
  }
  return text;
}

// Writes `record` as the next version after `latest` (0: none), moving on
// past versions another writer took meanwhile. Returns the version written.
Result<uint64_t> WriteNext(Site& site, const SettingName& name, proto::SettingsRecord record,
                           uint64_t latest, int64_t now) {
  record.set_written_unix_micros(now);
  for (int attempt = 0; attempt < 8; ++attempt) {
    record.set_version(latest + 1 + attempt);
    Status put = site.PutSettingsRecord(name.first, name.second, record.version(),
                                        record.SerializeAsString());
    if (put.ok()) return record.version();
    if (!put.IsAlreadyExists()) return put;
  }
  return Status::AlreadyExists(layout::SettingsRecordKey(name.first, name.second, latest + 1) +
                               ": taken by other writers eight times over");
}

// What one site's sync did: records written, what this catalog now knows is there (written, or
// found equal to its own), the records left alone because they are past what this catalog ever
// saw, and the write that failed (the sync stops there).
struct SiteSync {
  uint64_t written = 0;
  SeenSettings seen;
  std::vector<std::string> newer;
  Status failed;
};

// "site a: default policy: version 3 there, this catalog knew version 2 (...)".
std::string NewerText(const std::string& site_name, const SettingName& name, uint64_t there,
                      std::optional<uint64_t> known) {
  return "site " + site_name + ": " + DescribeSetting(name) + ": version " + std::to_string(there) +
         " there, " +
         (known ? "this catalog knew version " + std::to_string(*known)
                : std::string("this catalog never saw it")) +
         ": a change this catalog never saw (a catalog put back from a backup?) is left as it "
         "is, not overwritten with older values; `cairn catalog rebuild --from " +
         site_name + " --force` brings the catalog up to date";
}

// Whether `there` (a site's latest record of a setting; null: none) is a change this catalog
// never saw: another value than the catalog's `want`, at a version past the one it last knew
// there (`known`), or of a name it never saw there (none) on a site whose records it has noted
// (`noted`). A site it never noted (a catalog from before migration 16, a site never synced
// since) tells nothing: its own value is the only one the catalog has. A name the catalog never
// saw on a site it noted was written there by a catalog that knew more (a catalog put back from
// a backup older than the setting, which took the same name for another principal, or hold
// number for another hold).
bool ChangedPastCatalog(const proto::SettingsRecord* there, const proto::SettingsRecord& want,
                        std::optional<uint64_t> known, bool noted) {
  if (!there || ValueBytes(*there) == ValueBytes(want) || !noted) return false;
  return !known || there->version() > *known;
}

// The version the catalog knew there of `name`, if any.
std::optional<uint64_t> KnownVersion(const SeenSettings& seen, const SettingName& name) {
  auto it = seen.find(name);
  if (it == seen.end()) return std::nullopt;
  return it->second.version;
}

// Syncs one site. `seen`: what the catalog knew there (Catalog::SettingsSeen); empty for a site it
// never noted (a catalog from before migration 16, a site never synced since). An error when the
// site's records cannot be read; a write that fails ends the sync, in SiteSync::failed.
Result<SiteSync> SyncSite(Site& site, const std::string& site_name,
                          const std::map<SettingName, proto::SettingsRecord>& want,
                          const SeenSettings& seen, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(LatestKeys latest_keys, ListLatestSettings(site));
  SiteSync out;
  // The records to compare, read from the site. Not read: a record at the version this catalog
  // noted there holding the value it wants, or the removal it noted (keys are write-once: the
  // same key holds the same record), so that a change costs the records it changes, not every
  // record on every site; nor one of a setting SyncSite never writes (not the catalog's, and
  // neither a schedule nor a trusted witness key).
  std::map<SettingName, proto::SettingsRecord> have;
  for (const auto& [name, version_key] : latest_keys) {
    auto wanted = want.find(name);
    auto noted = seen.find(name);
    const bool at_noted = noted != seen.end() && noted->second.version == version_key.first &&
                          !noted->second.value_sha256.empty();
    if (wanted != want.end() && at_noted && !noted->second.removed &&
        noted->second.value_sha256 == Sha256Hex(ValueBytes(wanted->second))) {
      out.seen[name] = noted->second;
      continue;
    }
    if (wanted == want.end() &&
        (!RemovableKind(name.first) || (at_noted && noted->second.removed))) {
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(std::optional<proto::SettingsRecord> record,
                           ReadSettingsRecord(site, version_key, nullptr));
    if (record) have.emplace(name, std::move(*record));
  }
  auto known = [&](const SettingName& name) { return KnownVersion(seen, name); };
  // Writes `record` after `latest` and notes it; false (out.failed set) when the write failed.
  auto write = [&](const SettingName& name, const proto::SettingsRecord& record, uint64_t latest) {
    Result<uint64_t> written = WriteNext(site, name, record, latest, now);
    if (!written.ok()) {
      out.failed = written.status();
      return false;
    }
    proto::SettingsRecord noted = record;
    noted.set_version(*written);
    out.seen[name] = SeenOf(noted);
    ++out.written;
    return true;
  };
  for (const auto& [name, record] : want) {
    if (out.seen.count(name)) continue;  // known to hold it: not read
    auto it = have.find(name);
    uint64_t latest = it == have.end() ? 0 : it->second.version();
    if (it != have.end() && ValueBytes(it->second) == ValueBytes(record)) {
      out.seen[name] = SeenOf(it->second);
      continue;
    }
    // A request the site has cancelled or approved, or another request under the number: never
    // taken back, whatever version this catalog last knew there (a catalog rebuilt from a site
    // that missed the cancellation noted no version of the other sites' records).
    if (it != have.end() && it->second.has_withdrawal() && record.has_withdrawal() &&
        WithdrawalSettingAhead(it->second.withdrawal(), &record.withdrawal())) {
      out.newer.push_back(
          WithdrawalAheadText(site_name, it->second.withdrawal(), &record.withdrawal()) +
          " (its record there is left as it is)");
      continue;
    }
    // Another value, past the version this catalog last knew: not its to overwrite.
    if (ChangedPastCatalog(it == have.end() ? nullptr : &it->second, record, known(name),
                           !seen.empty())) {
      out.newer.push_back(NewerText(site_name, name, latest, known(name)));
      continue;
    }
    if (!write(name, record, latest)) return out;
  }
  // Only schedules, trusted witness keys and sites are ever removed from a catalog: one this
  // catalog never saw (added through a newer catalog) is not its to remove.
  for (const auto& [name, record] : have) {
    if (!RemovableKind(name.first) || record.removed() || want.count(name)) {
      continue;
    }
    if (!seen.empty() && (!known(name) || record.version() > *known(name))) {
      out.newer.push_back(NewerText(site_name, name, record.version(), known(name)));
      continue;
    }
    proto::SettingsRecord removed = record;
    removed.set_removed(true);
    if (!write(name, removed, record.version())) return out;
  }
  return out;
}

// A withdrawal's record into a rebuilt catalog, with its number: a request waits again for its
// second person. A withdrawal of that number already there (restored from the version's
// tombstone, which outranks the record: the approval reached the tombstone, not the record) is
// kept; another open withdrawal of the same version is a conflict, named. `label` gets what
// it is ("withdrawal 3 of acme/maps@v1 (requested by ann@acme)").
Status RestoreWithdrawalSetting(Catalog& catalog, const proto::WithdrawalSetting& s,
                                std::string* label) {
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord w, WithdrawalOfSetting(s));
  *label += " of " + w.VersionName();
  CAIRN_RETURN_IF_ERROR(catalog.RestoreWithdrawal(w));
  Result<WithdrawalRecord> in = catalog.GetWithdrawal(w.id);
  if (in.status().IsNotFound()) {
    return Status::AlreadyExists("another withdrawal of " + w.VersionName() +
                                 " is open in the rebuilt catalog (`cairn withdraw list`)");
  }
  CAIRN_RETURN_IF_ERROR(in.status());
  if (in->partner != w.partner || in->object != w.object || in->version != w.version) {
    return Status::AlreadyExists("the rebuilt catalog's withdrawal " + std::to_string(w.id) +
                                 " is of " + in->VersionName() + " (its tombstone)");
  }
  *label += " (" + WithdrawalStateText(*in) + ")";
  return Status::OK();
}

}  // namespace

std::string DescribeSetting(const SettingName& name) {
  const auto& [kind, id] = name;
  if (kind == kPolicies) {
    if (id == kDefaultPolicyName) return "default policy";
    if (id.starts_with(kPartnerPolicyPrefix))
      return "policy of partner " + id.substr(kPartnerPolicyPrefix.size());
    return "policy " + id;
  }
  if (kind == kPartners) return "partner " + id;
  if (kind == kSites) return "site " + id;
  if (kind == kSchedules) return "schedule " + id;
  if (kind == kWitnessKeys) return "trusted witness key " + id;
  if (kind == kPrincipals) return "principal " + id;
  if (kind == kHolds) return "hold " + id;
  if (kind == kWithdrawalsKind) return "withdrawal " + id;
  return kind + "/" + id;
}

Result<std::map<SettingName, proto::SettingsRecord>> CatalogSettings(Catalog& catalog) {
  std::map<SettingName, proto::SettingsRecord> out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  for (const SiteRecord& s : sites) {
    proto::SiteSetting* site = out[{std::string(kSites), s.name}].mutable_site();
    site->set_name(s.name);
    site->set_url(s.url);  // never holds secrets (SiteRecord)
    site->set_region(s.region);
    site->set_created_unix_micros(s.created_micros);
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<PartnerRecord> partners, catalog.ListPartners());
  std::vector<std::string> scopes = {std::string(kDefaultPolicyScope)};
  for (const PartnerRecord& p : partners) {
    proto::PartnerSetting* partner = out[{std::string(kPartners), p.id}].mutable_partner();
    partner->set_id(p.id);
    partner->set_name(p.name);
    partner->set_created_unix_micros(p.created_micros);
    scopes.push_back(p.id);
  }
  for (const std::string& scope : scopes) {
    Result<PolicyRecord> stored = catalog.GetPolicy(scope);
    if (stored.status().IsNotFound()) continue;
    CAIRN_RETURN_IF_ERROR(stored.status());
    proto::PolicySetting* policy =
        out[{std::string(kPolicies), PolicyName(scope)}].mutable_policy();
    policy->set_scope(scope);
    policy->set_text(stored->text);
    policy->set_source(stored->source);
    policy->set_base_dir(stored->base_dir);
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::ScheduleSetting> schedules,
                         catalog.ListScheduleSettings());
  for (proto::ScheduleSetting& s : schedules) {
    std::string name = s.name();
    *out[{std::string(kSchedules), name}].mutable_schedule() = std::move(s);
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<WitnessKeyRecord> keys, catalog.ListWitnessKeys());
  for (const WitnessKeyRecord& k : keys) {
    proto::WitnessKeySetting* key =
        out[{std::string(kWitnessKeys), k.public_key_hex}].mutable_witness_key();
    key->set_public_key_hex(k.public_key_hex);
    key->set_label(k.label);
    key->set_added_unix_micros(k.added_micros);
  }
  // Principals, never their tokens: a rebuilt catalog issues tokens anew.
  CAIRN_ASSIGN_OR_RETURN(std::vector<PrincipalRecord> principals, catalog.ListPrincipals());
  for (const PrincipalRecord& p : principals) {
    proto::PrincipalSetting* principal =
        out[{std::string(kPrincipals), p.name}].mutable_principal();
    principal->set_name(p.name);
    principal->set_role(std::string(RoleName(p.role)));
    principal->set_partner(p.partner);
    principal->set_created_unix_micros(p.created_micros);
    principal->set_disabled_unix_micros(p.disabled_micros);
  }
  // Their revoked tokens' public ids (ListApiTokens: in the order they were made).
  CAIRN_ASSIGN_OR_RETURN(std::vector<ApiTokenRecord> tokens, catalog.ListApiTokens());
  for (const ApiTokenRecord& t : tokens) {
    auto it = out.find({std::string(kPrincipals), t.principal});
    if (t.revoked_micros != 0 && it != out.end()) {
      it->second.mutable_principal()->add_revoked_token_ids(t.id);
    }
  }
  // Legal holds, removed ones too (their history).
  CAIRN_ASSIGN_OR_RETURN(std::vector<HoldRecord> holds, catalog.ListHolds(""));
  for (const HoldRecord& h : holds) {
    proto::HoldSetting* hold = out[{std::string(kHolds), std::to_string(h.id)}].mutable_hold();
    hold->set_id(h.id);
    hold->set_partner(h.partner);
    hold->set_object(h.object);
    hold->set_reason(h.reason);
    hold->set_added_by(h.added_by);
    hold->set_added_role(h.added_role);
    hold->set_added_unix_micros(h.added_micros);
    hold->set_removal_requested_by(h.removal_requested_by);
    hold->set_removal_requested_role(h.removal_requested_role);
    hold->set_removal_requested_unix_micros(h.removal_requested_micros);
    hold->set_removed_by(h.removed_by);
    hold->set_removed_role(h.removed_role);
    hold->set_removed_unix_micros(h.removed_micros);
  }
  // Withdrawals: requests, cancelled ones and approved ones (the governance of each; how far a
  // purge got is the tombstones' to say).
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> withdrawals, catalog.ListWithdrawals(""));
  for (const WithdrawalRecord& w : withdrawals) {
    *out[{std::string(kWithdrawalsKind), std::to_string(w.id)}].mutable_withdrawal() =
        WithdrawalSettingOf(w);
  }
  return out;
}

Result<std::map<SettingName, proto::SettingsRecord>> ReadSiteSettings(
    Site& site, std::vector<std::string>* unreadable) {
  CAIRN_ASSIGN_OR_RETURN(LatestKeys latest, ListLatestSettings(site));
  std::map<SettingName, proto::SettingsRecord> out;
  for (const auto& [name, version_key] : latest) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<proto::SettingsRecord> record,
                           ReadSettingsRecord(site, version_key, unreadable));
    if (record) out.emplace(name, std::move(*record));
  }
  return out;
}

Result<SettingsSync> SyncSettings(Repository& repo, const std::string& site_name) {
  SettingsSync sync;
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(auto want, CatalogSettings(catalog));
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  const int64_t now = catalog.clock().NowMicros();
  for (const SiteRecord& s : sites) {
    if (!site_name.empty() && s.name != site_name) continue;
    CAIRN_ASSIGN_OR_RETURN(SeenSettings seen, catalog.SettingsSeen(s.name));
    Result<Site*> site = repo.OpenSite(s.name);
    Result<SiteSync> synced =
        site.ok() ? SyncSite(**site, s.name, want, seen, now) : Result<SiteSync>(site.status());
    Status failed = synced.ok() ? synced->failed : synced.status();
    if (synced.ok()) {
      sync.records_written += synced->written;
      CAIRN_RETURN_IF_ERROR(catalog.NoteSettingsSeen(s.name, synced->seen));
      for (std::string& n : synced->newer) sync.errors.push_back(std::move(n));
      if (synced->newer.empty() && failed.ok()) sync.sites_ok.push_back(s.name);
      for (auto& [name, noted] : synced->seen) seen[name] = std::move(noted);
    }
    if (failed.ok()) continue;
    // Down, or refusing a write: named only for what it lacks, as far as this catalog knows
    // (a site that was in step lacks nothing a change since did not make).
    const std::string lacking = LackingText(want, seen);
    if (lacking.empty()) continue;
    sync.errors.push_back("site " + s.name + ": settings not written: " + failed.message() +
                          ": it lacks " + lacking +
                          "; written there, once the site can be written again, by `cairn "
                          "withdraw run`, the daemon's next round or the next change of a "
                          "setting (or `cairn site resync " +
                          s.name + "`)");
  }
  return sync;
}

Result<std::vector<SiteSettings>> ReachableSiteSettings(Repository& repo) {
  std::vector<SiteSettings> out;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, repo.catalog().ListSites());
  for (const SiteRecord& s : sites) {
    Result<Site*> site = repo.OpenSite(s.name);
    if (!site.ok()) continue;
    Result<std::map<SettingName, proto::SettingsRecord>> have = ReadSiteSettings(**site);
    if (have.ok()) out.emplace_back(s.name, std::move(*have));
  }
  return out;
}

Result<std::map<std::string, std::string>> SettingsChangedPastCatalog(Repository& repo,
                                                                      std::string_view kind) {
  std::map<std::string, std::string> out;
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(auto want, CatalogSettings(catalog));
  // A site that is down tells nothing.
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteSettings> sites, ReachableSiteSettings(repo));
  for (const auto& [site_name, have] : sites) {
    CAIRN_ASSIGN_OR_RETURN(SeenSettings seen, catalog.SettingsSeen(site_name));
    for (const auto& [name, record] : want) {
      if (name.first != kind || out.count(name.second)) continue;
      auto there = have.find(name);
      std::optional<uint64_t> known = KnownVersion(seen, name);
      if (ChangedPastCatalog(there == have.end() ? nullptr : &there->second, record, known,
                             !seen.empty())) {
        out[name.second] = NewerText(site_name, name, there->second.version(), known);
      }
    }
  }
  return out;
}

Result<SettingsRestore> RestoreSettings(Site& site, Catalog& catalog,
                                        const std::string& site_name) {
  SettingsRestore out;
  std::vector<std::string> unreadable;
  CAIRN_ASSIGN_OR_RETURN(auto records, ReadSiteSettings(site, &unreadable));
  for (const std::string& u : unreadable) out.not_restored.push_back(u);
  auto restore = [&](const SettingName& name, const std::string& label, const Status& status) {
    if (status.ok()) {
      out.restored.push_back(label);
    } else {
      out.not_restored.push_back(DescribeSetting(name) + ": " + status.message());
    }
  };
  // Sites first (policies are checked against them), then partners (a
  // partner's policy needs it), then policies, schedules, witness keys and
  // principals (a depositor's partner must be there first), holds and withdrawals (after the
  // tombstones the rebuild read: a withdrawal a tombstone restored is kept as it says).
  for (std::string_view kind : {kSites, kPartners, kPolicies, kSchedules, kWitnessKeys, kPrincipals,
                                kHolds, kWithdrawalsKind}) {
    for (const auto& [name, record] : records) {
      if (name.first != kind || record.removed()) continue;
      std::string label = DescribeSetting(name);
      Status status;
      if (record.has_site()) {
        const proto::SiteSetting& s = record.site();
        status = catalog.RestoreSite(s);
        if (!s.region().empty()) label += " (region " + s.region() + ")";
        if (s.name() != site_name) {
          label += " at " + s.url();
          if (status.ok()) out.other_sites.push_back(s.name());
        }
      } else if (record.has_partner()) {
        status = catalog.RestorePartner(record.partner());
        if (!record.partner().name().empty()) label += " (" + record.partner().name() + ")";
      } else if (record.has_policy()) {
        const proto::PolicySetting& p = record.policy();
        // Set when its record was written (not now: `policy show` said a rebuild set it).
        PolicyRecord policy{p.scope(), p.text(), p.source(), p.base_dir(),
                            record.written_unix_micros()};
        status = catalog.SetPolicy(policy);
        if (status.ok() && p.scope() == kDefaultPolicyScope) out.default_policy = true;
      } else if (record.has_schedule()) {
        status = catalog.RestoreSchedule(record.schedule());
      } else if (record.has_witness_key()) {
        const proto::WitnessKeySetting& k = record.witness_key();
        status = catalog.AddWitnessKey(k.public_key_hex(), k.label(), k.added_unix_micros());
        if (status.IsAlreadyExists()) status = Status::OK();  // trusted already
        if (!k.label().empty()) label += " (" + k.label() + ")";
      } else if (record.has_principal()) {
        const proto::PrincipalSetting& p = record.principal();
        status = catalog.RestorePrincipal(p);
        label += " (" + p.role() + (p.partner().empty() ? "" : " of " + p.partner()) +
                 (p.disabled_unix_micros() ? ", disabled" : "") + ")";
      } else if (record.has_hold()) {
        const proto::HoldSetting& h = record.hold();
        HoldRecord hold{h.id(),
                        h.partner(),
                        h.object(),
                        h.reason(),
                        h.added_by(),
                        h.added_role(),
                        h.added_unix_micros(),
                        h.removal_requested_by(),
                        h.removal_requested_role(),
                        h.removal_requested_unix_micros(),
                        h.removed_by(),
                        h.removed_role(),
                        h.removed_unix_micros()};
        status = catalog.RestoreHold(hold);
        label += " on " + h.partner() + "/" + h.object() +
                 (h.removed_unix_micros() ? " (removed)" : " (on)");
      } else if (record.has_withdrawal()) {
        status = RestoreWithdrawalSetting(catalog, record.withdrawal(), &label);
      } else {
        status = Status::InvalidArgument("the record holds no setting this build knows");
      }
      restore(name, label, status);
    }
  }
  // The versions read are the ones this catalog knows (removed records too): a later change
  // on a site is then told from this catalog's own.
  SeenSettings seen;
  for (const auto& [name, record] : records) seen[name] = SeenOf(record);
  CAIRN_RETURN_IF_ERROR(catalog.NoteSettingsSeen(site_name, seen));
  return out;
}

std::vector<std::string> SyncSettingsAfterChange(Repository& repo, const std::string& site_name) {
  Result<SettingsSync> sync = SyncSettings(repo, site_name);
  if (!sync.ok()) return {"settings not written to the sites: " + sync.status().message()};
  return sync->errors;
}

}  // namespace cairn::repo
