// router.h — which handler serves a request, and the URL pieces it needs.
//
// The connection calls route() with the parsed method and path; the answer
// names a handler or an error (404, 405 with the Allow list). Also the URL
// helpers the handlers share: percent-decoding and query iteration.
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

// Decodes %XX escapes. False for a malformed escape or a decoded NUL byte.
// '+' stays '+': it means a space only in form bodies, not in paths.
bool percent_decode(std::string_view in, std::string& out);

// Calls `visit(name, value)` for each "name=value" pair of a query string,
// both still percent-encoded; a pair without '=' has an empty value.
template <typename Visit>
void for_each_query_param(std::string_view query, Visit visit) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      visit(pair, std::string_view());
    } else {
      visit(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
}

}  // namespace sse
