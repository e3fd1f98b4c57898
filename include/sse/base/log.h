// log.h — one-line log messages on stderr.
//
// The server logs start-up problems always, and connection events (open,
// request, close) unless --quiet. Each line is formatted into a stack
// buffer and written with one write(2), so lines never interleave; a log
// line costs one syscall and the small string of its timestamp.
#pragma once

namespace sse {

void set_log_quiet(bool quiet);
bool log_quiet();

// printf-style; a newline is added.
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace sse
