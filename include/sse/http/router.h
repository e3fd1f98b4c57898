// router.h — which row of a routing table serves a request.
//
// The server keeps its routing table (server/routes.cpp): one row per
// endpoint, each a path, the methods it takes (its Allow list) and what
// serves it. The connection calls route() with the parsed method and path;
// the answer is that row, a CORS preflight (OPTIONS), the fallback for
// paths no row names (static files, GET and HEAD only), or a 405 with the
// Allow list. Pure functions: no I/O, no state; the table is any array of
// rows with `path` and `allow` members, so this layer never sees handlers.
#pragma once

#include <cstddef>
#include <string_view>

#include "sse/http/ascii.h"
#include "sse/http/http_parser.h"

namespace sse {

struct RouteMatch {
  enum class Kind {
    kEndpoint,    // rows[index] serves it
    kPreflight,   // OPTIONS: answer with `allow`
    kFallback,    // GET or HEAD of a path no row names
    kNotAllowed,  // 405 with `allow`
  };
  Kind kind = Kind::kNotAllowed;
  size_t index = 0;
  const char* allow = "";  // the methods this path accepts, for 405 and OPTIONS
};

// What the fallback (static files) and "OPTIONS *" allow.
inline constexpr const char* kFallbackAllow = "GET, HEAD, OPTIONS";
inline constexpr const char* kServerAllow = "GET, HEAD, POST, OPTIONS";

// The method's name as an Allow list spells it; "" for methods no row may
// take (known but not served, such as PUT).
std::string_view allow_token(Method method);

template <typename Row>
RouteMatch route(const Row* rows, size_t count, Method method, std::string_view path) {
  using Kind = RouteMatch::Kind;
  if (path == "*") return RouteMatch{Kind::kPreflight, 0, kServerAllow};
  for (size_t i = 0; i < count; ++i) {
    if (path != rows[i].path) continue;
    if (method == Method::kOptions) return RouteMatch{Kind::kPreflight, i, rows[i].allow};
    std::string_view token = allow_token(method);
    if (token.empty() || !has_token(rows[i].allow, token)) {
      return RouteMatch{Kind::kNotAllowed, i, rows[i].allow};
    }
    return RouteMatch{Kind::kEndpoint, i, rows[i].allow};
  }
  if (method == Method::kOptions) return RouteMatch{Kind::kPreflight, 0, kFallbackAllow};
  if (method != Method::kGet && method != Method::kHead) {
    return RouteMatch{Kind::kNotAllowed, 0, kFallbackAllow};
  }
  return RouteMatch{Kind::kFallback, 0, kFallbackAllow};
}

}  // namespace sse
