#include "ops/cli/remote.h"

#include <strings.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string_view>
#include <vector>

#include "ops/cli/settings_sync.h"
#include "ops/server/json_views.h"

namespace cairn::cli {
namespace {

// --server; else none when --repo names a local repository (a flag wins over the other mode's
// variable); else $CAIRN_SERVER, which wins over $CAIRN_REPO.
std::string ServerUrl(const Globals& g) {
  if (!g.server.empty()) return g.server;
  if (!g.repo.empty()) return std::string();
  const char* env = std::getenv("CAIRN_SERVER");
  return env ? std::string(env) : std::string();
}

}  // namespace

Result<std::string> Token(const Globals& g) {
  std::string token;
  if (!g.token_file.empty()) {
    std::ifstream in(g.token_file, std::ios::binary);
    if (!in) return Status::FromErrno(errno, "read --token-file", g.token_file);
    std::getline(in, token);
  } else if (const char* env = std::getenv("CAIRN_TOKEN"); env != nullptr) {
    token = env;
  }
  auto trim = [&token] {
    const size_t start = token.find_first_not_of(" \t");
    token.erase(0, start == std::string::npos ? token.size() : start);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
      token.pop_back();
  };
  trim();
  // "Bearer cairn_..." as the Authorization header carries it: the token is what follows.
  if (token.size() > 7 && strncasecmp(token.c_str(), "Bearer ", 7) == 0) {
    token.erase(0, 7);
    trim();
  }
  if (token.empty() && !g.token_file.empty()) {
    return Status::InvalidArgument("--token-file " + g.token_file +
                                   ": its first line is empty (the token goes on the first "
                                   "line, as `cairn token create` prints it)");
  }
  if (token.empty()) {
    return Status::InvalidArgument(
        "no token for the server: set CAIRN_TOKEN or pass --token-file FILE");
  }
  return token;
}

bool IsRemote(const Globals& g) { return !ServerUrl(g).empty(); }

const char* GlobalValue(int argc, char** argv, std::string_view name) {
  const char* value = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == name && i + 1 < argc) {
      value = argv[++i];
    } else if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
      value = argv[i] + name.size() + 1;
    }
  }
  return value;
}

void ReadModeFlags(int argc, char** argv, Globals& g) {
  const char* server = GlobalValue(argc, argv, "--server");
  const char* repo = GlobalValue(argc, argv, "--repo");
  g.server = server ? server : "";
  g.repo = repo ? repo : "";
}

Status CheckMode(const Globals& g) {
  if (!g.repo.empty() && !g.server.empty()) {
    return Status::InvalidArgument("--repo " + g.repo + " and --server " + g.server +
                                   " both given: a verb runs on a local repository (--repo) or "
                                   "against a server (--server), pass one");
  }
  const char* server_env = std::getenv("CAIRN_SERVER");
  if (!g.repo.empty() && server_env != nullptr && *server_env != '\0') {
    std::cerr << "cairn: note: --repo given, $CAIRN_SERVER (" << server_env << ") not used\n";
  }
  return Status::OK();
}

Result<std::unique_ptr<client::ApiClient>> ConnectServer(const Globals& g) {
  CAIRN_ASSIGN_OR_RETURN(std::string token, Token(g));
  return client::ApiClient::Create({ServerUrl(g), std::move(token), g.ca_file});
}

Result<nlohmann::json> RemoteGet(const Globals& g, const std::string& path,
                                 const client::Query& query, std::vector<std::string>* warnings) {
  if (warnings == nullptr) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<client::ApiClient> api, ConnectServer(g));
    return api->GetJson(path, query);
  }
  return RemoteCall(g, "GET", client::ApiClient::WithQuery(path, query), nullptr, warnings);
}

Result<nlohmann::json> RemoteCall(const Globals& g, const std::string& method,
                                  const std::string& path, const nlohmann::json& body,
                                  std::vector<std::string>* warnings) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<client::ApiClient> api, ConnectServer(g));
  const std::string text = body.is_null() ? "" : body.dump();
  CAIRN_ASSIGN_OR_RETURN(client::ApiClient::Answer answer,
                         api->Call(method, path, body.is_null() ? nullptr : &text));
  *warnings = WarningsOf(answer.headers);
  return std::move(answer.body);
}

std::vector<std::string> WarningsOf(const std::map<std::string, std::string>& fields) {
  std::string name = views::kWarningsHeader;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = fields.find(name);
  return it == fields.end() ? std::vector<std::string>() : views::WarningsOfHeader(it->second);
}

Result<nlohmann::json> RemoteSend(const Globals& g, const std::string& method,
                                  const std::string& path, const std::string& body,
                                  const std::string& content_type) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<client::ApiClient> api, ConnectServer(g));
  return api->SendBody(method, path, body.empty() ? nullptr : &body, content_type);
}

void PrintWarningsOf(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("warnings") || !doc["warnings"].is_array()) return;
  std::vector<std::string> warnings;
  for (const nlohmann::json& w : doc["warnings"]) {
    if (w.is_string()) warnings.push_back(w.get<std::string>());
  }
  PrintSettingsWarnings(warnings);
}

bool OfferedRemotely(const std::string& command) {
  static const std::set<std::string> kOffered = {
      "cairn",
      "cairn version",
      "cairn list",
      "cairn show",
      "cairn usage",
      "cairn events",
      "cairn policy show",
      "cairn audit report",
      "cairn site list",
      "cairn partner list",
      "cairn partner add",
      "cairn deposit",
      "cairn principal add",
      "cairn principal list",
      "cairn principal disable",
      "cairn principal enable",
      "cairn audit schedule add",
      "cairn audit schedule list",
      "cairn audit schedule remove",
      "cairn policy set",
      "cairn restore",
      "cairn whoami",
  };
  // Issue 18: governed withdrawal and legal holds (ops/cli/cmd_withdraw.cc).
  static const std::set<std::string> kWithdrawal = {
      "cairn withdraw request", "cairn withdraw approve", "cairn withdraw cancel",
      "cairn withdraw list",    "cairn hold add",         "cairn hold remove",
      "cairn hold list",
  };
  return kOffered.contains(command) || kWithdrawal.contains(command);
}

bool TouchesNoRepository(const std::string& command) {
  static const std::set<std::string> kTools = {
      "cairn bag create",
      "cairn bag validate",
      "cairn events keygen",
  };
  return kTools.contains(command);
}

int PrintRemoteJson(const Globals& g, const std::string& path, const client::Query& query) {
  Result<nlohmann::json> doc = RemoteGet(g, path, query);
  if (!doc.ok()) return ReportError(doc.status());
  PrintJson(*doc);
  return kExitOk;
}

void PrintJson(const nlohmann::json& doc) {
  std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace cairn::cli
