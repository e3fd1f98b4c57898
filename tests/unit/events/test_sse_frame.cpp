// test_sse_frame.cpp — the event-stream encoder (src/events/sse_frame.cpp).
//
// Two kinds of check: the exact bytes of a frame, and what a browser makes
// of them. For the second, the test carries a small decoder written from
// WHATWG HTML §9.2.6 ("Interpreting an event stream"), and feeds it every
// frame whole and one byte at a time: the events it dispatches must carry
// exactly the id, type and data that were encoded (data with its line
// breaks normalized to LF, as the browser reports them).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sse/events/sse_frame.h"

using sse::encode_comment;
using sse::encode_event;
using sse::encode_stream_open;
using sse::FrameRef;
using sse::kNoId;

namespace {

struct DecodedEvent {
  std::string type;
  std::string data;
  std::string last_event_id;
};

// WHATWG HTML §9.2.6, for UTF-8 text already decoded: lines end at CRLF, LF
// or CR; a CR at the end of one chunk may be followed by its LF in the next.
class EventStreamDecoder {
 public:
  void feed(std::string_view bytes) {
    for (char c : bytes) {
      if (after_cr_ && c == '\n') {
        after_cr_ = false;
        continue;
      }
      after_cr_ = false;
      if (c == '\r' || c == '\n') {
        after_cr_ = c == '\r';
        process_line(line_);
        line_.clear();
      } else {
        line_ += c;
      }
    }
  }

  std::vector<DecodedEvent> events;
  long long retry = -1;
  std::string unterminated() const { return line_; }
  bool mid_event() const { return !data_.empty() || !type_.empty(); }

 private:
  void process_line(const std::string& line) {
    if (line.empty()) {
      dispatch();
      return;
    }
    if (line[0] == ':') return;  // a comment
    std::string field = line, value;
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    }
    if (field == "event") {
      type_ = value;
    } else if (field == "data") {
      data_ += value + "\n";
    } else if (field == "id") {
      if (value.find('\0') == std::string::npos) id_ = value;
    } else if (field == "retry") {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        retry = std::stoll(value);
      }
    }
  }

  void dispatch() {
    last_id_ = id_;
    if (data_.empty()) {
      type_.clear();
      return;
    }
    data_.pop_back();  // the LF after the last data line
    events.push_back(DecodedEvent{type_.empty() ? "message" : type_, data_, last_id_});
    data_.clear();
    type_.clear();
  }

  std::string line_, data_, type_, id_, last_id_;
  bool after_cr_ = false;
};

std::vector<DecodedEvent> decode_whole(std::string_view bytes) {
  EventStreamDecoder decoder;
  decoder.feed(bytes);
  CHECK(decoder.unterminated().empty());
  CHECK_FALSE(decoder.mid_event());
  return decoder.events;
}

std::vector<DecodedEvent> decode_bytewise(std::string_view bytes) {
  EventStreamDecoder decoder;
  for (char c : bytes) decoder.feed(std::string_view(&c, 1));
  CHECK(decoder.unterminated().empty());
  CHECK_FALSE(decoder.mid_event());
  return decoder.events;
}

std::string normalize_line_breaks(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Encodes one event and checks that a browser would dispatch exactly it,
// whichever way the bytes arrive.
void expect_round_trip(uint64_t id, std::string_view event, std::string_view data) {
  INFO("event '" << std::string(event) << "', data '" << std::string(data) << "'");
  FrameRef frame = encode_event(id, event, data);
  REQUIRE(frame);
  for (const auto& events : {decode_whole(frame->view()), decode_bytewise(frame->view())}) {
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == (event.empty() ? "message" : std::string(event)));
    CHECK(events[0].data == normalize_line_breaks(data));
    CHECK(events[0].last_event_id == (id == kNoId ? "" : std::to_string(id)));
  }
}

std::string text(const FrameRef& frame) {
  return std::string(frame->view());
}

}  // namespace

TEST_CASE("an event is its id line, its event line and one data line, then a blank line") {
  CHECK(text(encode_event(42, "tick", "hello")) == "id: 42\nevent: tick\ndata: hello\n\n");
  expect_round_trip(42, "tick", "hello");
}

TEST_CASE("an unnamed event has no event line and arrives as 'message'") {
  CHECK(text(encode_event(7, "", "x")) == "id: 7\ndata: x\n\n");
  expect_round_trip(7, "", "x");
}

