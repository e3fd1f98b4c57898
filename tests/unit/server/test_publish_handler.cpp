// test_publish_handler.cpp — POST /publish: who may publish, and what
// (src/server/publish_handler.cpp).
//
// Every valid and invalid body shape goes through the real PublishHandler
// (head, then body) with a real Broadcaster and LocalEventLog, so the tests
// see both the reply and what was (or was not) published: a rejected body,
// and a rejected batch in particular, must leave last_id() and
// has_pending() exactly as they were. Replies are parsed with simdjson: an
// error reply is JSON too.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fixture.h"
#include "sse/http/http_parser.h"
#include "sse/server/publish_handler.h"

using sse::Config;
using sse::NewEvent;
using sse::PublishReply;

namespace {

// A server whose event log numbers events from `first_id`, seen the way
// these tests ask about it.
class Broadcaster {
 public:
  explicit Broadcaster(uint64_t first_id) : server(first_id) {}
  uint64_t last_id() const { return server.events.last_id(); }
  bool has_pending() const { return server.broadcaster.has_pending(); }
  const auto& topics() const { return server.broadcaster.topics(); }
  const sse::BroadcastCounters& counters() const { return server.broadcaster.counters(); }
  void publish(std::string topic, std::string event, std::string data) {
    server.events.append({NewEvent{std::move(topic), std::move(event), std::move(data)}}, "",
                         nullptr);
  }

  test::ServerFixture server;
};

// POST /publish with `body` (and `header_lines`), through the handler as a
// connection drives it: the head, then the body if the handler asks for it.
PublishReply handle_publish(std::string_view body, Broadcaster& broadcaster,
                            const std::string& header_lines = "") {
  std::string head = "POST /publish HTTP/1.1\r\nHost: localhost:3000\r\n" + header_lines +
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  sse::Request request;
  sse::RequestParser parser;
  REQUIRE(parser.parse(head.data(), head.size(), request).kind ==
          sse::ParseResult::Kind::kComplete);
  test::RecordingExchange exchange;
  sse::PublishHandler handler(broadcaster.server.context, exchange);
  if (handler.on_head(request) == sse::Handler::Next::kReadBody) {
    handler.on_body(std::string(body));
  }
  REQUIRE(exchange.responses == 1);  // the local log answers at once
  PublishReply reply;
  reply.status = exchange.status();
  reply.body = exchange.body();
  return reply;
}

// Parses a body; `events` holds what would be published.
struct Parsed {
  PublishReply reply;
  std::vector<NewEvent> events;
  bool is_batch = false;
};

Parsed parse_body(std::string_view body) {
  Parsed parsed;
  parsed.reply = sse::parse_publish_body(body, parsed.events, parsed.is_batch);
  return parsed;
}

// The reply's "error" message; fails the test if the reply is not
// {"error": "<non-empty>"}.
std::string error_of(const PublishReply& reply) {
  INFO("reply: " << reply.body);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  REQUIRE(parser.parse(reply.body).get(object) == simdjson::SUCCESS);
  std::string_view message;
  REQUIRE(object["error"].get(message) == simdjson::SUCCESS);
  CHECK_FALSE(message.empty());
  return std::string(message);
}

// Publishing `body` must fail with 400 naming `needle`, and publish nothing.
void expect_rejected(std::string_view body, std::string_view needle = "") {
  INFO("body: " << std::string(body.substr(0, 200)));
  Broadcaster broadcaster(1000);
  broadcaster.publish("main", "", "before");  // so that "nothing published" is visible
  PublishReply reply = handle_publish(body, broadcaster);
  CHECK(reply.status == 400);
  std::string message = error_of(reply);
  if (!needle.empty()) CHECK_MESSAGE(message.find(needle) != std::string::npos, message);
  CHECK(broadcaster.last_id() == 1000);
  CHECK(broadcaster.counters().events_published == 1);
}

// Publishing `body` must succeed with exactly these events.
std::vector<NewEvent> expect_published(std::string_view body) {
  INFO("body: " << std::string(body.substr(0, 200)));
  Parsed parsed = parse_body(body);
  CHECK(parsed.reply.status == 0);
  return parsed.events;
}

struct ParsedRequest {
  std::string text;
  sse::Request request;
};

std::unique_ptr<ParsedRequest> post(const std::string& header_lines) {
  auto parsed = std::make_unique<ParsedRequest>();
  parsed->text = "POST /publish HTTP/1.1\r\nHost: localhost:3000\r\nContent-Length: 2\r\n" +
                 header_lines + "\r\n";
  sse::RequestParser parser;
  sse::ParseResult result = parser.parse(parsed->text.data(), parsed->text.size(), parsed->request);
  REQUIRE(result.kind == sse::ParseResult::Kind::kComplete);
  return parsed;
}

Config with_token(const std::string& token) {
  Config config;
  config.publish_token = token;
  return config;
}

int head_status(const std::string& header_lines, const Config& config, bool loopback) {
  auto request = post(header_lines);
  PublishReply reply = sse::check_publish_head(request->request, config, loopback);
  if (reply.status != 0) error_of(reply);  // refusals are JSON too
  return reply.status;
}

}  // namespace

