// test_stream.cpp — GET /sse as a browser's EventSource sees it (WHATWG HTML
// §9.2): response headers, the opening retry and comment, the tick events
// and their JSON, heartbeats, topic validation, CORS, and the slow consumer
// that never reads (after redis tests/unit/obuf-limits.tcl).
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "harness.h"

namespace {

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Seconds since the epoch of "2026-11-25T05:00:00.123Z" (milliseconds
// dropped), or -1 if it is not in exactly that shape.
long long parse_iso_utc(const std::string& text) {
  // 'd' stands for a digit; every other character must match exactly.
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != shape.size()) return -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (shape[i] == 'd' ? !digit : text[i] != shape[i]) return -1;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(text.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(text.substr(8, 2));
  tm.tm_hour = std::stoi(text.substr(11, 2));
  tm.tm_min = std::stoi(text.substr(14, 2));
  tm.tm_sec = std::stoi(text.substr(17, 2));
  return static_cast<long long>(timegm(&tm));
}

}  // namespace

TEST_CASE("the harness's event-stream parser follows WHATWG line endings and fields") {
  // The tests below trust this parser, so it is checked first, fed whole and
  // one byte at a time (a CR ending one read and an LF starting the next are
  // one line end, not two).
  const std::string stream =
      "\xEF\xBB\xBFretry: 1500\r\n: hello\r\rid: 7\ndata: a\r\ndata:b\r\r"
      "event: x\ndata\n\nid: 8\n\ndata: no id line\n\ndata: cut off";
  for (bool bytewise : {false, true}) {
    CAPTURE(bytewise);
    SseParser parser;
    if (bytewise) {
      for (char c : stream) parser.feed(std::string(1, c));
    } else {
      parser.feed(stream);
    }
    CHECK(parser.retry_ms == 1500);
    REQUIRE(parser.events.size() == 3);
    CHECK(parser.events[0].data == "a\nb");
    CHECK(parser.events[0].last_event_id == "7");
    CHECK(parser.events[0].type == "message");
    CHECK(parser.events[1].type == "x");
    CHECK(parser.events[1].data == "");  // "data" alone is an empty data line
    CHECK(parser.events[1].last_event_id == "7");
    CHECK_FALSE(parser.events[1].had_id_field);
    CHECK(parser.events[2].data == "no id line");
    CHECK(parser.events[2].last_event_id == "8");  // the id-only block set it
    REQUIRE(parser.lines.size() >= 2);
    CHECK(parser.lines[0].field == "retry");
    CHECK(parser.lines[1].comment);
    CHECK(parser.lines[1].value == " hello");
  }
}

TEST_CASE("GET /sse answers 200 with the event-stream headers and no framing") {
  ServerProcess server({"--tick-ms", "0"});
  SseStream stream(server.port());
  const HttpResponse& head = stream.head;
  CHECK(head.status == 200);
  CHECK(head.header("content-type").rfind("text/event-stream", 0) == 0);
  CHECK(head.header("cache-control").find("no-cache") != std::string::npos);
  CHECK(head.header("cache-control").find("no-transform") != std::string::npos);
  CHECK(head.header("connection") == "keep-alive");
  CHECK(head.header("x-accel-buffering") == "no");
  CHECK(head.header("access-control-allow-origin") == "*");
  // Raw event-stream bytes until close: no length, no chunked coding.
  CHECK(!head.has("content-length"));
  CHECK(!head.has("transfer-encoding"));
}

TEST_CASE("a stream opens with retry within 10 percent above --retry-ms, then a comment") {
  ServerProcess server({"--tick-ms", "0", "--retry-ms", "1000"});
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    SseStream stream(server.port());
    REQUIRE(stream.head.status == 200);
    REQUIRE(
        stream.wait_for([](const SseParser& p) { return p.lines.size() >= 2; }, after_ms(5000)));
    const SseLine& first = stream.parser.lines[0];
    CHECK(first.field == "retry");
    CHECK(stream.parser.retry_ms >= 1000);
    CHECK(stream.parser.retry_ms <= 1100);
    CHECK(stream.parser.lines[1].comment);
  }
}

