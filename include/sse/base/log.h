// log.h — one-line log messages on stderr.
//
// The server logs start-up problems always, and connection events (open,
// request, close) unless --quiet. Each line is formatted into a stack
// buffer and written with one write(2), so lines never interleave; a log
// line costs one syscall and the small string of its timestamp.
#pragma once

#include <cstdarg>

namespace sse {

void set_log_quiet(bool quiet);
bool log_quiet();

// printf-style; a newline is added.
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

// `prefix`, then the formatted text and a newline, as one write(2) to
// stderr; at most 1 KiB (longer text is cut). What log_line() and
// trace_line() (trace.h) share.
void write_stderr_line(const char* prefix, const char* format, va_list args);

}  // namespace sse
