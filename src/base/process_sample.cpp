// process_sample.cpp — see process_sample.h.
#include "sse/base/process_sample.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace sse {

ProcessSample sample_process() {
  ProcessSample sample;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  sample.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  // /proc/self/statm: size resident shared ... in pages.
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(statm, "%lu %lu", &size, &resident) == 2) {
      sample.rss_bytes =
          static_cast<uint64_t>(resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    }
    std::fclose(statm);
  }
  ::getloadavg(sample.load, 3);
  return sample;
}

}  // namespace sse
