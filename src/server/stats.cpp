// stats.cpp — see stats.h.
#include "sse/server/stats.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "sse/base/process_sample.h"
#include "sse/events/broadcaster.h"
#include "sse/redis/redis_event_log.h"

namespace sse {

namespace {

struct Counter {
  const char* name;
  const char* help;
  uint64_t value;
  bool gauge;
};

std::vector<Counter> counters_of(const StatsView& view) {
  const ServerCounters& s = view.server;
  const BroadcastCounters& b = view.broadcaster.counters();
  return {
      {"connections", "open connections", s.connections_open, true},
      {"subscribers", "open event streams", view.broadcaster.subscriber_count(), true},
      {"connections_total", "connections accepted", s.connections_total, false},
      {"connections_rejected", "connections refused with 503 (over --max-clients)",
       s.connections_rejected, false},
      {"connections_shed", "connections closed unserved for lack of file descriptors",
       s.connections_shed, false},
      {"requests", "HTTP requests parsed", s.requests, false},
      {"streams_opened", "event streams opened", s.streams_opened, false},
      {"ticks", "ticker events", s.ticks, false},
      {"events_published", "events published (ticker and POST /publish)", b.events_published,
       false},
      {"frames_sent", "event deliveries queued to subscribers (events x subscribers)",
       b.frames_sent, false},
      {"heartbeats_sent", "heartbeat comments queued", b.heartbeats_sent, false},
      {"bytes_written", "bytes written to sockets", s.bytes_written, false},
      {"slow_consumers_dropped", "subscribers dropped over --max-backlog", s.slow_consumers_dropped,
       false},
      {"header_timeouts", "requests timed out (--header-timeout-ms)", s.header_timeouts, false},
      {"replays", "streams resumed from Last-Event-ID", s.replays, false},
      {"gaps", "gap notices sent", s.gaps, false},
      {"publish_requests", "POST /publish requests", s.publish_requests, false},
      {"publish_rejected", "POST /publish requests and preflights refused", s.publish_rejected,
       false},
      {"topics_refused", "streams refused because --max-topics topics exist", s.topics_refused,
       false},
      {"history_size", "events retained for replay", view.history_size, true},
  };
}

// The Redis link's figures (SPEC "Many processes and hosts").
std::string redis_prometheus(const RedisEventLog& redis) {
  const RedisCounters& c = redis.counters();
  std::string text;
  char line[256];
  const Counter figures[] = {
      {"redis_connected", "1 when the Redis link is up and subscribed", redis.connected() ? 1u : 0u,
       true},
      {"redis_reconnects_total", "Redis connections re-established", redis.reconnects(), false},
      {"redis_events_received_total", "events delivered from Redis", c.events_received, false},
      {"redis_repairs_total", "reads of the Redis log after a missed announcement or a reconnect",
       c.repairs, false},
      {"redis_gaps_total", "losses found in the Redis log (gap notice to every stream)", c.gaps,
       false},
      {"redis_publish_failures_total", "publishes answered 503 because of Redis",
       c.publish_failures, false},
  };
  for (const Counter& figure : figures) {
    std::snprintf(line, sizeof line, "# HELP sse_%s %s\n# TYPE sse_%s %s\nsse_%s %llu\n",
                  figure.name, figure.help, figure.name, figure.gauge ? "gauge" : "counter",
                  figure.name, static_cast<unsigned long long>(figure.value));
    text += line;
  }
  const LatencyHistogram& rtt = c.publish_rtt_us;
  text +=
      "# HELP sse_redis_publish_latency_seconds publish script sent to Redis's answer\n"
      "# TYPE sse_redis_publish_latency_seconds summary\n";
  const std::pair<const char*, double> quantiles[] = {{"0.5", 0.5}, {"0.99", 0.99}};
  for (const auto& [name, q] : quantiles) {
    std::snprintf(line, sizeof line, "sse_redis_publish_latency_seconds{quantile=\"%s\"} %.6f\n",
                  name, static_cast<double>(rtt.percentile(q)) / 1e6);
    text += line;
  }
  std::snprintf(line, sizeof line, "sse_redis_publish_latency_seconds_count %llu\n",
                static_cast<unsigned long long>(rtt.count()));
  text += line;
  return text;
}

}  // namespace

std::string stats_json(const StatsView& view) {
  std::string json = "{";
  char number[64];
  std::snprintf(number, sizeof number, "\"uptime_s\":%.3f",
                static_cast<double>(view.now_mono_ms - view.server.started_mono_ms) / 1000.0);
  json += number;
  for (const Counter& counter : counters_of(view)) {
    std::snprintf(number, sizeof number, ",\"%s\":%llu", counter.name,
                  static_cast<unsigned long long>(counter.value));
    json += number;
  }
  std::snprintf(number, sizeof number, ",\"last_id\":%llu",
                static_cast<unsigned long long>(view.last_id));
  json += number;
  std::snprintf(number, sizeof number, ",\"rss_bytes\":%llu",
                static_cast<unsigned long long>(sample_process().rss_bytes));
  json += number;

  const LatencyHistogram& fanout = view.broadcaster.counters().fanout_us;
  std::snprintf(number, sizeof number, ",\"fanout_latency_us\":{\"count\":%llu",
                static_cast<unsigned long long>(fanout.count()));
  json += number;
  const std::pair<const char*, double> quantiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
  for (const auto& [name, q] : quantiles) {
    std::snprintf(number, sizeof number, ",\"%s\":%lld", name,
                  static_cast<long long>(fanout.percentile(q)));
    json += number;
  }
  std::snprintf(number, sizeof number, ",\"max\":%lld}", static_cast<long long>(fanout.max()));
  json += number;

  if (view.redis != nullptr) {
    const RedisEventLog& redis = *view.redis;
    const RedisCounters& c = redis.counters();
    std::snprintf(number, sizeof number, ",\"redis\":{\"state\":\"%s\",\"connected\":%s",
                  redis.state(), redis.connected() ? "true" : "false");
    json += number;
    const std::pair<const char*, uint64_t> figures[] = {
        {"reconnects", redis.reconnects()},        {"events_received", c.events_received},
        {"repairs", c.repairs},                    {"gaps", c.gaps},
        {"publish_failures", c.publish_failures},
    };
    for (const auto& [name, value] : figures) {
      std::snprintf(number, sizeof number, ",\"%s\":%llu", name,
                    static_cast<unsigned long long>(value));
      json += number;
    }
    const LatencyHistogram& rtt = c.publish_rtt_us;
    std::snprintf(number, sizeof number,
                  ",\"publish_rtt_us\":{\"count\":%llu,\"p50\":%lld,\"p99\":%lld,\"max\":%lld}}",
                  static_cast<unsigned long long>(rtt.count()),
                  static_cast<long long>(rtt.percentile(0.5)),
                  static_cast<long long>(rtt.percentile(0.99)), static_cast<long long>(rtt.max()));
    json += number;
  }

  json += ",\"topics\":{";
  bool first = true;
  for (const auto& [name, count] : view.broadcaster.top_topics(view.now_mono_ms)) {
    // Topic names are [A-Za-z0-9_.:-]: nothing to escape.
    json += first ? "\"" : ",\"";
    json += name + "\":" + std::to_string(count);
    first = false;
  }
  json += "}}\n";
  return json;
}

std::string stats_prometheus(const StatsView& view) {
  std::string text;
  char line[256];
  for (const Counter& counter : counters_of(view)) {
    const char* type = counter.gauge ? "gauge" : "counter";
    const char* suffix = counter.gauge ? "" : "_total";
    // Prometheus counters end in _total; avoid "connections_total_total".
    std::string name = std::string("sse_") + counter.name;
    if (!counter.gauge && name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0) {
      suffix = "";
    }
    std::snprintf(line, sizeof line, "# HELP %s%s %s\n# TYPE %s%s %s\n%s%s %llu\n", name.c_str(),
                  suffix, counter.help, name.c_str(), suffix, type, name.c_str(), suffix,
                  static_cast<unsigned long long>(counter.value));
    text += line;
  }
  std::snprintf(line, sizeof line,
                "# HELP sse_uptime_seconds seconds since start\n# TYPE sse_uptime_seconds "
                "gauge\nsse_uptime_seconds %.3f\n",
                static_cast<double>(view.now_mono_ms - view.server.started_mono_ms) / 1000.0);
  text += line;
  std::snprintf(line, sizeof line,
                "# HELP sse_resident_memory_bytes resident set size\n# TYPE "
                "sse_resident_memory_bytes gauge\nsse_resident_memory_bytes %llu\n",
                static_cast<unsigned long long>(sample_process().rss_bytes));
  text += line;

  const LatencyHistogram& fanout = view.broadcaster.counters().fanout_us;
  text +=
      "# HELP sse_fanout_latency_seconds publish to last subscriber written, per event\n"
      "# TYPE sse_fanout_latency_seconds summary\n";
  const std::pair<const char*, double> quantiles[] = {
      {"0.5", 0.5}, {"0.9", 0.9}, {"0.99", 0.99}, {"0.999", 0.999}};
  for (const auto& [name, q] : quantiles) {
    std::snprintf(line, sizeof line, "sse_fanout_latency_seconds{quantile=\"%s\"} %.6f\n", name,
                  static_cast<double>(fanout.percentile(q)) / 1e6);
    text += line;
  }
  std::snprintf(line, sizeof line, "sse_fanout_latency_seconds_count %llu\n",
                static_cast<unsigned long long>(fanout.count()));
  text += line;

  if (view.redis != nullptr) text += redis_prometheus(*view.redis);

  text +=
      "# HELP sse_topic_subscribers subscribers of the busiest topics\n"
      "# TYPE sse_topic_subscribers gauge\n";
  for (const auto& [name, count] : view.broadcaster.top_topics(view.now_mono_ms)) {
    text += "sse_topic_subscribers{topic=\"" + name + "\"} " + std::to_string(count) + "\n";
  }
  return text;
}

}  // namespace sse
