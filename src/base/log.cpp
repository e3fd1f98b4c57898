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

void write_stderr_line(const char* prefix, const char* format, va_list args) {
  char line[1024];
  int used = std::snprintf(line, sizeof line, "%s", prefix);
  if (used < 0) used = 0;
  if (static_cast<size_t>(used) > sizeof line - 2) used = sizeof line - 2;
  int n = std::vsnprintf(line + used, sizeof line - static_cast<size_t>(used) - 1, format, args);
  size_t length = static_cast<size_t>(used) + (n < 0 ? 0 : static_cast<size_t>(n));
  if (length > sizeof line - 2) length = sizeof line - 2;
  line[length++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line, length);
  (void)ignored;
}

void log_line(const char* format, ...) {
  std::string prefix = iso_time(real_us()) + " ";
  va_list args;
  va_start(args, format);
  write_stderr_line(prefix.c_str(), format, args);
  va_end(args);
}

}  // namespace sse
