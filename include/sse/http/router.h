// router.h — which handler serves a request, and the URL pieces it needs.
//
// The connection calls route() with the parsed method and path; the answer
// names a handler or an error (405 with the Allow list).
// Pure functions: no I/O, no state.
#pragma once

#include <string>
#include <string_view>

#include "sse/http/http_parser.h"

namespace sse {

enum class Route {
  kStream,     // GET|HEAD /sse
  kPublish,    // POST /publish
  kPreflight,  // OPTIONS on any endpoint (CORS)
  kStats,      // GET|HEAD /stats
  kMetrics,    // GET|HEAD /metrics
  kHealth,     // GET|HEAD /health
  kStatic,     // GET|HEAD anything else: a file under --www
  kError,      // `status` (405) with `allow`
};

struct RouteMatch {
  Route route = Route::kError;
  int status = 0;
  const char* allow = "";  // the methods this path accepts, for 405 and OPTIONS
};

RouteMatch route(Method method, std::string_view path);

}  // namespace sse
