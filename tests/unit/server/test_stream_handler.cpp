// test_stream_handler.cpp — GET /sse: topics, resume and the first bytes of
// a stream (src/server/stream_handler.cpp).
//
// Requests are made by the real RequestParser from request text, so the
// tests see the same string_views a connection hands over. Streams start
// from a LocalEventLog filled as the server fills it (events/filled_log.h);
// the resume decisions themselves are tested in test_local_event_log.cpp.
// Every gap notice is parsed with simdjson to prove that it is valid JSON,
// whatever the client sent.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../events/filled_log.h"
#include "sse/events/sse_frame.h"
#include "sse/http/http_parser.h"
#include "sse/server/stream_handler.h"

using sse::FrameRef;
using sse::ParseResult;
using sse::Request;
using sse::ResumePlan;
using sse::StreamRequest;
using test::FilledLog;

namespace {

// A parsed request and the text its views point into (kept in place: the
// object is never moved).
struct ParsedRequest {
  std::string text;
  Request request;
};

std::unique_ptr<ParsedRequest> parse_request(std::string text) {
  auto parsed = std::make_unique<ParsedRequest>();
  parsed->text = std::move(text);
  sse::RequestParser parser;
  ParseResult result = parser.parse(parsed->text.data(), parsed->text.size(), parsed->request);
  REQUIRE(result.kind == ParseResult::Kind::kComplete);
  return parsed;
}

StreamRequest stream_request(const std::string& target, const std::string& header_lines = "") {
  auto parsed = parse_request("GET " + target + " HTTP/1.1\r\nHost: h\r\n" + header_lines + "\r\n");
  return sse::parse_stream_request(parsed->request);
}

using Topics = std::vector<std::string>;

std::vector<std::string> frame_texts(const std::vector<FrameRef>& frames) {
  std::vector<std::string> out;
  for (const FrameRef& frame : frames) out.emplace_back(frame->view());
  return out;
}

std::string event_text(uint64_t id) {
  return std::string(sse::encode_event(id, "", std::to_string(id))->view());
}

// Parses a gap notice's JSON; fails the test if it is not valid JSON.
struct GapJson {
  std::string last_event_id;
  std::string oldest_id;
};

GapJson parse_gap(const std::string& json) {
  INFO("json: " << json);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  REQUIRE(parser.parse(json).get(object) == simdjson::SUCCESS);
  CHECK(object.size() == 2);
  std::string_view last, oldest;
  REQUIRE(object["lastEventId"].get(last) == simdjson::SUCCESS);
  REQUIRE(object["oldestId"].get(oldest) == simdjson::SUCCESS);
  return GapJson{std::string(last), std::string(oldest)};
}

// Each byte read as a Latin-1 code point, written as UTF-8.
std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xc0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------ topics

TEST_CASE("a stream with no topic subscribes to main") {
  StreamRequest request = stream_request("/sse");
  CHECK(request.status == 200);
  CHECK(request.topics == Topics{"main"});
  CHECK_FALSE(request.resume);
}

TEST_CASE("repeated topic parameters subscribe to each topic once, in order") {
  StreamRequest request = stream_request("/sse?topic=b&topic=a&topic=b&topic=c");
  CHECK(request.status == 200);
  CHECK(request.topics == Topics{"b", "a", "c"});
}

TEST_CASE("an explicit topic replaces the default main") {
  CHECK(stream_request("/sse?topic=prices").topics == Topics{"prices"});
}

TEST_CASE("percent-encoded topic names are decoded before they are checked") {
  StreamRequest request = stream_request("/sse?topic=news%3Aeu&topic=a%2Eb%2d_9");
  CHECK(request.status == 200);
  CHECK(request.topics == Topics{"news:eu", "a.b-_9"});
}

TEST_CASE("every allowed character makes a valid topic name") {
  CHECK(sse::is_valid_topic("AZaz09_.:-"));
  CHECK(sse::is_valid_topic(std::string(64, 'x')));
  CHECK_FALSE(sse::is_valid_topic(""));
  CHECK_FALSE(sse::is_valid_topic(std::string(65, 'x')));
  for (int c = 0; c < 256; ++c) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == ':' || c == '-';
    std::string name = "a" + std::string(1, static_cast<char>(c));
    CHECK_MESSAGE(sse::is_valid_topic(name) == allowed, "byte " << c);
  }
}

