// The route table of `cairn serve`: method + path pattern -> handler. Patterns are literal
// segments and {name} parameters ("/v1/objects/{partner}/{object}"). Every parameter is
// percent-decoded and checked before a handler sees it: {partner}, {object} and {site} (and the
// query parameters of those names) follow the one id rule (repo/site_layout.h), so `..`, `/`,
// NUL or invalid UTF-8 never reach the library; {run}, {version} and {part} are positive numbers;
// {upload} is 32 lower-case hex digits; every other query
// value must be valid UTF-8 without control characters.
#ifndef CAIRN_OPS_SERVER_ROUTER_H_
#define CAIRN_OPS_SERVER_ROUTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "ops/server/api_types.h"

namespace cairn::server {

// A route's work: authorize with repo::access (never decide access here), call the library
// function the matching CLI verb calls, shape the answer. Errors become JSON error bodies.
using Handler = std::function<Result<ApiResponse>(const ApiRequest&)>;

struct Route {
  std::string method;   // "GET", "POST"
  std::string pattern;  // "/v1/objects/{partner}/{object}"
  std::string summary;  // one line, for docs/API.md and the OpenAPI file
  Handler handler;
  // The body is streamed to a spool file (ApiRequest::body_file), never held in memory; the
  // request is authenticated before a byte of it is read.
  bool streams_body = false;
  // For a streamed body: asked before the body is read (authorize there), so that a refused
  // upload costs no spooling. May be empty.
  std::function<Status(const ApiRequest&)> admit;
  // For a streamed body: where it goes, asked after `admit`; empty: a new spool file
  // (ServerOptions::spool_path) removed once answered. Its error refuses the request.
  std::function<Result<SpoolTarget>(const ApiRequest&)> spool_to;
};

class Router {
 public:
  void Add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> path;
    std::map<std::string, std::string> query;
  };
  // The route for `method` and `target` (path and query, percent-encoded) with its decoded
  // parameters. NotFound when no pattern matches the path; NotSupported ("method not
  // allowed") when one matches with another method; InvalidArgument naming the parameter and
  // the rule for a parameter that breaks it.
  Result<Match> Find(std::string_view method, std::string_view target) const;

 private:
  std::vector<Route> routes_;
};

// `text` with %XX sequences decoded ('+' is kept). InvalidArgument for a broken escape.
Result<std::string> PercentDecode(std::string_view text);

// True when `text` is valid UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(std::string_view text);

}  // namespace cairn::server

#endif  // CAIRN_OPS_SERVER_ROUTER_H_
