// test_http_response.cpp — response heads and small complete responses
// (src/http/http_response.cpp).
//
// Every response carries a Date header that changes each second, so tests
// that compare whole responses compare them without_date(): that checks the
// Date line is the first header and names the current second, and removes
// it; everything else must match byte for byte.
#include <doctest/doctest.h>

#include <ctime>
#include <string>

#include "sse/http/http_response.h"

using sse::error_response;
using sse::ResponseBuilder;

namespace {

std::string text(const sse::FrameRef& frame) {
  return std::string(frame->view());
}

// True if `value` is the IMF-fixdate of a second within the last few (a
// slow sanitizer build may cross a second or two between the two reads).
bool is_recent_date(const std::string& value) {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (int64_t second = now - 5; second <= now; ++second) {
    if (value == sse::http_date(second)) return true;
  }
  return false;
}

// `response` without its Date line, which must come right after the status
// line: "Date: " + 29 bytes of IMF-fixdate + CRLF.
std::string without_date(const std::string& response) {
  const size_t line_end = response.find("\r\n");
  REQUIRE(line_end != std::string::npos);
  const size_t date_start = line_end + 2;
  const size_t date_length = 6 + 29 + 2;
  REQUIRE(response.size() >= date_start + date_length);
  const std::string date_line = response.substr(date_start, date_length);
  INFO("response: " << response);
  CHECK(date_line.substr(0, 6) == "Date: ");
  CHECK(date_line.substr(35) == "\r\n");
  CHECK(is_recent_date(date_line.substr(6, 29)));
  return response.substr(0, date_start) + response.substr(date_start + date_length);
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
  CHECK(without_date(text(frame)) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
}

TEST_CASE("a response that ends the connection says Connection: close") {
  CHECK(without_date(text(ResponseBuilder(200).finish("x", false))) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
}

TEST_CASE("a HEAD response has the GET response's head and no body") {
  // RFC 9110 §9.3.2: same header fields, Content-Length included.
  CHECK(without_date(text(ResponseBuilder(200).finish("hello", true, true))) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
}

TEST_CASE("a 204 response has no Content-Length") {
  // RFC 9110 §8.6: a server must not send Content-Length in a 204.
  CHECK(without_date(text(ResponseBuilder(204).header("Allow", "GET").finish("", true, true))) ==
        "HTTP/1.1 204 No Content\r\nAllow: GET\r\n\r\n");
}

TEST_CASE("a head alone ends with the blank line and carries no length") {
  std::string head = ResponseBuilder(200).header("Content-Type", "text/event-stream").finish_head();
  CHECK(without_date(head) == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
}

TEST_CASE("an empty body gives Content-Length: 0") {
  CHECK(without_date(text(ResponseBuilder(200).finish("", true))) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("error responses are plain text naming the status and the detail") {
  CHECK(without_date(text(error_response(404, "no such file", true, false))) ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 28\r\n\r\n404 Not Found: no such file\n");
  CHECK(without_date(text(error_response(431, "", false, false))) ==
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
  CHECK(without_date(head) == "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n\r\n");
}

TEST_CASE("CORS with a named origin allows credentials and varies by Origin") {
  ResponseBuilder response(200);
  sse::add_cors_headers(response, "https://app.example");
  CHECK(without_date(response.finish_head()) ==
        "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://app.example\r\n"
        "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n\r\n");
}

TEST_CASE("http_date formats IMF-fixdate, RFC 9110's own example included") {
  CHECK(sse::http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7
  CHECK(sse::http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(sse::http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
  CHECK(sse::http_date(4102444799) == "Thu, 31 Dec 2099 23:59:59 GMT");
}

TEST_CASE("every response carries Date, the current second, as its first header") {
  // RFC 9110 §6.6.1: an origin server with a clock must send Date.
  ResponseBuilder cors(200);
  sse::add_cors_headers(cors, "*");
  const std::string responses[] = {
      text(ResponseBuilder(200).finish("ok", true)),
      text(ResponseBuilder(204).finish("", true, true)),
      text(ResponseBuilder(200).finish("x", false)),
      ResponseBuilder(200).header("Content-Type", "text/event-stream").finish_head(),
      cors.finish_head(),
      text(error_response(400, "bad", false, false)),
      text(error_response(503, "full", false, true)),
  };
  for (const std::string& response : responses) {
    INFO("response: " << response);
    const size_t line_end = response.find("\r\n");
    REQUIRE(line_end != std::string::npos);
    REQUIRE(response.size() > line_end + 37);
    CHECK(response.substr(line_end + 2, 6) == "Date: ");
    CHECK(is_recent_date(response.substr(line_end + 8, 29)));
    CHECK(response.substr(line_end + 37, 2) == "\r\n");
    // Exactly one Date.
    CHECK(response.find("Date: ", line_end + 39) == std::string::npos);
  }
}
