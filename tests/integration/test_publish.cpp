// test_publish.cpp — POST /publish and resuming with Last-Event-ID: events
// reach the subscribers of their topic at once, with the ids publish
// returned; bad bodies are refused whole; a reconnecting client gets what it
// missed, in order and without duplicates, or an `event: gap` telling it to
// resynchronize (SPEC "Publishing" and "Resume").
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace {

// Ids as sent in the response body text, exactly (a double would lose the
// last digits of a 16-digit id).
unsigned long long id_from_body(const std::string& body) {
  std::size_t colon = body.find(':');
  if (colon == std::string::npos) return 0;
  std::size_t begin = body.find_first_of("0123456789", colon);
  std::size_t end = body.find_first_not_of("0123456789", begin);
  return begin == std::string::npos ? 0 : to_id(body.substr(begin, end - begin));
}

unsigned long long publish_exact(int port, const std::string& json) {
  HttpResponse response = publish(port, json);
  CHECK(response.status == 202);
  return id_from_body(response.body);
}

std::vector<unsigned long long> ids_of(const SseParser& parser) {
  std::vector<unsigned long long> ids;
  for (const SseEvent& event : parser.events) {
    if (event.type != "gap") ids.push_back(to_id(event.last_event_id));
  }
  return ids;
}

bool has_events(SseStream& stream, std::size_t count) {
  return stream.wait_for([count](const SseParser& p) { return p.events.size() >= count; },
                         after_ms(5000));
}

std::vector<std::string> kQuiet = {"--tick-ms", "0"};

}  // namespace

TEST_CASE("a published event reaches a subscriber at once with its id and name") {
  ServerProcess server(kQuiet);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  HttpResponse response =
      publish(server.port(), R"({"event":"greet","data":{"a":1,"b":[true,null]}})");
  CHECK(response.status == 202);
  unsigned long long id = id_from_body(response.body);
  CHECK(id > 1700000000000000ULL);
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));  // the ticker is off
  CHECK(event.type == "greet");
  CHECK(event.data == R"({"a":1,"b":[true,null]})");
  CHECK(to_id(event.last_event_id) == id);
}

TEST_CASE("string data with line breaks arrives as one data line per line") {
  ServerProcess server(kQuiet);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  publish_exact(server.port(), R"({"data":"one\ntwo\r\nthree"})");
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));
  CHECK(event.type == "message");
  CHECK(event.data == "one\ntwo\nthree");
  int data_lines = 0;
  for (const SseLine& line : stream.parser.lines) data_lines += line.field == "data" ? 1 : 0;
  CHECK(data_lines == 3);
}

TEST_CASE("a batch publishes every event in order and returns their ids") {
  ServerProcess server(kQuiet);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  HttpResponse response = publish(server.port(), R"([{"data":"a"},{"data":"b"},{"data":"c"}])");
  CHECK(response.status == 202);
  CHECK(response.body.find("\"ids\"") != std::string::npos);
  REQUIRE(has_events(stream, 3));
  const std::vector<SseEvent>& events = stream.parser.events;
  CHECK(events[0].data == "a");
  CHECK(events[1].data == "b");
  CHECK(events[2].data == "c");
  std::vector<unsigned long long> ids = ids_of(stream.parser);
  CHECK(ids[0] < ids[1]);
  CHECK(ids[1] < ids[2]);
  CHECK(response.body.find(std::to_string(ids[0])) != std::string::npos);
  CHECK(response.body.find(std::to_string(ids[2])) != std::string::npos);
}

TEST_CASE("a subscriber gets only the events of its topics") {
  ServerProcess server(kQuiet);
  SseStream only_a(server.port(), "/sse?topic=a");
  SseStream a_and_b(server.port(), "/sse?topic=a&topic=b");
  SseStream main_only(server.port());
  publish_exact(server.port(), R"({"topic":"b","data":"to b"})");
  publish_exact(server.port(), R"({"topic":"a","data":"to a"})");
  publish_exact(server.port(), R"({"data":"to main"})");
  REQUIRE(has_events(a_and_b, 2));
  REQUIRE(has_events(only_a, 1));
  REQUIRE(has_events(main_only, 1));
  CHECK(a_and_b.parser.events[0].data == "to b");
  CHECK(a_and_b.parser.events[1].data == "to a");
  CHECK(only_a.parser.events[0].data == "to a");
  CHECK(main_only.parser.events[0].data == "to main");
  // Nothing else trickles in afterwards.
  only_a.collect(200);
  main_only.collect(50);
  CHECK(only_a.parser.events.size() == 1);
  CHECK(main_only.parser.events.size() == 1);
}

