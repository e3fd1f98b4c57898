// access_log.h — --access-log FILE: one line per finished request or stream.
//
// Each Connection keeps an AccessRequest for its current request (only
// when the log is on: null otherwise, so a server without the log pays one
// pointer per connection) and tells the log what happens to it: a head
// parsed, an answer queued (the line is written), a stream begun, the
// connection closed (a stream's line, or 499 for an unanswered request). The line is
// formatted here and appended to a LogBuffer (loop/log_buffer.h), which
// the server flushes once per loop pass: a disk or a pipe that does not
// keep up drops lines (counted in /stats and /metrics), never streams.
//
//   TIME PEER "METHOD TARGET HTTP/1.x" STATUS BYTES MS [events=N end="WHY"]
//   2026-12-06T15:20:01.123Z 127.0.0.1:53422 "POST /publish HTTP/1.1" 202 131 0.042
//   2026-12-06T15:20:13.130Z 127.0.0.1:53420 "GET /sse?topic=a HTTP/1.1" 200 1532 12004.113 events=12 end="subscriber left"
//
// TIME is when the line was written (UTC); BYTES the size of the answer
// (for a stream: every byte written to it); MS the milliseconds from the
// complete request head to the queued answer (for a stream: to its end).
// A request the client gave up on before it was answered has status 499
// (nginx's convention); one that never got a valid head logs "-" for the
// request. The target is printed as sent, except that the value of an
// access_token query parameter (a JWT, private-topics.md) becomes "***", and
// quotes, backslashes and bytes outside printable ASCII are \xHH-escaped so
// that one line stays one line and says what the client sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sse/http/http_parser.h"
#include "sse/loop/frame.h"
#include "sse/loop/log_buffer.h"

namespace sse {

struct AccessRequest {
  std::string peer;           // formatted once, at accept
  std::string request = "-";  // "METHOD TARGET HTTP/1.x" once a head is parsed
  int64_t start_ns = 0;       // when the head was complete
  uint64_t stream_bytes_before = 0;  // the connection's bytes written when its stream began
  bool stream = false;                // the request became an event stream
  const char* end_reason = nullptr;   // the server ended the stream (end_stream): why
};

class AccessLog {
 public:
  bool open(const std::string& path, std::string& error) { return out_.open(path, error); }
  // SIGHUP: the same path again (a rotated file is replaced by a new one).
  bool reopen(std::string& error) { return out_.reopen(error); }

  // A request's life, as the Connection sees it.
  void head_parsed(AccessRequest& request, const Request& head);
  // `answer` is the response head ("HTTP/1.1 200 OK...", where the status
  // is read), `body_bytes` what follows it. Writes the line, then makes
  // `request` ready for the next one on the connection. Nothing for a
  // stream, which is logged when it ends.
  void answered(AccessRequest& request, const FrameRef& answer, uint64_t body_bytes);
  void stream_began(AccessRequest& request, uint64_t bytes_written);
  // The connection is closing: a stream's line (`bytes_written` is the
  // connection's total), or 499 for a head that got no answer.
  void closed(AccessRequest& request, uint64_t bytes_written, uint64_t events, const char* reason);

  // The lines themselves (also for tests, with a chosen clock).
  void log_request(const AccessRequest& request, int status, uint64_t bytes, int64_t now_ns);
  void log_stream(const AccessRequest& request, uint64_t bytes, uint64_t events,
                  std::string_view end_reason, int64_t now_ns);
  void flush() { out_.flush(); }
  const LogBuffer& buffer() const { return out_; }

  // The quoted part of a line: method, target (token masked, escaped) and
  // version.
  static std::string request_line(const Request& request);

 private:
  void write_line(const AccessRequest& request, int status, uint64_t bytes, int64_t now_ns,
                  std::string_view stream_part);

  LogBuffer out_;
  std::string line_;  // reused: no allocation per line once it has grown
};

}  // namespace sse
