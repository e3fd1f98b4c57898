// connection.h — one client connection, from accept() to close.
//
// The server creates a Connection for each accepted socket and registers it
// with the reactor; from then on the reactor calls on_events(). A
// connection's life is a small state machine:
//
//   kReadingHead --head complete--> (answer now) --body?--> kReadingBody
//        ^                               |                      |
//        '---- keep-alive, next request --'----------------------'
//        |
//        '--GET /sse--> kStreaming (a Subscriber: the broadcaster queues
//                       frames, flush_frames() writes them)
//
//   any state --error, "Connection: close", HTTP/1.0--> kClosing: write
//   what is queued, shut down our side, read until the peer closes (so the
//   last response is not destroyed by a reset), then close.
//
// Requests are answered in order as they are parsed, so pipelining needs no
// extra machinery; parsing pauses while more than kMaxPipelinedBacklog
// bytes of responses are unsent, which bounds what a client that pipelines
// without reading can make us hold.
//
// close() unregisters from the reactor and the broadcaster at once, but the
// object is destroyed only after the loop pass (Server::reap_closed), because
// its callbacks may still be on the stack and later events of the same
// epoll batch may still name it; those find state kClosed and return.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/server/config.h"
#include "sse/http/http_body.h"
#include "sse/http/http_parser.h"
#include "sse/loop/reactor.h"
#include "sse/http/router.h"
#include "sse/server/server_context.h"
#include "sse/loop/unique_fd.h"

namespace sse {

class Connection final : public EventHandler, public Subscriber {
 public:
  Connection(ServerContext& context, UniqueFd fd, const sockaddr_storage& peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with the reactor. False if that failed (the caller drops it).
  bool start();
  // Answers 503 (over --max-clients) and closes, instead of start().
  bool start_rejected();

  void on_events(uint32_t events) noexcept override;
  void flush_frames() noexcept override;
  // Called by the server's housekeeping timer: header timeouts, lingering.
  void check_timeouts(int64_t now_ms) noexcept;
  // Unregisters and marks for destruction after this loop pass.
  void close(const char* reason) noexcept;

  bool is_closed() const { return state_ == State::kClosed; }
  int fd() const { return fd_.get(); }

 private:
  enum class State { kReadingHead, kReadingBody, kStreaming, kClosing, kClosed };

  // One function per state, called from on_events().
  void on_reading(uint32_t events);
  void on_streaming(uint32_t events);
  void on_closing(uint32_t events);

  bool is_reading() const { return state_ == State::kReadingHead || state_ == State::kReadingBody; }
  // The request cycle: answer what is buffered, write, repeat while writing
  // made room for requests held back by the pipelining limit.
  void serve();
  bool read_input();     // appends one read to in_; false at EOF or error
  bool discard_input();  // reads and drops a bounded amount; false at EOF or error
  // Parses and answers the complete requests in in_. True when it stopped
  // with input left because of the pipelining limit.
  bool process_input();
  bool on_head(const Request& request);
  void on_body_complete();
  void answer(const Request& request, const RouteMatch& match);
  void open_stream(const Request& request);
  void respond(FrameRef response, bool keep_alive);
  void fail(int status, const char* reason);
  void write_out();  // flushes out_, then closes, lingers or adjusts interest
  void update_interest();
  void begin_request(int64_t now_ms);
  // Unregisters from the reactor and the broadcaster, frees the buffers and
  // marks the connection kClosed (the fd closes with the object).
  void release();

  ServerContext& context_;
  UniqueFd fd_;
  State state_ = State::kReadingHead;
  bool peer_loopback_ = false;
  bool peer_closed_ = false;  // read() returned 0: answer what we have, then close
  bool close_after_write_ = false;
  uint32_t interest_ = 0;  // events currently registered with epoll
  // While reading: --header-timeout-ms from the request's start or from the
  // last write that made progress (a slow download is not idle, even with
  // its next request half sent). While closing: the end of the linger.
  int64_t deadline_ms_ = 0;
  // Bytes of the stream's start (head, retry, gap, Last-Event-ID replay)
  // still unsent. The replay is the history's own shared frames, so a client
  // resuming after a long absence is not a slow consumer: only what is
  // queued after its start counts against --max-backlog.
  size_t start_unsent_ = 0;

  std::string in_;  // received, not yet consumed
  RequestParser parser_;
  BodyReader body_reader_;

  // While reading a POST /publish body: what the handler needs from the head.
  bool body_wanted_ = false;
  bool body_keep_alive_ = true;
  std::string body_;
};

}  // namespace sse
