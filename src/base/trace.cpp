// trace.cpp — see trace.h.
#include "sse/base/trace.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>

#include "sse/base/clock.h"
#include "sse/base/log.h"

namespace sse {

namespace trace_detail {
bool enabled = false;
}

namespace {
int64_t previous_ns = 0;
}

void set_tracing(bool on) {
  trace_detail::enabled = on;
  previous_ns = mono_ns();
}

void trace_line(const char* where, const char* format, ...) {
  int64_t now = mono_ns();
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "%+10.3f ms  %-15s ",
                static_cast<double>(now - previous_ns) / 1e6, where);
  previous_ns = now;
  va_list args;
  va_start(args, format);
  write_stderr_line(prefix, format, args);
  va_end(args);
}

}  // namespace sse
