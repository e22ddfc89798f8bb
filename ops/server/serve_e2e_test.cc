// `cairn serve` end to end: the real cairn-testing binary serving a real repository over TLS
// (a test CA made by openssl, verified by the client), driven by libcurl. Every route with
// every role and without a token; refusals name nothing of the other partner; the documents
// equal what `cairn X --json` prints; the limits answer 4xx and the server keeps serving;
// SIGTERM exits 0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <tuple>

#include "ops/server/api_routes.h"
#include "tests/util/repo_fixture.h"
#include "tests/util/serve_test_util.h"

namespace cairn::testing {
namespace {

// The principals of the tests, made with `cairn principal add` and given a token each with
// `cairn token create`.
struct TestPrincipal {
  std::string name, role, partner;
};
const std::vector<TestPrincipal> kPrincipals = {
    {"dora@acme", "depositor", "acme"},
    {"ada@acme", "partner-admin", "acme"},
    {"audrey", "auditor", ""},
    {"otto", "operator", ""},
};

class ServeTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("acme").string(), "acme-box");
    Deposit("beta", MakeSourceFolder("beta").string(), "beta-secret-box");
    certs_ = MakeTestCertificates(tmp_ / "tls");
    ASSERT_FALSE(certs_.ca.empty()) << "openssl could not make the test certificates";
  }

  // A new token of principal `name`, from `cairn token create` (the principal is made the
  // first time, with `role` and `partner`).
  std::string NewToken(const std::string& name, const std::string& expires = "never") {
    CommandResult made = Cairn({"token", "create", name, "--expires", expires});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::string token = made.out.substr(0, made.out.find('\n'));
    EXPECT_TRUE(token.starts_with("cairn_")) << made.out;
    return token;
  }
  void AddPrincipal(const TestPrincipal& p) {
    std::vector<std::string> args = {"principal", "add", p.name, "--role", p.role};
    if (!p.partner.empty()) args.insert(args.end(), {"--partner", p.partner});
    CommandResult added = Cairn(args);
    ASSERT_EQ(added.exit_code, 0) << added.err;
  }
  // The token of one of kPrincipals (made on first use).
  std::string Token(const std::string& name) {
    if (tokens_.contains(name)) return tokens_[name];
    for (const TestPrincipal& p : kPrincipals) {
      if (p.name == name) AddPrincipal(p);
    }
    return tokens_[name] = NewToken(name);
  }

  void StartServer(const std::vector<std::string>& extra = {}) {
    for (const TestPrincipal& p : kPrincipals) (void)Token(p.name);
    std::vector<std::string> args = {"--tls-cert", certs_.cert, "--tls-key", certs_.key};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(server_.Start(args, {"CAIRN_REPO=" + Root()}, tmp_ / "serve.log"))
        << ReadFile(tmp_ / "serve.log");
  }

  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  HttpAnswer Get(const std::string& path, const std::string& token) {
    return Fetch("GET", Url(path), certs_.ca, token);
  }

  TestCertificates certs_;
  TestServer server_;
  std::map<std::string, std::string> tokens_;  // principal name -> its token
};

// Whether a refusal's body says anything about partner beta.
bool NamesBeta(const std::string& body) {
  return body.find("beta") != std::string::npos || body.find("secret") != std::string::npos;
}

