// connection.cpp — see connection.h. Follow a request: on_events() ->
// on_reading() -> read_input() -> process_input() -> parser -> on_head()
// -> answer() (-> answer_plain(), open_stream() or the publish handler)
// -> respond() -> write_out() -> OutQueue::flush() -> send()/sendmsg().
#include "sse/server/connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "sse/base/clock.h"
#include "sse/events/history.h"
#include "sse/http/http_response.h"
#include "sse/loop/listener.h"
#include "sse/base/log.h"
#include "sse/server/plain_routes.h"
#include "sse/server/publish_handler.h"
#include "sse/server/stats.h"
#include "sse/server/stream_handler.h"
#include "sse/loop/socket_address.h"

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

// Up to 10% more than --retry-ms, so that the clients of a restarted server
// do not all come back in the same millisecond.
int64_t jittered_retry(int64_t retry_ms) {
  static std::minstd_rand random(std::random_device{}());
  int64_t spread = retry_ms / 10;
  return spread > 0 ? retry_ms + static_cast<int64_t>(random() % static_cast<uint64_t>(spread + 1))
                    : retry_ms;
}

}  // namespace

Connection::Connection(ServerContext& context, UniqueFd fd, const sockaddr_storage& peer)
    : context_(context), fd_(std::move(fd)), peer_loopback_(is_loopback(peer)) {
  ++context_.counters.connections_open;
  ++context_.counters.connections_total;
}

Connection::~Connection() {
  if (state_ != State::kClosed) release();
  --context_.counters.connections_open;
}

bool Connection::start() {
  begin_request(mono_ms());
  interest_ = EPOLLIN | EPOLLRDHUP;
  return context_.reactor.add(fd_.get(), interest_, this);
}

bool Connection::start_rejected() {
  ++context_.counters.connections_rejected;
  interest_ = EPOLLIN | EPOLLRDHUP;
  if (!context_.reactor.add(fd_.get(), interest_, this)) return false;
  respond(error_response(503, "too many connections", false, false), false);
  write_out();
  return true;
}

void Connection::begin_request(int64_t now_ms) {
  parser_.reset();
  deadline_ms_ = now_ms + context_.config.header_timeout_ms;
}

void Connection::on_events(uint32_t events) noexcept {
  switch (state_) {
    case State::kReadingHead:
    case State::kReadingBody:
      on_reading(events);
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
  } while (held_back && out_.backlog_bytes() <= kMaxPipelinedBacklog);
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
    in_.append(scratch, static_cast<size_t>(n));
    return true;
  }
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
  while (!close_after_write_ && is_reading()) {
    if (out_.backlog_bytes() > kMaxPipelinedBacklog) return !in_.empty();
    if (state_ == State::kReadingBody) {
      ParseResult result =
          body_reader_.feed(in_.data(), in_.size(), body_wanted_ ? &body_ : nullptr);
      if (result.kind == ParseResult::Kind::kError) {
        fail(result.status, result.reason);
        return false;
      }
      size_t consumed = result.kind == ParseResult::Kind::kComplete ? result.consumed : in_.size();
      in_.erase(0, consumed);
      if (result.kind == ParseResult::Kind::kIncomplete) return false;
      on_body_complete();
      continue;
    }

    if (in_.empty()) return false;
    Request request;
    ParseResult result = parser_.parse(in_.data(), in_.size(), request);
    if (result.kind == ParseResult::Kind::kIncomplete) return false;
    if (result.kind == ParseResult::Kind::kError) {
      fail(result.status, result.reason);
      return false;
    }
    ++context_.counters.requests;
    // `request` points into in_: consume the head only after answering.
    bool wants_body = on_head(request);
    in_.erase(0, result.consumed);
    if (state_ == State::kStreaming) {
      // The stream owns the rest of the connection; free the input buffer.
      std::string().swap(in_);
      return false;
    }
    if (wants_body) {
      state_ = State::kReadingBody;
    } else if (state_ == State::kReadingHead) {
      begin_request(mono_ms());
    }
  }
  return false;
}

// Validates framing, then answers (or prepares to read the body). Returns
// true when a body follows the head.
bool Connection::on_head(const Request& request) {
  if (request.method == Method::kUnknown) {
    fail(501, "unknown method");
    return false;
  }
  if (request.framing == BodyFraming::kLength &&
      request.content_length > context_.config.max_body) {
    fail(413, "body over --max-body");
    return false;
  }
  RouteMatch match = route(request.method, request.path);
  body_wanted_ = false;
  body_.clear();
  if (match.route == Route::kPublish) {
    if (request.framing == BodyFraming::kNone) {
      fail(411, "POST /publish needs Content-Length or chunked Transfer-Encoding");
      return false;
    }
    PublishReply refused = check_publish_head(request, context_.config, peer_loopback_);
    if (refused.status != 0) {
      ++context_.counters.publish_requests;
      ++context_.counters.publish_rejected;
      ResponseBuilder response(refused.status);
      response.header("Content-Type", "application/json");
      if (refused.status == 401) response.header("WWW-Authenticate", "Bearer");
      add_cors_headers(response, context_.config.cors);
      respond(response.finish(refused.body, request.keep_alive), request.keep_alive);
    } else {
      body_wanted_ = true;
      body_keep_alive_ = request.keep_alive;
      if (request.expect_continue && request.minor_version >= 1) {  // RFC 9110 §10.1.1
        out_.push(FrameRef::copy_of("HTTP/1.1 100 Continue\r\n\r\n"));
      }
    }
  } else {
    answer(request, match);
  }
  if (state_ == State::kStreaming || close_after_write_) return false;
  body_reader_.start(request, context_.config.max_body);
  bool has_body = request.framing != BodyFraming::kNone &&
                  !(request.framing == BodyFraming::kLength && request.content_length == 0);
  if (!has_body && body_wanted_) on_body_complete();
  return has_body;
}

