// docs/openapi.json lists exactly the routes the server has (method and path), so that the
// published API and the route table cannot drift apart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "ops/server/api_routes.h"
#include "tests/util/test_util.h"

namespace cairn::server {
namespace {

TEST(OpenApiTest, PathsMatchTheRouteTable) {
  std::string text = testing::ReadFile(std::string(CAIRN_SOURCE_DIR) + "/docs/openapi.json");
  ASSERT_FALSE(text.empty());
  nlohmann::json spec = nlohmann::json::parse(text);
  ASSERT_TRUE(spec["openapi"].get<std::string>().starts_with("3."));
  std::set<std::string> documented, served;
  for (const auto& [path, methods] : spec["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
      EXPECT_TRUE(op.contains("responses")) << path;
    }
  }
  Router router = MakeApiRouter("/nonexistent");
  for (const Route& route : router.routes()) served.insert(route.method + " " + route.pattern);
  EXPECT_EQ(documented, served);
  EXPECT_GE(served.size(), 10u);
}

}  // namespace
}  // namespace cairn::server
