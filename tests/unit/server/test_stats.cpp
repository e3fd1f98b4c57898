// test_stats.cpp — GET /stats (JSON) and GET /metrics (Prometheus text)
// (src/server/stats.cpp).
//
// The JSON is parsed with simdjson; the Prometheus text is checked line by
// line against the exposition format's rules: every sample has HELP and
// TYPE lines, counters end in _total (once), names start with sse_.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../events/numbered_broadcaster.h"
#include "sse/events/broadcaster.h"
#include "sse/server/stats.h"

using sse::ServerCounters;
using sse::StatsView;

namespace {

using Broadcaster = test::NumberedBroadcaster;

class Idle final : public sse::Subscriber {
 public:
  explicit Idle(Broadcaster& broadcaster) : sse::Subscriber(queue_), broadcaster_(broadcaster) {}
  ~Idle() { broadcaster_.unsubscribe(*this); }
  void flush_frames() noexcept override { queue_.clear(); }

 private:
  sse::OutQueue queue_;
  Broadcaster& broadcaster_;
};

ServerCounters sample_counters() {
  ServerCounters counters;
  counters.started_mono_ms = 1000;
  counters.connections_open = 3;
  counters.connections_total = 40;
  counters.connections_rejected = 2;
  counters.connections_shed = 5;
  counters.requests = 100;
  counters.streams_opened = 7;
  counters.slow_consumers_dropped = 1;
  counters.header_timeouts = 4;
  counters.bytes_written = 123456789012ULL;
  counters.ticks = 9;
  counters.replays = 5;
  counters.gaps = 6;
  counters.publish_requests = 11;
  counters.publish_rejected = 8;
  return counters;
}

uint64_t json_uint(simdjson::dom::element root, const char* key) {
  uint64_t value = 0;
  INFO("key " << key);
  REQUIRE(root[key].get(value) == simdjson::SUCCESS);
  return value;
}

// Prometheus sample lines: name (with labels) -> value text.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

}  // namespace

TEST_CASE("/stats is one JSON object with every counter") {
  ServerCounters counters = sample_counters();
  Broadcaster broadcaster(500);
  Idle a(broadcaster), b(broadcaster);
  broadcaster.subscribe(a, {"main"}, 0);
  broadcaster.subscribe(b, {"main", "prices"}, 0);
  broadcaster.publish("main", "", "x");
  broadcaster.deliver_pending(0);
  StatsView view{counters, broadcaster, 42, broadcaster.last_id(), 3500};

  const std::string json = sse::stats_json(view);
  CHECK(json.back() == '\n');
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  REQUIRE(parser.parse(json).get(root) == simdjson::SUCCESS);

  double uptime = 0;
  REQUIRE(root["uptime_s"].get(uptime) == simdjson::SUCCESS);
  CHECK(uptime == doctest::Approx(2.5));
  CHECK(json_uint(root, "connections") == 3);
  CHECK(json_uint(root, "subscribers") == 2);
  CHECK(json_uint(root, "connections_total") == 40);
  CHECK(json_uint(root, "connections_rejected") == 2);
  CHECK(json_uint(root, "connections_shed") == 5);
  CHECK(json_uint(root, "requests") == 100);
  CHECK(json_uint(root, "streams_opened") == 7);
  CHECK(json_uint(root, "ticks") == 9);
  CHECK(json_uint(root, "events_published") == 1);
  CHECK(json_uint(root, "frames_sent") == 2);
  CHECK(json_uint(root, "heartbeats_sent") == 0);
  CHECK(json_uint(root, "bytes_written") == 123456789012ULL);
  CHECK(json_uint(root, "slow_consumers_dropped") == 1);
  CHECK(json_uint(root, "header_timeouts") == 4);
  CHECK(json_uint(root, "replays") == 5);
  CHECK(json_uint(root, "gaps") == 6);
  CHECK(json_uint(root, "publish_requests") == 11);
  CHECK(json_uint(root, "publish_rejected") == 8);
  CHECK(json_uint(root, "history_size") == 42);
  CHECK(json_uint(root, "last_id") == 500);
  CHECK(json_uint(root, "rss_bytes") > 0);

  simdjson::dom::element fanout = root["fanout_latency_us"];
  CHECK(json_uint(fanout, "count") == 1);
  for (const char* key : {"p50", "p90", "p99", "p999", "max"}) {
    int64_t value = -1;
    CHECK(fanout[key].get(value) == simdjson::SUCCESS);
    CHECK(value >= 0);
  }

  simdjson::dom::element topics = root["topics"];
  CHECK(json_uint(topics, "main") == 2);
  CHECK(json_uint(topics, "prices") == 1);
}

