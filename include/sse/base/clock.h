// clock.h — the three clocks the server reads, in one place.
//
// CLOCK_MONOTONIC for timeouts, heartbeats and latency (it never jumps);
// CLOCK_REALTIME only for what users see: ISO timestamps and the seed of the
// event id sequence. Header-only: these are one syscall (usually a vDSO call
// that never enters the kernel) each.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace sse {

inline int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t mono_ms() {
  return mono_ns() / 1'000'000;
}

// Microseconds since the Unix epoch: ids seeded from it keep increasing
// across restarts and stay below 2^53 (exact in JavaScript) until year 2255.
inline int64_t real_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

// "2026-11-25T05:00:00.123Z" for a CLOCK_REALTIME value in microseconds.
inline std::string iso_time(int64_t real_us) {
  time_t seconds = static_cast<time_t>(real_us / 1'000'000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>((real_us / 1000) % 1000));
  return text;
}

}  // namespace sse
