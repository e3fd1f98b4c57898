// ticker.h — the built-in demo event: the seed article's tick, plus status.
//
// Every --tick-ms the server's ticker Timer calls next_data() and publishes
// the result to topic "main". The data is one JSON object with the seed
// demo's fields (time, message, randomValue), live server status
// (subscribers, CPU, memory, load average) and sent_mono_ns, the
// CLOCK_MONOTONIC time it was made, from which a client on the same machine
// measures fan-out latency. The broadcaster serializes it into the frame
// within the same microsecond.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace sse {

class Ticker {
 public:
  Ticker();
  std::string next_data(size_t subscribers);

 private:
  std::mt19937_64 random_;
  double last_cpu_seconds_ = 0;
  int64_t last_mono_ns_ = 0;
};

}  // namespace sse