TEST_CASE("bad publish bodies get 400 with an error message") {
  ServerProcess server(kQuiet);
  const char* bodies[] = {
      "{",                                  // not JSON
      "",                                   // empty
      R"({"topic":"main"})",                // no data
      R"({"id":"5","data":1})",             // ids belong to the server
      R"({"topic":"bad topic","data":1})",  // space in a topic
      R"({"event":"a\nb","data":1})",       // would inject a line
      R"({"event":"a\rb","data":1})",
      R"({"data":1,"bogus":2})",  // unknown field
      R"(42)",                    // neither object nor array
  };
  for (const char* body : bodies) {
    CAPTURE(body);
    HttpResponse response = publish(server.port(), body);
    CHECK(response.status == 400);
    CHECK(response.body.find("\"error\"") != std::string::npos);
  }
}

TEST_CASE("a rejected batch publishes nothing") {
  ServerProcess server(kQuiet);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  HttpResponse rejected = publish(server.port(), R"([{"data":"first"},{"data":2,"id":"7"}])");
  CHECK(rejected.status == 400);
  publish_exact(server.port(), R"({"data":"marker"})");
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));
  CHECK(event.data == "marker");  // not "first"
}

TEST_CASE("a non-JSON content type gets 415") {
  ServerProcess server(kQuiet);
  HttpResponse response = publish(server.port(), R"({"data":1})", "Content-Type: text/plain\r\n");
  CHECK(response.status == 415);
}

TEST_CASE("with --publish-token publishing needs the bearer token") {
  ServerProcess server({"--tick-ms", "0", "--publish-token", "s3cret"});
  CHECK(publish(server.port(), R"({"data":1})").status == 401);
  int wrong = publish(server.port(), R"({"data":1})", "Authorization: Bearer nope\r\n").status;
  CHECK((wrong == 401 || wrong == 403));
  CHECK(publish(server.port(), R"({"data":1})", "Authorization: Bearer s3cret\r\n").status == 202);
}

TEST_CASE("a chunked publish body is accepted") {
  ServerProcess server(kQuiet);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  // The second chunk is 8 bytes; it once said 9, taking the CR of its CRLF
  // as data, which only passed while a bare LF could end chunk data.
  HttpResponse response =
      http_raw(server.port(),
               "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "5\r\n{\"dat\r\n8\r\na\":\"hi\"}\r\n0\r\n\r\n");
  CHECK(response.status == 202);
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));
  CHECK(event.data == "hi");
}

TEST_CASE("Last-Event-ID replays the missed events in order without duplicates") {
  ServerProcess server(kQuiet);
  unsigned long long first = publish_exact(server.port(), R"({"data":"1"})");
  unsigned long long second = publish_exact(server.port(), R"({"data":"2"})");
  unsigned long long third = publish_exact(server.port(), R"({"data":"3"})");
  SseStream stream(server.port(), "/sse", "Last-Event-ID: " + std::to_string(first) + "\r\n");
  REQUIRE(stream.head.status == 200);
  REQUIRE(has_events(stream, 2));
  unsigned long long live = publish_exact(server.port(), R"({"data":"4"})");
  REQUIRE(has_events(stream, 3));
  stream.collect(200);
  std::vector<unsigned long long> expected = {second, third, live};
  CHECK(ids_of(stream.parser) == expected);
  CHECK(stream.parser.events[0].type == "message");  // no gap
  CHECK(stream.parser.events[0].data == "2");
}

TEST_CASE("a replay larger than --max-backlog reaches a slow reader whole; the limit holds after") {
  ServerProcess server({"--tick-ms", "0", "--max-backlog", "16384", "--history", "100"});
  int port = server.port();
  const std::string bulky = R"({"data":")" + std::string(60000, 'x') + R"("})";
  unsigned long long seen = publish_exact(port, R"({"data":"seen"})");
  std::vector<unsigned long long> missed;
  for (int i = 0; i < 99; ++i) missed.push_back(publish_exact(port, bulky));

  // ~6 MB owed, against a 16 kB limit, to a client that is not reading yet:
  // more than the kernel buffers on both sides hold (~3 MB on loopback), so
  // the rest stays queued in the server.
  SseStream slow(port, "/sse", "Last-Event-ID: " + std::to_string(seen) + "\r\n", 4096);
  REQUIRE(slow.head.status == 200);
  missed.push_back(publish_exact(port, R"({"data":"live"})"));  // the limit is checked here
  CHECK(json_number(stats(port), "slow_consumers_dropped") == 0);
  REQUIRE(
      slow.wait_for([](const SseParser& p) { return p.events.size() >= 100; }, after_ms(20000)));
  slow.collect(200);
  CHECK(ids_of(slow.parser) == missed);

  // Caught up, the same client is held to --max-backlog like any other.
  Deadline deadline = after_ms(20000);
  while (json_number(stats(port), "slow_consumers_dropped") == 0 && ms_left(deadline) > 0) {
    publish_exact(port, bulky);
  }
  CHECK(json_number(stats(port), "slow_consumers_dropped") == 1);
  CHECK(slow.client.wait_closed(after_ms(20000)));
}

