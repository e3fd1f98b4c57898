// trace.cpp — see trace.h.
#include "sse/base/trace.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>

#include "sse/base/clock.h"

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
  char line[1024];
  int used = std::snprintf(line, sizeof line, "%+10.3f ms  %-15s ",
                           static_cast<double>(now - previous_ns) / 1e6, where);
  previous_ns = now;
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line + used, sizeof line - static_cast<size_t>(used) - 1, format, args);
  va_end(args);
  size_t length = static_cast<size_t>(used) + (n < 0 ? 0 : static_cast<size_t>(n));
  if (length > sizeof line - 2) length = sizeof line - 2;
  line[length++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line, length);
  (void)ignored;
}

}  // namespace sse
