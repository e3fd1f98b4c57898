// router.cpp — see router.h.
#include "sse/http/router.h"

namespace sse {

namespace {

struct Endpoint {
  std::string_view path;
  Route route;  // for the methods in `allow` other than OPTIONS
  const char* allow;
};

// The fixed endpoints. Everything else is a static file (GET, HEAD).
constexpr Endpoint kEndpoints[] = {
    {"/sse", Route::kStream, "GET, HEAD, OPTIONS"},
    {"/publish", Route::kPublish, "POST, OPTIONS"},
    {"/stats", Route::kStats, "GET, HEAD, OPTIONS"},
    {"/metrics", Route::kMetrics, "GET, HEAD, OPTIONS"},
    {"/health", Route::kHealth, "GET, HEAD, OPTIONS"},
};

}  // namespace

RouteMatch route(Method method, std::string_view path) {
  if (path == "*") return RouteMatch{Route::kPreflight, 0, "GET, HEAD, POST, OPTIONS"};
  for (const Endpoint& endpoint : kEndpoints) {
    if (path != endpoint.path) continue;
    if (method == Method::kOptions) return RouteMatch{Route::kPreflight, 0, endpoint.allow};
    bool reads = method == Method::kGet || method == Method::kHead;
    bool allowed = endpoint.route == Route::kPublish ? method == Method::kPost : reads;
    if (!allowed) return RouteMatch{Route::kError, 405, endpoint.allow};
    return RouteMatch{endpoint.route, 0, endpoint.allow};
  }
  if (method == Method::kOptions) return RouteMatch{Route::kPreflight, 0, "GET, HEAD, OPTIONS"};
  if (method != Method::kGet && method != Method::kHead) {
    return RouteMatch{Route::kError, 405, "GET, HEAD, OPTIONS"};
  }
  return RouteMatch{Route::kStatic, 0, "GET, HEAD, OPTIONS"};
}

}  // namespace sse
