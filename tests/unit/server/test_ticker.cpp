// test_ticker.cpp — the built-in demo event (src/server/ticker.cpp).
//
// The SPEC names the fields the tick's data must carry; the data is parsed
// with simdjson and each one is checked for presence and type.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

#include "sse/base/clock.h"
#include "sse/server/ticker.h"

TEST_CASE("a tick's data is one JSON object with the SPEC's fields") {
  sse::Ticker ticker;
  int64_t before_ns = sse::mono_ns();
  const std::string data = ticker.next_data(17);
  int64_t after_ns = sse::mono_ns();
  INFO("data: " << data);
  CHECK(data.find('\n') == std::string::npos);  // one data: line

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  REQUIRE(parser.parse(data).get(root) == simdjson::SUCCESS);

  std::string_view time, message;
  REQUIRE(root["time"].get(time) == simdjson::SUCCESS);
  CHECK(time.size() == 24);  // 2026-11-25T05:00:00.123Z
  CHECK(time[10] == 'T');
  CHECK(time[19] == '.');
  CHECK(time.back() == 'Z');
  REQUIRE(root["message"].get(message) == simdjson::SUCCESS);
  CHECK(message == "Hello from Server!");

  double random_value = -1;
  REQUIRE(root["randomValue"].get(random_value) == simdjson::SUCCESS);
  CHECK(random_value >= 0.0);
  CHECK(random_value < 1.0);

  uint64_t subscribers = 0;
  REQUIRE(root["subscribers"].get(subscribers) == simdjson::SUCCESS);
  CHECK(subscribers == 17);

  double cpu = -1;
  CHECK(root["cpu_percent"].get(cpu) == simdjson::SUCCESS);
  uint64_t rss = 0;
  CHECK(root["rss_bytes"].get(rss) == simdjson::SUCCESS);
  CHECK(rss > 0);
  for (const char* load : {"load1", "load5", "load15"}) {
    double value = -1;
    CHECK(root[load].get(value) == simdjson::SUCCESS);
  }
  int64_t sent = 0;
  REQUIRE(root["sent_mono_ns"].get(sent) == simdjson::SUCCESS);
  CHECK(sent >= before_ns);
  CHECK(sent <= after_ns);
}

TEST_CASE("every tick draws a new random value") {
  sse::Ticker ticker;
  simdjson::dom::parser parser;
  double first = 0, second = 0;
  REQUIRE(parser.parse(ticker.next_data(0))["randomValue"].get(first) == simdjson::SUCCESS);
  REQUIRE(parser.parse(ticker.next_data(0))["randomValue"].get(second) == simdjson::SUCCESS);
  CHECK(first != second);
}
