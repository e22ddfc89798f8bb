#include "repo/os_user.h"

#include <pwd.h>
#include <unistd.h>

namespace cairn::repo {

std::string OsUserName() {
  passwd pw{};
  passwd* found = nullptr;
  char buffer[4096];
  if (getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found != nullptr &&
      pw.pw_name != nullptr) {
    return pw.pw_name;
  }
  return "uid-" + std::to_string(geteuid());
}

std::string LocalUserName() { return "local:" + OsUserName(); }

}  // namespace cairn::repo