TEST_CASE("an invalid topic name gets 400") {
  for (const std::string& query : std::vector<std::string>{
           "topic=", "topic", "topic=a%20b", "topic=a+b", "topic=a/b", "topic=a%2Fb",
           "topic=caf%C3%A9", "topic=%zz", "topic=%00", "topic=%", "topic=ok&topic=bad!",
           "topic=" + std::string(65, 'x')}) {
    INFO("query: " << query);
    StreamRequest request = stream_request("/sse?" + query);
    CHECK(request.status == 400);
    CHECK_FALSE(request.error.empty());
  }
}

TEST_CASE("a topic name of 64 characters is accepted") {
  StreamRequest request = stream_request("/sse?topic=" + std::string(64, 'x'));
  CHECK(request.status == 200);
  CHECK(request.topics == Topics{std::string(64, 'x')});
}

TEST_CASE("32 topics are accepted; a 33rd gets 400") {
  std::string query;
  for (int i = 0; i < 32; ++i) query += "topic=t" + std::to_string(i) + "&";
  StreamRequest ok = stream_request("/sse?" + query + "topic=t0");  // a repeat is not a 33rd
  CHECK(ok.status == 200);
  CHECK(ok.topics.size() == 32);
  StreamRequest over = stream_request("/sse?" + query + "topic=t32");
  CHECK(over.status == 400);
  CHECK_FALSE(over.error.empty());
}

TEST_CASE("other query parameters and empty pairs are ignored") {
  StreamRequest request = stream_request("/sse?foo=bar&&topic=x&=&lastEventIdX=3&Topic=y");
  CHECK(request.status == 200);
  CHECK(request.topics == Topics{"x"});
  CHECK_FALSE(request.resume);
}

// ------------------------------------------------------------------ resume

TEST_CASE("?lastEventId= asks to resume when there is no header") {
  StreamRequest request = stream_request("/sse?lastEventId=%31%32&topic=a");
  CHECK(request.resume);
  CHECK(request.last_event_id == "12");
  CHECK(request.topics == Topics{"a"});
}

TEST_CASE("the Last-Event-ID header wins over ?lastEventId=") {
  // A reconnecting browser sends a fresh header; the URL keeps its first value.
  StreamRequest request = stream_request("/sse?lastEventId=5", "Last-Event-ID: 1234\r\n");
  CHECK(request.resume);
  CHECK(request.last_event_id == "1234");
  StreamRequest lower = stream_request("/sse", "last-event-id: 77\r\n");
  CHECK(lower.resume);
  CHECK(lower.last_event_id == "77");
}

TEST_CASE("the Last-Event-ID header is taken as sent, not percent-decoded") {
  StreamRequest request = stream_request("/sse", "Last-Event-ID: %31\r\n");
  CHECK(request.last_event_id == "%31");
}

TEST_CASE("a malformed escape in ?lastEventId= is kept as sent") {
  StreamRequest request = stream_request("/sse?lastEventId=%zz");
  CHECK(request.resume);
  CHECK(request.last_event_id == "%zz");
}

TEST_CASE("an empty Last-Event-ID header still asks to resume, and is an unknown id") {
  StreamRequest request = stream_request("/sse?lastEventId=5", "Last-Event-ID:\r\n");
  CHECK(request.resume);
  CHECK(request.last_event_id.empty());
  FilledLog history(8, 1000, 3);
  ResumePlan plan = history.plan_resume(request.last_event_id);
  CHECK(plan.gap);
  CHECK_FALSE(plan.replay);
}

// ---------------------------------------------------------------- gap_data

TEST_CASE("a gap notice names the id as sent and the oldest retained id") {
  CHECK(sse::gap_data("42", 1005) == R"({"lastEventId":"42","oldestId":"1005"})");
  GapJson gap = parse_gap(sse::gap_data("42", 1005));
  CHECK(gap.last_event_id == "42");
  CHECK(gap.oldest_id == "1005");
}

TEST_CASE("a gap notice escapes quotes and backslashes") {
  const std::string json = sse::gap_data("a\"b\\c", 1);
  CHECK(json == R"({"lastEventId":"a\"b\\c","oldestId":"1"})");
  CHECK(parse_gap(json).last_event_id == "a\"b\\c");
}

