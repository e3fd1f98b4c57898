// loop_monitor.h — how long each pass of the event loop takes, and what the
// slowest ones did (the model: Redis's LATENCY monitor).
//
// Every pass of Server::run() — from epoll_wait() waking up to the end of
// the fan-out slice and the reaping — is one sample: a histogram of pass
// durations (every pass, for /stats and /metrics), and the kSlowest slowest
// passes of the last minute with what they did: how many fds were ready,
// how many events were fanned out, how many subscribers were written. A
// pass that keeps every other client waiting shows up here with its cause.
// Cost: one clock read per pass (the reactor's wake-up time is already
// taken) and a histogram increment; nothing per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "sse/base/latency_histogram.h"

namespace sse {

struct PassRecord {
  int64_t at_ms = 0;  // CLOCK_MONOTONIC ms at the end of the pass
  int64_t us = 0;     // its duration
  uint32_t ready_fds = 0;
  uint32_t events = 0;   // events queued to subscribers in this pass
  uint32_t written = 0;  // subscribers written by its fan-out slice
};

// Orders passes slowest first (five entries: an insertion sort).
template <size_t N>
void sort_slowest_first(std::array<PassRecord, N>& passes) {
  for (size_t i = 1; i < N; ++i) {
    for (size_t j = i; j > 0 && passes[j].us > passes[j - 1].us; --j) {
      std::swap(passes[j], passes[j - 1]);
    }
  }
}

class LoopMonitor {
 public:
  static constexpr size_t kSlowest = 5;
  static constexpr int64_t kWindowMs = 60'000;

  void record(const PassRecord& pass);
  const LatencyHistogram& passes() const { return passes_; }
  // The slowest passes of the last kWindowMs, slowest first; unused
  // entries have us == 0.
  std::array<PassRecord, kSlowest> slowest(int64_t now_ms) const;

 private:
  LatencyHistogram passes_;
  std::array<PassRecord, kSlowest> slowest_{};  // any order
};

}  // namespace sse
