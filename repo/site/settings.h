// Settings kept on every site (settings/ in repo/FORMAT.md), so that a catalog
// rebuilt from one site alone gets them back: partners (with their names),
// policies (the default and each partner's), sites (names, URLs without
// secrets, regions), audit schedules, trusted witness keys, principals
// (never their API tokens: repo/access/tokens.h), legal holds and withdrawals
// (requests, cancellations, approvals: repo/site/withdrawal_setting.h). Each is a
// versioned, write-once record, proto::SettingsRecord in
// settings/<kind>/<name>/<version>.pb; the highest version of a name is the
// setting.
#ifndef CAIRN_REPO_SETTINGS_H_
#define CAIRN_REPO_SETTINGS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bagit/status.h"
#include "proto/settings.pb.h"
#include "repo/catalog/catalog_types.h"
#include "repo/site/repository.h"

namespace cairn::repo {

class Catalog;
class Repository;
class Site;

// (kind, name) of a setting, as in its key: ("partners", "acme"),
// ("policies", "default"), ("policies", "partner.acme"), ("sites", "c"),
// ("schedules", "nightly"), ("witness-keys", "<64 hex digits>"),
// ("principals", "alice@yale"), ("holds", "2"), ("withdrawals", "7").
using SettingName = std::pair<std::string, std::string>;

// "partner acme", "default policy", "policy of partner acme", "site c",
// "schedule nightly".
std::string DescribeSetting(const SettingName& name);

// Every setting the catalog holds now, as records (version 0: not written).
Result<std::map<SettingName, proto::SettingsRecord>> CatalogSettings(Catalog& catalog);

// The highest version of each setting on `site`. A record that cannot be
// parsed is skipped and named in `unreadable` (when not null).
Result<std::map<SettingName, proto::SettingsRecord>> ReadSiteSettings(
    Site& site, std::vector<std::string>* unreadable = nullptr);

// The settings each site of the catalog holds (ReadSiteSettings), by site name in the catalog's
// order; a site that is down or cannot be read now is passed over.
using SiteSettings = std::pair<std::string, std::map<SettingName, proto::SettingsRecord>>;
Result<std::vector<SiteSettings>> ReachableSiteSettings(Repository& repo);

struct SettingsSync {
  uint64_t records_written = 0;       // over all sites
  std::vector<std::string> errors;    // "site b: <why>": retried at the next change
  std::vector<std::string> sites_ok;  // sites that hold every setting now
};

// Brings every site of the catalog (only `site_name` when not empty) up to
// the catalog's settings: a new version of each setting whose latest record
// there differs or is absent, and a removed record for each schedule, trusted
// witness key or site the catalog no longer has. A record past the version this
// catalog last wrote there, found there or restored from there (Catalog::SettingsSeen, per
// site: each site numbers its own records) is a change it never saw (a catalog put back from a
// backup): left alone and named in `errors`, with the rebuild that catches the catalog up, never
// overwritten with the older value; so is a withdrawal record that a site has cancelled or
// approved where the catalog has it requested, or that holds another request under the number
// (WithdrawalSettingAhead), whatever its version. Run after every change of a setting, and on `site
// add` and `site resync`. Writes only through Site (write-once). What each site holds is noted in
// the catalog (Catalog::NoteSettingsSeen: version and value), so that a site that cannot be
// reached or written is named in `errors` only when it lacks a record, as far as the catalog knows
// ("site b: settings not written: <why>: it lacks hold 1, withdrawal 2; written there, once the
// site can be written again, by `cairn withdraw run`, the daemon's next round or the next change
// of a setting (or `cairn site resync b`)"); an error only when the catalog fails.
Result<SettingsSync> SyncSettings(Repository& repo, const std::string& site_name = "");

// The settings of `kind` ("principals", ...) that some reachable site holds with a change this
// catalog never saw (as SyncSettings leaves them alone: a catalog put back from a backup), by
// name, each with SyncSettings' words for it (the site, both versions, the rebuild). Read only;
// a site that is down or unreadable is passed over.
Result<std::map<std::string, std::string>> SettingsChangedPastCatalog(Repository& repo,
                                                                      std::string_view kind);

// The end of every change of a setting: SyncSettings, what went wrong as
// warnings ("settings not written to the sites: <why>" when the catalog could
// not be read; else "site b: settings not written: <why>: it lacks ..." per site
// that lacks a record). The change itself is made; `cairn withdraw run`, the
// daemon's rounds, the next change or `cairn site resync` write them.
std::vector<std::string> SyncSettingsAfterChange(Repository& repo,
                                                 const std::string& site_name = "");

struct SettingsRestore {
  std::vector<std::string> restored;      // "site c (region eu)", "partner acme", ...
  std::vector<std::string> not_restored;  // "policy of partner acme: <why>"
  std::vector<std::string> other_sites;   // site names restored besides the one read
  bool default_policy = false;            // the default policy came back
};

// Fills `catalog` with the settings `site` holds (latest version of each,
// removed ones skipped): sites, then partners, then policies (checked against
// the sites as `cairn policy set` does), then schedules, then trusted witness
// keys (with the added time their record keeps), then principals (role, partner,
// disabled time; no tokens), holds, and withdrawals with their numbers (a request waits again
// for its second person; one the rebuild already restored from a tombstone is kept). `site_name` is
// the site read from: its URL stays as given, its region comes back. Every setting is named in
// `restored` or, with the reason, in `not_restored`.
Result<SettingsRestore> RestoreSettings(Site& site, Catalog& catalog, const std::string& site_name);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SETTINGS_H_