// ------------------------------------------------------------ valid bodies

TEST_CASE("one event object is published and its id returned") {
  Broadcaster broadcaster(1000);
  PublishReply reply =
      handle_publish(R"({"topic":"prices","event":"tick","data":"hello"})", broadcaster);
  CHECK(reply.status == 202);
  CHECK(reply.body == R"({"id":1000})");
  CHECK(broadcaster.last_id() == 1000);
  CHECK(broadcaster.has_pending());
  CHECK(broadcaster.topics().count("prices") == 1);
}

TEST_CASE("topic defaults to main and event to none") {
  std::vector<NewEvent> events = expect_published(R"({"data":"x"})");
  REQUIRE(events.size() == 1);
  CHECK(events[0].topic == "main");
  CHECK(events[0].event.empty());
  CHECK(events[0].data == "x");
}

TEST_CASE("a batch is published in order and its ids returned") {
  Broadcaster broadcaster(50);
  PublishReply reply = handle_publish(
      R"([{"data":1},{"topic":"b","event":"e","data":"two"},{"data":{"n":3}}])", broadcaster);
  CHECK(reply.status == 202);
  CHECK(reply.body == R"({"ids":[50,51,52]})");
  CHECK(broadcaster.last_id() == 52);
}

TEST_CASE("a batch of one is still a batch") {
  Broadcaster broadcaster(7);
  PublishReply reply = handle_publish(R"([{"data":"x"}])", broadcaster);
  CHECK(reply.status == 202);
  CHECK(reply.body == R"({"ids":[7]})");
  Parsed parsed = parse_body(R"([{"data":"x"}])");
  CHECK(parsed.is_batch);
  CHECK_FALSE(parse_body(R"({"data":"x"})").is_batch);
}

TEST_CASE("string data is sent as its text, escapes decoded") {
  std::vector<NewEvent> events = expect_published(R"({"data":"line 1\nline \"2\"\t\u00e9\u2713"})");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "line 1\nline \"2\"\t\xc3\xa9\xe2\x9c\x93");
}

TEST_CASE("non-string data is sent as compact JSON on one line") {
  struct Case {
    const char* body;
    const char* data;
  };
  const Case cases[] = {
      {R"({"data": { "a" : [1, 2, {"b": null}], "c": "x\ny" } })",
       R"({"a":[1,2,{"b":null}],"c":"x\ny"})"},
      {R"({"data":[ ]})", "[]"},
      {R"({"data":{}})", "{}"},
      {R"({"data":12.5})", "12.5"},
      {R"({"data":-3})", "-3"},
      {R"({"data":18446744073709551615})", "18446744073709551615"},
      {R"({"data":true})", "true"},
      {R"({"data":false})", "false"},
      {R"({"data":null})", "null"},
  };
  for (const Case& c : cases) {
    std::vector<NewEvent> events = expect_published(c.body);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == c.data);
    CHECK(events[0].data.find('\n') == std::string::npos);  // one data: line
  }
}

TEST_CASE("non-string data keeps its meaning, whatever simdjson's number spelling") {
  // simdjson writes doubles its own way (1e2 becomes 100.0, 1E-7 becomes
  // 1e-07): still JSON, still the same value.
  for (const char* body : {R"({"data":1e2})", R"({"data":1E-7})", R"({"data":[0.1,-0,2.5e10]})"}) {
    INFO("body: " << body);
    std::vector<NewEvent> events = expect_published(body);
    REQUIRE(events.size() == 1);
    simdjson::dom::parser sent, original;
    simdjson::dom::element sent_value, original_root;
    REQUIRE(sent.parse(events[0].data).get(sent_value) == simdjson::SUCCESS);
    REQUIRE(original.parse(std::string(body)).get(original_root) == simdjson::SUCCESS);
    CHECK(simdjson::minify(sent_value) == simdjson::minify(original_root["data"]));
  }
}

