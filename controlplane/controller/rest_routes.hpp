// SPDX-License-Identifier: BSD-3-Clause
// Internal to the REST layer: the route table and its handlers, with the
// Controller's internals at hand (a friend). Operator routes live in
// rest_api.cpp, the gateway API (registration, renewal, state, tunnels,
// reports) in gateway_api.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controller.hpp"
#include "rest_request.hpp"

namespace meshgw::controller {

// The route table, with Controller's internals at hand.
struct RestRoutes {
  using Params = std::vector<std::string>;
  using Handler = std::function<ApiResponse(Controller&, const ApiRequest&, const rest::Target&, const Params&)>;
  struct Route {
    const char* method;
    std::vector<std::string> pattern;  // "{}" matches one segment
    rest::Access access;
    Handler handler;
  };

  static const std::vector<Route>& table();

  // Operator API (rest_api.cpp).
  static ApiResponse list_gateways(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse show_gateway(Controller& c, const ApiRequest&, const rest::Target&, const Params& p);
  static ApiResponse evict_gateway(Controller& c, const ApiRequest& req, const rest::Target&, const Params& p);
  static ApiResponse revoke_gateway(Controller& c, const ApiRequest& req, const rest::Target&, const Params& p);
  static ApiResponse list_tokens(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse create_token(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse delete_token(Controller& c, const ApiRequest&, const rest::Target&, const Params& p);
  static ApiResponse links(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse topology(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse events(Controller& c, const ApiRequest&, const rest::Target& t, const Params&);
  static ApiResponse get_policies(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse put_policies(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse paths(Controller& c, const ApiRequest&, const rest::Target& t, const Params&);
  static ApiResponse whatif(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse list_spis(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse healthz(Controller& c, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse openapi(Controller&, const ApiRequest&, const rest::Target&, const Params&);
  static ApiResponse metrics(Controller& c, const ApiRequest&, const rest::Target&, const Params&);

  // Gateway API (gateway_api.cpp).
  static ApiResponse register_gateway(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse renew(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse gateway_state(Controller& c, const ApiRequest& req, const rest::Target& t, const Params&);
  static ApiResponse create_tunnel(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
  static ApiResponse delete_tunnel(Controller& c, const ApiRequest& req, const rest::Target&, const Params& p);
  static ApiResponse report(Controller& c, const ApiRequest& req, const rest::Target&, const Params&);
};

}  // namespace meshgw::controller