TEST_CASE("tick events carry strictly increasing clock-seeded ids") {
  long long started_us = now_us();
  ServerProcess server({"--tick-ms", "50"});
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  unsigned long long previous = 0;
  for (int i = 0; i < 6; ++i) {
    CAPTURE(i);
    SseEvent event;
    REQUIRE(stream.next_event(event, after_ms(5000)));
    CHECK(event.type == "message");
    CHECK(event.had_id_field);
    unsigned long long id = to_id(event.last_event_id);
    CHECK(id > previous);
    CHECK(id > 1700000000000000ULL);
    CHECK(id < (1ULL << 53));  // exact as a JavaScript number
    // Seeded from the clock in microseconds: within a minute of now.
    CHECK(static_cast<long long>(id) >= started_us - 60000000LL);
    CHECK(static_cast<long long>(id) <= now_us() + 60000000LL);
    previous = id;
  }
}

TEST_CASE("tick data is one JSON line with the demo's fields and live status") {
  ServerProcess server({"--tick-ms", "50"});
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    SseEvent event;
    REQUIRE(stream.next_event(event, after_ms(5000)));
    const std::string& data = event.data;
    CAPTURE(data);
    CHECK(data.find('\n') == std::string::npos);
    CHECK(data.front() == '{');
    CHECK(data.back() == '}');
    long long time_s = parse_iso_utc(json_string(data, "time"));
    CHECK(time_s > 0);
    CHECK(std::llabs(time_s - static_cast<long long>(std::time(nullptr))) < 60);
    CHECK(json_string(data, "message") == "Hello from Server!");
    double random_value = json_number(data, "randomValue");
    CHECK(random_value >= 0);
    CHECK(random_value < 1);
    CHECK(json_number(data, "subscribers") >= 1);
    CHECK(json_number(data, "sent_mono_ns") > 0);
  }
}

TEST_CASE("the tick's randomValue varies from tick to tick") {
  ServerProcess server({"--tick-ms", "20"});
  SseStream stream(server.port());
  REQUIRE(stream.wait_for([](const SseParser& p) { return p.events.size() >= 5; }, after_ms(5000)));
  std::vector<double> values;
  for (const SseEvent& event : stream.parser.events)
    values.push_back(json_number(event.data, "randomValue"));
  bool varies = false;
  for (double value : values) varies = varies || value != values.front();
  CHECK(varies);
}

TEST_CASE("every subscriber gets the same tick with the same id") {
  ServerProcess server({"--tick-ms", "50"});
  SseStream first(server.port());
  SseStream second(server.port());
  REQUIRE(first.head.status == 200);
  REQUIRE(second.head.status == 200);
  // Both are subscribed now; the next tick must reach both alike.
  REQUIRE(first.receives_new_event(after_ms(5000)));
  unsigned long long id = first.max_id();
  REQUIRE(second.wait_for(
      [id](const SseParser& p) {
        for (const SseEvent& e : p.events) {
          if (to_id(e.last_event_id) >= id) return true;
        }
        return false;
      },
      after_ms(5000)));
  std::string first_data;
  std::string second_data;
  for (const SseEvent& e : first.parser.events) {
    if (to_id(e.last_event_id) == id) first_data = e.data;
  }
  for (const SseEvent& e : second.parser.events) {
    if (to_id(e.last_event_id) == id) second_data = e.data;
  }
  CHECK(!first_data.empty());
  CHECK(first_data == second_data);
  CHECK(json_number(first_data, "subscribers") == 2);
}

TEST_CASE("an idle stream gets heartbeat comments every --heartbeat-ms") {
  ServerProcess server({"--tick-ms", "0", "--heartbeat-ms", "200"});
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  auto comments = [](const SseParser& p) {
    int count = 0;
    for (const SseLine& line : p.lines) count += line.comment ? 1 : 0;
    return count;
  };
  // The opening comment, then three heartbeats. However the server phases
  // its timer, three comments each after 200 ms idle take at least ~400 ms;
  // much less means it is not waiting for the stream to be idle.
  auto start = std::chrono::steady_clock::now();
  CHECK(stream.wait_for([&](const SseParser& p) { return comments(p) >= 4; }, after_ms(5000)));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CHECK(took.count() >= 350);
  CHECK(stream.parser.events.empty());  // comments dispatch nothing
}

