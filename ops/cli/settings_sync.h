// What a verb that changed a setting (a partner, a policy, a site, a schedule,
// a witness key) says about the sites that did not take the settings records
// (the library wrote them: repo::SyncSettingsAfterChange).
#ifndef CAIRN_OPS_CLI_SETTINGS_SYNC_H_
#define CAIRN_OPS_CLI_SETTINGS_SYNC_H_

#include <iostream>
#include <string>
#include <vector>

namespace cairn::cli {

// Prints each as a warning on stderr (the change itself is made; the next
// change or `cairn site resync` writes them there); true when there are none.
inline bool PrintSettingsWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
  return warnings.empty();
}

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_SETTINGS_SYNC_H_
