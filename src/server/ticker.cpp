// ticker.cpp — see ticker.h.
#include "sse/server/ticker.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "sse/base/clock.h"
#include "sse/base/process_sample.h"

namespace sse {

Ticker::Ticker() : random_(std::random_device{}()), last_mono_ns_(mono_ns()) {}

std::string Ticker::next_data(size_t subscribers) {
  ProcessSample sample = sample_process();
  int64_t now_ns = mono_ns();
  // CPU use since the previous tick, as a percentage of one core.
  double wall = static_cast<double>(now_ns - last_mono_ns_) / 1e9;
  double cpu_percent = wall > 0 ? 100.0 * (sample.cpu_seconds - last_cpu_seconds_) / wall : 0;
  last_cpu_seconds_ = sample.cpu_seconds;
  last_mono_ns_ = now_ns;

  // Math.random()'s contract: uniform in [0, 1).
  double random_value = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  char json[512];
  std::snprintf(json, sizeof json,
                "{\"time\":\"%s\",\"message\":\"Hello from Server!\",\"randomValue\":%.17g,"
                "\"subscribers\":%zu,\"cpu_percent\":%.1f,\"rss_bytes\":%llu,"
                "\"load1\":%.2f,\"load5\":%.2f,\"load15\":%.2f,\"sent_mono_ns\":%lld}",
                iso_time(real_us()).c_str(), random_value, subscribers, cpu_percent,
                static_cast<unsigned long long>(sample.rss_bytes), sample.load[0], sample.load[1],
                sample.load[2], static_cast<long long>(mono_ns()));
  return json;
}

}  // namespace sse
