// test_router.cpp — which handler serves a request, and the URL helpers
// (src/router.cpp).
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "sse/http/router.h"

using sse::Method;
using sse::percent_decode;
using sse::Route;
using sse::RouteMatch;

namespace {

std::string decoded(std::string_view in) {
  std::string out;
  REQUIRE(percent_decode(in, out));
  return out;
}

bool decodes(std::string_view in) {
  std::string out;
  return percent_decode(in, out);
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs query_pairs(std::string_view query) {
  Pairs pairs;
  sse::for_each_query_param(query, [&](std::string_view name, std::string_view value) {
    pairs.emplace_back(std::string(name), std::string(value));
  });
  return pairs;
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

TEST_CASE("percent_decode decodes %XX in either case") {
  CHECK(decoded("") == "");
  CHECK(decoded("plain") == "plain");
  CHECK(decoded("%41%62%2f%2F") == "Ab//");
  CHECK(decoded("a%20b") == "a b");
  CHECK(decoded("%e2%9c%93") == "\xe2\x9c\x93");
  CHECK(decoded("100%25") == "100%");
  CHECK(decoded("%2525") == "%25");  // decoded once, not twice
}

TEST_CASE("percent_decode leaves '+' alone: it is a space only in form bodies") {
  CHECK(decoded("a+b") == "a+b");
}

TEST_CASE("percent_decode refuses a malformed escape") {
  for (const char* in : {"%", "%4", "a%", "a%4", "%zz", "%4g", "%g4", "%%41", "% 41"}) {
    INFO("input " << in);
    CHECK_FALSE(decodes(in));
  }
}

TEST_CASE("percent_decode refuses a NUL, encoded or raw") {
  CHECK_FALSE(decodes("%00"));
  CHECK_FALSE(decodes("a%00b"));
  CHECK_FALSE(decodes(std::string_view("a\0b", 3)));
}

TEST_CASE("for_each_query_param visits name=value pairs in order, still encoded") {
  CHECK(query_pairs("a=1&b=%20&c=x=y") == Pairs{{"a", "1"}, {"b", "%20"}, {"c", "x=y"}});
}

TEST_CASE("for_each_query_param skips empty pairs and gives a bare name an empty value") {
  CHECK(query_pairs("") == Pairs{});
  CHECK(query_pairs("&&flag&&=v&k=&") == Pairs{{"flag", ""}, {"", "v"}, {"k", ""}});
}
