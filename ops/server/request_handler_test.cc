// The request path without a socket: parameter checks of the router, the failed-login
// throttle, and RequestHandler's answers (401 before routing, 404/405/400, JSON error bodies
// carrying the request id, route errors mapped to HTTP statuses).
#include "ops/server/request_handler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "ops/server/auth_throttle.h"
#include "ops/server/router.h"
#include "tests/util/assert_ok.h"

namespace cairn::server {
namespace {

Router TestRouter() {
  Router router;
  router.Add({"GET", "/v1/things/{partner}/{object}", "a thing", [](const ApiRequest& r) {
                return Result<ApiResponse>(JsonResponse("{\"partner\":\"" + r.path.at("partner") +
                                                        "\",\"object\":\"" + r.path.at("object") +
                                                        "\",\"q\":\"" + r.Query("q") + "\"}"));
              }});
  router.Add({"GET", "/v1/denied", "always refused", [](const ApiRequest&) {
                return Result<ApiResponse>(Status::PermissionDenied("no"));
              }});
  router.Add({"GET", "/v1/throws", "throws",
              [](const ApiRequest&) -> Result<ApiResponse> { throw std::runtime_error("boom"); }});
  return router;
}

Result<repo::Principal> FixedToken(std::string_view bearer) {
  if (bearer != "good") return Status::Unauthenticated("unknown token");
  return repo::Principal{"alice", repo::Role::kDepositor, "acme", false};
}

RawRequest Get(const std::string& target, const std::string& auth = "Bearer good") {
  RawRequest r;
  r.method = "GET";
  r.target = target;
  r.authorization = auth;
  r.peer = "192.0.2.7";
  return r;
}

nlohmann::json Body(const ApiResponse& r) { return nlohmann::json::parse(r.body); }

TEST(RouterTest, DecodesAndChecksParameters) {
  Router router = TestRouter();
  Result<Router::Match> m = router.Find("GET", "/v1/things/acme/box%2D7?q=caf%C3%A9");
  ASSERT_OK(m);
  EXPECT_EQ(m->path.at("object"), "box-7");
  EXPECT_EQ(m->query.at("q"), "caf\xc3\xa9");
  for (const char* bad :
       {"/v1/things/acme/..", "/v1/things/acme/a%2Fb", "/v1/things/acme/a%00b",
        "/v1/things/acme/%C3%28", "/v1/things/acme/x?q=%C3%28", "/v1/things/acme/x?q=a%00",
        "/v1/things/acme/x%2", "/v1/things/.x/y", "/v1/things/acme/x?version=4294967297",
        "/v1/things/acme/x?version=0", "/v1/things/acme/x?part=99999999999"}) {
    Result<Router::Match> refused = router.Find("GET", bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_OK(router.Find("GET", "/v1/things/acme/x?version=4294967295").status());
  EXPECT_TRUE(router.Find("GET", "/v1/nothing").status().IsNotFound());
  EXPECT_EQ(router.Find("POST", "/v1/denied").status().code(), Code::kNotSupported);
}

TEST(RouterTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(AuthThrottleTest, DelayGrowsPerAddressIsBoundedAndForgotten) {
  AuthThrottle throttle(/*capacity=*/3);
  auto now = AuthThrottle::Clock::now();
  EXPECT_EQ(throttle.Failed("a", now).count(), 0);
  EXPECT_EQ(throttle.Failed("a", now).count(), 50);
  EXPECT_EQ(throttle.Failed("a", now).count(), 100);
  for (int i = 0; i < 20; ++i) (void)throttle.Failed("a", now);
  EXPECT_EQ(throttle.Failed("a", now), AuthThrottle::kMaxDelay);
  EXPECT_EQ(throttle.Failed("b", now).count(), 0);  // another address is not slowed
  (void)throttle.Failed("c", now + std::chrono::seconds(1));
  (void)throttle.Failed("d", now + std::chrono::seconds(2));  // full: the oldest goes
  EXPECT_EQ(throttle.size(), 3u);
  throttle.Succeeded("d");
  EXPECT_EQ(throttle.size(), 2u);
  // Ten quiet minutes forget an address.
  EXPECT_EQ(
      throttle.Failed("c", now + AuthThrottle::kForgetAfter + std::chrono::seconds(5)).count(), 0);
}

TEST(RequestHandlerTest, AuthenticatesBeforeRoutingAndNamesTheRequestInErrors) {
  Router router = TestRouter();
  RequestHandler handler(router, FixedToken);
  ApiResponse none = handler.Handle(Get("/v1/nothing", ""), "id-1");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Body(none)["error"]["code"], "Unauthenticated");
  EXPECT_EQ(Body(none)["error"]["request_id"], "id-1");
  ApiResponse wrong = handler.Handle(Get("/v1/things/acme/x", "Bearer bad"), "id-2");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("bad\""), std::string::npos);  // the token is never echoed
  ApiResponse basic = handler.Handle(Get("/v1/things/acme/x", "Basic abc"), "id-3");
  EXPECT_EQ(basic.status, 401);
  EXPECT_GT(basic.delay.count(), 0);  // the third failure from this address waits

  ApiResponse ok = handler.Handle(Get("/v1/things/acme/x?q=1"), "id-4");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.principal, "alice");
  EXPECT_EQ(Body(ok)["q"], "1");
  EXPECT_EQ(handler.Handle(Get("/v1/nothing"), "id").status, 404);
  RawRequest post = Get("/v1/denied");
  post.method = "POST";
  EXPECT_EQ(handler.Handle(post, "id").status, 405);
  EXPECT_EQ(handler.Handle(Get("/v1/things/acme/.."), "id").status, 400);
  ApiResponse denied = handler.Handle(Get("/v1/denied"), "id-5");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Body(denied)["error"]["code"], "PermissionDenied");
  EXPECT_EQ(Body(denied)["error"]["request_id"], "id-5");
  EXPECT_EQ(handler.Handle(Get("/v1/throws"), "id").status, 500);
}

TEST(RequestHandlerTest, RequestIdsAreUnique) {
  Router router = TestRouter();
  RequestHandler handler(router, FixedToken);
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(handler.NewRequestId());
  EXPECT_EQ(ids.size(), 1000u);
}

// A request id is shown to the caller (X-Request-Id, errors, a deposit's events): ids that
// counted up (the process's salt, then 1, 2, 3, ...) told a partner how many requests the
// others had made between two of its own.
TEST(RequestHandlerTest, RequestIdsCountNothing) {
  Router router = TestRouter();
  RequestHandler handler(router, FixedToken);
  int counted = 0;
  std::string before = handler.NewRequestId();
  for (int i = 0; i < 100; ++i) {
    const std::string id = handler.NewRequestId();
    ASSERT_EQ(id.size(), 16u) << id;
    // The low half of the id was the count: the next id, the same high half and one more.
    const uint64_t a = std::stoull(before, nullptr, 16), b = std::stoull(id, nullptr, 16);
    if ((a >> 32) == (b >> 32) || b - a < 1000) ++counted;
    before = id;
  }
  EXPECT_EQ(counted, 0);
}

TEST(AccessLogTest, OneLineWithoutQueryOrControlCharacters) {
  std::string line = AccessLogLine("abc", "192.0.2.7", "alice", "GET",
                                   "/v1/objects?partner=acme&token=x\n", 200, 12, 3);
  EXPECT_NE(line.find(" abc 192.0.2.7 alice GET /v1/objects 200 12 3ms"), std::string::npos)
      << line;
  EXPECT_EQ(line.find("token"), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace cairn::server
