// How a verb runs against `cairn serve` instead of a local repository (issue 17): the client
// made from the global flags, and the verbs the server offers. A remote verb prints the server's
// document with the same printer as the local verb (the documents are the same, json_views.h).
#ifndef CAIRN_OPS_CLI_REMOTE_H_
#define CAIRN_OPS_CLI_REMOTE_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ops/cli/cli.h"
#include "ops/client/api_client.h"

namespace cairn::cli {

// The token of --token-file (its first line) or $CAIRN_TOKEN, without a "Bearer " before it.
// InvalidArgument when there is none (naming the file when its first line is empty); the token
// is never part of a message.
Result<std::string> Token(const Globals& g);

// Whether the verbs run against a server: --server given, or $CAIRN_SERVER set and no --repo
// given (a flag on the command line wins over the other mode's variable; with neither flag,
// $CAIRN_SERVER wins over $CAIRN_REPO).
bool IsRemote(const Globals& g);

// The value of the global option `name` as the command line gives it, before or after the verb,
// as "NAME VALUE" or "NAME=VALUE" (the last one given); nullptr when absent. For what must be
// known before the parser runs the verbs.
const char* GlobalValue(int argc, char** argv, std::string_view name);

// Reads --server and --repo ("--flag VALUE" or "--flag=VALUE") into `g` before the verbs run,
// so that which mode they run in is known before the command line is parsed.
void ReadModeFlags(int argc, char** argv, Globals& g);

// InvalidArgument naming both when --repo and --server are both given; notes on stderr that
// $CAIRN_SERVER is not used when --repo is given.
Status CheckMode(const Globals& g);

// The client of the server the globals name, with the token of --token-file (its first line)
// or $CAIRN_TOKEN. InvalidArgument when there is no token or ApiClient refuses the options;
// the token is never part of a message.
Result<std::unique_ptr<client::ApiClient>> ConnectServer(const Globals& g);

// GET `path` with `query` from the server the globals name. With `warnings`, also the warnings
// the answer carries beside its document (views::kWarningsHeader: what the verb prints on stderr
// beside its listing).
Result<nlohmann::json> RemoteGet(const Globals& g, const std::string& path,
                                 const client::Query& query = {},
                                 std::vector<std::string>* warnings = nullptr);

// `method` of `path` (its query in it) with the JSON `body` (none when null) to the server the
// globals name: the answer's document, and in `*warnings` the warnings it carries beside it
// (views::kWarningsHeader: what the verb prints on stderr beside its document), none when it
// carries none.
Result<nlohmann::json> RemoteCall(const Globals& g, const std::string& method,
                                  const std::string& path, const nlohmann::json& body,
                                  std::vector<std::string>* warnings);

// The warnings an answer's headers or trailers carry (views::kWarningsHeader; `fields` named in
// lower case, as ApiClient gives them): what the verb prints on stderr beside its document;
// none when it carries none.
std::vector<std::string> WarningsOf(const std::map<std::string, std::string>& fields);

// `method` (POST, PUT, DELETE) of `path` with `body` (none when empty) as `content_type` to
// the server the globals name; the answer's JSON.
Result<nlohmann::json> RemoteSend(const Globals& g, const std::string& method,
                                  const std::string& path, const std::string& body = "",
                                  const std::string& content_type = "application/json");

// Prints, as the local verbs do (PrintSettingsWarnings), the "warnings" of a settings change's
// document: the sites that did not take it.
void PrintWarningsOf(const nlohmann::json& doc);

// Whether `command` ("cairn list", "cairn policy show") runs against a server. main.cc
// refuses the others with exit 2 when IsRemote.
bool OfferedRemotely(const std::string& command);

// Whether `command` is a tool that touches no repository ("cairn bag create", "cairn bag
// validate", "cairn events keygen"): it runs here whatever --server or $CAIRN_SERVER say.
bool TouchesNoRepository(const std::string& command);

// Prints the server's JSON answer to GET `path` with `query` (as --json prints) and returns
// kExitOk, or reports the error. For the remote verbs whose document is printed as is.
int PrintRemoteJson(const Globals& g, const std::string& path, const client::Query& query = {});

// Prints `doc` as the verbs print --json (indent 2, invalid UTF-8 replaced).
void PrintJson(const nlohmann::json& doc);

}  // namespace cairn::cli

#endif  // CAIRN_OPS_CLI_REMOTE_H_
