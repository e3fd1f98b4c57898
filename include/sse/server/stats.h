// stats.h — the counters behind GET /stats and GET /metrics.
//
// The server and its connections bump ServerCounters as things happen; the
// broadcaster keeps its own (events, frames, fan-out latency). When /stats
// or /metrics is requested, its handler (plain_routes.cpp) gathers both,
// with the event log's figures, into a StatsView and renders it as JSON or
// as Prometheus text (names prefixed "sse_").
// Counting is a plain increment: one thread, no atomics.
#pragma once

#include <cstdint>
#include <string>

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
};

struct StatsView {
  const ServerCounters& server;
  const Broadcaster& broadcaster;
  size_t history_size;  // events the event log keeps for replay
  uint64_t last_id;     // the newest id the event log assigned
  int64_t now_mono_ms;
  const RedisEventLog* redis = nullptr;  // with --redis: the link's figures
};

std::string stats_json(const StatsView& view);
std::string stats_prometheus(const StatsView& view);

}  // namespace sse
