// test_http_response.cpp — response heads and small complete responses
// (src/http_response.cpp).
#include <doctest/doctest.h>

#include <string>

#include "sse/http/http_response.h"

using sse::error_response;
using sse::ResponseBuilder;

namespace {

std::string text(const sse::FrameRef& frame) {
  return std::string(frame->view());
}

}  // namespace

TEST_CASE("every status the server sends has its RFC 9110 reason phrase") {
  const std::pair<int, const char*> statuses[] = {
      {100, "Continue"},
      {200, "OK"},
      {202, "Accepted"},
      {204, "No Content"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {411, "Length Required"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {417, "Expectation Failed"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [status, reason] : statuses) {
    CHECK(std::string(sse::status_text(status)) == reason);
  }
  CHECK(std::string(sse::status_text(299)) == "Unknown");
}

TEST_CASE("a response has its status line, headers, Content-Length and body") {
  sse::FrameRef frame =
      ResponseBuilder(200).header("Content-Type", "text/plain").finish("ok", true);
  CHECK(text(frame) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
}

TEST_CASE("a response that ends the connection says Connection: close") {
  CHECK(text(ResponseBuilder(200).finish("x", false)) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
}

TEST_CASE("a HEAD response has the GET response's head and no body") {
  // RFC 9110 §9.3.2: same header fields, Content-Length included.
  CHECK(text(ResponseBuilder(200).finish("hello", true, true)) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
}

TEST_CASE("a 204 response has no Content-Length") {
  // RFC 9110 §8.6: a server must not send Content-Length in a 204.
  CHECK(text(ResponseBuilder(204).header("Allow", "GET").finish("", true, true)) ==
        "HTTP/1.1 204 No Content\r\nAllow: GET\r\n\r\n");
}

TEST_CASE("a head alone ends with the blank line and carries no length") {
  std::string head = ResponseBuilder(200).header("Content-Type", "text/event-stream").finish_head();
  CHECK(head == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
}

TEST_CASE("an empty body gives Content-Length: 0") {
  CHECK(text(ResponseBuilder(200).finish("", true)) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("error responses are plain text naming the status and the detail") {
  CHECK(text(error_response(404, "no such file", true, false)) ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 28\r\n\r\n404 Not Found: no such file\n");
  CHECK(text(error_response(431, "", false, false)) ==
        "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"
        "431 Request Header Fields Too Large\n");
}

TEST_CASE("a 503 says when to come back; other errors do not") {
  CHECK(text(error_response(503, "out of file descriptors", true, false))
            .find("\r\nRetry-After: 1\r\n") != std::string::npos);
  CHECK(text(error_response(500, "", true, false)).find("Retry-After") == std::string::npos);
}

TEST_CASE("an error response to HEAD has the length but no body") {
  std::string head = text(error_response(404, "no such file", true, true));
  CHECK(head.find("Content-Length: 28\r\n") != std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("CORS with '*' allows any origin and never credentials") {
  ResponseBuilder response(200);
  sse::add_cors_headers(response, "*");
  std::string head = response.finish_head();
  CHECK(head == "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n\r\n");
}

TEST_CASE("CORS with a named origin allows credentials and varies by Origin") {
  ResponseBuilder response(200);
  sse::add_cors_headers(response, "https://app.example");
  CHECK(response.finish_head() ==
        "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://app.example\r\n"
        "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n\r\n");
}
