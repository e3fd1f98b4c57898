// test_http_parser.cpp — RequestParser (src/http/http_parser.cpp).
//
// Every input is parsed three ways and must give the same answer each time:
// whole; split in two at every byte boundary; and one byte at a time. The
// pieces are fed as Connection::process_input does: each call gets the whole
// unconsumed buffer, grown by the bytes that just arrived. Each call gets a
// fresh heap copy of exactly the bytes received so far, so AddressSanitizer
// catches a read past `length`, and a parser that kept a pointer into an
// earlier buffer would read freed memory.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "every_split.h"
#include "sse/http/ascii.h"
#include "sse/http/http_parser.h"

using sse::BodyFraming;
using sse::Method;
using sse::ParseResult;
using sse::Request;
using sse::RequestParser;

namespace {

// What a parse produced, copied out of the buffer so that runs over
// different buffers can be compared after those buffers are gone.
struct Outcome {
  ParseResult::Kind kind = ParseResult::Kind::kIncomplete;
  int status = 0;
  size_t consumed = 0;
  std::string reason;  // kError only; not compared between runs
  Method method = Method::kUnknown;
  std::string method_name, target, path, query;
  int minor_version = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = false;
  bool expect_continue = false;

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (sse::equals_ignore_case(n, name)) return v;
    }
    return {};
  }

  // One line with every field, for comparing runs and for failure messages.
  std::string describe() const {
    const char* kinds[] = {"complete", "incomplete", "error"};
    std::string s = std::string(kinds[static_cast<int>(kind)]) +
                    " status=" + std::to_string(status) + " consumed=" + std::to_string(consumed);
    if (kind != ParseResult::Kind::kComplete) return s;
    s += " method=" + std::to_string(static_cast<int>(method)) + "(" + method_name + ")" +
         " target=" + target + " path=" + path + " query=" + query +
         " minor=" + std::to_string(minor_version) +
         " framing=" + std::to_string(static_cast<int>(framing)) +
         " length=" + std::to_string(content_length) + (keep_alive ? " keep-alive" : " close") +
         (expect_continue ? " expect-100" : "") + " headers=[";
    for (const auto& [n, v] : headers) s += n + ":" + v + "|";
    return s + "]";
  }
};

Outcome capture(const ParseResult& result, const Request& request) {
  Outcome out;
  out.kind = result.kind;
  out.status = result.status;
  out.consumed = result.consumed;
  if (result.kind == ParseResult::Kind::kError && result.reason != nullptr) {
    out.reason = result.reason;
  }
  if (result.kind != ParseResult::Kind::kComplete) return out;
  out.method = request.method;
  out.method_name = std::string(request.method_name);
  out.target = std::string(request.target);
  out.path = std::string(request.path);
  out.query = std::string(request.query);
  out.minor_version = request.minor_version;
  for (size_t i = 0; i < request.header_count; ++i) {
    out.headers.emplace_back(std::string(request.headers[i].name),
                             std::string(request.headers[i].value));
  }
  out.framing = request.framing;
  out.content_length = request.content_length;
  out.keep_alive = request.keep_alive;
  out.expect_continue = request.expect_continue;
  return out;
}

// Feeds growing prefixes of `input` ending at each of `ends` (increasing; the
// last is input.size()) until the parser stops saying "incomplete".
Outcome parse_in_pieces(std::string_view input, const std::vector<size_t>& ends) {
  RequestParser parser;
  Outcome out;
  for (size_t end : ends) {
    std::unique_ptr<char[]> received(new char[end > 0 ? end : 1]);
    if (end > 0) std::memcpy(received.get(), input.data(), end);
    Request request;
    ParseResult result = parser.parse(received.get(), end, request);
    out = capture(result, request);
    if (result.kind != ParseResult::Kind::kIncomplete) break;
  }
  return out;
}

// Parses `input` whole, split in two at every byte boundary, and one byte
// at a time; every run must agree with the whole one, which is returned.
Outcome parse_every_way(std::string_view input) {
  const size_t n = input.size();
  Outcome whole = parse_in_pieces(input, {n});
  every_split(n, whole.describe(), [&](const std::vector<size_t>& ends) {
    return parse_in_pieces(input, ends).describe();
  });
  return whole;
}

// Every way, and the answer must be this error status.
void expect_error(std::string_view input, int status) {
  INFO("input: " << std::string(input.substr(0, 200)));
  Outcome out = parse_every_way(input);
  CHECK(out.kind == ParseResult::Kind::kError);
  CHECK(out.status == status);
  CHECK_FALSE(out.reason.empty());  // every error says why, for the response body
}