TEST_CASE("an empty string event means an unnamed event") {
  std::vector<NewEvent> events = expect_published(R"({"event":"","data":"x"})");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.empty());
}

TEST_CASE("an event name of 256 bytes is accepted") {
  std::vector<NewEvent> events =
      expect_published(R"({"event":")" + std::string(256, 'e') + R"(","data":1})");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.size() == 256);
}

TEST_CASE("field order does not matter, and whitespace around the body is fine") {
  std::vector<NewEvent> events =
      expect_published(" \r\n\t{\"data\":\"d\",\"event\":\"e\",\"topic\":\"t\"}\n ");
  REQUIRE(events.size() == 1);
  CHECK(events[0].topic == "t");
  CHECK(events[0].event == "e");
  CHECK(events[0].data == "d");
}

TEST_CASE("nesting of exactly 64 levels is accepted") {
  // The body's object is level 1; 63 arrays inside make 64.
  std::string body = R"({"data":)" + std::string(63, '[') + std::string(63, ']') + "}";
  CHECK(expect_published(body).size() == 1);
}

// ---------------------------------------------------------- invalid bodies

TEST_CASE("a body that is not JSON gets 400") {
  expect_rejected("", "bad JSON");
  expect_rejected("   ", "bad JSON");
  expect_rejected("data=hello", "bad JSON");
  expect_rejected(R"({"data":"x")", "bad JSON");
  expect_rejected(R"({"data":'x'})", "bad JSON");
  expect_rejected(R"({"data":"x",})", "bad JSON");
}

TEST_CASE("trailing garbage after the JSON value gets 400") {
  expect_rejected(R"({"data":"x"} x)", "bad JSON");
  expect_rejected(R"({"data":"x"}{"data":"y"})", "bad JSON");
  expect_rejected(R"([{"data":"x"}]])", "bad JSON");
}

TEST_CASE("a JSON value that is neither object nor array gets 400") {
  expect_rejected(R"("just a string")", "object");
  expect_rejected("42", "object");
  expect_rejected("null", "object");
}

TEST_CASE("an empty batch gets 400") {
  expect_rejected("[]", "empty batch");
}

TEST_CASE("a batch with a non-object gets 400 naming its index, and publishes nothing") {
  expect_rejected(R"([{"data":"ok"},5])", "event 1");
  expect_rejected(R"([{"data":"ok"},{"data":"ok"},[{"data":"x"}]])", "event 2");
  expect_rejected(R"([null])", "event 0");
}

TEST_CASE("a rejected batch publishes nothing, even when its bad event comes last") {
  Broadcaster broadcaster(1000);
  PublishReply reply = handle_publish(
      R"([{"data":"a"},{"topic":"t","data":"b"},{"topic":"bad topic","data":"c"}])", broadcaster);
  CHECK(reply.status == 400);
  CHECK(error_of(reply).find("event 2") != std::string::npos);
  CHECK(broadcaster.last_id() == 999);
  CHECK_FALSE(broadcaster.has_pending());
  CHECK(broadcaster.topics().empty());
}

TEST_CASE("an event without data gets 400") {
  expect_rejected(R"({"topic":"main"})", "'data'");
  expect_rejected("{}", "'data'");
  expect_rejected(R"([{"data":1},{"event":"x"}])", "'data'");
}

TEST_CASE("an unknown field gets 400 naming it") {
  expect_rejected(R"({"data":1,"retry":5})", "'retry'");
  expect_rejected(R"({"Data":1})", "'Data'");
}

TEST_CASE("a duplicate field gets 400") {
  expect_rejected(R"({"data":1,"data":2})", "duplicate field 'data'");
  expect_rejected(R"({"topic":"a","data":1,"topic":"a"})", "duplicate field 'topic'");
  expect_rejected(R"({"event":"a","event":"b","data":1})", "duplicate field 'event'");
  // An escaped key is the same key.
  expect_rejected(R"({"data":1,"d\u0061ta":2})", "duplicate field 'data'");
}