TEST_F(ServeTest, EveryRouteWithEveryRoleAndWithoutToken) {
  StartServer();
  struct Case {
    std::string method, path;
    // Expected status for: no token, depositor(acme), partner-admin(acme), auditor, operator.
    std::vector<long> want;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/whoami", {401, 200, 200, 200, 200}},
      {"GET", "/v1/objects", {401, 200, 200, 200, 200}},
      {"GET", "/v1/objects?partner=acme", {401, 200, 200, 200, 200}},
      {"GET", "/v1/objects?partner=beta", {401, 403, 403, 200, 200}},
      {"GET", "/v1/objects/acme/acme-box", {401, 200, 200, 200, 200}},
      {"GET", "/v1/objects/acme/acme-box?version=1", {401, 200, 200, 200, 200}},
      {"GET", "/v1/objects/acme/no-such-box", {401, 404, 404, 404, 404}},
      {"GET", "/v1/objects/beta/beta-secret-box", {401, 403, 403, 200, 200}},
      // No existence oracle: a missing object of another partner is refused the same way.
      {"GET", "/v1/objects/beta/secret-missing", {401, 403, 403, 404, 404}},
      {"GET", "/v1/usage", {401, 200, 200, 200, 200}},
      {"GET", "/v1/usage?partner=beta", {401, 403, 403, 200, 200}},
      {"GET", "/v1/events", {401, 200, 200, 200, 200}},
      {"GET", "/v1/events?format=premis", {401, 200, 200, 200, 200}},
      {"GET", "/v1/events?partner=acme&object=acme-box", {401, 200, 200, 200, 200}},
      {"GET", "/v1/events?partner=beta", {401, 403, 403, 200, 200}},
      {"GET", "/v1/events?partner=beta&object=beta-secret-box", {401, 403, 403, 200, 200}},
      {"GET", "/v1/policy", {401, 200, 200, 200, 200}},
      {"GET", "/v1/policy?partner=beta", {401, 403, 403, 200, 200}},
      {"GET", "/v1/audit/runs", {401, 403, 403, 200, 200}},
      {"GET", "/v1/audit/runs/999", {401, 403, 403, 404, 404}},
      {"GET", "/v1/sites", {401, 403, 403, 403, 200}},
      {"GET", "/v1/partners", {401, 403, 403, 403, 200}},
      {"GET", "/v1/principals", {401, 403, 403, 403, 200}},
      {"GET", "/v1/schedules", {401, 403, 403, 403, 200}},
      // Resumable uploads: opened by who may deposit to the partner; an upload that is not the
      // caller's (here: none at all) is 404 to everyone.
      {"POST", "/v1/uploads/acme/fresh", {401, 201, 201, 403, 201}},
      {"POST", "/v1/uploads/beta/planted", {401, 403, 403, 403, 201}},
      {"GET", "/v1/uploads/0123456789abcdef0123456789abcdef", {401, 404, 404, 404, 404}},
      {"POST", "/v1/uploads/0123456789abcdef0123456789abcdef/complete", {401, 404, 404, 404, 404}},
      {"DELETE", "/v1/uploads/0123456789abcdef0123456789abcdef", {401, 404, 404, 404, 404}},
      // Content: never an auditor's; another partner's, present or not, refused alike.
      {"GET", "/v1/objects/acme/acme-box/content", {401, 200, 200, 403, 200}},
      {"GET", "/v1/objects/beta/beta-secret-box/content", {401, 403, 403, 403, 200}},
      {"GET", "/v1/objects/beta/secret-missing/content", {401, 403, 403, 403, 404}},
      {"GET", "/v1/withdrawals", {401, 200, 200, 200, 200}},
      {"GET", "/v1/holds", {401, 200, 200, 200, 200}},
      {"POST", "/v1/withdrawals/999/approve", {401, 404, 404, 404, 404}},
  };
  std::vector<std::string> tokens = {""};
  for (const TestPrincipal& p : kPrincipals) tokens.push_back(Token(p.name));
  for (const Case& c : cases) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      HttpAnswer a = Fetch(c.method, Url(c.path), certs_.ca, tokens[i]);
      SCOPED_TRACE(c.method + " " + c.path + " as " + (i ? kPrincipals[i - 1].name : "nobody"));
      ASSERT_EQ(a.code, CURLE_OK);
      EXPECT_EQ(a.status, c.want[i]) << a.body;
      ASSERT_FALSE(a.headers["x-request-id"].empty());
      if (a.status >= 400) {
        nlohmann::json e = nlohmann::json::parse(a.body);
        EXPECT_EQ(e["error"]["request_id"], a.headers["x-request-id"]);
        EXPECT_FALSE(e["error"]["message"].get<std::string>().empty());
      }
      // Nothing an acme principal gets, answer or refusal, shows the other partner.
      bool acme_role = i == 1 || i == 2;
      if (acme_role) EXPECT_FALSE(NamesBeta(a.body)) << a.body;
    }
  }
  // POST /v1/partners: operator only; the others learn nothing and change nothing.
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string id = "new-partner-" + std::to_string(i);
    HttpAnswer a = Fetch("POST", Url("/v1/partners"), certs_.ca, tokens[i],
                         "{\"id\": \"" + id + "\", \"name\": \"New\"}");
    EXPECT_EQ(a.status, i == 0 ? 401 : i == 4 ? 201 : 403) << a.body;
  }
  CommandResult partners = Cairn({"partner", "list", "--json"});
  ASSERT_EQ(partners.exit_code, 0) << partners.err;
  EXPECT_NE(partners.out.find("new-partner-4"), std::string::npos);
  for (int i : {0, 1, 2, 3}) {
    EXPECT_EQ(partners.out.find("new-partner-" + std::to_string(i)), std::string::npos);
  }
  // The operator's settings routes: operator only; the others change nothing.
  for (size_t i = 0; i < tokens.size(); ++i) {
    SCOPED_TRACE("settings as " + (i ? kPrincipals[i - 1].name : std::string("nobody")));
    const long want = i == 0 ? 401 : i == 4 ? 0 : 403;
    const std::string n = std::to_string(i);
    HttpAnswer principal = Fetch("POST", Url("/v1/principals"), certs_.ca, tokens[i],
                                 "{\"name\": \"p" + n + "\", \"role\": \"auditor\"}");
    EXPECT_EQ(principal.status, want ? want : 201) << principal.body;
    HttpAnswer schedule = Fetch("POST", Url("/v1/schedules"), certs_.ca, tokens[i],
                                "{\"name\": \"s" + n + "\", \"every\": \"1d\"}");
    EXPECT_EQ(schedule.status, want ? want : 201) << schedule.body;
    HttpAnswer removed = Fetch("DELETE", Url("/v1/schedules/s" + n), certs_.ca, tokens[i]);
    EXPECT_EQ(removed.status, want ? want : 200) << removed.body;
    HttpAnswer policy = Fetch("PUT", Url("/v1/policy/acme"), certs_.ca, tokens[i],
                              "copies: 2\n# sent by " + n + "\n", {"Content-Type: text/plain"});
    EXPECT_EQ(policy.status, want ? want : 200) << policy.body;
    if (i != 4) {  // the operator's would work (see ClientTest)
      HttpAnswer disable =
          Fetch("POST", Url("/v1/principals/audrey/disable"), certs_.ca, tokens[i]);
      EXPECT_EQ(disable.status, want) << disable.body;
      HttpAnswer enable = Fetch("POST", Url("/v1/principals/audrey/enable"), certs_.ca, tokens[i]);
      EXPECT_EQ(enable.status, want) << enable.body;
    }
  }
  CommandResult principals = Cairn({"principal", "list", "--json"});
  EXPECT_NE(principals.out.find("\"p4\""), std::string::npos) << principals.out;
  for (int i : {0, 1, 2, 3}) {
    EXPECT_EQ(principals.out.find("\"p" + std::to_string(i) + "\""), std::string::npos);
  }
  EXPECT_EQ(principals.out.find("\"disabled\": \"2"), std::string::npos) << "audrey still enabled";
  CommandResult policy = Cairn({"policy", "show", "--partner", "acme", "--json"});
  EXPECT_EQ(nlohmann::json::parse(policy.out)["text"], "copies: 2\n# sent by 4\n") << policy.out;
  // Bad bodies: 400 naming the rule; the server keeps serving.
  const std::string otto = Token("otto");
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/v1/principals", "{\"name\": \"../x\", \"role\": \"auditor\"}"},
           {"POST", "/v1/principals", "{\"name\": \"x\", \"role\": \"king\"}"},
           {"POST", "/v1/principals", "[1, 2]"},
           {"POST", "/v1/principals", "{\"name\": \"x\", \"role\": \"auditor\", \"admin\": true}"},
           {"POST", "/v1/schedules", "{\"name\": \"x\", \"every\": \"soon\"}"},
           {"POST", "/v1/schedules", "{\"name\": \"x\", \"every\": \"1d\", \"object\": \"a\"}"},
           {"POST", "/v1/schedules", "not json"},
           {"PUT", "/v1/policy/acme", "copies: many\n"},
           {"PUT", "/v1/policy", "\xff\xfe"}}) {
    HttpAnswer a = Fetch(method, Url(path), certs_.ca, otto, body);
    EXPECT_EQ(a.status, 400) << method << " " << path << " " << body << ": " << a.body;
  }
  EXPECT_EQ(Fetch("PUT", Url("/v1/policy/nobody"), certs_.ca, otto, "copies: 1\n").status, 404);

  // The access log has one line per request, with the principal and never a token.
  std::string log = server_.Log();
  EXPECT_NE(log.find(" dora@acme GET /v1/objects 200 "), std::string::npos) << log;
  EXPECT_NE(log.find(" - GET /v1/whoami 401 "), std::string::npos) << log;
  for (const auto& [name, token] : tokens_) EXPECT_EQ(log.find(token), std::string::npos);
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

