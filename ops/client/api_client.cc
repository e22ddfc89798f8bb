// The one file of ops/client/ that calls libcurl; nothing it throws or returns escapes as an
// exception (nlohmann parse errors are caught here).
#include "ops/client/api_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>

namespace cairn::client {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The host of `url` after "SCHEME://" (brackets of an IPv6 literal removed), "" when none.
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  size_t at = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, at == std::string::npos ? at : at - start);
  if (size_t user = authority.rfind('@'); user != std::string::npos) authority.erase(0, user + 1);
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    return close == std::string::npos ? "" : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Takes one header line of an answer into `headers` (names in lower case); a status line
// ("HTTP/1.1 100 Continue", then the answer's) starts them again.
void TakeHeaderLine(std::string_view line, std::map<std::string, std::string>& headers) {
  if (line.starts_with("HTTP/")) headers.clear();
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t start = line.find_first_not_of(' ', colon + 1);
  std::string value(start == std::string_view::npos ? "" : line.substr(start));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
  headers[name] = value;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* out) {
  TakeHeaderLine(std::string_view(data, size * n),
                 *static_cast<std::map<std::string, std::string>*>(out));
  return size * n;
}

// One request's outcome as libcurl left it: its code, the HTTP status (0 when none came) and the
// answer's headers and body.
struct Exchange {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string answer;
  std::string error;  // libcurl's text when code is not CURLE_OK
};

// Runs the request `curl` was prepared for (ApiClient::Prepare), collecting the answer, then frees
// `headers`.
Exchange Perform(CURL* curl, curl_slist* headers) {
  Exchange x;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x.answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x.headers);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  x.code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.status);
  if (x.code != CURLE_OK) x.error = error[0] ? error : curl_easy_strerror(x.code);
  return x;
}

// libcurl's words for a failed request, and for a server certificate this machine does not
// trust (a private CA's, "unable to get local issuer certificate") the option that trusts it.
std::string WhyUnreachable(CURLcode code, const std::string& why) {
  if (code != CURLE_PEER_FAILED_VERIFICATION) return why;
  return why +
         " (the server's certificate is not signed by a CA this machine trusts: for a private "
         "CA, pass --ca-file CA.pem, the CA certificate that signed it)";
}

Status Unreachable(const std::string& url, const Exchange& x) {
  return Status::Unavailable("cannot reach " + url + ": " + WhyUnreachable(x.code, x.error));
}

// The JSON document of a successful answer to `path`; Unavailable when it is not JSON.
Result<nlohmann::json> AnswerJson(const std::string& path, const std::string& answer) {
  nlohmann::json doc = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::Unavailable("the server's answer to " + path + " is not JSON");
  }
  return doc;
}

}  // namespace

std::string PercentEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status StatusFromAnswer(long http_status, const std::string& body) {
  std::string message;
  bool retryable = false;
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const nlohmann::json& e = doc["error"];
    if (e.contains("message") && e["message"].is_string()) message = e["message"];
    retryable = e.contains("retryable") && e["retryable"] == true;
    if (e.contains("request_id") && e["request_id"].is_string()) {
      message += " (request " + e["request_id"].get<std::string>() + ")";
    }
  }
  if (message.empty()) message = "the server answered HTTP " + std::to_string(http_status);
  message = "server: " + message;
  if (http_status == 401) return Status::Unauthenticated(message);
  if (http_status == 403) return Status::PermissionDenied(message);
  if (http_status == 404) return Status::NotFound(message);
  if (http_status == 409) return Status::AlreadyExists(message).SetRetryable(retryable);
  if (http_status == 410) return Status::Withdrawn(message);
  if (http_status >= 400 && http_status < 500) return Status::InvalidArgument(message);
  return Status::Unavailable(message);
}

Status StatusFromErrorTrailer(const std::string& value) {
  nlohmann::json doc = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  std::string code, message;
  if (doc.is_object()) {
    if (doc.contains("code") && doc["code"].is_string()) code = doc["code"];
    if (doc.contains("message") && doc["message"].is_string()) message = doc["message"];
    if (doc.contains("request_id") && doc["request_id"].is_string()) {
      message += " (request " + doc["request_id"].get<std::string>() + ")";
    }
  }
  if (message.empty()) message = "the server's answer ended with a failure it did not describe";
  // The code the server names, as the local verb would have it (Corruption: no good copy).
  for (int c = static_cast<int>(Code::kNotFound); c <= static_cast<int>(Code::kWithdrawn); ++c) {
    if (CodeName(static_cast<Code>(c)) == code) {
      Status s(static_cast<Code>(c), "server: " + message);
      return doc.value("retryable", false) ? s.SetRetryable(true) : s;
    }
  }
  return Status::Unavailable("server: " + message);
}

