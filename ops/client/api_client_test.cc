// ApiClient without a server: the server's JSON errors become the Status the exit codes of
// cli.h follow, the URL and token rules refuse what would leak a token, and a server that
// cannot be reached is Unavailable with a message that never holds the token.
#include "ops/client/api_client.h"

#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"

namespace cairn::client {
namespace {

TEST(StatusFromAnswer, MapsTheHttpStatusAndKeepsTheServersMessage) {
  const std::string body =
      R"({"error": {"code": "X", "message": "dora@acme may not read beta", "request_id": "r-7"}})";
  EXPECT_EQ(StatusFromAnswer(401, body).code(), Code::kUnauthenticated);
  EXPECT_EQ(StatusFromAnswer(403, body).code(), Code::kPermissionDenied);
  EXPECT_EQ(StatusFromAnswer(404, body).code(), Code::kNotFound);
  EXPECT_EQ(StatusFromAnswer(409, body).code(), Code::kAlreadyExists);
  EXPECT_EQ(StatusFromAnswer(400, body).code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromAnswer(413, body).code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromAnswer(500, body).code(), Code::kUnavailable);
  EXPECT_EQ(StatusFromAnswer(503, body).code(), Code::kUnavailable);
  Status s = StatusFromAnswer(403, body);
  EXPECT_NE(s.message().find("dora@acme may not read beta"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("r-7"), std::string::npos) << s.ToString();
  // Not JSON (a proxy's page): the status still decides, the message says which it was.
  Status page = StatusFromAnswer(502, "<html>bad gateway</html>");
  EXPECT_EQ(page.code(), Code::kUnavailable);
  EXPECT_NE(page.message().find("502"), std::string::npos);
}

// A 409 the server marks retryable (another request completes the same upload) is told apart
// from one that stands (the deposit's own refusal): the client waits for the first only.
TEST(StatusFromAnswer, KeepsTheRetryableMark) {
  EXPECT_TRUE(StatusFromAnswer(409, R"({"error": {"code": "AlreadyExists", "message": "busy",
                                         "request_id": "r", "retryable": true}})")
                  .retryable());
  EXPECT_FALSE(StatusFromAnswer(409, R"({"error": {"code": "AlreadyExists", "message": "no",
                                          "request_id": "r"}})")
                   .retryable());
}

TEST(PercentEncode, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(PercentEncode("acme-box_1.v~"), "acme-box_1.v~");
  EXPECT_EQ(PercentEncode("a b/c?d&e=f%"), "a%20b%2Fc%3Fd%26e%3Df%25");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");
}

TEST(ApiClientCreate, RefusesWhatWouldLeakTheToken) {
  const std::string token = "cairn_s3cr3t";
  auto refused = [&](const std::string& url, const std::string& tok, const std::string& ca) {
    auto c = ApiClient::Create({url, tok, ca});
    EXPECT_FALSE(c.ok()) << url;
    if (c.ok()) return;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().ToString();
    EXPECT_EQ(c.status().ToString().find(token), std::string::npos) << c.status().ToString();
  };
  refused("http://cairn.example:8080", token, "");  // clear text to another host
  refused("http://10.0.0.5", token, "");            // not loopback
  refused("ftp://127.0.0.1", token, "");            // not http(s)
  refused("cairn.example:8443", token, "");         // no scheme
  refused("https://cairn.example", "", "");         // no token
  refused("https://cairn.example", "a b", "");      // not a header value
  refused("https://cairn.example", "x\r\nHost: evil", "");
  refused("https://cairn.example", token, "/no/such/ca.pem");
  EXPECT_OK(ApiClient::Create({"https://cairn.example:8443/", token, ""}));
  EXPECT_OK(ApiClient::Create({"http://127.0.0.1:8080", token, ""}));
  EXPECT_OK(ApiClient::Create({"http://[::1]:8080", token, ""}));
  EXPECT_OK(ApiClient::Create({"http://localhost:8080", token, ""}));
}

// The API's prefix given with the server's URL (as docs/API.md writes the routes) is the base
// URL's: "https://HOST:PORT/v1" got "server: no such route" for every verb.
TEST(ApiClientCreate, ATrailingV1IsTheBaseUrl) {
  for (const std::string url : {"https://cairn.example:8443/v1", "https://cairn.example:8443/v1/",
                                "https://cairn.example:8443/"}) {
    auto c = ApiClient::Create({url, "cairn_t0ken", ""});
    ASSERT_OK(c);
    EXPECT_EQ((*c)->url(), "https://cairn.example:8443") << url;
  }
  auto prefixed = ApiClient::Create({"https://example.org/cairn", "cairn_t0ken", ""});
  ASSERT_OK(prefixed);
  EXPECT_EQ((*prefixed)->url(), "https://example.org/cairn");  // a proxy's prefix is kept
}

TEST(ApiClientGet, AnUnreachableServerIsUnavailableWithoutTheToken) {
  const std::string token = "cairn_n0t1nanymessage";
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto client = ApiClient::Create({"http://127.0.0.1:1", token, ""});
  ASSERT_OK(client);
  auto answer = (*client)->GetJson("/v1/objects", {{"partner", "acme"}});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), Code::kUnavailable);
  EXPECT_EQ(answer.status().ToString().find(token), std::string::npos);
}

}  // namespace
}  // namespace cairn::client
