// ticker.h — the built-in demo event: the seed article's tick, plus status.
//
// Every --tick-ms the server's ticker Timer calls next_data() and publishes
// the result to topic "main". The data is one JSON object: the seed demo's
// fields (time, message, randomValue) unchanged, then live status whose
// names say what each figure is —
//   pid, subscribers                    this process, now
//   process_cpu_percent                 this process's CPU, % of ONE core,
//                                       since the previous tick
//   process_rss_bytes                   its resident memory
//   load_average [1, 5, 15 min]         the machine's
//   interval_ms                         time since the previous tick
//   events_per_second                   events published (all topics) and
//   deliveries_per_second               events x subscribers written,
//                                       both since the previous tick
//   fanout_p50_ms, _p99_ms, _max_ms     fan-out latency (publish to the
//                                       last subscriber's write) of the
//                                       events since the previous tick
//   sent_mono_ns                        CLOCK_MONOTONIC when it was made
// The dashboard (www/) charts these; a client on the same machine measures
// fan-out latency from sent_mono_ns. "Since the previous tick" figures come
// from differences of the running counters and histogram: the ticker keeps
// the previous values (one histogram copy, ~2.7 KB), nothing per event.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "sse/base/latency_histogram.h"

namespace sse {

// What the server hands the ticker: running totals, read at tick time.
struct TickInput {
  size_t subscribers = 0;
  uint64_t events_published = 0;  // BroadcastCounters
  uint64_t deliveries = 0;        // BroadcastCounters::frames_sent
  const LatencyHistogram* fanout_us = nullptr;
};

class Ticker {
 public:
  Ticker();
  std::string next_data(const TickInput& input);

 private:
  std::mt19937_64 random_;
  double last_cpu_seconds_ = 0;
  int64_t last_mono_ns_ = 0;
  uint64_t last_events_ = 0;
  uint64_t last_deliveries_ = 0;
  LatencyHistogram last_fanout_;
};

}  // namespace sse