TEST_CASE("a Last-Event-ID equal to the newest id replays nothing and sends no gap") {
  ServerProcess server(kQuiet);
  publish_exact(server.port(), R"({"data":"1"})");
  unsigned long long newest = publish_exact(server.port(), R"({"data":"2"})");
  SseStream stream(server.port(), "/sse", "Last-Event-ID: " + std::to_string(newest) + "\r\n");
  REQUIRE(stream.head.status == 200);
  stream.collect(300);
  CHECK(stream.parser.events.empty());
  unsigned long long live = publish_exact(server.port(), R"({"data":"3"})");
  REQUIRE(has_events(stream, 1));
  CHECK(to_id(stream.parser.events[0].last_event_id) == live);
}

TEST_CASE("?lastEventId resumes too, and the header wins over it") {
  ServerProcess server(kQuiet);
  unsigned long long first = publish_exact(server.port(), R"({"data":"1"})");
  unsigned long long second = publish_exact(server.port(), R"({"data":"2"})");
  unsigned long long third = publish_exact(server.port(), R"({"data":"3"})");

  SseStream by_query(server.port(), "/sse?lastEventId=" + std::to_string(first));
  REQUIRE(has_events(by_query, 2));
  by_query.collect(200);
  CHECK(ids_of(by_query.parser) == std::vector<unsigned long long>{second, third});

  SseStream both(server.port(), "/sse?lastEventId=" + std::to_string(first),
                 "Last-Event-ID: " + std::to_string(second) + "\r\n");
  REQUIRE(has_events(both, 1));
  both.collect(200);
  CHECK(ids_of(both.parser) == std::vector<unsigned long long>{third});
}

TEST_CASE("resuming only replays the stream's own topics") {
  ServerProcess server(kQuiet);
  unsigned long long start = publish_exact(server.port(), R"({"topic":"a","data":"a0"})");
  publish_exact(server.port(), R"({"topic":"b","data":"b1"})");
  unsigned long long a2 = publish_exact(server.port(), R"({"topic":"a","data":"a2"})");
  SseStream stream(server.port(), "/sse?topic=a",
                   "Last-Event-ID: " + std::to_string(start) + "\r\n");
  REQUIRE(has_events(stream, 1));
  stream.collect(200);
  CHECK(ids_of(stream.parser) == std::vector<unsigned long long>{a2});
  CHECK(stream.parser.events[0].type == "message");
}

TEST_CASE("a Last-Event-ID older than the history gets an event gap first") {
  ServerProcess server({"--tick-ms", "0", "--history", "2"});
  std::vector<unsigned long long> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(publish_exact(server.port(), R"({"data":"x"})"));
  SseStream stream(server.port(), "/sse", "Last-Event-ID: " + std::to_string(ids[0]) + "\r\n");
  REQUIRE(stream.head.status == 200);
  SseEvent gap;
  REQUIRE(stream.next_event(gap, after_ms(5000)));
  CHECK(gap.type == "gap");
  CHECK(json_string(gap.data, "lastEventId") == std::to_string(ids[0]));
  CHECK(json_string(gap.data, "oldestId") == std::to_string(ids[2]));
  // Whatever follows, nothing at or before the id the client already has.
  unsigned long long live = publish_exact(server.port(), R"({"data":"live"})");
  REQUIRE(stream.wait_for(
      [live](const SseParser& p) {
        return !p.events.empty() && to_id(p.events.back().last_event_id) == live;
      },
      after_ms(5000)));
  for (unsigned long long id : ids_of(stream.parser)) CHECK(id > ids[0]);
}

TEST_CASE("an unknown or future Last-Event-ID gets an event gap") {
  ServerProcess server(kQuiet);
  unsigned long long first = publish_exact(server.port(), R"({"data":"1"})");
  const std::string sent[] = {"not-a-number", std::to_string(first + 1000000000ULL), "1"};
  for (const std::string& id : sent) {
    CAPTURE(id);
    SseStream stream(server.port(), "/sse", "Last-Event-ID: " + id + "\r\n");
    SseEvent gap;
    REQUIRE(stream.next_event(gap, after_ms(5000)));
    CHECK(gap.type == "gap");
    CHECK(json_string(gap.data, "lastEventId") == id);
  }
}

TEST_CASE("an echoed lastEventId can never inject a line into the stream") {
  ServerProcess server(kQuiet);
  publish_exact(server.port(), R"({"data":"1"})");
  SseStream stream(server.port(), "/sse?lastEventId=1%0D%0Aevent:%20injected%0Adata:%20evil%0A%0A" +
                                      std::string(200, '9'));
  REQUIRE(stream.head.status == 200);
  SseEvent gap;
  REQUIRE(stream.next_event(gap, after_ms(5000)));
  stream.collect(200);
  CHECK(gap.type == "gap");
  CHECK(gap.data.find('\n') == std::string::npos);
  CHECK(json_string(gap.data, "lastEventId").size() <= 64);  // cut to 64 bytes
  for (const SseLine& line : stream.parser.lines) {
    CAPTURE(line.value);
    CHECK(line.value != "injected");
    CHECK(line.value != "evil");
  }
}