Result<std::unique_ptr<ApiClient>> ApiClient::Create(ServerOptions options) {
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  // The API's prefix, as docs/API.md writes the routes: the base URL is the server's.
  if (options.url.ends_with("/v1")) options.url.resize(options.url.size() - 3);
  const std::string host = HostOf(options.url);
  if (host.empty()) {
    return Status::InvalidArgument("--server must be https://HOST[:PORT], not '" + options.url +
                                   "'");
  }
  if (options.url.starts_with("http://")) {
    if (!IsLoopbackHost(host)) {
      return Status::InvalidArgument(
          "plain http:// would send the token in clear text: only a loopback host may use it "
          "(use https://)");
    }
  } else if (!options.url.starts_with("https://")) {
    return Status::InvalidArgument("--server must be an https:// URL");
  }
  if (options.token.empty()) {
    return Status::InvalidArgument(
        "no token for the server: set CAIRN_TOKEN or pass --token-file FILE");
  }
  for (unsigned char c : options.token) {
    if (c < 0x21 || c > 0x7e) {
      return Status::InvalidArgument(
          "the token holds a character a header cannot carry (a space or a control "
          "character): give the token alone, as `cairn token create` printed it");
    }
  }
  if (!options.ca_file.empty()) {
    std::FILE* f = std::fopen(options.ca_file.c_str(), "rb");
    if (f == nullptr) return Status::InvalidArgument("cannot read --ca-file " + options.ca_file);
    std::fclose(f);
  }
  GlobalInitOnce();
  std::unique_ptr<ApiClient> client(new ApiClient(std::move(options)));
  if (client->curl_ == nullptr) return Status::Unavailable("libcurl could not start");
  return client;
}

ApiClient::ApiClient(ServerOptions options) : options_(std::move(options)) {
  curl_ = curl_easy_init();
}

ApiClient::~ApiClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void* ApiClient::Prepare(const std::string& url, const std::vector<std::string>& extra_headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  const std::string auth = "Authorization: Bearer " + options_.token;
  headers = curl_slist_append(headers, auth.c_str());
  for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // never carry the token elsewhere
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  return headers;
}

Result<ApiClient::Answer> ApiClient::PostStream(const std::string& path,
                                                const std::string& content_type,
                                                const BodyReader& read, int64_t length,
                                                const std::vector<long>& also_ok) {
  std::vector<std::string> extra = {"Accept: application/json", "Content-Type: " + content_type,
                                    "Expect: 100-continue"};
  if (length < 0) extra.push_back("Transfer-Encoding: chunked");
  curl_slist* headers = static_cast<curl_slist*>(Prepare(options_.url + path, extra));
  CURL* curl = static_cast<CURL*>(curl_);
  struct Source {
    const BodyReader* read;
    Status failed;
  } source{&read, Status::OK()};
  auto pull = +[](char* out, size_t size, size_t n, void* arg) -> size_t {
    auto* src = static_cast<Source*>(arg);
    Result<size_t> got = (*src->read)(out, size * n);
    if (!got.ok()) {
      src->failed = got.status();
      return CURL_READFUNC_ABORT;
    }
    return *got;
  };
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  if (length >= 0) curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{length});
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, pull);
  curl_easy_setopt(curl, CURLOPT_READDATA, &source);
  Exchange x = Perform(curl, headers);
  if (!source.failed.ok()) return source.failed;
  // A refusal before the body was sent may end the transfer early: the answer still counts.
  if (x.code != CURLE_OK && x.status == 0) return Unreachable(options_.url, x);
  bool ok = (x.status >= 200 && x.status < 300) ||
            std::find(also_ok.begin(), also_ok.end(), x.status) != also_ok.end();
  if (!ok) return StatusFromAnswer(x.status, x.answer);
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json doc, AnswerJson(path, x.answer));
  return Answer{x.status, std::move(doc), std::move(x.headers)};
}

Result<ApiClient::Answer> ApiClient::Call(const std::string& method, const std::string& path,
                                          const std::string* body, const std::string& content_type,
                                          const std::vector<std::string>& headers,
                                          const std::vector<long>& also_ok) {
  std::vector<std::string> extra = {"Accept: application/json"};
  if (body != nullptr) extra.push_back("Content-Type: " + content_type);
  extra.insert(extra.end(), headers.begin(), headers.end());
  curl_slist* list = static_cast<curl_slist*>(Prepare(options_.url + path, extra));
  CURL* curl = static_cast<CURL*>(curl_);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    // Larger sends than the 64 KiB default: fewer TLS writes and system calls for a large part.
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  Exchange x = Perform(curl, list);
  if (x.code != CURLE_OK) return Unreachable(options_.url, x);
  bool ok = (x.status >= 200 && x.status < 300) ||
            std::find(also_ok.begin(), also_ok.end(), x.status) != also_ok.end();
  if (!ok) return StatusFromAnswer(x.status, x.answer);
  CAIRN_ASSIGN_OR_RETURN(nlohmann::json doc, AnswerJson(path, x.answer));
  return Answer{x.status, std::move(doc), std::move(x.headers)};
}