TEST_CASE("a client-supplied id gets 400") {
  expect_rejected(R"({"id":5,"data":1})", "'id'");
  expect_rejected(R"({"data":1,"id":"5"})", "'id'");
}

TEST_CASE("a bad topic gets 400") {
  for (const std::string& topic :
       std::vector<std::string>{R"("")", R"("a b")", R"("a/b")", R"("caf\u00e9")", R"(5)",
                                R"(null)", R"(["a"])", "\"" + std::string(65, 't') + "\""}) {
    expect_rejected(R"({"topic":)" + topic + R"(,"data":1})", "topic");
  }
}

TEST_CASE("an event name with CR, LF or NUL gets 400") {
  for (const char* event : {R"("a\rb")", R"("a\nb")", R"("a\u0000b")", R"("\r\n")"}) {
    expect_rejected(std::string(R"({"event":)") + event + R"(,"data":1})", "CR, LF or NUL");
  }
}

TEST_CASE("an event name that is not a string, or over 256 bytes, gets 400") {
  expect_rejected(R"({"event":5,"data":1})", "'event'");
  expect_rejected(R"({"event":null,"data":1})", "'event'");
  expect_rejected(R"({"event":")" + std::string(257, 'e') + R"(","data":1})", "256");
}

TEST_CASE("nesting deeper than 64 levels gets 400") {
  expect_rejected(R"({"data":)" + std::string(64, '[') + std::string(64, ']') + "}", "64");
  expect_rejected(R"({"data":)" + std::string(5000, '[') + std::string(5000, ']') + "}", "64");
}

TEST_CASE("the depth limit holds for bodies larger than the parser's first buffer") {
  // The parser starts with room for 4 KiB and grows for larger bodies; the
  // depth limit must survive the growth.
  const std::string padding = R"({"data":")" + std::string(8000, 'p') + R"("},)";
  expect_rejected("[" + padding + std::string(64, '[') + std::string(64, ']') + "]", "64");
  // And a big body first, then a small deep one: the grown parser still refuses.
  CHECK(expect_published("[" + padding + R"({"data":1}])").size() == 2);
  expect_rejected(R"({"data":)" + std::string(64, '[') + std::string(64, ']') + "}", "64");
}

TEST_CASE("invalid UTF-8 gets 400") {
  expect_rejected("{\"data\":\"\xff\"}", "bad JSON");
  expect_rejected("{\"data\":\"\xc3\"}", "bad JSON");          // truncated sequence
  expect_rejected("{\"data\":\"\xc0\xaf\"}", "bad JSON");      // overlong '/'
  expect_rejected("{\"data\":\"\xed\xa0\x80\"}", "bad JSON");  // encoded surrogate
  expect_rejected(R"({"data":"\ud800"})", "bad JSON");         // lone surrogate escape
}

TEST_CASE("numbers beyond 64-bit integers and doubles get 400") {
  // simdjson (3.0, DOM API) parses every number on the way in: 1e400 does not
  // fit a double and 2^64 does not fit a 64-bit integer, so parse() itself
  // fails with NUMBER_ERROR ("Problem while parsing a number") instead of
  // rounding to infinity or losing digits. The body is refused as bad JSON
  // rather than relayed with a value the publisher did not send.
  expect_rejected(R"({"data":1e400})", "bad JSON");
  expect_rejected(R"({"data":-1e400})", "bad JSON");
  expect_rejected(R"({"data":18446744073709551616})", "bad JSON");
  expect_rejected(R"({"data":-9223372036854775809})", "bad JSON");
  expect_rejected(R"({"data":{"nested":[1e999]}})", "bad JSON");
}

TEST_CASE("an error message quoting a field name stays valid JSON") {
  Broadcaster broadcaster(1);
  PublishReply reply = handle_publish(R"({"a\"b\\c":1,"data":1})", broadcaster);
  CHECK(reply.status == 400);
  CHECK(error_of(reply).find("a\"b\\c") != std::string::npos);
}

TEST_CASE("an unknown field with control characters in its name still gives JSON") {
  Broadcaster broadcaster(1);
  PublishReply reply = handle_publish(R"({"a\nb\u0001":1,"data":1})", broadcaster);
  CHECK(reply.status == 400);
  error_of(reply);  // must parse as JSON
}

