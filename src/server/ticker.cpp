// ticker.cpp — see ticker.h.
#include "sse/server/ticker.h"

#include <unistd.h>

#include <cstdio>

#include "sse/base/clock.h"
#include "sse/base/process_sample.h"

namespace sse {

Ticker::Ticker() : random_(std::random_device{}()), last_mono_ns_(mono_ns()) {}

std::string Ticker::next_data(const TickInput& input) {
  ProcessSample sample = sample_process();
  int64_t now_ns = mono_ns();
  double wall = static_cast<double>(now_ns - last_mono_ns_) / 1e9;
  auto per_second = [wall](uint64_t count) { return wall > 0 ? static_cast<double>(count) / wall : 0; };
  double cpu_percent = wall > 0 ? 100.0 * (sample.cpu_seconds - last_cpu_seconds_) / wall : 0;
  double events_per_second = per_second(input.events_published - last_events_);
  double deliveries_per_second = per_second(input.deliveries - last_deliveries_);
  LatencyHistogram fanout;
  if (input.fanout_us) {
    fanout = input.fanout_us->since(last_fanout_);
    last_fanout_ = *input.fanout_us;
  }
  last_cpu_seconds_ = sample.cpu_seconds;
  last_mono_ns_ = now_ns;
  last_events_ = input.events_published;
  last_deliveries_ = input.deliveries;

  // Math.random()'s contract: uniform in [0, 1).
  double random_value = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  auto ms = [](int64_t micros) { return static_cast<double>(micros) / 1000.0; };
  char json[768];
  std::snprintf(json, sizeof json,
                "{\"time\":\"%s\",\"message\":\"Hello from Server!\",\"randomValue\":%.17g,"
                "\"pid\":%d,\"subscribers\":%zu,"
                "\"process_cpu_percent\":%.1f,\"process_rss_bytes\":%llu,"
                "\"load_average\":[%.2f,%.2f,%.2f],\"interval_ms\":%.3f,"
                "\"events_per_second\":%.1f,\"deliveries_per_second\":%.1f,"
                "\"fanout_p50_ms\":%.3f,\"fanout_p99_ms\":%.3f,\"fanout_max_ms\":%.3f,"
                "\"sent_mono_ns\":%lld}",
                iso_time(real_us()).c_str(), random_value, static_cast<int>(::getpid()),
                input.subscribers, cpu_percent, static_cast<unsigned long long>(sample.rss_bytes),
                sample.load[0], sample.load[1], sample.load[2], wall * 1000.0, events_per_second,
                deliveries_per_second, ms(fanout.percentile(0.5)), ms(fanout.percentile(0.99)),
                ms(fanout.max()), static_cast<long long>(mono_ns()));
  return json;
}

}  // namespace sse
