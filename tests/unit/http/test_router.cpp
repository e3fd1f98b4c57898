// test_router.cpp — which handler serves a request (src/http/router.cpp).
#include <doctest/doctest.h>

#include <utility>

#include "sse/http/router.h"

using sse::Method;
using sse::Route;
using sse::RouteMatch;

TEST_CASE("GET and HEAD reach the stream, stats, metrics and health endpoints") {
  const std::pair<const char*, Route> endpoints[] = {{"/sse", Route::kStream},
                                                     {"/stats", Route::kStats},
                                                     {"/metrics", Route::kMetrics},
                                                     {"/health", Route::kHealth}};
  for (const auto& [path, expected] : endpoints) {
    for (Method method : {Method::kGet, Method::kHead}) {
      INFO("path " << path);
      RouteMatch match = sse::route(method, path);
      CHECK(match.route == expected);
      CHECK(match.status == 0);
      CHECK(std::string(match.allow) == "GET, HEAD, OPTIONS");
    }
  }
}

TEST_CASE("POST /publish reaches the publish handler") {
  RouteMatch match = sse::route(Method::kPost, "/publish");
  CHECK(match.route == Route::kPublish);
  CHECK(std::string(match.allow) == "POST, OPTIONS");
}

TEST_CASE("any other GET or HEAD path is a static file") {
  for (const char* path : {"/", "/index.html", "/js/app.js", "/sse/", "/SSE", "/publish/x",
                           "/sse.html", "/%2e%2e/x"}) {
    INFO("path " << path);
    CHECK(sse::route(Method::kGet, path).route == Route::kStatic);
    CHECK(sse::route(Method::kHead, path).route == Route::kStatic);
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
    RouteMatch match = sse::route(c.method, c.path);
    CHECK(match.route == Route::kError);
    CHECK(match.status == 405);
    CHECK(std::string(match.allow) == c.allow);
  }
}

TEST_CASE("OPTIONS on any path is a CORS preflight with that path's methods") {
  CHECK(sse::route(Method::kOptions, "/publish").route == Route::kPreflight);
  CHECK(std::string(sse::route(Method::kOptions, "/publish").allow) == "POST, OPTIONS");
  CHECK(std::string(sse::route(Method::kOptions, "/sse").allow) == "GET, HEAD, OPTIONS");
  CHECK(sse::route(Method::kOptions, "/some/file.css").route == Route::kPreflight);
  RouteMatch star = sse::route(Method::kOptions, "*");
  CHECK(star.route == Route::kPreflight);
  CHECK(std::string(star.allow) == "GET, HEAD, POST, OPTIONS");
}
