// routes.h — the routing table: which handler serves which request.
//
// One row per endpoint: its path, the methods it takes (the Allow list,
// also what 405 and OPTIONS answer) and the factory that makes its handler.
// The connection calls make_handler() for every request head; the http
// router (http/router.h) picks the row, and what no row names goes to the
// CORS preflight, the static files or the 405 handler.
//
// A new endpoint is one handler (handler.h, or a plain answer in
// plain_routes.h) and one row in kRoutes (routes.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "sse/http/http_parser.h"
#include "sse/server/handler.h"

namespace sse {

struct RouteRow {
  std::string_view path;
  const char* allow;  // e.g. "GET, HEAD, OPTIONS"
  HandlerFactory make;
  // The handler answers OPTIONS (its CORS preflight) itself, instead of the
  // generic preflight: /publish grants one only where the POST would pass.
  bool own_preflight = false;
};

// The table, for tests and for the README's list of endpoints.
const RouteRow* route_table(size_t& count);

std::unique_ptr<Handler> make_handler(const Request& request, ServerContext& context,
                                      Exchange& exchange);

// For a connection accepted over --max-clients (SPEC "Slow consumers and
// limits"): GET /sse is answered 200 with a long jittered retry: and a
// comment, then closed, because an EventSource treats any other status as
// final and would never come back; everything else gets 503 with
// Retry-After.
std::unique_ptr<Handler> make_over_capacity_handler(const Request& request, ServerContext& context,
                                                    Exchange& exchange);

}  // namespace sse
