// stats.h — the counters behind GET /stats and GET /metrics.
//
// The server and its connections bump ServerCounters as things happen; the
// broadcaster keeps its own (events, frames, fan-out latency), and with
// --redis the shared event log too. When /stats or /metrics is requested,
// its handler (plain_routes.cpp) gathers them, with the event log's
// figures, into a StatsView; collect_stats() turns that into StatsFigures,
// plain numbers, which are rendered as JSON or as Prometheus text (names
// prefixed "sse_").
//
// With --workers, every worker also copies its StatsFigures into its slot
// of a shared page (worker_slots.h); /stats on any worker then renders the
// sum of all slots, plus one series per worker. StatsFigures is therefore
// trivially copyable and holds no pointer.
// Counting is a plain increment: one thread, no atomics.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sse/base/latency_histogram.h"
#include "sse/server/loop_monitor.h"

namespace sse {

class Broadcaster;
class RedisEventLog;

struct ServerCounters {
  int64_t started_mono_ms = 0;
  uint64_t connections_open = 0;  // gauge
  uint64_t connections_total = 0;
  uint64_t connections_rejected = 0;  // 503: over --max-clients
  uint64_t connections_shed = 0;      // closed unserved: out of descriptors
  uint64_t requests = 0;
  uint64_t streams_opened = 0;
  uint64_t slow_consumers_dropped = 0;
  uint64_t header_timeouts = 0;
  uint64_t bytes_written = 0;
  uint64_t ticks = 0;
  uint64_t replays = 0;  // streams that resumed from a Last-Event-ID
  uint64_t gaps = 0;     // gap notices sent
  uint64_t publish_requests = 0;
  uint64_t publish_rejected = 0;
  uint64_t topics_refused = 0;  // streams refused at --max-topics
  uint64_t streams_refused = 0;  // streams refused 401/403: private topics
  uint64_t access_log_lines = 0;    // copied from the access log's buffer
  uint64_t access_log_dropped = 0;  // after each flush
};

struct StatsFigures;

struct StatsView {
  const ServerCounters& server;
  const Broadcaster& broadcaster;
  size_t history_size;  // events the event log keeps for replay
  uint64_t last_id;     // the newest id the event log assigned
  int64_t now_mono_ms;
  const RedisEventLog* redis = nullptr;  // with --redis: the link's figures
  const LoopMonitor* loop = nullptr;     // pass durations (null in unit tests)
  // With --workers: every worker's figures (this one's fresh), by index.
  const std::vector<StatsFigures>* workers = nullptr;
};

// The counters and gauges of the table in stats.cpp, in its order.
inline constexpr size_t kStatsCounters = 23;
inline constexpr size_t kRedisCounters = 6;

struct StatsFigures {
  bool present = false;  // a worker slot that was never written: false
  int32_t pid = 0;
  uint64_t counters[kStatsCounters] = {};
  uint64_t last_id = 0;
  uint64_t rss_bytes = 0;
  int64_t uptime_ms = 0;
  LatencyHistogram fanout_us;
  bool redis = false;
  uint64_t redis_counters[kRedisCounters] = {};
  char redis_state[12] = {};
  LatencyHistogram redis_rtt_us;
  LatencyHistogram loop_pass_us;
  std::array<PassRecord, LoopMonitor::kSlowest> slowest_passes{};

  // Sums counters, gauges and histograms (the whole server's figures);
  // last_id and uptime are the largest, the slowest passes the slowest.
  void add(const StatsFigures& other);
};

StatsFigures collect_stats(const StatsView& view);

std::string stats_json(const StatsView& view);
std::string stats_prometheus(const StatsView& view);

}  // namespace sse
