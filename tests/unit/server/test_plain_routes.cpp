// test_plain_routes.cpp — the answers of /health, /stats, /metrics, the
// CORS preflight, static files and the router's 405
// (src/server/plain_routes.cpp).
//
// Requests come from the real RequestParser and handlers from the real
// routing table (routes.cpp); the context is a real (idle) server's worth
// of objects around a temporary www directory. Each test reads the bytes
// that would go out.
#include <doctest/doctest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fixture.h"
#include "sse/http/http_parser.h"
#include "sse/http/http_response.h"
#include "sse/http/static_files.h"
#include "sse/server/plain_routes.h"
#include "sse/server/routes.h"

namespace {

// Everything a ServerContext points at, and a www directory holding one
// file, hello.txt.
class Server {
 public:
  Server() {
    char pattern[] = "/tmp/sse-plain-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    www_ = pattern;
    std::ofstream(www_ + "/hello.txt") << "hello";
    std::string error;
    REQUIRE(server_.files.open(www_, error));
  }
  ~Server() {
    ::unlink((www_ + "/hello.txt").c_str());
    ::rmdir(www_.c_str());
  }

  // The answer to `request_text`, split into "head" and "body" strings.
  struct Answer {
    std::string head, body;
  };
  Answer answer(const std::string& request_text) {
    std::string text = request_text;  // the Request's views point into it
    sse::Request request;
    sse::RequestParser parser;
    REQUIRE(parser.parse(text.data(), text.size(), request).kind ==
            sse::ParseResult::Kind::kComplete);
    test::RecordingExchange exchange;
    auto handler = sse::make_handler(request, server_.context, exchange);
    CHECK(handler->on_head(request) == sse::Handler::Next::kDone);
    REQUIRE(exchange.responses == 1);
    CHECK(exchange.keep_alive == request.keep_alive);
    Answer out;
    size_t end = exchange.answer.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    out.head = exchange.answer.substr(0, end + 4);
    out.body = exchange.answer.substr(end + 4);
    return out;
  }

 private:
  test::ServerFixture server_;

 public:
  sse::Config& config = server_.config;
  sse::ServerCounters& counters = server_.counters;