Outcome expect_complete(std::string_view input) {
  INFO("input: " << std::string(input.substr(0, 200)));
  Outcome out = parse_every_way(input);
  CHECK(out.kind == ParseResult::Kind::kComplete);
  return out;
}

// "GET / HTTP/1.1" + Host + the given header lines + blank line.
std::string get_with(const std::string& header_lines) {
  return "GET / HTTP/1.1\r\nHost: example.com\r\n" + header_lines + "\r\n";
}

}  // namespace

// ---------------------------------------------------------------- accepted

TEST_CASE("a simple GET is parsed into method, path, query and trimmed headers") {
  const std::string input =
      "GET /sse?topic=a&x=1 HTTP/1.1\r\nHost: example.com\r\nX-Test: \t padded value \t\r\n\r\n";
  Outcome out = expect_complete(input);
  CHECK(out.consumed == input.size());
  CHECK(out.method == Method::kGet);
  CHECK(out.method_name == "GET");
  CHECK(out.target == "/sse?topic=a&x=1");
  CHECK(out.path == "/sse");
  CHECK(out.query == "topic=a&x=1");
  CHECK(out.minor_version == 1);
  REQUIRE(out.headers.size() == 2);
  CHECK(out.headers[0] == std::make_pair(std::string("Host"), std::string("example.com")));
  CHECK(out.headers[1] == std::make_pair(std::string("X-Test"), std::string("padded value")));
  CHECK(out.framing == BodyFraming::kNone);
  CHECK(out.keep_alive);
  CHECK_FALSE(out.expect_continue);
}

TEST_CASE("lines ended by a bare LF are accepted") {
  // RFC 9112 §2.2: a recipient MAY recognize a single LF as a line terminator.
  const std::string input = "GET /a HTTP/1.1\nHost: x\n\n";
  Outcome out = expect_complete(input);
  CHECK(out.consumed == input.size());
  CHECK(out.path == "/a");
  CHECK(out.header("host") == "x");
}

TEST_CASE("Request::header finds the first field of a name, case-insensitively") {
  const std::string input = get_with("Accept: a\r\nACCEPT: b\r\n");
  RequestParser parser;
  Request request;
  ParseResult result = parser.parse(input.data(), input.size(), request);
  REQUIRE(result.kind == ParseResult::Kind::kComplete);
  CHECK(request.header("accept") == "a");
  CHECK(request.header("HOST") == "example.com");
  CHECK(request.header("missing").empty());
}

