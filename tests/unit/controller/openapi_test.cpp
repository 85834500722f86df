// SPDX-License-Identifier: BSD-3-Clause
// The OpenAPI document kept in the repository lists exactly the routes
// meshctld serves: every served (method, path) is in it and every one in it
// is served; each operation says who may call it, as the route table does.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "controlplane/api/openapi.hpp"
#include "controlplane/controller/controller.hpp"

using namespace meshgw;

TEST(OpenApi, DocumentAndRouteTableAgree) {
  const auto doc = nlohmann::json::parse(api::kOpenApiDocument);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::pair<std::string, std::string>> documented, served;
  std::map<std::pair<std::string, std::string>, std::string> access;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(m, path);
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
      EXPECT_TRUE(op.contains("x-meshgw-access")) << method << " " << path;
      access[{m, path}] = op.value("x-meshgw-access", "");
    }
  for (const auto& r : controller::Controller::routes()) {
    served.emplace(r.method, r.path);
    EXPECT_EQ(access[std::make_pair(r.method, r.path)], r.access) << r.method << " " << r.path;
  }
  for (const auto& r : served) EXPECT_TRUE(documented.contains(r)) << "served, not documented: " << r.first << " " << r.second;
  for (const auto& r : documented) EXPECT_TRUE(served.contains(r)) << "documented, not served: " << r.first << " " << r.second;
  EXPECT_GE(served.size(), 25u);
}
