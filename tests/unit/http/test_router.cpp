// test_router.cpp — which row of a routing table serves a request
// (src/http/router.cpp), on a table with the server's rows (routes.cpp;
// test_routes.cpp checks that the server's table is this one).
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "sse/http/router.h"

using sse::Method;

namespace {

// What each row stands for, in place of the server's handler factories.
enum class Route { kStream, kPublish, kStats, kMetrics, kHealth, kStatic, kPreflight, kError };

struct Row {
  std::string_view path;
  const char* allow;
  Route route;
};

constexpr Row kRows[] = {
    {"/sse", "GET, HEAD, OPTIONS", Route::kStream},
    {"/publish", "POST, OPTIONS", Route::kPublish},
    {"/stats", "GET, HEAD, OPTIONS", Route::kStats},
    {"/metrics", "GET, HEAD, OPTIONS", Route::kMetrics},
    {"/health", "GET, HEAD, OPTIONS", Route::kHealth},
};

struct RouteMatch {
  Route route;
  int status;  // 405 for kError
  const char* allow;
};

RouteMatch route(Method method, std::string_view path) {
  using Kind = sse::RouteMatch::Kind;
  sse::RouteMatch match = sse::route(kRows, sizeof kRows / sizeof kRows[0], method, path);
  switch (match.kind) {
    case Kind::kEndpoint:
      return {kRows[match.index].route, 0, match.allow};
    case Kind::kFallback:
      return {Route::kStatic, 0, match.allow};
    case Kind::kPreflight:
      return {Route::kPreflight, 0, match.allow};
    case Kind::kNotAllowed:
      break;
  }
  return {Route::kError, 405, match.allow};
}

}  // namespace

TEST_CASE("GET and HEAD reach the stream, stats, metrics and health endpoints") {
  const std::pair<const char*, Route> endpoints[] = {{"/sse", Route::kStream},
                                                     {"/stats", Route::kStats},
                                                     {"/metrics", Route::kMetrics},
                                                     {"/health", Route::kHealth}};
  for (const auto& [path, expected] : endpoints) {
    for (Method method : {Method::kGet, Method::kHead}) {
      INFO("path " << path);
      RouteMatch match = route(method, path);
      CHECK(match.route == expected);
      CHECK(match.status == 0);
      CHECK(std::string(match.allow) == "GET, HEAD, OPTIONS");
    }
  }
}

TEST_CASE("POST /publish reaches the publish handler") {
  RouteMatch match = route(Method::kPost, "/publish");
  CHECK(match.route == Route::kPublish);
  CHECK(std::string(match.allow) == "POST, OPTIONS");
}

TEST_CASE("any other GET or HEAD path is a static file") {
  for (const char* path : {"/", "/index.html", "/js/app.js", "/sse/", "/SSE", "/publish/x",
                           "/sse.html", "/%2e%2e/x"}) {
    INFO("path " << path);
    CHECK(route(Method::kGet, path).route == Route::kStatic);
    CHECK(route(Method::kHead, path).route == Route::kStatic);
  }
}

TEST_CASE("a method an endpoint does not serve gets 405 with the Allow list") {
  struct Case {
    Method method;
    const char* path;
    const char* allow;
  };
  const Case cases[] = {
      {Method::kGet, "/publish", "POST, OPTIONS"},
      {Method::kHead, "/publish", "POST, OPTIONS"},
      {Method::kOther, "/publish", "POST, OPTIONS"},
      {Method::kPost, "/sse", "GET, HEAD, OPTIONS"},
      {Method::kOther, "/sse", "GET, HEAD, OPTIONS"},
      {Method::kPost, "/stats", "GET, HEAD, OPTIONS"},
      {Method::kPost, "/health", "GET, HEAD, OPTIONS"},
      {Method::kPost, "/metrics", "GET, HEAD, OPTIONS"},
      {Method::kPost, "/index.html", "GET, HEAD, OPTIONS"},
      {Method::kOther, "/", "GET, HEAD, OPTIONS"},
  };
  for (const Case& c : cases) {
    INFO("path " << c.path << ", method " << static_cast<int>(c.method));
    RouteMatch match = route(c.method, c.path);
    CHECK(match.route == Route::kError);
    CHECK(match.status == 405);
    CHECK(std::string(match.allow) == c.allow);
  }
}

TEST_CASE("OPTIONS on any path is a CORS preflight with that path's methods") {
  CHECK(route(Method::kOptions, "/publish").route == Route::kPreflight);
  CHECK(std::string(route(Method::kOptions, "/publish").allow) == "POST, OPTIONS");
  CHECK(std::string(route(Method::kOptions, "/sse").allow) == "GET, HEAD, OPTIONS");
  CHECK(route(Method::kOptions, "/some/file.css").route == Route::kPreflight);
  RouteMatch star = route(Method::kOptions, "*");
  CHECK(star.route == Route::kPreflight);
  CHECK(std::string(star.allow) == "GET, HEAD, POST, OPTIONS");
}
