// handler.h — what serves one request, and what it may ask of the
// connection it came on.
//
// The Connection (connection.h) speaks HTTP: it reads, parses, frames
// bodies, writes, times out and closes. What a request *means* is decided
// by a Handler, made for that request from the routing table (routes.h):
//
//   on_head(request)  the head is parsed and valid. The handler either
//                     answers (exchange.respond), asks for the body
//                     (returns kReadBody), turns the connection into an
//                     event stream (exchange.begin_stream), or returns
//                     without answering: it will answer in a later loop
//                     pass (a publish waiting for a shared event log).
//   on_body(body)     the whole body arrived (only after kReadBody); the
//                     same choices, less the body.
//   on_sweep(now)     while a stream is open, each housekeeping sweep.
//   on_close()        the connection is closing (the peer left, a limit was
//                     hit, the server stops): stop whatever would call back
//                     into it. The handler is destroyed later, with the
//                     connection, after the loop pass.
//
// While a handler has not answered, the connection parses no further
// request (answers go out in request order) and reads nothing more.
//
// Adding an endpoint: write a Handler (or a plain answer, plain_routes.h)
// and add one row to the table in routes.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sse/http/http_parser.h"
#include "sse/loop/frame.h"
#include "sse/loop/out_queue.h"

namespace sse {

struct ServerContext;

// The connection, as its current request's handler sees it.
class Exchange {
 public:
  // The final answer to this request: `head` (status line, headers and,
  // for small answers, the body) then `body` (may be empty; a static file's
  // shared frame). With `keep_alive` false the connection closes after it.
  virtual void respond(FrameRef head, FrameRef body, bool keep_alive) = 0;
  // An interim answer before the body is read (100 Continue).
  virtual void send_interim(FrameRef response) = 0;
  virtual bool peer_is_loopback() const = 0;
  virtual int fd() const = 0;  // for log lines

  // Event streams. begin_stream() makes this connection a stream for the
  // rest of its life: the handler queues the stream's start on out_queue(),
  // then subscribes. flush() writes what is queued now; close() ends the
  // connection (both are safe to call from a broadcaster flush: the
  // connection is destroyed only after the loop pass).
  virtual OutQueue& out_queue() = 0;
  virtual void begin_stream() = 0;
  virtual void flush() = 0;
  virtual void close(const char* reason) = 0;
  // Ends a stream politely: `last_words` after what is queued, then a FIN
  // once it is written. `why` is for the log lines.
  virtual void end_stream(FrameRef last_words, const char* why) = 0;
  virtual bool is_open() const = 0;

 protected:
  ~Exchange() = default;
};

class Handler {
 public:
  enum class Next { kDone, kReadBody };

  virtual ~Handler() = default;
  virtual Next on_head(const Request& request) = 0;
  virtual void on_body(std::string body) { (void)body; }
  virtual void on_close() {}
  // Called by the housekeeping sweep while the connection streams (a
  // stream whose token expired ends itself here).
  virtual void on_sweep(int64_t now_ms) noexcept { (void)now_ms; }
  // Events queued to the client (a stream's, for the access log).
  virtual uint64_t events_sent() const { return 0; }
};

using HandlerFactory = std::unique_ptr<Handler> (*)(ServerContext& context, Exchange& exchange);

}  // namespace sse
