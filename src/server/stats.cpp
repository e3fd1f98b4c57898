// stats.cpp — see stats.h.
#include "sse/server/stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "sse/base/clock.h"
#include "sse/base/process_sample.h"
#include "sse/events/broadcaster.h"
#include "sse/redis/redis_event_log.h"

namespace sse {

namespace {

struct CounterInfo {
  const char* name;
  const char* help;
  bool gauge;
};

// The order of StatsFigures::counters.
constexpr CounterInfo kCounters[kStatsCounters] = {
    {"connections", "open connections", true},
    {"subscribers", "open event streams", true},
    {"connections_total", "connections accepted", false},
    {"connections_rejected", "connections refused with 503 (over --max-clients)", false},
    {"connections_shed", "connections closed unserved for lack of file descriptors", false},
    {"requests", "HTTP requests parsed", false},
    {"streams_opened", "event streams opened", false},
    {"ticks", "ticker events", false},
    {"events_published", "events published (ticker and POST /publish)", false},
    {"frames_sent", "event deliveries queued to subscribers (events x subscribers)", false},
    {"heartbeats_sent", "heartbeat comments queued", false},
    {"bytes_written", "bytes written to sockets", false},
    {"slow_consumers_dropped", "subscribers dropped over --max-backlog", false},
    {"header_timeouts", "requests timed out (--header-timeout-ms)", false},
    {"replays", "streams resumed from Last-Event-ID", false},
    {"gaps", "gap notices sent", false},
    {"publish_requests", "POST /publish requests", false},
    {"publish_rejected", "POST /publish requests and preflights refused", false},
    {"topics_refused", "streams refused because --max-topics topics exist", false},
    {"history_size", "events retained for replay", true},
    {"streams_refused", "streams refused 401 or 403 (private topics)", false},
    {"access_log_lines", "lines written to --access-log", false},
    {"access_log_dropped", "--access-log lines dropped: the file or pipe did not keep up", false},
};

// The order of StatsFigures::redis_counters: JSON key, metric name, help.
struct RedisInfo {
  const char* key;
  const char* metric;
  const char* help;
  bool gauge;
};
constexpr RedisInfo kRedis[kRedisCounters] = {
    {"connected", "redis_connected", "1 when the Redis link is up and subscribed", true},
    {"reconnects", "redis_reconnects_total", "Redis connections re-established", false},
    {"events_received", "redis_events_received_total", "events delivered from Redis", false},
    {"repairs", "redis_repairs_total",
     "reads of the Redis log after a missed announcement or a reconnect", false},
    {"gaps", "redis_gaps_total", "losses found in the Redis log (gap notice to every stream)",
     false},
    {"publish_failures", "redis_publish_failures_total", "publishes answered 503 because of Redis",
     false},
};

// Prometheus counters end in _total; avoid "connections_total_total".
std::string metric_name(const CounterInfo& info) {
  std::string name = std::string("sse_") + info.name;
  bool has_total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
  if (!info.gauge && !has_total) name += "_total";
  return name;
}

void append_format(std::string& out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void append_format(std::string& out, const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n > 0) out.append(buffer, std::min(static_cast<size_t>(n), sizeof buffer - 1));
}

unsigned long long ull(uint64_t value) {
  return static_cast<unsigned long long>(value);
}

// The figures /stats and /metrics show: the whole server's (every worker
// summed) or this process's alone.
StatsFigures total_of(const StatsView& view) {
  if (view.workers == nullptr) return collect_stats(view);
  StatsFigures total;
  for (const StatsFigures& worker : *view.workers) {
    if (worker.present) total.add(worker);
  }
  total.present = true;
  return total;
}

void json_histogram(std::string& json, const char* name, const LatencyHistogram& histogram) {
  append_format(json, ",\"%s\":{\"count\":%llu", name, ull(histogram.count()));
  const std::pair<const char*, double> quantiles[] = {
      {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
  for (const auto& [label, q] : quantiles) {
    append_format(json, ",\"%s\":%lld", label, static_cast<long long>(histogram.percentile(q)));
  }
  append_format(json, ",\"max\":%lld}", static_cast<long long>(histogram.max()));
}

// The loop-latency monitor (loop_monitor.h): pass durations, and the
// slowest recent passes with what they did.
void json_loop(std::string& json, const StatsFigures& f, int64_t now_ms) {
  append_format(json, ",\"loop\":{\"passes\":%llu", ull(f.loop_pass_us.count()));
  json_histogram(json, "pass_us", f.loop_pass_us);
  json += ",\"slowest\":[";
  bool first = true;
  for (const PassRecord& pass : f.slowest_passes) {
    if (pass.us == 0) continue;
    append_format(json,
                  "%s{\"ago_ms\":%lld,\"us\":%lld,\"ready_fds\":%u,\"events\":%u,"
                  "\"written\":%u}",
                  first ? "" : ",", static_cast<long long>(now_ms - pass.at_ms),
                  static_cast<long long>(pass.us), pass.ready_fds, pass.events, pass.written);
    first = false;
  }
  json += "]}";
}

void json_figures(std::string& json, const StatsFigures& f, int64_t now_ms) {
  append_format(json, "\"uptime_s\":%.3f", static_cast<double>(f.uptime_ms) / 1000.0);
  for (size_t i = 0; i < kStatsCounters; ++i) {
    append_format(json, ",\"%s\":%llu", kCounters[i].name, ull(f.counters[i]));
  }
  append_format(json, ",\"last_id\":%llu", ull(f.last_id));
  append_format(json, ",\"rss_bytes\":%llu", ull(f.rss_bytes));
  json_histogram(json, "fanout_latency_us", f.fanout_us);
  json_loop(json, f, now_ms);
  if (f.redis) {
    append_format(json, ",\"redis\":{\"state\":\"%s\",\"connected\":%s", f.redis_state,
                  f.redis_counters[0] != 0 ? "true" : "false");
    for (size_t i = 1; i < kRedisCounters; ++i) {
      append_format(json, ",\"%s\":%llu", kRedis[i].key, ull(f.redis_counters[i]));
    }
    const LatencyHistogram& rtt = f.redis_rtt_us;
    append_format(json, ",\"publish_rtt_us\":{\"count\":%llu,\"p50\":%lld,\"p99\":%lld,\"max\":%lld}}",
                  ull(rtt.count()), static_cast<long long>(rtt.percentile(0.5)),
                  static_cast<long long>(rtt.percentile(0.99)), static_cast<long long>(rtt.max()));
  }
}

// One metric family: HELP, TYPE, the server's value, then one series per
// worker (label worker) when there are workers.
template <typename ValueOf>
void prometheus_family(std::string& text, const std::string& name, const char* help,
                       bool gauge, const StatsFigures& total,
                       const std::vector<StatsFigures>* workers, ValueOf value_of) {
  append_format(text, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name.c_str(), help, name.c_str(),
                gauge ? "gauge" : "counter", name.c_str(), ull(value_of(total)));
  if (workers == nullptr) return;
  for (size_t i = 0; i < workers->size(); ++i) {
    if (!(*workers)[i].present) continue;
    append_format(text, "%s{worker=\"%zu\"} %llu\n", name.c_str(), i,
                  ull(value_of((*workers)[i])));
  }
}

// A real Prometheus histogram (cumulative _bucket{le=...}, _sum, _count),
// so several processes can be summed (the workers here; hosts in
// Prometheus). The bounds are 2^k - 1 µs, 127 µs to ~33.5 s: the edges of
// LatencyHistogram's own buckets, so every count is exact.
void prometheus_histogram(std::string& text, const char* name, const char* help,
                          const LatencyHistogram& histogram) {
  append_format(text, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  for (int k = 7; k <= 25; ++k) {
    int64_t upper_us = (int64_t{1} << k) - 1;
    append_format(text, "%s_bucket{le=\"%.6f\"} %llu\n", name,
                  static_cast<double>(upper_us) / 1e6, ull(histogram.count_at_most(upper_us)));
  }
  append_format(text, "%s_bucket{le=\"+Inf\"} %llu\n", name, ull(histogram.count()));
  append_format(text, "%s_sum %.6f\n%s_count %llu\n", name,
                static_cast<double>(histogram.sum()) / 1e6, name, ull(histogram.count()));
}

// The standard process_* metrics, of the process that answers (with
// --workers: that worker).
void prometheus_process(std::string& text, int64_t uptime_ms) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
               static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  size_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) fds += entry->d_name[0] != '.' ? 1 : 0;
    ::closedir(dir);
    if (fds > 0) --fds;  // the directory's own descriptor
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  double start = static_cast<double>(real_us()) / 1e6 - static_cast<double>(uptime_ms) / 1000.0;
  append_format(text,
                "# HELP process_cpu_seconds_total user and system CPU time spent, seconds\n"
                "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n",
                cpu);
  append_format(text,
                "# HELP process_resident_memory_bytes resident memory size, bytes\n"
                "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
                ull(sample_process().rss_bytes));
  append_format(text,
                "# HELP process_open_fds open file descriptors\n"
                "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n",
                fds);
  append_format(text,
                "# HELP process_max_fds the file descriptor limit\n"
                "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                ull(static_cast<uint64_t>(limit.rlim_cur)));
  append_format(text,
                "# HELP process_start_time_seconds start time since the epoch, seconds\n"
                "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
                start);
}

}  // namespace

void StatsFigures::add(const StatsFigures& other) {
  for (size_t i = 0; i < kStatsCounters; ++i) counters[i] += other.counters[i];
  last_id = std::max(last_id, other.last_id);
  rss_bytes += other.rss_bytes;
  uptime_ms = std::max(uptime_ms, other.uptime_ms);
  fanout_us.merge(other.fanout_us);
  loop_pass_us.merge(other.loop_pass_us);
  for (const PassRecord& pass : other.slowest_passes) {
    // Keep the slowest five of both.
    auto weakest = std::min_element(
        slowest_passes.begin(), slowest_passes.end(),
        [](const PassRecord& a, const PassRecord& b) { return a.us < b.us; });
    if (pass.us > weakest->us) *weakest = pass;
  }
  sort_slowest_first(slowest_passes);
  if (other.redis) {
    // "connected" sums to the number of workers connected.
    for (size_t i = 0; i < kRedisCounters; ++i) redis_counters[i] += other.redis_counters[i];
    redis_rtt_us.merge(other.redis_rtt_us);
    // The whole server is as connected as its least connected worker.
    if (!redis || std::strcmp(other.redis_state, "connected") != 0) {
      std::memcpy(redis_state, other.redis_state, sizeof redis_state);
    }
    redis = true;
  }
}

StatsFigures collect_stats(const StatsView& view) {
  const ServerCounters& s = view.server;
  const BroadcastCounters& b = view.broadcaster.counters();
  StatsFigures f;
  f.present = true;
  f.pid = static_cast<int32_t>(::getpid());
  const uint64_t values[kStatsCounters] = {
      s.connections_open,
      view.broadcaster.subscriber_count(),
      s.connections_total,
      s.connections_rejected,
      s.connections_shed,
      s.requests,
      s.streams_opened,
      s.ticks,
      b.events_published,
      b.frames_sent,
      b.heartbeats_sent,
      s.bytes_written,
      s.slow_consumers_dropped,
      s.header_timeouts,
      s.replays,
      s.gaps,
      s.publish_requests,
      s.publish_rejected,
      s.topics_refused,
      view.history_size,
      s.streams_refused,
      s.access_log_lines,
      s.access_log_dropped,
  };
  std::copy(std::begin(values), std::end(values), f.counters);
  f.last_id = view.last_id;
  f.rss_bytes = sample_process().rss_bytes;
  f.uptime_ms = view.now_mono_ms - s.started_mono_ms;
  f.fanout_us = b.fanout_us;
  if (view.loop != nullptr) {
    f.loop_pass_us = view.loop->passes();
    f.slowest_passes = view.loop->slowest(view.now_mono_ms);
  }
  if (view.redis != nullptr) {
    const RedisEventLog& redis = *view.redis;
    const RedisCounters& c = redis.counters();
    f.redis = true;
    const uint64_t redis_values[kRedisCounters] = {
        redis.connected() ? 1u : 0u, redis.reconnects(), c.events_received,
        c.repairs,                   c.gaps,             c.publish_failures,
    };
    std::copy(std::begin(redis_values), std::end(redis_values), f.redis_counters);
    std::snprintf(f.redis_state, sizeof f.redis_state, "%s", redis.state());
    f.redis_rtt_us = c.publish_rtt_us;
  }
  return f;
}

std::string stats_json(const StatsView& view) {
  StatsFigures total = total_of(view);
  std::string json = "{";
  json_figures(json, total, view.now_mono_ms);
  if (view.workers != nullptr) {
    // One object per worker, by index; a worker being restarted is null.
    json += ",\"workers\":[";
    for (size_t i = 0; i < view.workers->size(); ++i) {
      const StatsFigures& worker = (*view.workers)[i];
      if (i > 0) json += ",";
      if (!worker.present) {
        json += "null";
        continue;
      }
      append_format(json, "{\"worker\":%zu,\"pid\":%d,", i, static_cast<int>(worker.pid));
      json_figures(json, worker, view.now_mono_ms);
      json += "}";
    }
    json += "]";
  }
  // Topics: this process's only (a name per topic is too much to share).
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
  StatsFigures total = total_of(view);
  const std::vector<StatsFigures>* workers = view.workers;
  std::string text;
  for (size_t i = 0; i < kStatsCounters; ++i) {
    prometheus_family(text, metric_name(kCounters[i]), kCounters[i].help, kCounters[i].gauge,
                      total, workers, [i](const StatsFigures& f) { return f.counters[i]; });
  }
  append_format(text,
                "# HELP sse_uptime_seconds seconds since start\n# TYPE sse_uptime_seconds "
                "gauge\nsse_uptime_seconds %.3f\n",
                static_cast<double>(total.uptime_ms) / 1000.0);
  prometheus_family(text, "sse_resident_memory_bytes", "resident set size", true, total, workers,
                    [](const StatsFigures& f) { return f.rss_bytes; });

  prometheus_histogram(text, "sse_fanout_latency_seconds",
                       "publish to last subscriber written, per event", total.fanout_us);
  prometheus_histogram(text, "sse_loop_pass_seconds",
                       "duration of one event-loop pass (wake-up to end of its fan-out slice)",
                       total.loop_pass_us);

  if (total.redis) {
    for (size_t i = 0; i < kRedisCounters; ++i) {
      prometheus_family(text, std::string("sse_") + kRedis[i].metric, kRedis[i].help,
                        kRedis[i].gauge, total, workers,
                        [i](const StatsFigures& f) { return f.redis_counters[i]; });
    }
    prometheus_histogram(text, "sse_redis_publish_latency_seconds",
                         "publish script sent to Redis's answer", total.redis_rtt_us);
  }

  prometheus_process(text, view.now_mono_ms - view.server.started_mono_ms);

  text +=
      "# HELP sse_topic_subscribers subscribers of the busiest topics\n"
      "# TYPE sse_topic_subscribers gauge\n";
  for (const auto& [name, count] : view.broadcaster.top_topics(view.now_mono_ms)) {
    text += "sse_topic_subscribers{topic=\"" + name + "\"} " + std::to_string(count) + "\n";
  }
  return text;
}

}  // namespace sse
