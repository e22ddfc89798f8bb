// Helpers of the tests of `cairn serve` and of the cairn client (ops/server, ops/client): a
// test CA and server certificate made with the `openssl` command, the real `cairn-testing
// serve` started on a free port, and an HTTPS client (libcurl) that verifies the server
// against the test CA.
#ifndef CAIRN_TESTS_UTIL_SERVE_TEST_UTIL_H_
#define CAIRN_TESTS_UTIL_SERVE_TEST_UTIL_H_

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/test_util.h"

namespace cairn::testing {

struct TestCertificates {
  std::string ca, cert, key;  // PEM files
};

// A CA, and a certificate it signed for 127.0.0.1 (subjectAltName IP), under `dir`. Empty
// paths when openssl failed (the caller asserts).
inline TestCertificates MakeTestCertificates(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string d = dir.string();
  WriteFile(dir / "ext.cnf", "subjectAltName=IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
       "/CN=cairn test CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"},
      {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile",
       d + "/ext.cnf"},
  };
  for (const auto& argv : steps) {
    if (RunProcess(argv).exit_code != 0) return {};
  }
  return {d + "/ca.pem", d + "/server.pem", d + "/server.key"};
}

struct HttpAnswer {
  CURLcode code = CURLE_OK;  // transport outcome; status is 0 unless CURLE_OK
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One request to `url`, verifying the server with `ca` (when not empty). `token` becomes
// "Authorization: Bearer TOKEN" when not empty.
inline HttpAnswer Fetch(const std::string& method, const std::string& url, const std::string& ca,
                        const std::string& token, const std::string& body = "",
                        const std::vector<std::string>& extra_headers = {}) {
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  if (!token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  bool typed = false;
  for (const std::string& h : extra_headers) typed = typed || h.starts_with("Content-Type:");
  if (!body.empty() || method == "POST") {
    if (!typed) headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // send "/.." as is: the server must refuse it
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  auto write = +[](char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  };
  auto header = +[](char* data, size_t size, size_t n, void* out) {
    std::string line(data, size * n);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * n;
  };
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  answer.code = curl_easy_perform(curl);
  if (answer.code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

// `cairn-testing serve` run by a test: started on 127.0.0.1 port 0 (a free one, read back from
// its "listening on" line), stopped with SIGTERM.
class TestServer {
 public:
  ~TestServer() {
    if (pid_ > 0) (void)Stop();
  }
  // Starts serve with `args` (after "serve --listen 127.0.0.1:0") and `env`; false when it did
  // not say it listens within 20 s.
  bool Start(const std::vector<std::string>& args, const std::vector<std::string>& env,
             const fs::path& log) {
    log_ = log;
    std::vector<std::string> argv = {"serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = StartCairn(argv, log, env);
    if (pid_ <= 0) return false;
    for (int i = 0; i < 400; ++i) {
      std::string text = ReadFile(log);
      size_t at = text.find("listening on ");
      size_t colon = at == std::string::npos ? at : text.find("127.0.0.1:", at);
      size_t end = colon == std::string::npos ? colon : text.find('\n', colon);
      if (end != std::string::npos) {
        port_ = std::stoi(text.substr(colon + 10, end - colon - 10));
        return true;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // SIGTERM, then the exit code (-1 when killed by a signal or still running after 30 s, then
  // killed).
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    return Wait(std::chrono::seconds(30));
  }
  // Waits for the server to exit: its exit code, -1 as Stop.
  int Wait(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string Log() const { return ReadFile(log_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  fs::path log_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_UTIL_SERVE_TEST_UTIL_H_