TEST_CASE("an unknown field name cut to 64 bytes still gives valid UTF-8 JSON") {
  // 63 ASCII bytes, then a two-byte character straddling the cut.
  Broadcaster broadcaster(1);
  PublishReply reply =
      handle_publish(R"({")" + std::string(63, 'k') + "\xc3\xa9" + R"(":1,"data":1})", broadcaster);
  CHECK(reply.status == 400);
  error_of(reply);  // must parse as JSON
}

// ------------------------------------------------------------ tokens_equal

TEST_CASE("tokens_equal is true only for identical tokens") {
  CHECK(sse::tokens_equal("secret", "secret"));
  CHECK(sse::tokens_equal("", ""));
  CHECK_FALSE(sse::tokens_equal("secreT", "secret"));
  CHECK_FALSE(sse::tokens_equal("secret1", "secret"));
  CHECK_FALSE(sse::tokens_equal("secre", "secret"));
  CHECK_FALSE(sse::tokens_equal("", "secret"));
  CHECK_FALSE(sse::tokens_equal("secret", ""));
  CHECK_FALSE(sse::tokens_equal(std::string("secret\0", 7), "secret"));
  CHECK_FALSE(sse::tokens_equal("secret", std::string("secret\0", 7)));
}

// ------------------------------------------------------ check_publish_head

TEST_CASE("with a token configured, publishing needs the right bearer token") {
  const Config config = with_token("s3cret");
  CHECK(head_status("Authorization: Bearer s3cret\r\n", config, false) == 0);
  CHECK(head_status("Authorization: bearer s3cret\r\n", config, false) == 0);  // scheme: any case
  CHECK(head_status("", config, false) == 401);
  CHECK(head_status("", config, true) == 401);  // loopback is no excuse once a token is set
  CHECK(head_status("Authorization: Bearer wrong\r\n", config, true) == 401);
  CHECK(head_status("Authorization: Bearer s3cre\r\n", config, true) == 401);
  CHECK(head_status("Authorization: Bearer s3cret2\r\n", config, true) == 401);
  CHECK(head_status("Authorization: Bearer\r\n", config, true) == 401);
  CHECK(head_status("Authorization: Bearer \r\n", config, true) == 401);
  CHECK(head_status("Authorization: Basic czNjcmV0\r\n", config, true) == 401);
  CHECK(head_status("Authorization: s3cret\r\n", config, true) == 401);
}

TEST_CASE("without a token, only loopback peers may publish") {
  const Config config;
  CHECK(head_status("", config, true) == 0);
  CHECK(head_status("", config, false) == 403);
  CHECK(head_status("Authorization: Bearer anything\r\n", config, false) == 403);
}

TEST_CASE("JSON content types are accepted, with or without parameters") {
  const Config config;
  for (const char* type :
       {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
        "APPLICATION/JSON", "application/x-www-form-urlencoded", "application/ld+json",
        "application/vnd.api+json; q=1"}) {
    INFO("Content-Type: " << std::string(type));
    CHECK(head_status(std::string("Content-Type: ") + type + "\r\n", config, true) == 0);
  }
}

TEST_CASE("no Content-Type at all is accepted: the body speaks for itself") {
  CHECK(head_status("", Config(), true) == 0);
}

TEST_CASE("a non-JSON content type gets 415") {
  const Config config;
  for (const char* type :
       {"text/plain", "text/json", "multipart/form-data; boundary=x", "application/jsonx",
        "application/json-seq", "application/xml", "+json"}) {
    INFO("Content-Type: " << std::string(type));
    CHECK(head_status(std::string("Content-Type: ") + type + "\r\n", config, true) == 415);
  }
}

TEST_CASE("authorization is checked before the content type") {
  CHECK(head_status("Content-Type: text/plain\r\n", with_token("t"), true) == 401);
  CHECK(head_status("Content-Type: text/plain\r\n", Config(), false) == 403);
  CHECK(head_status("Content-Type: text/plain\r\nAuthorization: Bearer t\r\n", with_token("t"),
                    false) == 415);
}

// ------------------------------------------------ the tokenless boundary

TEST_CASE("without a token, a request that names a proxy is refused") {
  const Config config;
  CHECK(head_status("X-Forwarded-For: 203.0.113.9\r\n", config, true) == 403);
  CHECK(head_status("Forwarded: for=203.0.113.9\r\n", config, true) == 403);
  CHECK(head_status("X-Forwarded-For: 203.0.113.9\r\nAuthorization: Bearer t\r\n", with_token("t"),
                    true) == 0);  // a token is enough, proxied or not
}

