// trace.h — --trace: one line per reactor step on stderr, for learners.
//
// With --trace the server narrates what it does, step by step: each
// epoll_wait() wake-up, accept, read, parsed head, route, handler decision,
// write (bytes, and whether the socket took all of it), timer firing and
// fan-out pass, each line naming the file that printed it. The README's
// architecture tour walks through a real trace of one GET /sse and one
// publish.
//
// Call sites look like
//     if (tracing()) trace_line("connection", "fd %d: read %zd bytes", fd, n);
// so that with tracing off a step costs one test of a global flag that is
// always false: the arguments are not even evaluated, nothing is formatted.
// (The fan-out benchmark with the calls compiled in and tracing off is in
// the README's benchmark section.) With tracing on, every line is a write(2)
// to stderr, a fan-out to thousands prints thousands of lines: it is for
// watching a handful of requests, not for production.
#pragma once

namespace sse {

namespace trace_detail {
extern bool enabled;
}

inline bool tracing() { return trace_detail::enabled; }
void set_tracing(bool on);

// "  +12.345 ms  connection   fd 9: read 78 bytes": the time since the
// previous trace line (what each step took, or how long the loop slept),
// the source file's name without .cpp, then the printf-style text.
void trace_line(const char* where, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace sse
