#include "tests/util/test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace cairn::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  fs::path tmpl = fs::path(base ? base : "/tmp") / "cairn-test-XXXXXX";
  std::string s = tmpl.string();
  if (mkdtemp(s.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + s);
  path_ = s;
}

TempDir::~TempDir() {
  boost::system::error_code ec;
  // Tests may leave read-only folders behind (unwritable-site scenarios).
  for (fs::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    if (fs::is_directory(it->symlink_status())) fs::permissions(it->path(), fs::owner_all, ec);
  }
  fs::remove_all(path_, ec);
}

fs::path FixturePath(const std::string& rel) {
  return fs::path(CAIRN_SOURCE_DIR) / "tests" / "fixtures" / rel;
}

fs::path CairnBinary() { return fs::path(CAIRN_BINARY_PATH); }

void WriteFile(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path.string(), std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path.string(), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteTree(const fs::path& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, bytes] : files) WriteFile(dir / rel, bytes);
}

std::map<std::string, std::string> ReadTree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (fs::is_regular_file(it->symlink_status())) {
      files[fs::relative(it->path(), dir).generic_string()] = ReadFile(it->path());
    }
  }
  return files;
}

namespace {

// The environment of a child: ours, with `env` entries ("K=V") replacing
// inherited ones of the same name.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& env) {
  std::vector<std::string> envs;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=') + 1); };
  for (char** e = environ; *e; ++e) {
    std::string inherited(*e);
    bool replaced = false;
    for (const auto& mine : env) replaced = replaced || name_of(mine) == name_of(inherited);
    if (!replaced) envs.push_back(inherited);
  }
  for (const auto& e : env) envs.push_back(e);
  return envs;
}

// argv or envp for posix_spawn: pointers into `strings`, then nullptr.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> envs = ChildEnvironment(env);
  std::vector<char*> cargv = CStrings(argv), cenv = CStrings(envs);

  pid_t pid;
  int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = "cannot start " + argv[0];
    return result;
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* bufs[2] = {&result.out, &result.err};
  int open_count = 2;
  char buf[65536];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        bufs[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  result.max_rss_kib = usage.ru_maxrss;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult RunCairn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv{CairnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env);
}

pid_t StartCairn(const std::vector<std::string>& args, const fs::path& log,
                 const std::vector<std::string>& env) {
  std::vector<std::string> argv{CairnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envs = ChildEnvironment(env);
  std::vector<char*> cargv = CStrings(argv), cenv = CStrings(envs);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

}  // namespace cairn::testing