// Issue 18 through the API: who may request and approve a withdrawal, the two-person rule,
// and a partner's principal never reaching the other partner's objects.
TEST_F(ServeTest, WithdrawalsByRole) {
  StartServer();
  const std::string request =
      R"({"partner": "acme", "object": "acme-box", "reason": "consent withdrawn"})";
  for (const char* who : {"dora@acme", "audrey"}) {
    HttpAnswer a = Fetch("POST", Url("/v1/withdrawals"), certs_.ca, Token(who), request);
    EXPECT_EQ(a.status, 403) << who << ": " << a.body;
  }
  HttpAnswer beta = Fetch("POST", Url("/v1/withdrawals"), certs_.ca, Token("ada@acme"),
                          R"({"partner": "beta", "object": "beta-secret-box", "reason": "x"})");
  EXPECT_EQ(beta.status, 403) << beta.body;
  EXPECT_EQ(beta.body.find("secret"), std::string::npos) << beta.body;
  HttpAnswer asked = Fetch("POST", Url("/v1/withdrawals"), certs_.ca, Token("ada@acme"), request);
  ASSERT_EQ(asked.status, 201) << asked.body;
  const std::string id = std::to_string(nlohmann::json::parse(asked.body)["id"].get<int64_t>());
  const std::string approve = "/v1/withdrawals/" + id + "/approve";
  HttpAnswer self = Fetch("POST", Url(approve), certs_.ca, Token("ada@acme"), "{}");
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_NE(self.body.find("a second person approves"), std::string::npos) << self.body;
  HttpAnswer depositor = Fetch("POST", Url(approve), certs_.ca, Token("dora@acme"), "{}");
  EXPECT_EQ(depositor.status, 403) << depositor.body;
  HttpAnswer approved = Fetch("POST", Url(approve), certs_.ca, Token("otto"), "{}");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(nlohmann::json::parse(approved.body)["withdrawal"]["state"], "withdrawn");
  HttpAnswer show = Get("/v1/objects/acme/acme-box", Token("dora@acme"));
  EXPECT_EQ(show.status, 410) << show.body;
  EXPECT_NE(show.body.find("is withdrawn since"), std::string::npos) << show.body;
  EXPECT_NE(show.body.find("\"Withdrawn\""), std::string::npos) << show.body;
  HttpAnswer content = Get("/v1/objects/acme/acme-box/versions/1/content", Token("dora@acme"));
  EXPECT_EQ(content.status, 410) << content.body;
  HttpAnswer listed = Get("/v1/withdrawals", Token("dora@acme"));
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(nlohmann::json::parse(listed.body).size(), 1u);
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

TEST_F(ServeTest, DocumentsEqualWhatTheVerbsPrint) {
  StartServer();
  const std::vector<std::pair<std::string, std::vector<std::string>>> pairs = {
      {"/v1/objects", {"list", "--json"}},
      {"/v1/objects/acme/acme-box", {"show", "acme/acme-box", "--json"}},
      {"/v1/usage", {"usage", "--json"}},
      {"/v1/policy?partner=acme", {"policy", "show", "--partner", "acme", "--json"}},
      {"/v1/partners", {"partner", "list", "--json"}},
      {"/v1/sites", {"site", "list", "--json"}},
      {"/v1/events?partner=acme&object=acme-box", {"events", "acme/acme-box", "--format", "json"}},
      {"/v1/audit/runs", {"audit", "report", "--json"}},
  };
  for (const auto& [path, verb] : pairs) {
    SCOPED_TRACE(path);
    HttpAnswer a = Get(path, Token("otto"));
    ASSERT_EQ(a.status, 200) << a.body;
    CommandResult r = Cairn(verb);
    ASSERT_LE(r.exit_code, 1) << r.err;
    nlohmann::json served = nlohmann::json::parse(a.body), printed = nlohmann::json::parse(r.out);
    // The audit report's "generated" is the second it was made: the two may straddle one.
    if (served.is_object()) served.erase("generated");
    if (printed.is_object()) printed.erase("generated");
    EXPECT_EQ(served, printed);
  }
  HttpAnswer premis = Get("/v1/events?format=premis", Token("audrey"));
  ASSERT_EQ(premis.status, 200);
  EXPECT_EQ(premis.headers["content-type"], "application/xml");
  CommandResult xml = Cairn({"events", "--format", "premis"});
  EXPECT_EQ(premis.body, xml.out);
  // A depositor's usage is its own partner's entry only.
  nlohmann::json usage = nlohmann::json::parse(Get("/v1/usage", Token("dora@acme")).body);
  ASSERT_EQ(usage["partners"].size(), 1u);
  EXPECT_EQ(usage["partners"][0]["partner"], "acme");
  EXPECT_FALSE(usage.contains("sites"));
  // Nor a fair share: split among the partners holding the same content, it would tell how
  // many others hold a file the partner can guess.
  for (const char* key : {"fair_bytes", "stored_bytes", "stored_bytes_by_site"}) {
    EXPECT_FALSE(usage["partners"][0].contains(key)) << key;
  }
  EXPECT_GT(usage["partners"][0].value("unique_bytes", 0), 0);
  // The consortium's own principals still see the split.
  nlohmann::json full = nlohmann::json::parse(Get("/v1/usage?partner=acme", Token("otto")).body);
  EXPECT_TRUE(full["partners"][0].contains("fair_bytes")) << full.dump();
}

TEST_F(ServeTest, BadRequestsAre4xxAndTheServerKeepsServing) {
  StartServer({"--max-body", "1K", "--max-header", "4096"});
  auto still_serving = [&] {
    HttpAnswer a = Get("/v1/whoami", Token("otto"));
    EXPECT_EQ(a.status, 200) << a.body;
  };
  // Ids with "..", "/", NUL, invalid UTF-8; a broken escape.
  for (const char* path :
       {"/v1/objects/acme/..", "/v1/objects/acme/a%2Fb", "/v1/objects/acme/a%00b",
        "/v1/objects/acme/%C3%28", "/v1/objects/acme/x%2", "/v1/objects?partner=..",
        "/v1/events?type=%C3%28", "/v1/objects/acme/acme-box?version=x"}) {
    HttpAnswer a = Get(path, Token("otto"));
    EXPECT_EQ(a.status, 400) << path << " " << a.body;
    EXPECT_EQ(nlohmann::json::parse(a.body)["error"]["code"], "InvalidArgument") << path;
    still_serving();
  }
  // Malformed JSON, and JSON of the wrong shape.
  for (const char* body : {"{bad", "[1,2]", "{\"id\": 7}", "{\"id\": \"..\"}"}) {
    HttpAnswer a = Fetch("POST", Url("/v1/partners"), certs_.ca, Token("otto"), body);
    EXPECT_EQ(a.status, 400) << body << " " << a.body;
    still_serving();
  }
  // Unknown route, wrong method.
  EXPECT_EQ(Get("/v1/nothing", Token("otto")).status, 404);
  EXPECT_EQ(Fetch("DELETE", Url("/v1/objects"), certs_.ca, Token("otto")).status, 405);
  // Oversized header and body.
  HttpAnswer big_header = Fetch("GET", Url("/v1/whoami"), certs_.ca, Token("otto"), "",
                                {"X-Padding: " + std::string(8000, 'x')});
  EXPECT_EQ(big_header.status, 431) << big_header.body;
  still_serving();
  HttpAnswer big_body = Fetch("POST", Url("/v1/partners"), certs_.ca, Token("otto"),
                              "{\"id\": \"x\", \"name\": \"" + std::string(4000, 'n') + "\"}");
  EXPECT_EQ(big_body.status, 413) << big_body.body;
  still_serving();
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

// Connects to 127.0.0.1:port (from `from`, an address of the loopback net, when given) and
// returns the socket (-1 on failure).
int ConnectTcp(int port, const char* from = nullptr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (from != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Seconds until the server closes `fd` (reads until EOF), at most `limit`.
double SecondsUntilClosed(int fd, int limit) {
  timeval tv{limit, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto start = std::chrono::steady_clock::now();
  char buf[512];
  while (recv(fd, buf, sizeof buf, 0) > 0) {
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST_F(ServeTest, SlowClientsAreCutOffWithoutBlockingOthers) {
  StartServer({"--header-timeout", "1"});
  int slow = ConnectTcp(server_.port());
  ASSERT_GE(slow, 0);
  (void)send(slow, "\x16\x03", 2, 0);  // the start of a TLS hello, then nothing
  // Others are served meanwhile.
  EXPECT_EQ(Get("/v1/whoami", Token("dora@acme")).status, 200);
  double closed_after = SecondsUntilClosed(slow, 10);
  close(slow);
  EXPECT_LT(closed_after, 5.0);
  EXPECT_EQ(Get("/v1/whoami", Token("dora@acme")).status, 200);
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

// 300 idle connections from one address took every one of --max-connections: the server
// then refused everyone else. One address now holds at most --max-connections-per-address;
// others, and the same address once its connections close, are served. A client refused so
// saw only a TLS error (the reason was in the server's log alone): it is now answered 503 with
// the reason and Retry-After, and the cairn command prints the server's words.
TEST_F(ServeTest, OneAddressCannotTakeEveryConnection) {
  StartServer({"--max-connections", "8", "--max-connections-per-address", "3"});
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(ConnectTcp(server_.port()));
    ASSERT_GE(idle.back(), 0);
  }
  // Past the limit: a client that says nothing is closed soon, holding nothing for long.
  int fourth = ConnectTcp(server_.port());
  ASSERT_GE(fourth, 0);
  EXPECT_LT(SecondsUntilClosed(fourth, 10), 5.0);
  close(fourth);
  // One that asks is told why, and when to try again.
  HttpAnswer refused = Get("/v1/whoami", Token("dora@acme"));
  EXPECT_EQ(refused.code, CURLE_OK) << curl_easy_strerror(refused.code);
  EXPECT_EQ(refused.status, 503) << refused.body;
  nlohmann::json error = nlohmann::json::parse(refused.body, nullptr, false);
  ASSERT_TRUE(error.is_object()) << refused.body;
  EXPECT_EQ(error["error"]["code"], "Unavailable") << refused.body;
  const std::string why = "too many connections from 127.0.0.1 (--max-connections-per-address 3)";
  EXPECT_NE(error["error"].value("message", "").find(why), std::string::npos) << refused.body;
  EXPECT_EQ(error["error"]["retryable"], true) << refused.body;
  EXPECT_TRUE(refused.headers.contains("retry-after")) << refused.body;
  CommandResult remote = RunCairn({"--server", Url(""), "--ca-file", certs_.ca, "list"},
                                  {"CAIRN_TOKEN=" + Token("dora@acme"), "CAIRN_REPO="});
  EXPECT_EQ(remote.exit_code, 2) << remote.out << remote.err;
  EXPECT_NE(remote.err.find(why), std::string::npos) << remote.err;
  // Another address of the loopback net is not refused: still open a second later.
  int other = ConnectTcp(server_.port(), "127.0.0.2");
  ASSERT_GE(other, 0);
  EXPECT_GE(SecondsUntilClosed(other, 1), 0.9);
  close(other);
  for (int fd : idle) close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server sees them go
  EXPECT_EQ(Get("/v1/whoami", Token("dora@acme")).status, 200);
  EXPECT_NE(server_.Log().find("too many connections from 127.0.0.1"), std::string::npos)
      << server_.Log();
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

TEST_F(ServeTest, FailedAuthenticationsFromOneAddressAreSlowed) {
  StartServer();
  const std::string auditor = Token("audrey");
  auto timed = [&](const std::string& token) {
    auto start = std::chrono::steady_clock::now();
    HttpAnswer a = Get("/v1/whoami", token);
    EXPECT_EQ(a.status, token == "wrong" ? 401 : 200);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double first = timed("wrong");
  for (int i = 0; i < 4; ++i) (void)timed("wrong");
  double sixth = timed("wrong");  // 50 ms x 2^4 = 800 ms
  EXPECT_GT(sixth, 0.7);
  EXPECT_GT(sixth, first + 0.5);
  // A success forgets the address.
  (void)timed(auditor);
  EXPECT_LT(timed("wrong"), 0.5);
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(ServeTest, SigtermClosesIdleConnectionsAndExitsZero) {
  StartServer();
  EXPECT_EQ(Get("/v1/whoami", Token("otto")).status, 200);
  int idle = ConnectTcp(server_.port());  // connected, never says anything
  ASSERT_GE(idle, 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(server_.pid(), SIGTERM), 0);
  EXPECT_EQ(server_.Wait(std::chrono::seconds(20)), 0) << server_.Log();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, 5.0);  // the idle connection did not hold it until the grace period
  close(idle);
  EXPECT_NE(server_.Log().find("cairn serve: stopped"), std::string::npos);
  EXPECT_NE(Get("/v1/whoami", Token("otto")).code, CURLE_OK);  // no longer listening
}

TEST_F(ServeTest, RevokedExpiredAndDisabledTokensAre401) {
  StartServer();
  const std::string dora = Token("dora@acme");
  ASSERT_EQ(Get("/v1/whoami", dora).status, 200);
  const std::string short_lived = NewToken("dora@acme", "1s");
  ASSERT_EQ(Get("/v1/whoami", short_lived).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  HttpAnswer expired = Get("/v1/whoami", short_lived);
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_EQ(expired.body.find(short_lived), std::string::npos);
  // Revoked: by its public id, the part between "cairn_" and the next '_'.
  const std::string id = dora.substr(6, dora.find('_', 6) - 6);
  CommandResult revoke = Cairn({"token", "revoke", id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  HttpAnswer revoked = Get("/v1/whoami", dora);
  EXPECT_EQ(revoked.status, 401) << revoked.body;
  EXPECT_EQ(nlohmann::json::parse(revoked.body)["error"]["code"], "Unauthenticated");
  // Disabled principal: none of its tokens works.
  const std::string auditor = Token("audrey");
  ASSERT_EQ(Get("/v1/whoami", auditor).status, 200);
  ASSERT_EQ(Cairn({"principal", "disable", "audrey"}).exit_code, 0);
  EXPECT_EQ(Get("/v1/whoami", auditor).status, 401);
  // A token that was never issued, and a well-formed one with a wrong secret.
  EXPECT_EQ(Get("/v1/whoami", "cairn_000000000000_AAAA").status, 401);
  std::string forged = Token("otto");
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get("/v1/whoami", forged).status, 401);
  std::string log = server_.Log();
  for (const std::string& t : {dora, short_lived, auditor, forged}) {
    EXPECT_EQ(log.find(t), std::string::npos);
  }
  EXPECT_EQ(server_.Stop(), 0);
}

// A principal disabled after the catalog's backup was enabled again by that backup put back:
// its tokens worked again through the server (the sites kept the disabling, but authentication
// read only the catalog). Refused while a site records a change of the principal the catalog
// never saw, whether the catalog is put back under a running server or before it starts;
// principals the sites agree on keep working.
TEST_F(ServeTest, APrincipalDisabledAfterTheCatalogsBackupIsNotEnabledByIt) {
  StartServer();
  const std::string auditor = Token("audrey");
  const std::string dora = Token("dora@acme");
  ASSERT_EQ(Get("/v1/whoami", auditor).status, 200);
  ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0);  // settles the catalog file
  const fs::path backup = tmp_ / "catalog-backup.db";
  BackUpCatalog(backup);
  ASSERT_EQ(Cairn({"principal", "disable", "audrey"}).exit_code, 0);
  ASSERT_EQ(Get("/v1/whoami", auditor).status, 401);
  PutCatalogBack(backup);  // under the running server
  HttpAnswer refused = Get("/v1/whoami", auditor);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_NE(refused.body.find("principal audrey is refused"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("catalog rebuild --from"), std::string::npos) << refused.body;
  EXPECT_EQ(Get("/v1/whoami", dora).status, 200);
  EXPECT_EQ(server_.Stop(), 0);
  PutCatalogBack(backup);
  StartServer();  // on the old catalog from the start
  EXPECT_EQ(Get("/v1/whoami", auditor).status, 401);
  EXPECT_EQ(Get("/v1/whoami", dora).status, 200);
  EXPECT_EQ(server_.Stop(), 0);
}

// A token revoked after the catalog's backup worked again once that backup was put back: the
// revocation was kept only in the catalog. The principal's record on the sites names its
// revoked tokens, so the revocation is a change of the principal the old catalog never saw: its
// tokens are refused until the rebuild, as a disabling is; other principals keep working.
TEST_F(ServeTest, ATokenRevokedAfterTheCatalogsBackupIsNotEnabledByIt) {
  StartServer();
  const std::string dora = Token("dora@acme");
  const std::string auditor = Token("audrey");
  ASSERT_EQ(Get("/v1/whoami", dora).status, 200);
  ASSERT_EQ(Cairn({"events", "verify"}).exit_code, 0);  // settles the catalog file
  const fs::path backup = tmp_ / "catalog-backup.db";
  BackUpCatalog(backup);
  const std::string id = dora.substr(6, dora.find('_', 6) - 6);
  CommandResult revoke = Cairn({"token", "revoke", id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(revoke.err, "");  // written to every site, no warning
  ASSERT_EQ(Get("/v1/whoami", dora).status, 401);
  PutCatalogBack(backup);  // under the running server
  HttpAnswer refused = Get("/v1/whoami", dora);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_NE(refused.body.find("principal dora@acme is refused"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("catalog rebuild --from"), std::string::npos) << refused.body;
  EXPECT_EQ(Get("/v1/whoami", auditor).status, 200);
  // Revoked again in the old catalog (as a careful operator would): it agrees with the sites.
  EXPECT_EQ(Cairn({"token", "revoke", id}).exit_code, 0);
  EXPECT_EQ(Get("/v1/whoami", dora).status, 401);
  EXPECT_EQ(server_.Stop(), 0);
}

// Names of the files in REPO/tmp that are spooled uploads.
std::vector<std::string> SpooledUploads(const fs::path& repo) {
  std::vector<std::string> found;
  if (!fs::exists(repo / "tmp")) return found;
  for (fs::directory_iterator it(repo / "tmp"), end; it != end; ++it) {
    std::string name = it->path().filename().string();
    if (name.starts_with("upload-")) found.push_back(name);
  }
  return found;
}

TEST_F(ServeTest, DepositsASerializedBagStreamedInTheBody) {
  StartServer({"--max-upload", "200K"});
  fs::path src = MakeSourceFolder("upload");
  CommandResult bagged = Cairn({"bag", "create", src.string(), (tmp_ / "up.tar").string()});
  ASSERT_EQ(bagged.exit_code, 0) << bagged.err;
  const std::string tar = ReadFile(tmp_ / "up.tar");
  // As a client should: the server answers a refusal before the body is sent.
  const std::vector<std::string> as_tar = {"Content-Type: application/x-tar",
                                           "Expect: 100-continue"};
  const std::string dora = Token("dora@acme");

  HttpAnswer stored =
      Fetch("POST", Url("/v1/deposits/acme/uploaded-box"), certs_.ca, dora, tar, as_tar);
  ASSERT_EQ(stored.status, 201) << stored.body;
  nlohmann::json receipt = nlohmann::json::parse(stored.body);
  EXPECT_EQ(receipt["stored"], true);
  EXPECT_EQ(receipt["receipt"]["version"], 1);
  EXPECT_EQ(receipt["receipt"]["files"], 3);
  EXPECT_EQ(stored.body.find("/tmp/upload-"), std::string::npos) << stored.body;
  CommandResult show = Cairn({"show", "acme/uploaded-box", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["versions"][0]["depositor"], "dora@acme");
  EXPECT_TRUE(SpooledUploads(Root()).empty());

  // Another partner: refused before the body is read; nothing stored.
  HttpAnswer other =
      Fetch("POST", Url("/v1/deposits/beta/planted-box"), certs_.ca, dora, tar, as_tar);
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_FALSE(NamesBeta(other.body)) << other.body;
  EXPECT_EQ(Fetch("POST", Url("/v1/deposits/acme/x"), certs_.ca, "", tar, as_tar).status, 401);
  EXPECT_EQ(
      Fetch("POST", Url("/v1/deposits/acme/x"), certs_.ca, Token("audrey"), tar, as_tar).status,
      403);
  CommandResult list = Cairn({"list", "--json"});
  EXPECT_EQ(list.out.find("planted-box"), std::string::npos);

  // Not a bag: refused (422) with the report; over --max-upload: 400, as an upload over it is
  // refused. Nothing left in tmp.
  HttpAnswer junk =
      Fetch("POST", Url("/v1/deposits/acme/junk"), certs_.ca, dora, std::string(5000, 'j'), as_tar);
  EXPECT_EQ(junk.status, 422) << junk.body;
  EXPECT_EQ(nlohmann::json::parse(junk.body)["stored"], false);
  HttpAnswer huge = Fetch("POST", Url("/v1/deposits/acme/huge"), certs_.ca, dora,
                          std::string(300 * 1024, 'h'), as_tar);
  EXPECT_EQ(huge.status, 400) << huge.body;
  EXPECT_NE(huge.body.find("the upload is 307200 bytes: larger than the server's"),
            std::string::npos)
      << huge.body;
  EXPECT_TRUE(SpooledUploads(Root()).empty());
  EXPECT_EQ(Get("/v1/whoami", dora).status, 200);

  // And back out: the version as a tar, its payload as uploaded.
  HttpAnswer content = Get("/v1/objects/acme/uploaded-box/versions/1/content", dora);
  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.headers["content-type"], "application/x-tar");
  const std::string disposition = content.headers["content-disposition"];
  const size_t name_at = disposition.find("filename=\"");
  ASSERT_NE(name_at, std::string::npos) << disposition;
  const std::string top = disposition.substr(name_at + 10, disposition.size() - name_at - 15);
  WriteFile(tmp_ / "back.tar", content.body);
  std::map<std::string, std::string> back;
  for (const auto& [path, bytes] : ReadArchive(tmp_ / "back.tar", top)) {
    if (path.starts_with("data/")) back[path.substr(5)] = bytes;
  }
  EXPECT_EQ(back, ReadTree(src));
  EXPECT_EQ(Get("/v1/objects/beta/beta-secret-box/versions/1/content", dora).status, 403);
  EXPECT_EQ(Get("/v1/objects/acme/uploaded-box/versions/1/content", Token("audrey")).status,
            403);  // auditors read metadata, never content
  EXPECT_EQ(Get("/v1/objects/acme/uploaded-box/versions/9/content", dora).status, 404);
  EXPECT_TRUE(SpooledUploads(Root()).empty());
  for (fs::directory_iterator it(fs::path(Root()) / "tmp"), end; it != end; ++it) {
    EXPECT_FALSE(it->path().filename().string().starts_with("download-")) << it->path();
  }
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

// Every event a request writes names its principal and role (not the operator's), and the
// deposit's events name the upload, never the server's spool file.
TEST_F(ServeTest, EventsNameThePrincipalAndItsRole) {
  StartServer();
  CommandResult bagged =
      Cairn({"bag", "create", MakeSourceFolder("roles").string(), (tmp_ / "r.tar").string()});
  ASSERT_EQ(bagged.exit_code, 0) << bagged.err;
  const std::vector<std::string> as_tar = {"Content-Type: application/x-tar"};
  HttpAnswer stored = Fetch("POST", Url("/v1/deposits/acme/role-box"), certs_.ca,
                            Token("dora@acme"), ReadFile(tmp_ / "r.tar"), as_tar);
  ASSERT_EQ(stored.status, 201) << stored.body;
  const std::string request_id = stored.headers["x-request-id"];
  ASSERT_FALSE(request_id.empty());
  ASSERT_EQ(Get("/v1/objects/acme/role-box/versions/1/content", Token("ada@acme")).status, 200);
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();

  CommandResult events = Cairn({"events", "acme/role-box", "--format", "json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  nlohmann::json all = nlohmann::json::parse(events.out);
  std::map<std::string, std::set<std::string>> roles_of;  // user -> roles seen
  bool ingestion_names_upload = false, disseminated = false;
  for (const nlohmann::json& e : all) {
    if (!e.contains("user")) continue;
    roles_of[e["user"]].insert(e.value("role", ""));
    const std::string detail = e.value("detail", "");
    EXPECT_EQ(detail.find("/tmp/"), std::string::npos) << detail;
    EXPECT_EQ(detail.find("upload-"), std::string::npos) << detail;
    if (e["type"] == "ingestion") {
      EXPECT_EQ(e["user"], "dora@acme");
      ingestion_names_upload = detail.find("upload " + request_id) != std::string::npos;
    }
    if (e["type"] == "dissemination") {
      EXPECT_EQ(e["user"], "ada@acme");
      disseminated = true;
    }
  }
  EXPECT_TRUE(ingestion_names_upload) << events.out;
  EXPECT_TRUE(disseminated) << events.out;
  EXPECT_EQ(roles_of["dora@acme"], std::set<std::string>{"depositor"}) << events.out;
  EXPECT_EQ(roles_of["ada@acme"], std::set<std::string>{"partner-admin"}) << events.out;

  // The PREMIS export carries them as agents, with their roles.
  CommandResult premis = Cairn({"events", "acme/role-box", "--format", "premis"});
  ASSERT_EQ(premis.exit_code, 0) << premis.err;
  EXPECT_NE(premis.out.find("<premis:agentIdentifierValue>dora@acme<"), std::string::npos);
  EXPECT_NE(premis.out.find("role: depositor"), std::string::npos) << premis.out;
  EXPECT_NE(premis.out.find("role: partner-admin"), std::string::npos) << premis.out;
}

// What the server says to a principal who is not an operator names none of the server's
// folders, none of its sites' URLs, no event log position and no command of the server's host
// for the caller to run, not even as the consortium's operator's (who is named as the one who
// brings the catalog up to date, without the command).
// Every route of the route table (MakeApiRouter, not a hand list), its parameters filled with
// an object of the caller's partner that the catalog knows and one that only the sites hold,
// asked by each role that is not the operator while site b is down and the catalog is put back
// from a backup older than the sites: every answer, error, header and trailer is looked at.
TEST_F(ServeTest, NoAnswerToANonOperatorNamesTheServersPathsOrOperatorCommands) {
  StartServer();
  const fs::path backup = tmp_ / "catalog-backup.db";
  BackUpCatalog(backup);
  Deposit("acme", MakeSourceFolder("after").string(), "after");
  ASSERT_EQ(Cairn({"hold", "add", "acme/acme-box", "--reason", "court order"}).exit_code, 0);
  ASSERT_EQ(Cairn({"withdraw", "request", "acme/acme-box", "--reason", "takedown"}).exit_code, 0);
  PutCatalogBack(backup);
  const fs::path site_b = fs::path(Root()) / "sites" / "b", away = tmp_ / "b-away";
  fs::rename(site_b, away);  // unmounted

  const std::regex operator_command(
      "cairn (catalog|replicate|audit run|site|withdraw run|gc|daemon|token|principal|partner|"
      "policy set)|--site ");
  // (A deposit's own source, in its events, is the depositor's record, not where the server
  // keeps things: the operator deposited these from folders beside the repository.)
  auto leaks = [&](const std::string& said) -> std::string {
    for (const std::string& where : {Root(), away.string(), std::string("file:"),
                                     std::string("s3://"), std::string(" seq ")}) {
      if (said.find(where) != std::string::npos) return where;
    }
    // Not even as the operator's task: the rebuild is named as "the consortium's operator must
    // bring the catalog up to date", without the operator's command.
    std::smatch m;
    if (std::regex_search(said, m, operator_command)) return m.str();
    return "";
  };
  std::map<std::string, std::string> tokens;
  for (const char* who : {"dora@acme", "ada@acme", "audrey"}) tokens[who] = Token(who);
  const server::Router routes = server::MakeApiRouter(Root());
  size_t asked = 0, behind_told = 0;
  for (const server::Route& route : routes.routes()) {
    for (const std::string object : {"acme-box", "after"}) {
      const std::map<std::string, std::string> values = {
          {"partner", "acme"}, {"object", object}, {"version", "1"},
          {"run", "1"},        {"part", "1"},      {"upload", "0123456789abcdef0123456789abcdef"},
          {"id", "1"},         {"name", "audrey"}, {"site", "b"}};
      std::string path = route.pattern;
      for (const auto& [name, value] : values) {
        for (size_t at; (at = path.find("{" + name + "}")) != std::string::npos;) {
          path.replace(at, name.size() + 2, value);
        }
      }
      ASSERT_EQ(path.find('{'), std::string::npos) << route.pattern << ": a parameter unfilled";
      const std::string body =
          nlohmann::json{{"partner", "acme"},    {"object", object},  {"reason", "leak check"},
                         {"name", "leak-check"}, {"role", "auditor"}, {"every", "1d"}}
              .dump();
      for (const auto& [who, token] : tokens) {
        SCOPED_TRACE(route.method + " " + path + " as " + who);
        HttpAnswer a =
            Fetch(route.method, Url(path), certs_.ca, token, route.method == "GET" ? "" : body);
        ASSERT_EQ(a.code, CURLE_OK);
        ++asked;
        std::string said = a.body;
        for (const auto& [name, value] : a.headers) said += "\n" + name + ": " + value;
        if (said.find("the consortium's operator must bring the catalog up to date") !=
            std::string::npos) {
          ++behind_told;
        }
        const std::string leak = leaks(said);
        EXPECT_EQ(leak, "") << "status " << a.status << ": " << said;
      }
    }
  }
  EXPECT_GT(asked, 100u);
  EXPECT_GT(behind_told, 5u) << "the catalog behind the sites was told to too few";
  // The operator is still told where and what to run.
  HttpAnswer otto = Get("/v1/objects/acme/after", Token("otto"));
  EXPECT_EQ(otto.status, 404) << otto.body;
  EXPECT_NE(otto.body.find("`cairn catalog rebuild --from a --force` brings it up to date"),
            std::string::npos)
      << otto.body;
  fs::rename(away, site_b);
  EXPECT_EQ(server_.Stop(), 0) << server_.Log();
}

TEST_F(ServeTest, PlainHttpOnlyOnLoopback) {
  CommandResult r = Cairn({"serve", "--listen", "0.0.0.0:0", "--plain-http"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only on a loopback address"), std::string::npos) << r.err;
  CommandResult no_tls = Cairn({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(no_tls.exit_code, 2);
  EXPECT_NE(no_tls.err.find("--tls-cert"), std::string::npos) << no_tls.err;
  CommandResult name = Cairn({"serve", "--listen", "localhost:0", "--plain-http"});
  EXPECT_EQ(name.exit_code, 2);
  TestServer plain;
  const std::string token = Token("otto");
  ASSERT_TRUE(plain.Start({"--plain-http"}, {"CAIRN_REPO=" + Root()}, tmp_ / "plain.log"));
  HttpAnswer a =
      Fetch("GET", "http://127.0.0.1:" + std::to_string(plain.port()) + "/v1/whoami", "", token);
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(nlohmann::json::parse(a.body)["name"], "otto");
  EXPECT_EQ(plain.Stop(), 0);
}

}  // namespace
}  // namespace cairn::testing