TEST_CASE("a gap notice escapes control characters as \\u00XX") {
  const std::string id("\x01\n\r\t\x1f\x7f", 6);
  const std::string json = sse::gap_data(id, 1);
  CHECK(json.find_first_of("\r\n") == std::string::npos);  // never a line break in the stream
  CHECK(json.find("\\u0001\\u000a\\u000d\\u0009\\u001f\\u007f") != std::string::npos);
  CHECK(parse_gap(json).last_event_id == id);
}

TEST_CASE("a gap notice reads non-ASCII bytes as Latin-1, so any bytes give valid JSON") {
  // "café" in UTF-8 arrives as the bytes c3 a9; each becomes one code point.
  const std::string json = sse::gap_data("caf\xc3\xa9", 1);
  CHECK(json.find("caf\\u00c3\\u00a9") != std::string::npos);
  CHECK(parse_gap(json).last_event_id == "caf\xc3\x83\xc2\xa9");
  // A lone byte that is not UTF-8 on its own.
  CHECK(parse_gap(sse::gap_data("\xff", 1)).last_event_id == "\xc3\xbf");
}

TEST_CASE("a gap notice echoes at most 64 bytes of the id") {
  const std::string long_id = std::string(60, '9') + "\"\\\x01\xe9" + std::string(100, 'x');
  GapJson gap = parse_gap(sse::gap_data(long_id, 7));
  CHECK(gap.last_event_id == latin1_to_utf8(long_id.substr(0, 64)));
  CHECK(gap.oldest_id == "7");
  CHECK(parse_gap(sse::gap_data(std::string(1000, 'z'), 7)).last_event_id == std::string(64, 'z'));
}

TEST_CASE("every byte value in an id gives valid JSON and a gap event of one data line") {
  for (int c = 0; c < 256; ++c) {
    const std::string id = "1" + std::string(1, static_cast<char>(c)) + "2";
    INFO("byte " << c);
    const std::string json = sse::gap_data(id, 1);
    CHECK(parse_gap(json).last_event_id == latin1_to_utf8(id));
    FrameRef frame = sse::encode_event(sse::kNoId, "gap", json);
    CHECK(frame->view() == "event: gap\ndata: " + json + "\n\n");
  }
}

// ------------------------------------------------------------ start_stream