TEST_CASE("without a token, Host must be a loopback name or address") {
  for (const char* host : {"localhost", "localhost:3000", "LOCALHOST", "app.localhost:8080",
                           "127.0.0.1", "127.0.0.1:3000", "127.9.9.9:1", "[::1]", "[::1]:3000"}) {
    INFO("Host " << std::string(host));
    CHECK(sse::is_loopback_host(host));
  }
  for (const char* host :
       {"evil.example", "evil.example:3000", "128.0.0.1", "10.0.0.1:3000", "[::2]:3000", "[::1",
        "127.0.0.1.nip.io", "localhost.evil.example", "localhostx", "0.0.0.0:3000"}) {
    INFO("Host " << std::string(host));
    CHECK_FALSE(sse::is_loopback_host(host));
  }
  auto request = [](const std::string& host) {
    auto parsed = std::make_unique<ParsedRequest>();
    parsed->text = "POST /publish HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 2\r\n\r\n";
    sse::RequestParser parser;
    REQUIRE(parser.parse(parsed->text.data(), parsed->text.size(), parsed->request).kind ==
            sse::ParseResult::Kind::kComplete);
    return parsed;
  };
  CHECK(sse::check_publish_head(request("rebound.example:3000")->request, Config(), true).status ==
        403);
  CHECK(sse::check_publish_head(request("127.0.0.1:3000")->request, Config(), true).status == 0);
}

TEST_CASE("without a token, a page of another origin may not publish") {
  const Config config;                                                         // --cors *
  CHECK(head_status("Origin: http://localhost:3000\r\n", config, true) == 0);  // same origin
  CHECK(head_status("Origin: http://LOCALHOST:3000\r\n", config, true) == 0);
  CHECK(head_status("Origin: http://localhost:4000\r\n", config, true) == 403);
  CHECK(head_status("Origin: http://127.0.0.1:3000\r\n", config, true) == 403);
  CHECK(head_status("Origin: https://evil.example\r\n", config, true) == 403);
  CHECK(head_status("Origin: null\r\n", config, true) == 403);  // sandboxed, file:, data:
  CHECK(head_status("Sec-Fetch-Site: cross-site\r\n", config, true) == 403);
  CHECK(head_status("Sec-Fetch-Site: same-origin\r\n", config, true) == 0);
  CHECK(head_status("Sec-Fetch-Site: none\r\n", config, true) == 0);  // typed by the user
}

TEST_CASE("--cors naming exactly one origin lets that origin publish, and only that one") {
  Config config;
  config.cors = "https://app.example";
  CHECK(head_status("Origin: https://app.example\r\nSec-Fetch-Site: cross-site\r\n", config,
                    true) == 0);
  CHECK(head_status("Origin: https://app.example.evil\r\n", config, true) == 403);
  CHECK(head_status("Origin: http://app.example\r\n", config, true) == 403);
  CHECK(head_status("Origin: https://app.example\r\n", config, false) ==
        403);  // still loopback only
}

TEST_CASE("with a token, any origin may publish through CORS") {
  CHECK(head_status("Authorization: Bearer t\r\nOrigin: https://evil.example\r\n"
                    "Sec-Fetch-Site: cross-site\r\n",
                    with_token("t"), true) == 0);
}

TEST_CASE("a default port may be spelled or not on either side of the Origin check") {
  CHECK(sse::origin_matches_host("http://localhost", "localhost:80"));
  CHECK(sse::origin_matches_host("http://localhost:80", "localhost"));
  CHECK(sse::origin_matches_host("https://localhost", "localhost:443"));
  CHECK_FALSE(sse::origin_matches_host("https://localhost", "localhost:80"));
  CHECK_FALSE(sse::origin_matches_host("localhost", "localhost"));
}