TEST_CASE("a bad topic name gets 400 and a good one 200") {
  ServerProcess server({"--tick-ms", "0"});
  const std::string bad[] = {
      "/sse?topic=",                         // empty
      "/sse?topic=bad!name",                 // '!' not allowed
      "/sse?topic=" + std::string(65, 'a'),  // too long
      "/sse?topic=a%20b",                    // space once decoded
      "/sse?topic=ok&topic=no/slash",        // one bad among good
  };
  for (const std::string& target : bad) {
    CAPTURE(target);
    SseStream stream(server.port(), target);
    CHECK(stream.head.status == 400);
  }
  const std::string good[] = {
      "/sse?topic=" + std::string(64, 'a'),
      "/sse?topic=A-z_0.9:x",
      "/sse?topic=a&topic=b",
  };
  for (const std::string& target : good) {
    CAPTURE(target);
    SseStream stream(server.port(), target);
    CHECK(stream.head.status == 200);
  }
}

TEST_CASE("at most 32 topics per stream") {
  ServerProcess server({"--tick-ms", "0"});
  std::string target = "/sse?";
  for (int i = 0; i < 32; ++i) target += "topic=t" + std::to_string(i) + "&";
  SseStream thirty_two(server.port(), target);
  CHECK(thirty_two.head.status == 200);
  SseStream thirty_three(server.port(), target + "topic=t32");
  CHECK(thirty_three.head.status == 400);
}

TEST_CASE("a named --cors origin adds credentials and Vary: Origin") {
  ServerProcess server({"--tick-ms", "0", "--cors", "https://app.example"});
  SseStream stream(server.port(), "/sse", "Origin: https://app.example\r\n");
  CHECK(stream.head.status == 200);
  CHECK(stream.head.header("access-control-allow-origin") == "https://app.example");
  CHECK(stream.head.header("access-control-allow-credentials") == "true");
  CHECK(stream.head.header("vary").find("Origin") != std::string::npos);
}

TEST_CASE("HEAD /sse sends the stream headers and no stream") {
  ServerProcess server({"--tick-ms", "50"});
  Client client(server.port());
  REQUIRE(client.send("HEAD /sse HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpResponse head = client.read_response(after_ms(5000), true);
  CHECK(head.status == 200);
  CHECK(head.header("content-type").rfind("text/event-stream", 0) == 0);
  // Three tick periods pass; no event bytes may follow a HEAD response.
  Deadline window = after_ms(300);
  while (ms_left(window) > 0 && !client.peer_closed()) client.read_some(ms_left(window));
  CHECK(client.buffer().find("data:") == std::string::npos);
  CHECK(client.buffer().find("retry:") == std::string::npos);
}

TEST_CASE("a subscriber that never reads is dropped and counted while others keep up") {
  ServerProcess server({"--tick-ms", "1", "--max-backlog", "65536"});
  // The stalled client shrinks its receive window before connecting, so the
  // kernel buffers fill fast and the backlog lands in the server.
  SseStream stalled(server.port(), "/sse", "", 4096);
  REQUIRE(stalled.head.status == 200);
  SseStream reader(server.port());
  REQUIRE(reader.head.status == 200);

  // Ticks alone take ~10 s to get past the kernel's send buffer, which grows
  // to megabytes on loopback; a bulky published event every 100 ms speeds
  // that up (and if publishing were broken, the ticks still get there).
  const std::string bulky = "{\"data\":\"" + std::string(100000, 'x') + "\"}";
  Deadline deadline = after_ms(20000);
  double dropped = 0;
  auto next_stats = std::chrono::steady_clock::now();
  while (ms_left(deadline) > 0) {
    reader.pump(20);  // the reader keeps reading throughout
    if (std::chrono::steady_clock::now() < next_stats) continue;
    next_stats = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    dropped = json_number(stats(server.port()), "slow_consumers_dropped");
    if (dropped >= 1) break;
    publish(server.port(), bulky);
  }
  CHECK(dropped >= 1);
  CHECK(dropped == 1);  // only the stalled one: the reader was never slow

  // The stalled client finds its connection closed once it drains it.
  CHECK(stalled.client.wait_closed(after_ms(10000)));
  // The reader is still subscribed, and its ids only ever went up.
  CHECK(reader.receives_new_event(after_ms(5000)));
  CHECK(!reader.client.peer_closed());
  unsigned long long previous = 0;
  bool increasing = true;
  for (const SseEvent& event : reader.parser.events) {
    unsigned long long id = to_id(event.last_event_id);
    increasing = increasing && id > previous;
    previous = id;
  }
  CHECK(increasing);
  CHECK(reader.parser.events.size() > 100);
  CHECK(json_number(stats(server.port()), "subscribers") == 1);
}
