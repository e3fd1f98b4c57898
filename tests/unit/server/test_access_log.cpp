// test_access_log.cpp — the access log's lines (src/server/access_log.cpp):
// the request as the client sent it, except a token, and one line per entry
// whatever bytes the client chose. The integration test
// (tests/integration/test_access_log.cpp) checks the lines a real server
// writes for a scripted sequence of requests.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "sse/http/http_parser.h"
#include "sse/server/access_log.h"

using sse::AccessLog;

namespace {

std::string line_of(const std::string& head) {
  sse::RequestParser parser;
  sse::Request request;
  sse::ParseResult result = parser.parse(head.data(), head.size(), request);
  REQUIRE(result.kind == sse::ParseResult::Kind::kComplete);
  return AccessLog::request_line(request);
}

}  // namespace

TEST_CASE("the request line is method, target and version as sent") {
  CHECK(line_of("GET /sse?topic=a&topic=b HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "GET /sse?topic=a&topic=b HTTP/1.1");
  CHECK(line_of("POST /publish HTTP/1.0\r\nContent-Length: 0\r\n\r\n") ==
        "POST /publish HTTP/1.0");
}

TEST_CASE("an access_token in the query is masked wherever it is") {
  CHECK(line_of("GET /sse?access_token=eyJ.secret.sig HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "GET /sse?access_token=*** HTTP/1.1");
  CHECK(line_of("GET /sse?topic=a&access_token=eyJ.s.s&lastEventId=5 HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "GET /sse?topic=a&access_token=***&lastEventId=5 HTTP/1.1");
  // Only that parameter: a look-alike keeps its value.
  CHECK(line_of("GET /sse?my_access_token=x HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "GET /sse?my_access_token=x HTTP/1.1");
}

TEST_CASE("quotes, backslashes and bytes outside printable ASCII are escaped") {
  CHECK(line_of("GET /a\"b\\c\x80 HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "GET /a\\x22b\\x5Cc\\x80 HTTP/1.1");
}

TEST_CASE("a line: time, peer, request, status, bytes, milliseconds; a stream adds events and why") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
  AccessLog log;
  std::string error;
  REQUIRE(log.open("/proc/self/fd/" + std::to_string(fds[1]), error));
  sse::AccessRequest request;
  request.peer = "127.0.0.1:5000";
  request.request = "GET /health HTTP/1.1";
  request.start_ns = 1'000'000;
  log.log_request(request, 200, 150, 3'500'000);
  request.request = "GET /sse HTTP/1.1";
  log.log_stream(request, 2048, 7, "subscriber left", 1'001'000'000);
  log.flush();
  char buffer[1024];
  ssize_t n = ::read(fds[0], buffer, sizeof buffer);
  REQUIRE(n > 0);
  std::string got(buffer, static_cast<size_t>(n));
  INFO(got);
  size_t first_end = got.find('\n');
  REQUIRE(first_end != std::string::npos);
  std::string first = got.substr(0, first_end);
  std::string second = got.substr(first_end + 1);
  CHECK(first.size() > 25);
  CHECK(first[10] == 'T');
  CHECK(first.substr(24) == " 127.0.0.1:5000 \"GET /health HTTP/1.1\" 200 150 2.500");
  CHECK(second.substr(24) ==
        " 127.0.0.1:5000 \"GET /sse HTTP/1.1\" 200 2048 1000.000 events=7 end=\"subscriber left\"\n");
  ::close(fds[0]);
  ::close(fds[1]);
}