TEST_CASE("/stats lists at most the 10 busiest topics, largest first") {
  ServerCounters counters;
  Broadcaster broadcaster(1);
  std::vector<std::unique_ptr<Idle>> subscribers;
  // Topic tN has N subscribers, for N = 1..12.
  for (int n = 1; n <= 12; ++n) {
    for (int i = 0; i < n; ++i) {
      subscribers.push_back(std::make_unique<Idle>(broadcaster));
      broadcaster.subscribe(*subscribers.back(), {"t" + std::to_string(n)}, 0);
    }
  }
  StatsView view{counters, broadcaster, 0, broadcaster.last_id(), 0};
  const std::string json = sse::stats_json(view);
  simdjson::dom::parser parser;
  simdjson::dom::object topics;
  REQUIRE(parser.parse(json).at_key("topics").get(topics) == simdjson::SUCCESS);
  std::vector<std::string> names;
  for (auto field : topics) names.emplace_back(field.key);
  CHECK(names ==
        std::vector<std::string>{"t12", "t11", "t10", "t9", "t8", "t7", "t6", "t5", "t4", "t3"});
}

TEST_CASE("/metrics is Prometheus text: HELP, TYPE and a sample for every counter") {
  ServerCounters counters = sample_counters();
  Broadcaster broadcaster(500);
  Idle a(broadcaster);
  broadcaster.subscribe(a, {"main"}, 0);
  StatsView view{counters, broadcaster, 42, broadcaster.last_id(), 3500};
  const std::string text = sse::stats_prometheus(view);
  CHECK(text.back() == '\n');
  std::map<std::string, std::string> values = samples(text);

  CHECK(values["sse_connections"] == "3");
  CHECK(values["sse_subscribers"] == "1");
  CHECK(values["sse_connections_total"] == "40");  // not connections_total_total
  CHECK(values.count("sse_connections_total_total") == 0);
  CHECK(values["sse_connections_rejected_total"] == "2");
  CHECK(values["sse_connections_shed_total"] == "5");
  CHECK(values["sse_requests_total"] == "100");
  CHECK(values["sse_bytes_written_total"] == "123456789012");
  CHECK(values["sse_publish_rejected_total"] == "8");
  CHECK(values["sse_history_size"] == "42");
  CHECK(values["sse_uptime_seconds"] == "2.500");
  CHECK(values.count("sse_resident_memory_bytes") == 1);
  CHECK(values["sse_fanout_latency_seconds_bucket{le=\"+Inf\"}"] == "0");
  CHECK(values["sse_fanout_latency_seconds_sum"] == "0.000000");
  CHECK(values["sse_fanout_latency_seconds_count"] == "0");
  CHECK(values.count("process_cpu_seconds_total") == 1);
  CHECK(values.count("process_open_fds") == 1);
  CHECK(values["sse_topic_subscribers{topic=\"main\"}"] == "1");

  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    INFO("line: " << line);
    // Ours are sse_*; the standard process_* metrics keep their names.
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      CHECK((line.substr(7, 4) == "sse_" || line.substr(7, 8) == "process_"));
    } else {
      CHECK((line.rfind("sse_", 0) == 0 || line.rfind("process_", 0) == 0));
    }
  }
  // Every counter has its TYPE line, saying counter or gauge.
  CHECK(text.find("# TYPE sse_requests_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE sse_connections gauge\n") != std::string::npos);
  CHECK(text.find("# TYPE sse_fanout_latency_seconds histogram\n") != std::string::npos);
}

TEST_CASE("/metrics histograms are cumulative, end at +Inf with the count, and carry the sum") {
  ServerCounters counters = sample_counters();
  Broadcaster broadcaster(500);
  Idle a(broadcaster);
  broadcaster.subscribe(a, {"main"}, 0);
  for (int i = 0; i < 20; ++i) broadcaster.publish("main", "", "x");
  broadcaster.deliver_pending(1);
  StatsView view{counters, broadcaster, 0, broadcaster.last_id(), 3500};
  const std::string text = sse::stats_prometheus(view);
  std::istringstream lines(text);
  std::string line;
  double previous = -1, last_bucket = -1;
  while (std::getline(lines, line)) {
    if (line.rfind("sse_fanout_latency_seconds_bucket", 0) != 0) continue;
    double value = std::stod(line.substr(line.rfind(' ') + 1));
    CHECK(value >= previous);  // cumulative
    previous = last_bucket = value;
  }
  std::map<std::string, std::string> values = samples(text);
  CHECK(last_bucket == 20);
  CHECK(values["sse_fanout_latency_seconds_count"] == "20");
  CHECK(std::stod(values["sse_fanout_latency_seconds_sum"]) >= 0);
}