 private:
  std::string www_;
};

// A head without its Date line (two answers may straddle a second).
std::string without_date(const std::string& head) {
  size_t at = head.find("\r\nDate: ");
  if (at == std::string::npos) return head;
  return head.substr(0, at) + head.substr(head.find("\r\n", at + 2));
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("/health answers ok, with CORS, and HEAD gets the head only") {
  Server server;
  Server::Answer get = server.answer("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(get.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(has(get.head, "Content-Length: 2\r\n"));
  CHECK(has(get.head, "Access-Control-Allow-Origin: *\r\n"));
  CHECK_FALSE(has(get.head, "Connection: close"));
  CHECK(get.body == "ok");

  Server::Answer head = server.answer("HEAD /health HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(without_date(head.head) == without_date(get.head));  // Date may tick between them
  CHECK(head.body.empty());
}

TEST_CASE("a request that ends the connection gets Connection: close") {
  Server server;
  CHECK(has(server.answer("GET /health HTTP/1.0\r\n\r\n").head, "Connection: close\r\n"));
  CHECK(has(server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").head,
            "Connection: close\r\n"));
}

TEST_CASE("/stats is uncached JSON with the server's counters") {
  Server server;
  server.counters.requests = 42;
  Server::Answer stats = server.answer("GET /stats HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(has(stats.head, "Content-Type: application/json\r\n"));
  CHECK(has(stats.head, "Cache-Control: no-store\r\n"));
  CHECK_FALSE(has(stats.head, "Access-Control-Allow-Origin"));  // not for other sites' pages
  simdjson::dom::parser parser;
  uint64_t requests = 0;
  REQUIRE(parser.parse(stats.body)["requests"].get(requests) == simdjson::SUCCESS);
  CHECK(requests == 42);
}

TEST_CASE("/metrics is Prometheus text") {
  Server server;
  Server::Answer metrics = server.answer("GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(has(metrics.head, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  CHECK(has(metrics.head, "Cache-Control: no-store\r\n"));
  CHECK_FALSE(has(metrics.head, "Access-Control-Allow-Origin"));
  CHECK(has(metrics.body, "sse_requests_total "));
}

TEST_CASE("the CORS preflight allows the methods, headers and origin") {
  // (/publish answers its own preflight: test_publish_handler.cpp.)
  Server server;
  server.config.cors = "https://app.example";
  Server::Answer preflight =
      server.answer("OPTIONS /sse HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example\r\n\r\n");
  CHECK(preflight.head.rfind("HTTP/1.1 204 No Content\r\n", 0) == 0);
  CHECK(has(preflight.head, "Access-Control-Allow-Origin: https://app.example\r\n"));
  CHECK(has(preflight.head, "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"));
  CHECK(has(preflight.head, "Access-Control-Allow-Headers: Authorization, Content-Type"));
  CHECK(has(preflight.head, "Access-Control-Max-Age: 86400\r\n"));
  CHECK(preflight.body.empty());
}

TEST_CASE("a static file is a head frame plus the file's own frame") {
  Server server;
  Server::Answer file = server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(file.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(has(file.head, "Content-Type: text/plain; charset=utf-8\r\n"));
  CHECK(has(file.head, "Content-Length: 5\r\n"));
  CHECK(has(file.head, "Cache-Control: no-cache\r\n"));
  CHECK(file.body == "hello");

  Server::Answer head = server.answer("HEAD /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(without_date(head.head) == without_date(file.head));
  CHECK(head.body.empty());
}

TEST_CASE("a missing file is 404 with a reason") {
  Server server;
  Server::Answer missing = server.answer("GET /nope.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(missing.head.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(missing.body == "404 Not Found: no such file\n");
}

// The value of header `name` in a response head, or empty.
std::string header_value(const std::string& head, const std::string& name) {
  size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return std::string();
  at += name.size() + 4;
  return head.substr(at, head.find("\r\n", at) - at);
}

TEST_CASE("a static file carries nosniff, a weak ETag and Last-Modified as an IMF-fixdate") {
  Server server;
  Server::Answer file = server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(file.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(has(file.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
  std::string etag = header_value(file.head, "ETag");
  CHECK(etag.rfind("W/\"", 0) == 0);
  CHECK(etag.back() == '"');
  std::string modified = header_value(file.head, "Last-Modified");
  int64_t seconds = 0;
  CHECK(modified.size() == 29);
  CHECK(sse::parse_http_date(modified, seconds));
  CHECK(sse::http_date(seconds) == modified);

  Server::Answer head = server.answer("HEAD /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(header_value(head.head, "ETag") == etag);
  CHECK(header_value(head.head, "Last-Modified") == modified);
  CHECK(has(head.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
}

TEST_CASE("a static file's ETag sent back in If-None-Match gets 304 with no body") {
  Server server;
  Server::Answer file = server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string etag = header_value(file.head, "ETag");
  REQUIRE_FALSE(etag.empty());
  for (const char* method : {"GET", "HEAD"}) {
    INFO(std::string(method));
    Server::Answer again =
        server.answer(std::string(method) +
                      " /hello.txt HTTP/1.1\r\nHost: h\r\nIf-None-Match: " + etag + "\r\n\r\n");
    CHECK(again.head.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
    CHECK(again.body.empty());
    CHECK(header_value(again.head, "ETag") == etag);
    CHECK(header_value(again.head, "Last-Modified") == header_value(file.head, "Last-Modified"));
    CHECK(has(again.head, "\r\nCache-Control: no-cache\r\n"));
    CHECK(has(again.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
    CHECK(has(again.head, "\r\nDate: "));
    CHECK_FALSE(has(again.head, "Content-Length"));  // RFC 9110 §8.6: it would mean 0
    CHECK_FALSE(has(again.head, "\r\nContent-Type:"));
  }
  Server::Answer closing = server.answer(
      "GET /hello.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\nIf-None-Match: " + etag +
      "\r\n\r\n");
  CHECK(closing.head.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  CHECK(has(closing.head, "\r\nConnection: close\r\n"));
}

TEST_CASE("a static file gets 304 for If-Modified-Since at its Last-Modified, 200 before it") {
  Server server;
  Server::Answer file = server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string modified = header_value(file.head, "Last-Modified");
  int64_t seconds = 0;
  REQUIRE(sse::parse_http_date(modified, seconds));
  Server::Answer same = server.answer(
      "GET /hello.txt HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: " + modified + "\r\n\r\n");
  CHECK(same.head.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  CHECK(same.body.empty());
  Server::Answer older = server.answer("GET /hello.txt HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: " +
                                       sse::http_date(seconds - 1) + "\r\n\r\n");
  CHECK(older.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(older.body == "hello");
  Server::Answer other = server.answer(
      "GET /hello.txt HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"other\"\r\nIf-Modified-Since: " +
      modified + "\r\n\r\n");
  CHECK(other.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);  // If-None-Match decides
  CHECK(other.body == "hello");
}

TEST_CASE("a static file error carries nosniff too") {
  Server server;
  for (const char* request :
       {"GET /nope.txt HTTP/1.1\r\nHost: h\r\n\r\n", "GET /%00 HTTP/1.1\r\nHost: h\r\n\r\n",
        "HEAD /nope.txt HTTP/1.1\r\nHost: h\r\n\r\n"}) {
    INFO(std::string(request));
    Server::Answer answer = server.answer(request);
    CHECK(has(answer.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
    CHECK_FALSE(has(answer.head, "ETag"));
  }
}

TEST_CASE("a method the path does not take is 405 with Allow") {
  Server server;
  Server::Answer wrong = server.answer("DELETE /health HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(wrong.head.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(has(wrong.head, "Allow: GET, HEAD, OPTIONS\r\n"));
  CHECK(wrong.body == "405 Method Not Allowed\n");
}
