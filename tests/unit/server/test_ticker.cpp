// test_ticker.cpp — the built-in demo event (src/server/ticker.cpp).
//
// The SPEC names the fields the tick's data must carry; the data is parsed
// with simdjson and each one is checked for presence and type.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "sse/base/clock.h"
#include "sse/server/ticker.h"

TEST_CASE("a tick's data is one JSON object with the SPEC's fields") {
  sse::Ticker ticker;
  int64_t before_ns = sse::mono_ns();
  sse::TickInput input;
  input.subscribers = 17;
  const std::string data = ticker.next_data(input);
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

  int64_t pid = 0;
  REQUIRE(root["pid"].get(pid) == simdjson::SUCCESS);
  CHECK(pid == ::getpid());
  double cpu = -1;
  CHECK(root["process_cpu_percent"].get(cpu) == simdjson::SUCCESS);
  CHECK(cpu >= 0);
  uint64_t rss = 0;
  CHECK(root["process_rss_bytes"].get(rss) == simdjson::SUCCESS);
  CHECK(rss > 0);
  simdjson::dom::array load;
  REQUIRE(root["load_average"].get(load) == simdjson::SUCCESS);
  CHECK(load.size() == 3);
  for (simdjson::dom::element value : load) CHECK(value.is_double());
  for (const char* name : {"interval_ms", "events_per_second", "deliveries_per_second",
                           "fanout_p50_ms", "fanout_p99_ms", "fanout_max_ms"}) {
    double value = -1;
    CHECK_MESSAGE(root[name].get(value) == simdjson::SUCCESS, name);
    CHECK(value >= 0);
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
  REQUIRE(parser.parse(ticker.next_data({}))["randomValue"].get(first) == simdjson::SUCCESS);
  REQUIRE(parser.parse(ticker.next_data({}))["randomValue"].get(second) == simdjson::SUCCESS);
  CHECK(first != second);
}

TEST_CASE("rates and fan-out latency cover only the time since the previous tick") {
  sse::Ticker ticker;
  sse::LatencyHistogram fanout;
  fanout.record(40'000);  // before the first tick: a slow one, 40 ms
  sse::TickInput input{0, 100, 1000, &fanout};
  simdjson::dom::parser parser;
  simdjson::dom::element first;
  std::string first_data = ticker.next_data(input);
  REQUIRE(parser.parse(first_data).get(first) == simdjson::SUCCESS);
  CHECK(double(first["fanout_max_ms"]) >= 35.0);

  // The next interval, at least 20 ms long so that the rates are well
  // defined: 10 more events, 50 deliveries, fan-outs of ~1 ms.
  for (int i = 0; i < 10; ++i) fanout.record(1'000);
  input.events_published = 110;
  input.deliveries = 1050;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string second_data = ticker.next_data(input);
  INFO("second tick: " << second_data);
  simdjson::dom::element second;
  REQUIRE(parser.parse(second_data).get(second) == simdjson::SUCCESS);
  double interval_s = double(second["interval_ms"]) / 1000.0;
  REQUIRE(interval_s > 0);
  CHECK(double(second["events_per_second"]) == doctest::Approx(10 / interval_s).epsilon(0.05));
  CHECK(double(second["deliveries_per_second"]) == doctest::Approx(50 / interval_s).epsilon(0.05));
  // The 40 ms sample belongs to the first interval only (buckets are 12.5% wide).
  CHECK(double(second["fanout_p50_ms"]) >= 0.9);
  CHECK(double(second["fanout_p99_ms"]) <= 1.2);
  CHECK(double(second["fanout_max_ms"]) <= 1.2);

  // Nothing happened since: zeros, not the lifetime figures.
  std::string third_data = ticker.next_data(input);
  simdjson::dom::element third;
  REQUIRE(parser.parse(third_data).get(third) == simdjson::SUCCESS);
  CHECK(double(third["events_per_second"]) == 0.0);
  CHECK(double(third["fanout_p99_ms"]) == 0.0);
}