TEST_CASE("a stream's response head carries the event-stream headers and CORS") {
  StreamRequest request = stream_request("/sse");
  FilledLog history(4, 1000, 0);
  sse::StreamStart start = sse::start_stream(request, ResumePlan(), history.log(), "*", 3000);
  const std::string& head = start.head;
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("\r\nContent-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(head.find("\r\nCache-Control: no-cache, no-transform\r\n") != std::string::npos);
  CHECK(head.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
  CHECK(head.find("\r\nX-Accel-Buffering: no\r\n") != std::string::npos);
  CHECK(head.find("\r\nAccess-Control-Allow-Origin: *\r\n") != std::string::npos);
  CHECK(head.find("Access-Control-Allow-Credentials") == std::string::npos);
  // Not chunk-encoded, no length: the body runs until the connection closes.
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(head.size() >= 4);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
  CHECK(head.find("\r\n\r\n") == head.size() - 4);
  CHECK(start.opening == sse::encode_stream_open(3000));
  CHECK(start.frames.empty());
}

TEST_CASE("a named CORS origin also allows credentials and varies by Origin") {
  StreamRequest request = stream_request("/sse");
  FilledLog history(4, 1000, 0);
  sse::StreamStart start =
      sse::start_stream(request, ResumePlan(), history.log(), "https://app.example", 3000);
  CHECK(start.head.find("\r\nAccess-Control-Allow-Origin: https://app.example\r\n") !=
        std::string::npos);
  CHECK(start.head.find("\r\nAccess-Control-Allow-Credentials: true\r\n") != std::string::npos);
  CHECK(start.head.find("\r\nVary: Origin\r\n") != std::string::npos);
}

TEST_CASE("a stream that does not resume gets no replay, whatever the history holds") {
  StreamRequest request = stream_request("/sse");
  FilledLog history(8, 1000, 5);
  sse::StreamStart start = sse::start_stream(request, ResumePlan(), history.log(), "*", 1000);
  CHECK(start.frames.empty());
}

TEST_CASE("a resumed stream replays only its topics' events after the id, in order") {
  FilledLog history(16, 1000, 0);
  for (const char* topic : {"a", "b", "a", "c", "b", "a"}) history.add(topic);
  StreamRequest request = stream_request("/sse?topic=a&topic=b&lastEventId=1001");
  ResumePlan plan = history.plan_resume(request.last_event_id);
  CHECK_FALSE(plan.gap);
  sse::StreamStart start = sse::start_stream(request, plan, history.log(), "*", 1000);
  CHECK(frame_texts(start.frames) ==
        std::vector<std::string>{event_text(1002), event_text(1004), event_text(1005)});
}

TEST_CASE(
    "a gap notice comes first, with the id the stream goes on from, then the retained events") {
  FilledLog history(3, 1000, 6);  // retains 1003..1005
  StreamRequest request = stream_request("/sse", "Last-Event-ID: 1001\r\n");
  ResumePlan plan = history.plan_resume(request.last_event_id);
  REQUIRE(plan.gap);
  sse::StreamStart start = sse::start_stream(request, plan, history.log(), "*", 1000);
  REQUIRE(start.frames.size() == 4);
  CHECK(start.frames[0]->view() ==
        "id: 1002\nevent: gap\ndata: {\"lastEventId\":\"1001\",\"oldestId\":\"1003\"}\n\n");
  CHECK(frame_texts({start.frames[1], start.frames[2], start.frames[3]}) ==
        std::vector<std::string>{event_text(1003), event_text(1004), event_text(1005)});
}

TEST_CASE("a future id gets only the gap notice, whose id is the newest assigned") {
  FilledLog history(3, 1000, 6);
  StreamRequest request = stream_request("/sse?lastEventId=2000");
  ResumePlan plan = history.plan_resume(request.last_event_id);
  sse::StreamStart start = sse::start_stream(request, plan, history.log(), "*", 1000);
  REQUIRE(start.frames.size() == 1);
  CHECK(start.frames[0]->view() ==
        "id: 1005\nevent: gap\ndata: {\"lastEventId\":\"2000\",\"oldestId\":\"1003\"}\n\n");
}

TEST_CASE("replayed frames are the history's own, not copies") {
  FilledLog history(4, 1000, 2);
  StreamRequest request = stream_request("/sse?lastEventId=999");
  ResumePlan plan = history.plan_resume(request.last_event_id);
  sse::StreamStart start = sse::start_stream(request, plan, history.log(), "*", 1000);
  REQUIRE(start.frames.size() == 2);
  std::vector<FrameRef> retained = history.after(0, {"main"});
  CHECK(start.frames[0].get() == retained[0].get());
  CHECK(start.frames[1].get() == retained[1].get());
}

TEST_CASE("resuming from a gap notice's id is complete: no second gap") {
  FilledLog history(3, 1000, 6);  // retains 1003..1005
  for (const char* sent : {"1001", "2000"}) {
    INFO("Last-Event-ID " << std::string(sent));
    StreamRequest first = stream_request("/sse", std::string("Last-Event-ID: ") + sent + "\r\n");
    ResumePlan plan = history.plan_resume(first.last_event_id);
    REQUIRE(plan.gap);
    ResumePlan again = history.plan_resume(std::to_string(plan.gap_id));
    CHECK_FALSE(again.gap);
  }
}

TEST_CASE("a replay over its bound keeps the newest events and starts with a gap") {
  FilledLog history(16, 1000, 10);  // 1000..1009, all retained
  StreamRequest request = stream_request("/sse", "Last-Event-ID: 1001\r\n");
  ResumePlan plan = history.plan_resume(request.last_event_id);
  REQUIRE_FALSE(plan.gap);
  size_t frame = event_text(1009).size();
  sse::StreamStart start = sse::start_stream(request, plan, history.log(), "*", 1000, 3 * frame);
  CHECK(start.gap);
  REQUIRE(start.frames.size() == 4);
  CHECK(start.frames[0]->view().rfind("id: 1006\nevent: gap\n", 0) == 0);
  CHECK(frame_texts({start.frames[1], start.frames[2], start.frames[3]}) ==
        std::vector<std::string>{event_text(1007), event_text(1008), event_text(1009)});
}