TEST_CASE("the names gap, error and open are refused as event names") {
  for (const char* name : {"gap", "error", "open"}) {
    INFO("event " << std::string(name));
    expect_rejected(std::string(R"({"event":")") + name + R"(","data":1})", "reserved");
  }
  expect_published(R"({"event":"gaps","data":1})");
  expect_published(R"({"event":"Error","data":1})");
}

TEST_CASE("a batch of more than 1000 events is refused whole") {
  std::string batch = "[";
  for (size_t i = 0; i <= sse::kMaxBatchEvents; ++i)
    batch += (i ? ",{\"data\":1}" : "{\"data\":1}");
  expect_rejected(batch + "]", "more than 1000 events");
  batch = "[";
  for (size_t i = 0; i < sse::kMaxBatchEvents; ++i) batch += (i ? ",{\"data\":1}" : "{\"data\":1}");
  CHECK(expect_published(batch + "]").size() == sse::kMaxBatchEvents);
}

// ------------------------------------------------------- Idempotency-Key

namespace {

PublishReply publish_with_key(Broadcaster& broadcaster, std::string_view body,
                              const std::string& key) {
  return handle_publish(body, broadcaster, "Idempotency-Key: " + key + "\r\n");
}

}  // namespace

TEST_CASE(
    "publishing again with the same Idempotency-Key answers the same ids, publishes nothing") {
  Broadcaster broadcaster(1000);
  PublishReply first = publish_with_key(broadcaster, R"([{"data":1},{"data":2}])", "order-42");
  CHECK(first.status == 202);
  CHECK(first.body == R"({"ids":[1000,1001]})");
  PublishReply again = publish_with_key(broadcaster, R"([{"data":1},{"data":2}])", "order-42");
  CHECK(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(broadcaster.counters().events_published == 2);
  PublishReply other = publish_with_key(broadcaster, R"({"data":3})", "order-43");
  CHECK(other.body == R"({"id":1002})");
}

TEST_CASE("a malformed Idempotency-Key gets 400 and publishes nothing") {
  Broadcaster broadcaster(1000);
  for (const std::string& key :
       {std::string(129, 'k'), std::string("two words"), std::string("caf\xc3\xa9")}) {
    INFO("key " << key);
    PublishReply reply = publish_with_key(broadcaster, R"({"data":1})", key);
    CHECK(reply.status == 400);
    error_of(reply);
  }
  CHECK(broadcaster.counters().events_published == 0);
  CHECK(publish_with_key(broadcaster, R"({"data":1})", std::string(128, 'k')).status == 202);
}

// ------------------------------------------------------ OPTIONS /publish

namespace {

test::RecordingExchange preflight(Broadcaster& broadcaster, const std::string& header_lines,
                                  bool loopback = true) {
  std::string text = "OPTIONS /publish HTTP/1.1\r\nHost: localhost:3000\r\n" + header_lines +
                     "Access-Control-Request-Method: POST\r\n\r\n";
  sse::Request request;
  sse::RequestParser parser;
  REQUIRE(parser.parse(text.data(), text.size(), request).kind ==
          sse::ParseResult::Kind::kComplete);
  test::RecordingExchange exchange;
  exchange.loopback = loopback;
  sse::PublishHandler handler(broadcaster.server.context, exchange);
  CHECK(handler.on_head(request) == sse::Handler::Next::kDone);
  REQUIRE(exchange.responses == 1);
  return exchange;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("OPTIONS /publish is granted only where the POST would be") {
  Broadcaster broadcaster(1);
  test::RecordingExchange other = preflight(broadcaster, "Origin: https://evil.example\r\n");
  CHECK(other.status() == 403);
  CHECK_FALSE(has(other.answer, "Access-Control-Allow-Origin"));
  CHECK(preflight(broadcaster, "Origin: http://localhost:3000\r\n").status() == 204);
  CHECK(preflight(broadcaster, "", false).status() == 403);  // not a loopback peer

  broadcaster.server.config.cors = "https://app.example";
  test::RecordingExchange named = preflight(broadcaster, "Origin: https://app.example\r\n");
  CHECK(named.status() == 204);
  CHECK(has(named.answer, "\r\nAccess-Control-Allow-Origin: https://app.example\r\n"));
  CHECK(has(named.answer, "\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n"));
  CHECK(has(named.answer, "Idempotency-Key"));

  broadcaster.server.config.cors = "*";
  broadcaster.server.config.publish_token = "t";
  test::RecordingExchange token = preflight(broadcaster, "Origin: https://evil.example\r\n");
  CHECK(token.status() == 204);  // the POST still needs the token
  CHECK(has(token.answer, "\r\nAccess-Control-Allow-Origin: *\r\n"));
}
