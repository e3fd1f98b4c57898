// connection.cpp — see connection.h. Follow a request: on_events() ->
// on_reading() -> read_input() -> serve() -> process_input() -> parser ->
// on_head() -> make_handler() (routes.cpp) -> Handler::on_head() ->
// respond() -> write_out() -> OutQueue::flush() -> send()/sendmsg().
#include "sse/server/connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "sse/base/clock.h"
#include "sse/base/log.h"
#include "sse/base/trace.h"
#include "sse/http/http_response.h"
#include "sse/loop/socket_address.h"
#include "sse/server/config.h"
#include "sse/server/routes.h"
#include "sse/server/stats.h"

namespace sse {

namespace {

// Read size per read() call; a request head rarely needs more than one.
constexpr size_t kReadChunk = 16 * 1024;
// Stop parsing pipelined requests while this much of their answers is unsent.
constexpr size_t kMaxPipelinedBacklog = 256 * 1024;
// After our last response, how long we wait for the client to close its
// side (lingering close) before closing anyway.
constexpr int64_t kLingerMs = 2000;
// Reads per wake-up for a connection whose input we discard: bounded, so a
// client that sends without pause cannot keep the loop to itself.
constexpr int kMaxDiscardReads = 16;
// Pipelined requests answered per connection per loop pass, for the same
// reason: 500 requests in one read must not hold everyone else.
constexpr int kMaxRequestsPerPass = 32;
// How long a connection over --max-clients may take to send its request.
constexpr int64_t kOverCapacityMs = 2000;

}  // namespace

Connection::Connection(ServerContext& context, UniqueFd fd, const sockaddr_storage& peer)
    : context_(context), fd_(std::move(fd)), peer_loopback_(is_loopback(peer)) {
  if (context_.access_log != nullptr) {
    access_ = std::make_unique<AccessRequest>();
    access_->peer = format_address(peer);
  }
  ++context_.counters.connections_open;
  ++context_.counters.connections_total;
}

Connection::~Connection() {
  if (state_ != State::kClosed) release("server shutdown");
  --context_.counters.connections_open;
}

bool Connection::start() {
  begin_request(mono_ms());
  interest_ = EPOLLIN | EPOLLRDHUP;
  return context_.reactor.add(fd_.get(), interest_, this);
}

bool Connection::start_rejected() {
  ++context_.counters.connections_rejected;
  over_capacity_ = true;
  // The request is read (its answer depends on it) under a short deadline:
  // connections over the limit must not linger.
  begin_request(mono_ms());
  deadline_ms_ = std::min(deadline_ms_, mono_ms() + kOverCapacityMs);
  interest_ = EPOLLIN | EPOLLRDHUP;
  return context_.reactor.add(fd_.get(), interest_, this);
}

void Connection::begin_request(int64_t now_ms) {
  reader_->parser.reset();
  deadline_ms_ = now_ms + context_.config.header_timeout_ms;
}

const char* Connection::state_name() const {
  switch (state_) {
    case State::kReadingHead: return "reading a head";
    case State::kReadingBody: return "reading a body";
    case State::kWaiting: return "waiting for its handler";
    case State::kStreaming: return "streaming";
    case State::kClosing: return "closing";
    case State::kClosed: return "closed";
  }
  return "?";
}

void Connection::on_events(uint32_t events) noexcept {
  if (tracing()) {
    trace_line("connection", "fd %d: %s, while %s", fd_.get(), epoll_event_names(events).c_str(),
               state_name());
  }
  switch (state_) {
    case State::kReadingHead:
    case State::kReadingBody:
      on_reading(events);
      break;
    case State::kWaiting:
      on_waiting(events);
      break;
    case State::kStreaming:
      on_streaming(events);
      break;
    case State::kClosing:
      on_closing(events);
      break;
    case State::kClosed:
      break;  // a stale event from this epoll batch: see connection.h
  }
}

void Connection::on_reading(uint32_t events) {
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !peer_closed_) {
    if (!read_input()) peer_closed_ = true;
  }
  serve();  // also writes what EPOLLOUT said there is room for
}

void Connection::serve() {
  bool held_back;
  yielded_ = false;
  do {
    held_back = process_input();
    if (state_ == State::kClosed) return;
    if (peer_closed_ && !held_back && is_reading()) {
      // The client sent everything it will send: answer it, then close.
      close_after_write_ = true;
    }
    write_out();
    if (state_ == State::kClosed) return;
    // Requests held back by the pipelining limit go on as soon as writing
    // made room for their answers.
  } while (held_back && !yielded_ && out_.backlog_bytes() <= kMaxPipelinedBacklog);
}