TEST_CASE("HEAD is recognised as its own method") {
  Outcome out = expect_complete("HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(out.method == Method::kHead);
  CHECK(out.path == "/health");
}

TEST_CASE("methods are classified: ours, known but not served, and unknown") {
  CHECK(expect_complete("POST /publish HTTP/1.1\r\nHost: a\r\n\r\n").method == Method::kPost);
  CHECK(expect_complete("OPTIONS /sse HTTP/1.1\r\nHost: a\r\n\r\n").method == Method::kOptions);
  for (const char* other : {"PUT", "DELETE", "PATCH", "TRACE"}) {
    CHECK(expect_complete(std::string(other) + " / HTTP/1.1\r\nHost: a\r\n\r\n").method ==
          Method::kOther);
  }
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is a different, unknown one (501).
  CHECK(expect_complete("get / HTTP/1.1\r\nHost: a\r\n\r\n").method == Method::kUnknown);
  CHECK(expect_complete("BREW / HTTP/1.1\r\nHost: a\r\n\r\n").method == Method::kUnknown);
}

TEST_CASE("an HTTP/1.1 request is keep-alive by default") {
  CHECK(expect_complete(get_with("")).keep_alive);
}

TEST_CASE("HTTP/1.0 is never keep-alive, even when it asks, and needs no Host") {
  Outcome out = expect_complete("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(out.minor_version == 0);
  CHECK_FALSE(out.keep_alive);
  CHECK_FALSE(expect_complete("GET / HTTP/1.0\r\n\r\n").keep_alive);
}

TEST_CASE("Connection: close ends keep-alive, found in a token list in any case") {
  CHECK_FALSE(expect_complete(get_with("Connection: close\r\n")).keep_alive);
  CHECK_FALSE(expect_complete(get_with("Connection: keep-alive, Close\r\n")).keep_alive);
  CHECK_FALSE(expect_complete(get_with("Connection: upgrade\r\nConnection: CLOSE\r\n")).keep_alive);
  CHECK(expect_complete(get_with("Connection: closed\r\n")).keep_alive);
}

TEST_CASE("an absolute-form target is reduced to its path and query") {
  // RFC 9112 §3.2.2: a server must accept the absolute form.
  Outcome out = expect_complete(
      "GET http://example.com:3000/sse?topic=x HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(out.target == "http://example.com:3000/sse?topic=x");
  CHECK(out.path == "/sse");
  CHECK(out.query == "topic=x");

  Outcome bare = expect_complete("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(bare.path == "/");
  CHECK(bare.query.empty());
}

TEST_CASE("the query is everything after the first '?', without it") {
  Outcome none = expect_complete("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(none.path == "/a");
  CHECK(none.query.empty());
  Outcome empty = expect_complete("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(empty.path == "/a");
  CHECK(empty.query.empty());
  Outcome two = expect_complete("GET /a?b=1?c=2 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(two.path == "/a");
  CHECK(two.query == "b=1?c=2");
  Outcome encoded = expect_complete("GET /a%20b?x=%2F HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(encoded.path == "/a%20b");  // still percent-encoded: decoding is the handler's
  CHECK(encoded.query == "x=%2F");
}

TEST_CASE("OPTIONS * is accepted; '*' with another method gets 400") {
  Outcome out = expect_complete("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(out.path == "*");
  expect_error("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST_CASE("empty lines before the request line are skipped and counted as consumed") {
  // RFC 9112 §2.2: ignore at least one empty line before the request line.
  const std::string input = "\r\n\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  Outcome out = expect_complete(input);
  CHECK(out.consumed == input.size());
  CHECK(out.method_name == "GET");
  CHECK(out.path == "/x");
}

TEST_CASE("more than 8 KiB of empty lines before the request line gets 400") {
  std::string input;
  while (input.size() <= sse::kMaxRequestLine) input += "\r\n";
  input += "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  expect_error(input, 400);
}

TEST_CASE("pipelined requests: consumed stops at the end of the first head") {
  const std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "HEAD /two?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string input = first + second;
  Outcome out = expect_complete(input);
  CHECK(out.consumed == first.size());
  CHECK(out.path == "/one");

  // The connection erases what was consumed, resets, and parses the rest.
  Outcome next = expect_complete(input.substr(out.consumed));
  CHECK(next.consumed == second.size());
  CHECK(next.method == Method::kHead);
  CHECK(next.path == "/two");
  CHECK(next.query == "q");
  CHECK_FALSE(next.keep_alive);
}

TEST_CASE("a parser reset after a request parses the next one from scratch") {
  const std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string buffer = first + "GET /two HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  Request request;
  ParseResult result = parser.parse(buffer.data(), buffer.size(), request);
  REQUIRE(result.kind == ParseResult::Kind::kComplete);
  CHECK(request.path == "/one");
  buffer.erase(0, result.consumed);
  parser.reset();
  result = parser.parse(buffer.data(), buffer.size(), request);
  REQUIRE(result.kind == ParseResult::Kind::kComplete);
  CHECK(request.path == "/two");
  CHECK(result.consumed == buffer.size());
}

TEST_CASE("the body after a head is not consumed; Content-Length sets the framing") {
  const std::string head = "POST /publish HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
  Outcome out = expect_complete(head + "hello");
  CHECK(out.consumed == head.size());
  CHECK(out.framing == BodyFraming::kLength);
  CHECK(out.content_length == 5);
}

TEST_CASE("Content-Length: 0 is a body of length zero") {
  Outcome out = expect_complete(get_with("Content-Length: 0\r\n"));
  CHECK(out.framing == BodyFraming::kLength);
  CHECK(out.content_length == 0);
}

TEST_CASE("Transfer-Encoding: chunked, in any case, sets chunked framing") {
  Outcome out = expect_complete(
      "POST /publish HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello");
  CHECK(out.framing == BodyFraming::kChunked);
  CHECK(out.consumed == std::string("POST /publish HTTP/1.1\r\nHost: h\r\n"
                                    "Transfer-Encoding: Chunked\r\n\r\n")
                            .size());
}

TEST_CASE("repeated Content-Length with equal values is accepted") {
  // RFC 9112 §6.3: a list of identical values may be treated as one.
  CHECK(expect_complete(get_with("Content-Length: 5, 5\r\n")).content_length == 5);
  CHECK(expect_complete(get_with("Content-Length: 7\r\nContent-Length: 7\r\n")).content_length ==
        7);
}

TEST_CASE("Expect: 100-continue is recorded") {
  CHECK(expect_complete(get_with("Expect: 100-Continue\r\n")).expect_continue);
}

TEST_CASE("obs-text (bytes 0x80 and up) in a header value is allowed") {
  // RFC 9110 §5.5: field-vchar includes obs-text.
  CHECK(expect_complete(get_with("X-Name: caf\xc3\xa9\r\n")).header("x-name") == "caf\xc3\xa9");
}

TEST_CASE("a header with an empty value is kept") {
  Outcome out = expect_complete(get_with("X-Empty:\r\nX-Blank:   \r\n"));
  REQUIRE(out.headers.size() == 3);
  CHECK(out.headers[1].second.empty());
  CHECK(out.headers[2].second.empty());
}

TEST_CASE("an incomplete head is incomplete, however it is cut") {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  for (size_t cut = 0; cut < head.size(); ++cut) {
    Outcome out = parse_every_way(head.substr(0, cut));
    CHECK(out.kind == ParseResult::Kind::kIncomplete);
  }
}

// ------------------------------------------------------------------- limits

TEST_CASE("a request line of exactly 8 KiB is accepted") {
  std::string line = "GET /";
  line += std::string(sse::kMaxRequestLine - line.size() - 9, 'a');
  line += " HTTP/1.1";
  REQUIRE(line.size() == sse::kMaxRequestLine);
  Outcome out = expect_complete(line + "\r\nHost: h\r\n\r\n");
  CHECK(out.path.size() == sse::kMaxRequestLine - 13);
}

TEST_CASE("a request line over 8 KiB gets 414") {
  std::string line = "GET /";
  line += std::string(sse::kMaxRequestLine - line.size() - 8, 'a');
  line += " HTTP/1.1";
  REQUIRE(line.size() == sse::kMaxRequestLine + 1);
  expect_error(line + "\r\nHost: h\r\n\r\n", 414);
  expect_error(line + "\nHost: h\n\n", 414);
}

TEST_CASE("a request line over 8 KiB gets 414 before it ends") {
  // No line end yet: the limit is enforced on what has arrived, so a client
  // cannot make us buffer an endless line.
  expect_error("GET /" + std::string(sse::kMaxRequestLine, 'a'), 414);
}

TEST_CASE("100 header fields are accepted") {
  std::string lines;
  for (int i = 1; i < 100; ++i) lines += "X-H" + std::to_string(i) + ": v\r\n";
  Outcome out = expect_complete(get_with(lines));
  CHECK(out.headers.size() == 100);
}

TEST_CASE("more than 100 header fields get 431") {
  std::string lines;
  for (int i = 1; i < 101; ++i) lines += "X-H" + std::to_string(i) + ": v\r\n";
  expect_error(get_with(lines), 431);
}

TEST_CASE("a header section of exactly 16 KiB is accepted") {
  // The section runs from the first header line to the blank line, inclusive:
  // "Host: h\r\n" (9) + "X: <value>\r\n" (5 + value) + "\r\n" (2).
  const std::string value(sse::kMaxHeaderBytes - 16, 'v');
  Outcome out = expect_complete("GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\n");
  CHECK(out.header("x").size() == value.size());
}

TEST_CASE("a header section over 16 KiB gets 431") {
  const std::string value(sse::kMaxHeaderBytes - 15, 'v');
  expect_error("GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\n", 431);
}

TEST_CASE("a header section over 16 KiB gets 431 before it ends") {
  expect_error("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(sse::kMaxHeaderBytes, 'v'), 431);
}

// ------------------------------------------------------------------- errors

TEST_CASE("a malformed request line gets 400") {
  const char* lines[] = {
      "GET /",                 // no version
      "GET  / HTTP/1.1",       // two spaces: empty target
      "GET / HTTP/1.1 ",       // trailing space
      " / HTTP/1.1",           // empty method
      "G(T / HTTP/1.1",        // method is not a token
      "GET / http/1.1",        // the version name is case-sensitive
      "GET / HTTP/1",          // no minor version
      "GET / HTTP/1.10",       // two-digit minor
      "GET / HTTP/x.1",        // not a digit
      "GET abc HTTP/1.1",      // neither origin nor absolute form
      "GET /a\x01z HTTP/1.1",  // control character in the target
      "GET /a\x7fz HTTP/1.1",  // DEL in the target
      "GET / HTTP/1.1\r",      // a stray CR before the CRLF
  };
  for (const char* line : lines) {
    expect_error(std::string(line) + "\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_CASE("a first byte that cannot begin a method gets 400 the moment it arrives") {
  // A method is a token (RFC 9112 §3), so nothing else can begin a request
  // line: no need to wait for a line end that may never come.
  const std::string firsts("\x16\x00\x01\x7f\x80\xff \t({:", 11);
  for (char first : firsts) {
    INFO("first byte: " << static_cast<int>(static_cast<unsigned char>(first)));
    expect_error(std::string(1, first), 400);
    expect_error(std::string(1, first) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  }
}

TEST_CASE("the start of a TLS ClientHello gets 400 at once, even after empty lines") {
  // A TLS record header (handshake 0x16, version 3.1, length) and the start
  // of a ClientHello: what a browser sends to https:// on our plain port.
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  expect_error(hello, 400);
  expect_error("\r\n\r\n" + hello, 400);
  expect_error("\n" + hello, 400);
}

TEST_CASE("a malformed request line gets its error as soon as its line ends") {
  // No header has arrived yet, and the head is far from complete.
  for (const char* line : {"GET /", "GET  / HTTP/1.1", "G(T / HTTP/1.1", "GET / http/1.1",
                           "GET abc HTTP/1.1", "GET /a\x01z HTTP/1.1", "GET * HTTP/1.1"}) {
    expect_error(std::string(line) + "\r\n", 400);
    expect_error(std::string(line) + "\n", 400);
  }
  expect_error("GET / HTTP/2.0\r\n", 505);
  // Its verdict comes before the header section's limits are reached.
  expect_error("GET / HTTP/2.0\r\nX: " + std::string(sse::kMaxHeaderBytes, 'v'), 505);
}

TEST_CASE("a well-formed request line alone is incomplete") {
  CHECK(parse_every_way("GET / HTTP/1.1\r\n").kind == ParseResult::Kind::kIncomplete);
  CHECK(parse_every_way("\r\nPOST /publish HTTP/1.0\n").kind == ParseResult::Kind::kIncomplete);
}

TEST_CASE("a malformed header name gets 400") {
  expect_error(get_with("Bad Name: x\r\n"), 400);
  expect_error(get_with("Name : x\r\n"), 400);  // RFC 9112 §5.1: no space before ':'
  expect_error(get_with(": x\r\n"), 400);
  expect_error(get_with("Na(me: x\r\n"), 400);
  expect_error(get_with("No colon here\r\n"), 400);
}

TEST_CASE("obsolete line folding gets 400") {
  // RFC 9112 §5.2: a server must reject obs-fold (or replace it; we reject).
  expect_error(get_with("X-Long: a\r\n  b\r\n"), 400);
  expect_error(get_with("X-Long: a\r\n\tb\r\n"), 400);
}

TEST_CASE("a control character in a header value gets 400") {
  expect_error(get_with("X: a\x01z\r\n"), 400);
  expect_error(get_with(std::string("X: a") + '\0' + "z\r\n"), 400);
  expect_error(get_with("X: a\x7fz\r\n"), 400);
  expect_error(get_with("X: a\rz\r\n"), 400);  // a bare CR inside a value
}

TEST_CASE("an HTTP/1.1 request without Host gets 400") {
  expect_error("GET / HTTP/1.1\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400);
}

TEST_CASE("a request with two Host headers gets 400") {
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
}

TEST_CASE("an HTTP/1.0 request with two Host headers gets 400 too") {
  // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status
  // code ... to any request message that contains more than one Host header
  // field line": any request, not only HTTP/1.1 ones.
  expect_error("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_CASE("Content-Length together with Transfer-Encoding gets 400") {
  expect_error(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
  expect_error(get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
}

TEST_CASE("two different Content-Length values get 400") {
  expect_error(get_with("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
  expect_error(get_with("Content-Length: 5, 6\r\n"), 400);
}

TEST_CASE("a Content-Length that is not a plain decimal number gets 400") {
  for (const std::string& value : std::vector<std::string>{
           "abc", "-1", "+5", "", "1 2", "0x10", "5 ,, 5", ",5", "99999999999999999999999"}) {
    INFO("Content-Length: " << value);
    expect_error(get_with("Content-Length: " + value + "\r\n"), 400);
  }
}

TEST_CASE("Transfer-Encoding sent twice gets 400") {
  expect_error(get_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
}

TEST_CASE("Transfer-Encoding in an HTTP/1.0 request gets 400") {
  // RFC 9112 §6.1: HTTP/1.0 has no chunked framing; the message is faulty.
  expect_error("POST /publish HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

TEST_CASE("a transfer coding other than chunked gets 501") {
  expect_error(get_with("Transfer-Encoding: gzip\r\n"), 501);
  expect_error(get_with("Transfer-Encoding: gzip, chunked\r\n"), 501);
}

TEST_CASE("a major version other than 1 gets 505") {
  expect_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  expect_error("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
}

TEST_CASE("an Expect other than 100-continue gets 417") {
  expect_error(get_with("Expect: something-else\r\n"), 417);
}
