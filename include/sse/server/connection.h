// connection.h — one client connection, from accept() to close: HTTP only.
//
// The server creates a Connection for each accepted socket and registers it
// with the reactor; from then on the reactor calls on_events(). The
// connection reads, parses request heads (http_parser), reads bodies
// (http_body), writes its output queue, enforces the timeouts and closes
// politely. What a request means is decided by the Handler that the routing
// table (routes.h) makes for it; the connection is that handler's Exchange
// (handler.h). Its life is a small state machine:
//
//   kReadingHead --head--> handler --body?--> kReadingBody --+
//        ^                    |                              |
//        |                    |  answered?  no --> kWaiting  |
//        '---- yes: next request, keep-alive <-- respond() <-'
//        |
//        '--handler calls begin_stream()--> kStreaming (the broadcaster
//                       queues frames, the stream handler flushes them)
//
//   any state --error, "Connection: close", HTTP/1.0--> kClosing: write
//   what is queued, shut down our side, read until the peer closes (so the
//   last response is not destroyed by a reset), then close.
//
// Requests are answered in order: while one waits for its answer
// (kWaiting) nothing more is parsed. Parsing also pauses while more than
// kMaxPipelinedBacklog bytes of answers are unsent, which bounds what a
// client that pipelines without reading can make us hold.
//
// close() unregisters from the reactor and tells the handler at once, but
// the object is destroyed only after the loop pass (Server::reap_closed),
// because its callbacks may still be on the stack and later events of the
// same epoll batch may still name it; those find state kClosed and return.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sse/http/http_body.h"
#include "sse/http/http_parser.h"
#include "sse/loop/out_queue.h"
#include "sse/loop/reactor.h"
#include "sse/loop/unique_fd.h"
#include "sse/server/access_log.h"
#include "sse/server/handler.h"
#include "sse/server/server_context.h"

namespace sse {

class Connection final : public EventHandler, public Exchange {
 public:
  Connection(ServerContext& context, UniqueFd fd, const sockaddr_storage& peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the reactor. False if that failed (the caller drops it).
  bool start();
  // Instead of start(), over --max-clients: reads one request and answers
  // it as a full server does (make_over_capacity_handler), then closes.
  bool start_rejected();

  void on_events(uint32_t events) noexcept override;
  // Goes on with requests already buffered (it stopped at the per-pass
  // limit and put itself on the server's ready list).
  void resume() noexcept;
  // Called by the server's housekeeping timer: header timeouts, lingering.
  void check_timeouts(int64_t now_ms) noexcept;
  bool is_closed() const { return state_ == State::kClosed; }

  // Exchange: what the current request's handler may ask (handler.h).
  void respond(FrameRef head, FrameRef body, bool keep_alive) override;
  void send_interim(FrameRef response) override;
  bool peer_is_loopback() const override { return peer_loopback_; }
  int fd() const override { return fd_.get(); }
  OutQueue& out_queue() override { return out_; }
  void begin_stream() override;
  void flush() override { write_out(); }
  void end_stream(FrameRef last_words, const char* why) override;
  // Unregisters, tells the handler, and marks for destruction after this
  // loop pass.
  void close(const char* reason) noexcept override;
  bool is_open() const override { return state_ != State::kClosed; }

 private:
  enum class State { kReadingHead, kReadingBody, kWaiting, kStreaming, kClosing, kClosed };

  // One function per state, called from on_events().
  void on_reading(uint32_t events);
  void on_waiting(uint32_t events);
  void on_streaming(uint32_t events);
  void on_closing(uint32_t events);

  const char* state_name() const;  // for --trace
  bool is_reading() const { return state_ == State::kReadingHead || state_ == State::kReadingBody; }
  // The request cycle: answer what is buffered, write, repeat while writing
  // made room for requests held back by the pipelining limit.
  void serve();
  bool read_input();     // appends one read to in_; false at EOF or error
  bool discard_input();  // reads and drops a bounded amount; false at EOF or error
  // Parses the complete requests in in_ and hands them to handlers. True
  // when it stopped with input left because of the pipelining limit.
  bool process_input();
  // The head is parsed: checks what HTTP itself limits, makes the handler
  // and hands it the request. True when a body follows the head.
  bool on_head(const Request& request);
  void on_body_done();  // the body is consumed: hand it over, maybe wait
  void next_request();  // the answer is queued: back to kReadingHead
  void fail(int status, const char* reason);
  void write_out();  // flushes out_, then closes, lingers or adjusts interest
  void update_interest();
  void begin_request(int64_t now_ms);
  int64_t stall_limit_ms() const;
  // Unregisters from the reactor, tells the handler, frees the buffers and
  // marks the connection kClosed (the fd closes with the object).
  void release(const char* reason);

  ServerContext& context_;
  UniqueFd fd_;
  State state_ = State::kReadingHead;
  // Everything this connection still owes its peer. Near the top, with the
  // fd, the state and the flags below: a fan-out touches only these of a
  // streaming connection, so they share its first two cache lines.
  OutQueue out_;
  bool peer_loopback_ = false;
  bool peer_closed_ = false;  // read() returned 0: answer what we have, then close
  bool close_after_write_ = false;
  bool over_capacity_ = false;  // accepted over --max-clients: one answer, then close
  bool yielded_ = false;        // stopped at kMaxRequestsPerPass with input left
  bool on_ready_list_ = false;  // on the server's ready list (once at most)
  // While streaming: since when the queue has waited with no byte written
  // (0: it is empty or moving). A stream stalled this long is closed.
  int64_t stalled_since_ms_ = 0;
  uint32_t interest_ = 0;  // events currently registered with epoll
  // While reading: --header-timeout-ms from the request's start or from the
  // last write that made progress (a slow download is not idle, even with
  // its next request half sent). While closing: the end of the linger.
  int64_t deadline_ms_ = 0;

  std::string in_;  // received, not yet consumed
  // What reading requests needs (the parser's state, the body decoder and
  // the body so far): on the heap, and freed once the connection becomes a
  // stream, which never reads another request. 120 bytes less per
  // subscriber, where subscribers are counted in the hundred thousands.
  struct RequestReader {
    RequestParser parser;
    BodyReader body_reader;
    std::string body;
  };
  std::unique_ptr<RequestReader> reader_ = std::make_unique<RequestReader>();

  // The current request's handler (for a stream: the stream itself). It is
  // replaced when the next request's head arrives, never while it may be on
  // the stack.
  std::unique_ptr<Handler> handler_;
  bool answered_ = false;     // the current request has its final answer
  bool body_wanted_ = false;  // the handler asked for the body (else it is discarded)

  // --access-log only (null without it): the current request's peer,
  // request line and start, for its line in the log (access_log.h).
  std::unique_ptr<AccessRequest> access_;
};

}  // namespace sse
