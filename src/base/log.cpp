// log.cpp — see log.h.
#include "sse/base/log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>

#include "sse/base/clock.h"

namespace sse {

namespace {
bool quiet = false;
}

void set_log_quiet(bool value) {
  quiet = value;
}
bool log_quiet() {
  return quiet;
}

void log_line(const char* format, ...) {
  char line[1024];
  std::string time = iso_time(real_us());
  int used = std::snprintf(line, sizeof line, "%s ", time.c_str());
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
