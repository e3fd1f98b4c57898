// test_routes.cpp — the server's routing table (src/server/routes.cpp):
// every endpoint of the README with its methods, and what serves it.
//
// test_router.cpp checks the matching rules on a copy of these rows; this
// checks that the server's table is that copy, and that make_handler()
// hands each kind of request to the right handler.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "fixture.h"
#include "sse/http/http_parser.h"
#include "sse/server/plain_routes.h"
#include "sse/server/publish_handler.h"
#include "sse/server/routes.h"
#include "sse/server/stream_handler.h"

namespace {

struct Made {
  std::string text;
  sse::Request request;
  std::unique_ptr<sse::Handler> handler;
};

std::unique_ptr<Made> make(test::ServerFixture& server, test::RecordingExchange& exchange,
                           const std::string& method, const std::string& path) {
  auto made = std::make_unique<Made>();
  made->text = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  sse::RequestParser parser;
  REQUIRE(parser.parse(made->text.data(), made->text.size(), made->request).kind ==
          sse::ParseResult::Kind::kComplete);
  made->handler = sse::make_handler(made->request, server.context, exchange);
  REQUIRE(made->handler);
  return made;
}

}  // namespace

TEST_CASE("the routing table lists every endpoint with its Allow list") {
  size_t count = 0;
  const sse::RouteRow* rows = sse::route_table(count);
  std::map<std::string, std::string> table;
  for (size_t i = 0; i < count; ++i) table[std::string(rows[i].path)] = rows[i].allow;
  CHECK(table == std::map<std::string, std::string>{{"/sse", "GET, HEAD, OPTIONS"},
                                                    {"/publish", "POST, OPTIONS"},
                                                    {"/stats", "GET, HEAD, OPTIONS"},
                                                    {"/metrics", "GET, HEAD, OPTIONS"},
                                                    {"/health", "GET, HEAD, OPTIONS"}});
}

TEST_CASE("each request goes to its kind of handler") {
  test::ServerFixture server;
  test::RecordingExchange exchange;
  CHECK(dynamic_cast<sse::StreamHandler*>(make(server, exchange, "GET", "/sse")->handler.get()));
  CHECK(dynamic_cast<sse::PublishHandler*>(
      make(server, exchange, "POST", "/publish")->handler.get()));
  for (const char* path : {"/health", "/stats", "/metrics", "/index.html"}) {
    INFO("path " << path);
    CHECK(dynamic_cast<sse::PlainHandler*>(make(server, exchange, "GET", path)->handler.get()));
  }
}

TEST_CASE("a preflight and a 405 are answered from the matched Allow list") {
  test::ServerFixture server;
  test::RecordingExchange preflight;
  auto options = make(server, preflight, "OPTIONS", "/publish");
  CHECK(options->handler->on_head(options->request) == sse::Handler::Next::kDone);
  CHECK(preflight.status() == 204);
  CHECK(preflight.answer.find("\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n") !=
        std::string::npos);

  test::RecordingExchange refused;
  auto put = make(server, refused, "GET", "/publish");
  CHECK(put->handler->on_head(put->request) == sse::Handler::Next::kDone);
  CHECK(refused.status() == 405);
  CHECK(refused.answer.find("\r\nAllow: POST, OPTIONS\r\n") != std::string::npos);
}