void Connection::on_body_complete() {
  if (body_wanted_) {
    ++context_.counters.publish_requests;
    PublishReply reply = handle_publish(body_, context_.broadcaster);
    if (reply.status != 202) ++context_.counters.publish_rejected;
    ResponseBuilder response(reply.status);
    response.header("Content-Type", "application/json");
    add_cors_headers(response, context_.config.cors);
    respond(response.finish(reply.body, body_keep_alive_), body_keep_alive_);
    body_wanted_ = false;
    std::string().swap(body_);  // up to --max-body: do not keep it around
  }
  if (state_ == State::kReadingBody || state_ == State::kReadingHead) {
    state_ = State::kReadingHead;
    begin_request(mono_ms());
  }
}

void Connection::answer(const Request& request, const RouteMatch& match) {
  if (match.route == Route::kStream) {
    open_stream(request);
    return;
  }
  PlainAnswer answer = answer_plain(request, match, context_);
  respond(std::move(answer.head), request.keep_alive);
  if (answer.body) out_.push(std::move(answer.body));
}

void Connection::open_stream(const Request& request) {
  StreamRequest stream = parse_stream_request(request);
  bool keep_alive = request.keep_alive;
  bool head_only = request.method == Method::kHead;
  if (stream.status != 200) {
    // With CORS headers, so a cross-origin EventSource sees the 400 itself.
    ResponseBuilder response(stream.status);
    response.header("Content-Type", "text/plain; charset=utf-8");
    add_cors_headers(response, context_.config.cors);
    respond(response.finish(error_body(stream.status, stream.error), keep_alive, head_only),
            keep_alive);
    return;
  }
  if (head_only) {
    // Same head, no body, no replay; the connection stays an ordinary one.
    respond(FrameRef::copy_of(stream_head(context_.config.cors, keep_alive)), keep_alive);
    return;
  }
  Broadcaster& broadcaster = context_.broadcaster;
  ResumePlan plan;
  if (stream.resume) {
    plan = plan_resume(stream.last_event_id, context_.history, context_.first_event_id,
                       broadcaster.last_id());
    ++context_.counters.replays;
    if (plan.gap) ++context_.counters.gaps;
  }
  StreamStart start = start_stream(stream, plan, context_.history, context_.config.cors,
                                   jittered_retry(context_.config.retry_ms));
  out_.push(FrameRef::copy_of(start.head + start.opening));
  for (FrameRef& frame : start.frames) out_.push(std::move(frame));
  start_unsent_ = out_.backlog_bytes();
  state_ = State::kStreaming;
  ++context_.counters.streams_opened;
  broadcaster.subscribe(*this, stream.topics, mono_ms());
  if (!log_quiet()) log_line("fd %d: stream opened (%zu topics)", fd_.get(), stream.topics.size());
}

void Connection::respond(FrameRef response, bool keep_alive) {
  out_.push(std::move(response));
  if (!keep_alive) close_after_write_ = true;
}

void Connection::fail(int status, const char* reason) {
  if (!log_quiet()) log_line("fd %d: %d %s", fd_.get(), status, reason);
  if (status == 408) ++context_.counters.header_timeouts;
  respond(error_response(status, reason, false, false), false);
  in_.clear();
}

void Connection::flush_frames() noexcept {
  if (state_ != State::kStreaming) return;
  write_out();
  if (state_ == State::kStreaming &&
      out_.backlog_bytes() > context_.config.max_backlog + start_unsent_) {
    ++context_.counters.slow_consumers_dropped;
    close("slow consumer: backlog over --max-backlog");
  }
}

void Connection::write_out() {
  if (state_ == State::kClosed) return;
  size_t written = 0;
  OutQueue::FlushResult result = out_.flush(fd_.get(), written);
  context_.counters.bytes_written += written;
  start_unsent_ -= std::min(written, start_unsent_);  // the queue is FIFO: the start goes first
  if (result == OutQueue::FlushResult::kError) {
    close("write failed (peer gone)");
    return;
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
    ::shutdown(fd_.get(), SHUT_WR);
    state_ = State::kClosing;
    deadline_ms_ = mono_ms() + kLingerMs;
    in_.clear();
  }
  update_interest();
}

void Connection::update_interest() {
  uint32_t wanted = 0;
  bool paused = is_reading() && (close_after_write_ || out_.backlog_bytes() > kMaxPipelinedBacklog);
  if (!peer_closed_ && !paused) wanted |= EPOLLIN | EPOLLRDHUP;
  if (!out_.empty()) wanted |= EPOLLOUT;
  if (wanted != interest_) {
    interest_ = wanted;
    context_.reactor.modify(fd_.get(), wanted, this);
  }
}

void Connection::check_timeouts(int64_t now_ms) noexcept {
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
    case State::kStreaming:
    case State::kClosed:
      return;
  }
}

void Connection::close(const char* reason) noexcept {
  if (state_ == State::kClosed) return;
  if (!log_quiet()) log_line("fd %d: close (%s)", fd_.get(), reason);
  release();
  context_.closed.push_back(this);
}

void Connection::release() {
  context_.reactor.remove(fd_.get());
  context_.broadcaster.unsubscribe(*this);
  out_.clear();
  std::string().swap(in_);
  state_ = State::kClosed;
}

}  // namespace sse
