// Helpers shared by the test binaries: temporary folders, fixture paths, files,
// and running the real `cairn` binary.
#ifndef CAIRN_TESTS_UTIL_TEST_UTIL_H_
#define CAIRN_TESTS_UTIL_TEST_UTIL_H_

#include <sys/types.h>

#include <boost/filesystem.hpp>
#include <map>
#include <string>
#include <vector>

namespace cairn::testing {

namespace fs = boost::filesystem;

// A fresh folder under $TMPDIR, removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

// tests/fixtures/<rel> in the source tree.
fs::path FixturePath(const std::string& rel);
// The path of ops/scripts/NAME in the source tree.
inline std::string OpsScript(const std::string& name) {
  return std::string(CAIRN_SOURCE_DIR) + "/ops/scripts/" + name;
}
// The built `cairn` binary.
fs::path CairnBinary();

// Writes `content` to `path`, creating parent folders.
void WriteFile(const fs::path& path, const std::string& content);
// Whole file as bytes; empty string if it cannot be read.
std::string ReadFile(const fs::path& path);
// Writes `files` (relative path -> bytes) under `dir`.
void WriteTree(const fs::path& dir, const std::map<std::string, std::string>& files);
// Every regular file below `dir` (symbolic links not followed): relative path -> bytes.
std::map<std::string, std::string> ReadTree(const fs::path& dir);

struct CommandResult {
  int exit_code = -1;    // -1: killed by a signal or could not start
  std::string out;       // stdout
  std::string err;       // stderr
  long max_rss_kib = 0;  // peak resident memory of the child (getrusage ru_maxrss)
};
// Runs argv (argv[0] is looked up on PATH unless it contains '/'), no shell,
// with `env` entries ("K=V") added to the environment (replacing inherited
// ones of the same name). Captures both streams.
CommandResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});
// Runs the cairn binary with `args`.
CommandResult RunCairn(const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {});
// Starts the cairn binary with `args` in the background, stdout and stderr to
// `log` (truncated), `env` added as for RunProcess. The child's pid (the
// caller waits for it), or -1 if it could not start.
pid_t StartCairn(const std::vector<std::string>& args, const fs::path& log,
                 const std::vector<std::string>& env = {});

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_TEST_UTIL_H_