void Connection::resume() noexcept {
  on_ready_list_ = false;
  if (is_reading()) serve();
}

void Connection::on_waiting(uint32_t events) {
  // Nothing is read while the handler works on its answer (EPOLLIN is off);
  // only a peer that is gone for good matters now.
  if (events & EPOLLOUT) write_out();
  if (state_ == State::kWaiting && (events & (EPOLLHUP | EPOLLERR))) {
    close("peer gone while its answer was pending");
  }
}

void Connection::on_streaming(uint32_t events) {
  if (events & EPOLLOUT) write_out();
  if (state_ == State::kClosed) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
    // A subscriber has nothing more to say; anything it sends is dropped.
    // EOF or an error is the only news we act on.
    if (!discard_input()) close("subscriber left");
  }
}

void Connection::on_closing(uint32_t events) {
  if (events & EPOLLOUT) write_out();
  if (state_ != State::kClosing) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
    // Lingering close: drain what the client still sends until it closes,
    // so that our last response is not lost to a TCP reset (nginx does the
    // same in ngx_http_lingering_close_handler).
    if (!discard_input()) close("closed");
  }
}

namespace {
// There is one thread, so one read buffer serves every connection.
char scratch[kReadChunk];
}  // namespace

bool Connection::read_input() {
  // Level-triggered: one read per wake-up is enough, and it keeps one
  // chatty client from starving the others. Appending only what arrived
  // keeps in_ as small as the request, instead of growing (and zero-filling)
  // 16 KiB per read.
  ssize_t n;
  do {
    n = ::read(fd_.get(), scratch, sizeof scratch);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    if (tracing()) trace_line("connection", "fd %d: read %zd bytes", fd_.get(), n);
    in_.append(scratch, static_cast<size_t>(n));
    return true;
  }
  if (tracing() && n == 0) trace_line("connection", "fd %d: read: end of input (FIN)", fd_.get());
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool Connection::discard_input() {
  for (int i = 0; i < kMaxDiscardReads; ++i) {
    ssize_t n = ::read(fd_.get(), scratch, sizeof scratch);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;  // more to come: level-triggered epoll calls us again
}

bool Connection::process_input() {
  int answered = 0;
  while (!close_after_write_ && is_reading()) {
    if (out_.backlog_bytes() > kMaxPipelinedBacklog) return !in_.empty();
    if (answered == kMaxRequestsPerPass && !in_.empty()) {
      // Enough for one pass: let the other connections have the loop. The
      // server calls resume() in the next pass (its ready list).
      yielded_ = true;
      if (!on_ready_list_) context_.ready.push_back(this);
      on_ready_list_ = true;
      return true;
    }
    if (state_ == State::kReadingBody) {
      ParseResult result =
          reader_->body_reader.feed(in_.data(), in_.size(),
                                   body_wanted_ ? &reader_->body : nullptr);
      if (result.kind == ParseResult::Kind::kError) {
        fail(result.status, result.reason);
        return false;
      }
      size_t consumed = result.kind == ParseResult::Kind::kComplete ? result.consumed : in_.size();
      in_.erase(0, consumed);
      if (result.kind == ParseResult::Kind::kIncomplete) return false;
      on_body_done();
      continue;
    }

    if (in_.empty()) return false;
    Request request;
    ParseResult result = reader_->parser.parse(in_.data(), in_.size(), request);
    if (result.kind == ParseResult::Kind::kIncomplete) {
      if (tracing()) {
        trace_line("http_parser", "fd %d: head incomplete, %zu bytes so far", fd_.get(),
                   in_.size());
      }
      return false;
    }
    if (tracing() && result.kind == ParseResult::Kind::kComplete) {
      trace_line("http_parser", "fd %d: head complete (%zu bytes): %.*s %.*s, %zu headers",
                 fd_.get(), result.consumed, static_cast<int>(request.method_name.size()),
                 request.method_name.data(), static_cast<int>(request.target.size()),
                 request.target.data(), request.header_count);
    }
    if (result.kind == ParseResult::Kind::kError) {
      fail(result.status, result.reason);
      return false;
    }
    ++context_.counters.requests;
    ++answered;
    // `request` points into in_: consume the head only after the handler saw it.
    bool has_body = on_head(request);
    in_.erase(0, result.consumed);
    if (state_ == State::kStreaming) {
      // The stream owns the rest of the connection: free the input buffer
      // and what reading requests needed.
      std::string().swap(in_);
      reader_.reset();
      return false;
    }
    if (state_ == State::kClosed || close_after_write_) return false;
    if (has_body) {
      state_ = State::kReadingBody;
    } else {
      on_body_done();
    }
  }
  return false;
}

bool Connection::on_head(const Request& request) {
  if (access_) context_.access_log->head_parsed(*access_, request);
  if (request.method == Method::kUnknown) {
    fail(501, "unknown method");
    return false;
  }
  if (request.framing == BodyFraming::kLength &&
      request.content_length > context_.config.max_body) {
    fail(413, "body over --max-body");
    return false;
  }
  answered_ = false;
  reader_->body.clear();
  // Replaces the previous request's handler: it has answered and is not on
  // the stack (we are called from on_events, not from a handler).
  handler_ = over_capacity_ ? make_over_capacity_handler(request, context_, *this)
                            : make_handler(request, context_, *this);
  body_wanted_ = handler_->on_head(request) == Handler::Next::kReadBody;
  if (state_ == State::kStreaming || state_ == State::kClosed || close_after_write_) return false;
  bool has_body = request.framing != BodyFraming::kNone &&
                  !(request.framing == BodyFraming::kLength && request.content_length == 0);
  if (has_body && answered_ && request.expect_continue) {
    // Answered before "100 Continue": the client may or may not send the
    // body now (RFC 9110 §10.1.1), so where its next request starts is
    // unknowable. Close after the answer instead of guessing.
    close_after_write_ = true;
    return false;
  }
  reader_->body_reader.start(request, context_.config.max_body);
  return has_body;
}

void Connection::on_body_done() {
  if (tracing() && body_wanted_) {
    trace_line("http_body", "fd %d: body complete (%zu bytes): to the handler", fd_.get(),
               reader_->body.size());
  }
  if (body_wanted_) {
    body_wanted_ = false;
    handler_->on_body(std::move(reader_->body));
    std::string().swap(reader_->body);  // up to --max-body: do not keep it around
    if (state_ == State::kClosed) return;
  }
  if (answered_) {
    next_request();
  } else {
    state_ = State::kWaiting;  // the handler answers in a later loop pass
  }
}

void Connection::next_request() {
  state_ = State::kReadingHead;
  begin_request(mono_ms());
}

void Connection::respond(FrameRef head, FrameRef body, bool keep_alive) {
  if (state_ == State::kClosed || state_ == State::kClosing) return;  // the peer left
  if (access_) context_.access_log->answered(*access_, head, body ? body->size() : 0);
  out_.push(std::move(head));
  if (body) out_.push(std::move(body));
  if (!keep_alive) close_after_write_ = true;
  answered_ = true;
  if (state_ == State::kWaiting) {
    // Answered in a later loop pass. Writing and parsing go on from
    // on_events (EPOLLOUT is armed now), not from here: the handler that
    // called us is still on the stack.
    next_request();
    update_interest();
  }
}

void Connection::send_interim(FrameRef response) {
  out_.push(std::move(response));
}

void Connection::fail(int status, const char* reason) {
  if (!log_quiet()) log_line("fd %d: %d %s", fd_.get(), status, reason);
  if (status == 408) ++context_.counters.header_timeouts;
  FrameRef response = error_response(status, reason, false, false);
  if (access_) context_.access_log->answered(*access_, response, 0);
  out_.push(std::move(response));
  close_after_write_ = true;
  in_.clear();
}

void Connection::write_out() {
  if (state_ == State::kClosed) return;
  size_t written = 0;
  OutQueue::FlushResult result = out_.flush(fd_.get(), written);
  context_.counters.bytes_written += written;
  if (tracing() && (written > 0 || result != OutQueue::FlushResult::kDrained)) {
    trace_line("out_queue", "fd %d: wrote %zu bytes: %s", fd_.get(), written,
               result == OutQueue::FlushResult::kDrained   ? "all of it"
               : result == OutQueue::FlushResult::kBlocked ? "socket full, the rest waits for OUT"
                                                           : "error, the peer is gone");
  }
  if (result == OutQueue::FlushResult::kError) {
    close("write failed (peer gone)");
    return;
  }
  // Since when the queue has been waiting without any byte going out (the
  // clock is read only then: a subscriber that keeps up never pays for it).
  if (out_.empty()) {
    stalled_since_ms_ = 0;
  } else if (written > 0 || stalled_since_ms_ == 0) {
    stalled_since_ms_ = mono_ms();
  }
  if (written > 0 && is_reading()) {
    // A client that is reading its answers is not idle: the deadline counts
    // from the last progress, so a long download is not cut off.
    deadline_ms_ = mono_ms() + context_.config.header_timeout_ms;
  }
  if (result == OutQueue::FlushResult::kDrained && close_after_write_ &&
      state_ != State::kClosing) {
    if (peer_closed_) {
      close("done");
      return;
    }
    // Everything is sent: half-close and wait for the client to close.
    if (tracing()) trace_line("connection", "fd %d: all sent: shutdown(SHUT_WR), linger", fd_.get());
    ::shutdown(fd_.get(), SHUT_WR);
    state_ = State::kClosing;
    deadline_ms_ = mono_ms() + kLingerMs;
    in_.clear();
  }
  update_interest();
}

void Connection::update_interest() {
  uint32_t wanted = 0;
  // Waiting for a handler's answer, or too much unsent: read nothing more.
  // (Yielded too: what is already buffered comes first, so in_ never grows
  // past what one read brings.)
  bool paused = state_ == State::kWaiting ||
                (is_reading() &&
                 (close_after_write_ || yielded_ || out_.backlog_bytes() > kMaxPipelinedBacklog));
  if (!peer_closed_ && !paused) wanted |= EPOLLIN | EPOLLRDHUP;
  if (!out_.empty()) wanted |= EPOLLOUT;
  if (wanted != interest_) {
    interest_ = wanted;
    context_.reactor.modify(fd_.get(), wanted, this);
  }
}

int64_t Connection::stall_limit_ms() const {
  // Long enough that a heartbeat or two can be absorbed by a client that is
  // merely slow, short enough that one that never reads does not pin its
  // queued frames (shared, but kept alive by its queue) for long.
  return std::max(2 * context_.config.heartbeat_ms, context_.config.header_timeout_ms);
}

void Connection::check_timeouts(int64_t now_ms) noexcept {
  if (state_ == State::kStreaming) {
    if (handler_) handler_->on_sweep(now_ms);
    if (state_ != State::kStreaming) return;
    if (stalled_since_ms_ != 0 && now_ms - stalled_since_ms_ >= stall_limit_ms()) {
      ++context_.counters.slow_consumers_dropped;
      close("stream made no write progress: the client stopped reading");
    }
    return;
  }
  if (now_ms < deadline_ms_) return;
  switch (state_) {
    case State::kReadingHead:
    case State::kReadingBody:
      if (!out_.empty()) {
        // Answers are queued but the client has read nothing of them for a
        // whole --header-timeout-ms, or it could hold this connection forever.
        close("client stopped reading responses");
        return;
      }
      if (!peer_closed_) {
        // After a long loop pass the request may be waiting in the kernel,
        // complete: read it before calling the client idle or slow. One read
        // per sweep, and no new deadline for a request already under way,
        // so a slowloris client gains nothing.
        bool was_idle = state_ == State::kReadingHead && in_.empty();
        size_t before = in_.size();
        if (!read_input()) peer_closed_ = true;
        if (in_.size() != before || peer_closed_) {
          if (was_idle) deadline_ms_ = now_ms + context_.config.header_timeout_ms;
          serve();
          if (!is_reading() || now_ms < deadline_ms_) return;
        }
      }
      if (state_ == State::kReadingHead && in_.empty()) {
        close("idle keep-alive timeout");  // nothing started: no 408 owed
        return;
      }
      fail(408, "request not complete within --header-timeout-ms");
      write_out();
      return;
    case State::kClosing:
      close("lingering close timed out");
      return;
    case State::kWaiting:  // the handler's own deadline answers (a 503 at worst)
    case State::kStreaming:
    case State::kClosed:
      return;
  }
}

void Connection::begin_stream() {
  state_ = State::kStreaming;
  if (access_) context_.access_log->stream_began(*access_, out_.bytes_written());
}

void Connection::end_stream(FrameRef last_words, const char* why) {
  if (state_ != State::kStreaming) return;
  if (!log_quiet()) log_line("fd %d: ending the stream (%s)", fd_.get(), why);
  if (access_) access_->end_reason = why;
  out_.push(std::move(last_words));
  close_after_write_ = true;
  write_out();  // then half-close and linger, as after a last answer
}

void Connection::close(const char* reason) noexcept {
  if (state_ == State::kClosed) return;
  if (!log_quiet()) log_line("fd %d: close (%s)", fd_.get(), reason);
  if (tracing()) trace_line("connection", "fd %d: close (%s)", fd_.get(), reason);
  release(reason);
  context_.closed.push_back(this);
}

void Connection::release(const char* reason) {
  if (access_) {
    context_.access_log->closed(*access_, out_.bytes_written(),
                                handler_ ? handler_->events_sent() : 0, reason);
  }
  context_.reactor.remove(fd_.get());
  state_ = State::kClosed;  // first: the handler may look (is_open)
  if (handler_) handler_->on_close();
  out_.clear();
  std::string().swap(in_);
}

}  // namespace sse