TEST_CASE("kNoId omits the id line") {
  CHECK(text(encode_event(kNoId, "gap", "{}")) == "event: gap\ndata: {}\n\n");
  expect_round_trip(kNoId, "gap", "{}");
}

TEST_CASE("ids up to 2^53 are written in full") {
  const uint64_t id = (uint64_t{1} << 53) - 1;
  CHECK(text(encode_event(id, "", "x")) == "id: 9007199254740991\ndata: x\n\n");
}

TEST_CASE("multi-line data with LF, CRLF and lone CR becomes one data line per line") {
  // WHATWG §9.2.6: CRLF, LF and CR all end a line, so each must start a new
  // "data:" line or the browser would see a line that is not a field.
  CHECK(text(encode_event(1, "", "a\nb\r\nc\rd")) ==
        "id: 1\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  expect_round_trip(1, "", "a\nb\r\nc\rd");
}

TEST_CASE("empty lines inside and at the end of data are kept") {
  CHECK(text(encode_event(1, "", "a\n\nb\n")) == "id: 1\ndata: a\ndata: \ndata: b\ndata: \n\n");
  expect_round_trip(1, "", "a\n\nb\n");
  expect_round_trip(1, "", "\r\r\n\n\r");
  expect_round_trip(1, "", "trailing CR\r");
}

TEST_CASE("empty data is one empty data line and arrives as an empty message") {
  CHECK(text(encode_event(3, "", "")) == "id: 3\ndata: \n\n");
  expect_round_trip(3, "", "");
}

TEST_CASE("data that looks like fields cannot inject them") {
  const std::string data = "x\nid: 99\nevent: evil\nretry: 1\n\ndata: y";
  expect_round_trip(5, "", data);
  EventStreamDecoder decoder;
  decoder.feed(encode_event(5, "", data)->view());
  CHECK(decoder.retry == -1);
}

TEST_CASE("leading spaces and colons in data survive") {
  // The decoder strips exactly one space after "data:", which the encoder adds.
  expect_round_trip(1, "", " lead");
  expect_round_trip(1, "", ":colon first");
  expect_round_trip(1, "", "a: b");
}

TEST_CASE("an event name with CR, LF or NUL is stripped to one line") {
  CHECK(text(encode_event(1, std::string("a\r\nb\nc\rd\0e", 10), "x")) ==
        "id: 1\nevent: abcde\ndata: x\n\n");
}

TEST_CASE("UTF-8 and a large multi-line payload round-trip") {
  expect_round_trip(1, "caf\xc3\xa9", "\xe2\x9c\x93 ok\n\xf0\x9f\x98\x80");
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "line " + std::to_string(i) + (i % 3 ? "\n" : "\r\n");
  FrameRef frame = encode_event(9, "bulk", big);
  CHECK(frame->size() == frame->view().size());
  std::vector<DecodedEvent> events = decode_whole(frame->view());
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == normalize_line_breaks(big));
}

TEST_CASE("a comment is one line that EventSource ignores") {
  CHECK(text(encode_comment("")) == ":\n\n");
  CHECK(text(encode_comment("keep\r\nalive")) == ":keepalive\n\n");
  CHECK(decode_whole(encode_comment("x\ny")->view()).empty());
}

TEST_CASE("a stream opens with the retry hint and a comment, and no event") {
  const std::string opening = encode_stream_open(3000);
  CHECK(opening.rfind("retry: 3000\n", 0) == 0);
  CHECK(opening.size() >= 4);
  CHECK(opening.substr(opening.size() - 2) == "\n\n");
  for (bool bytewise : {false, true}) {
    EventStreamDecoder decoder;
    if (bytewise) {
      for (char c : opening) decoder.feed(std::string_view(&c, 1));
    } else {
      decoder.feed(opening);
    }
    CHECK(decoder.events.empty());
    CHECK(decoder.retry == 3000);
  }
}

TEST_CASE("frames arriving back to back are dispatched one by one") {
  std::string stream = encode_stream_open(10) + text(encode_event(1, "a", "one")) +
                       text(encode_comment("")) + text(encode_event(2, "", "two\nlines")) +
                       text(encode_event(kNoId, "gap", "{}"));
  std::vector<DecodedEvent> events = decode_bytewise(stream);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "a");
  CHECK(events[0].last_event_id == "1");
  CHECK(events[1].data == "two\nlines");
  CHECK(events[1].last_event_id == "2");
  // An event without an id keeps the last one: a gap notice does not move
  // the resume point.
  CHECK(events[2].type == "gap");
  CHECK(events[2].last_event_id == "2");
}
