#include "tests/util/s3_gateway.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

std::string Script(const std::string& name) {
  return std::string(CAIRN_SOURCE_DIR) + "/ops/scripts/" + name;
}

// KEY=VALUE lines of an s3.env file.
std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

S3Gateway* g_gateway = nullptr;

void StopOwnedGateway() {
  if (g_gateway != nullptr && g_gateway->owned) {
    RunProcess({Script("ceph-rgw-stop.sh"), g_gateway->dir});
  }
}

S3Gateway* StartGateway(std::string* log) {
  std::string env_file;
  bool owned = false;
  if (const char* named = std::getenv("CAIRN_S3_ENV_FILE"); named != nullptr && *named != '\0') {
    env_file = named;
  } else {
    CommandResult started = RunProcess({Script("ceph-rgw-start.sh")});
    if (started.exit_code != 0) {
      *log = "ops/scripts/ceph-rgw-start.sh failed (exit " + std::to_string(started.exit_code) +
             "):\n" + started.err + started.out;
      return nullptr;
    }
    std::string marker = "CAIRN_S3_DIR=";
    size_t at = started.out.find(marker);
    if (at == std::string::npos) {
      *log = "ceph-rgw-start.sh printed no CAIRN_S3_DIR:\n" + started.out + started.err;
      return nullptr;
    }
    std::string dir = started.out.substr(at + marker.size());
    dir = dir.substr(0, dir.find('\n'));
    env_file = dir + "/s3.env";
    owned = true;
  }
  std::map<std::string, std::string> env = ReadEnvFile(env_file);
  auto gateway = std::make_unique<S3Gateway>();
  gateway->endpoint = env["CAIRN_S3_ENDPOINT"];
  gateway->access_key = env["AWS_ACCESS_KEY_ID"];
  gateway->secret_key = env["AWS_SECRET_ACCESS_KEY"];
  gateway->region = env["AWS_REGION"];
  gateway->dir = env["CAIRN_S3_DIR"];
  gateway->owned = owned;
  if (gateway->endpoint.empty() || gateway->access_key.empty() || gateway->secret_key.empty()) {
    *log = "gateway env file " + env_file + " is missing or incomplete";
    return nullptr;
  }
  setenv("AWS_ACCESS_KEY_ID", gateway->access_key.c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", gateway->secret_key.c_str(), 1);
  setenv("AWS_REGION", gateway->region.c_str(), 1);
  g_gateway = gateway.release();
  if (owned) std::atexit(&StopOwnedGateway);
  return g_gateway;
}

}  // namespace

const S3Gateway* SharedS3Gateway(std::string* log) {
  static std::mutex mutex;
  static std::string start_log;
  static bool tried = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!tried) {
    tried = true;
    StartGateway(&start_log);
  }
  if (g_gateway == nullptr && log != nullptr) *log = start_log;
  return g_gateway;
}

bool StartPrivateS3Gateway(const std::string& dir, S3Gateway* gateway, std::string* log) {
  CommandResult started = RunProcess({Script("ceph-rgw-start.sh"), dir});
  if (started.exit_code != 0) {
    *log = "ops/scripts/ceph-rgw-start.sh " + dir + " failed (exit " +
           std::to_string(started.exit_code) + "):\n" + started.err + started.out;
    return false;
  }
  std::map<std::string, std::string> env = ReadEnvFile(dir + "/s3.env");
  gateway->endpoint = env["CAIRN_S3_ENDPOINT"];
  gateway->access_key = env["AWS_ACCESS_KEY_ID"];
  gateway->secret_key = env["AWS_SECRET_ACCESS_KEY"];
  gateway->region = env["AWS_REGION"];
  gateway->dir = dir;
  gateway->owned = true;
  if (gateway->endpoint.empty() || gateway->access_key.empty()) {
    *log = dir + "/s3.env is missing or incomplete:\n" + started.out;
    return false;
  }
  return true;
}

void StopPrivateS3Gateway(const std::string& dir) { RunProcess({Script("ceph-rgw-stop.sh"), dir}); }

std::string FreshBucketName() {
  // Random per process: a shared gateway outlives many test processes.
  static const std::string run = [] {
    std::random_device random;
    char text[16];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(random()));
    return std::string(text);
  }();
  static std::atomic<int> counter{0};
  return "cairn-" + run + "-" + std::to_string(counter++);
}

std::string S3Url(const S3Gateway& gateway, const std::string& bucket, const std::string& extra) {
  std::string url =
      "s3://" + bucket + "?endpoint=" + gateway.endpoint + "&region=" + gateway.region;
  if (!extra.empty()) url += "&" + extra;
  return url;
}

}  // namespace cairn::testing
