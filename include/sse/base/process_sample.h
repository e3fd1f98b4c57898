// process_sample.h — what this process has used so far: CPU, memory, load.
//
// Read by the ticker (the demo event's status fields) and by /stats and
// /metrics. One getrusage(), one read of /proc/self/statm and one
// getloadavg() per call: cheap, but a system call or three, so callers
// sample once per tick or per request, never per event.
#pragma once

#include <cstdint>

namespace sse {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system time used so far
  uint64_t rss_bytes = 0;
  double load[3] = {0, 0, 0};
};

ProcessSample sample_process();

}  // namespace sse
