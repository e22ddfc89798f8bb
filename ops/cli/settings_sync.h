// After a verb changes a setting (a partner, a policy, a site, a schedule):
// the settings records on every site brought up to the catalog, so that a
// catalog rebuilt from any one site gets them back (repo/settings.h).
#ifndef CAIRN_OPS_CLI_SETTINGS_SYNC_H_
#define CAIRN_OPS_CLI_SETTINGS_SYNC_H_

#include <iostream>
#include <string>

#include "repo/repository.h"
#include "repo/settings.h"

namespace cairn::cli {

// Writes the changed settings to every site (only `site` when not empty). A
// site that cannot be written is a warning naming it (the change itself is
// made; the next change or `cairn site resync` writes it there); returns
// false then, or when the catalog could not be read.
inline bool SyncSettingsAfterChange(repo::Repository& repo, const std::string& site = "") {
  Result<repo::SettingsSync> sync = repo::SyncSettings(repo, site);
  if (!sync.ok()) {
    std::cerr << "warning: settings not written to the sites: " << sync.status().message() << "\n";
    return false;
  }
  for (const std::string& e : sync->errors) std::cerr << "warning: " << e << "\n";
  return sync->errors.empty();
}

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_SETTINGS_SYNC_H_