Result<nlohmann::json> ApiClient::GetJson(const std::string& path, const Query& query) {
  return Send("GET", path, query, nullptr);
}

Result<nlohmann::json> ApiClient::PostJson(const std::string& path, const nlohmann::json& body) {
  std::string text = body.dump();
  return Send("POST", path, {}, &text);
}

Result<nlohmann::json> ApiClient::SendBody(const std::string& method, const std::string& path,
                                           const std::string* body,
                                           const std::string& content_type) {
  return Send(method, path, {}, body, content_type);
}

Result<nlohmann::json> ApiClient::Send(const std::string& method, const std::string& path,
                                       const Query& query, const std::string* body,
                                       const std::string& content_type) {
  CAIRN_ASSIGN_OR_RETURN(std::string answer,
                         SendRaw(method, path, query, body, content_type, "application/json"));
  return AnswerJson(path, answer);
}

std::string ApiClient::WithQuery(const std::string& path, const Query& query) {
  std::string out = path;
  char sep = '?';
  for (const auto& [name, value] : query) {
    if (value.empty()) continue;
    out += sep + PercentEncode(name) + "=" + PercentEncode(value);
    sep = '&';
  }
  return out;
}

Result<std::string> ApiClient::GetText(const std::string& path, const Query& query,
                                       const std::string& accept) {
  return SendRaw("GET", path, query, nullptr, "", accept);
}

Result<std::string> ApiClient::SendRaw(const std::string& method, const std::string& path,
                                       const Query& query, const std::string* body,
                                       const std::string& content_type, const std::string& accept) {
  const std::string url = options_.url + WithQuery(path, query);
  std::vector<std::string> extra = {"Accept: " + accept};
  if (body != nullptr) extra.push_back("Content-Type: " + content_type);
  curl_slist* headers = static_cast<curl_slist*>(Prepare(url, extra));
  CURL* curl = static_cast<CURL*>(curl_);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  Exchange x = Perform(curl, headers);
  if (x.code != CURLE_OK) return Unreachable(options_.url, x);
  if (x.status < 200 || x.status >= 300) return StatusFromAnswer(x.status, x.answer);
  return std::move(x.answer);
}

Result<ApiClient::StreamAnswer> ApiClient::GetStream(
    const std::string& path, const BodySink& sink,
    std::map<std::string, std::string>* failed_fields) {
  curl_slist* headers = static_cast<curl_slist*>(Prepare(options_.url + path, {}));
  CURL* curl = static_cast<CURL*>(curl_);
  struct Target {
    CURL* curl;
    const BodySink* sink;
    StreamAnswer answer;
    bool checked = false;  // the status was looked at
    bool passing = false;  // a 2xx: the body goes to the sink
    std::string error_body;
    Status failed;
  } target{curl, &sink, {}, false, false, {}, Status::OK()};
  auto header = +[](char* data, size_t size, size_t n, void* arg) -> size_t {
    return AppendHeader(data, size, n, &static_cast<Target*>(arg)->answer.headers);
  };
  auto write = +[](char* data, size_t size, size_t n, void* arg) -> size_t {
    auto* t = static_cast<Target*>(arg);
    if (!t->checked) {
      t->checked = true;
      curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->answer.status);
      t->passing = t->answer.status >= 200 && t->answer.status < 300;
    }
    if (!t->passing) {
      if (t->error_body.size() < (1 << 20)) t->error_body.append(data, size * n);
      return size * n;
    }
    Status s = (*t->sink)(std::string_view(data, size * n));
    if (!s.ok()) {
      t->failed = s;
      return 0;  // abandons the transfer
    }
    return size * n;
  };
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &target);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &target);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (!target.failed.ok()) return target.failed;
  if (!target.checked) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &target.answer.status);
  const long status = target.answer.status;
  if (status != 0 && (status < 200 || status >= 300)) {
    Status refused = StatusFromAnswer(status, target.error_body);
    nlohmann::json doc = nlohmann::json::parse(target.error_body, nullptr, false);
    if (doc.is_object() && doc.contains("error") && doc["error"].is_object() &&
        doc["error"].value("code", "") == "Corruption") {
      return Status::Corruption(refused.message());
    }
    return refused;
  }
  if (code != CURLE_OK) {
    std::string why = error[0] ? error : curl_easy_strerror(code);
    if (status == 0) {
      return Status::Unavailable("cannot reach " + options_.url + ": " + WhyUnreachable(code, why));
    }
    return Status::Unavailable("the answer to " + path + " from " + options_.url +
                               " was cut before its end: " + why);
  }
  // A failure the server sent in place of the cut (?on-error=trailer).
  if (auto failed = target.answer.headers.find("x-cairn-error");
      failed != target.answer.headers.end()) {
    if (failed_fields) *failed_fields = target.answer.headers;
    return StatusFromErrorTrailer(failed->second);
  }
  return target.answer;
}

}  // namespace cairn::client
