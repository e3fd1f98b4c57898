// stream_handler.cpp — see stream_handler.h.
#include "sse/server/stream_handler.h"

#include <algorithm>
#include <random>

#include "sse/base/clock.h"
#include "sse/base/json.h"
#include "sse/base/log.h"
#include "sse/base/trace.h"
#include "sse/events/sse_frame.h"
#include "sse/http/ascii.h"
#include "sse/http/http_response.h"
#include "sse/http/router.h"
#include "sse/http/url.h"
#include "sse/server/config.h"
#include "sse/server/stats.h"
#include "sse/server/topic_access.h"

namespace sse {

StreamRequest parse_stream_request(const Request& request) {
  StreamRequest stream;
  std::string decoded;
  std::string query_last_id;
  bool query_has_last_id = false;
  for_each_query_param(request.query, [&](std::string_view name, std::string_view value) {
    if (stream.status != 200) return;
    if (name == "topic") {
      if (!percent_decode(value, decoded) || !is_valid_topic(decoded)) {
        stream.status = 400;
        stream.error = "invalid topic name (1-64 of A-Z a-z 0-9 _ . : -)";
        return;
      }
      if (std::find(stream.topics.begin(), stream.topics.end(), decoded) != stream.topics.end()) {
        return;  // a repeated topic is the same subscription
      }
      if (stream.topics.size() == kMaxTopicsPerStream) {
        stream.status = 400;
        stream.error = "more than 32 topics";
        return;
      }
      stream.topics.push_back(decoded);
    } else if (name == "access_token") {
      if (!percent_decode(value, stream.access_token)) stream.access_token.assign(value);
    } else if (name == "lastEventId") {
      if (!percent_decode(value, query_last_id)) query_last_id.assign(value);
      query_has_last_id = true;
    }
  });
  if (stream.topics.empty()) stream.topics.push_back("main");

  // The header wins: a reconnecting browser sends a fresh Last-Event-ID,
  // while the URL still carries the value it was first opened with.
  for (size_t i = 0; i < request.header_count; ++i) {
    if (equals_ignore_case(request.headers[i].name, "last-event-id")) {
      stream.resume = true;
      stream.last_event_id.assign(request.headers[i].value);
      return stream;
    }
  }
  if (query_has_last_id) {
    stream.resume = true;
    stream.last_event_id = std::move(query_last_id);
  }
  return stream;
}

std::string stream_head(std::string_view cors_origin, bool keep_alive) {
  ResponseBuilder head(200);
  head.header("Content-Type", "text/event-stream")
      .header("Cache-Control", "no-cache, no-transform")
      .header("Connection", keep_alive ? "keep-alive" : "close")
      .header("X-Accel-Buffering", "no");
  add_cors_headers(head, cors_origin);
  return head.finish_head();
}

std::vector<FrameRef> resume_frames(const StreamRequest& request, const ResumePlan& plan,
                                    Replay replay, bool& gap) {
  std::vector<FrameRef> frames;
  gap = plan.gap || replay.skipped_through != 0;
  if (gap) {
    // The notice's id is where the stream goes on from: after what the
    // replay bound left out, or after what the log no longer has.
    uint64_t gap_id = std::max(plan.gap_id, replay.skipped_through);
    frames.push_back(encode_event(gap_id, "gap", gap_data(request.last_event_id, plan.oldest_id)));
  }
  for (FrameRef& frame : replay.frames) frames.push_back(std::move(frame));
  return frames;
}

StreamStart start_stream(const StreamRequest& request, const ResumePlan& plan,
                         const EventLog& events, std::string_view cors_origin, int64_t retry_ms,
                         size_t max_replay_bytes) {
  StreamStart start;
  start.head = stream_head(cors_origin, true);
  start.opening = encode_stream_open(retry_ms);
  if (!request.resume) return start;
  Replay replay;
  if (plan.replay) replay = events.replay(plan.replay_after, request.topics, max_replay_bytes);
  start.frames = resume_frames(request, plan, std::move(replay), start.gap);
  return start;
}

int64_t jittered_retry(int64_t retry_ms) {
  static std::minstd_rand random(std::random_device{}());
  int64_t spread = retry_ms / 10;
  return spread > 0 ? retry_ms + static_cast<int64_t>(random() % static_cast<uint64_t>(spread + 1))
                    : retry_ms;
}

FrameRef stream_full_answer(const Config& config, std::string_view why) {
  // At least 5 s: clients of a full server should not come back at once.
  int64_t retry = jittered_retry(std::max<int64_t>(config.retry_ms, 5000));
  std::string answer = stream_head(config.cors, false) + encode_stream_open(retry);
  answer += encode_comment(why)->view();
  return FrameRef::copy_of(answer);
}

std::unique_ptr<Handler> make_stream_handler(ServerContext& context, Exchange& exchange) {
  return std::make_unique<StreamHandler>(context, exchange);
}

// The subscriber's queue is the connection's; the connection outlives its
// handler, and the handler unsubscribes in on_close() before either goes.
StreamHandler::StreamHandler(ServerContext& context, Exchange& exchange)
    : Subscriber(exchange.out_queue()), context_(context), exchange_(exchange) {}

StreamHandler::~StreamHandler() {
  if (fetching_) context_.events.cancel_resume(this);
  context_.broadcaster.unsubscribe(*this);
}

Handler::Next StreamHandler::on_head(const Request& request) {
  const Config& config = context_.config;
  StreamRequest stream = parse_stream_request(request);
  bool keep_alive = request.keep_alive;
  bool head_only = request.method == Method::kHead;
  if (stream.status != 200) {
    // With CORS headers, so a cross-origin EventSource sees the 400 itself.
    ResponseBuilder response(stream.status);
    response.header("Content-Type", "text/plain; charset=utf-8");
    add_cors_headers(response, config.cors);
    exchange_.respond(
        response.finish(error_body(stream.status, stream.error), keep_alive, head_only), {},
        keep_alive);
    return Next::kDone;
  }
  StreamAccess access =
      check_stream_access(request, stream.topics, stream.access_token, config, real_us() / 1000000);
  if (access.status != 0) {
    // Before any stream byte: 401 (no usable token) or 403 (a topic outside
    // it). An EventSource gives up for good on either, which is right here.
    ++context_.counters.streams_refused;
    ResponseBuilder response(access.status);
    response.header("Content-Type", "application/json");
    if (access.status == 401) response.header("WWW-Authenticate", "Bearer");
    add_cors_headers(response, config.cors);
    std::string body = "{\"error\":\"";
    append_json_escaped(body, access.error, TextEncoding::kLatin1);
    body += "\"}\n";
    exchange_.respond(response.finish(body, keep_alive, head_only), {}, keep_alive);
    return Next::kDone;
  }
  if (access.expires_s != 0) {
    int64_t left_ms = access.expires_s * 1000 - real_us() / 1000;
    expires_ms_ = mono_ms() + std::max<int64_t>(left_ms, 1);
  }
  if (head_only) {
    // Same head, no body, no replay; the connection stays an ordinary one.
    exchange_.respond(FrameRef::copy_of(stream_head(config.cors, keep_alive)), {}, keep_alive);
    return Next::kDone;
  }
  if (context_.broadcaster.topic_count() + context_.broadcaster.new_topics(stream.topics) >
      config.max_topics) {
    // --max-topics reached (subscribers create topics; this bounds the map
    // and every walk over it). Answered like a full server: 200, a long
    // retry:, close. A 503 would make an EventSource give up for good, and
    // topics free up as subscribers leave.
    ++context_.counters.topics_refused;
    exchange_.respond(stream_full_answer(config, "too many topics: try again later"), {}, false);
    return Next::kDone;
  }
  uint64_t resume_id = 0;
  if (stream.resume && !context_.events.resumes_locally(stream.last_event_id) &&
      parse_event_id(stream.last_event_id, resume_id)) {
    // The log must read its shared history first: answer now, replay later.
    ++context_.counters.replays;
    exchange_.begin_stream();
    out_queue().push(FrameRef::copy_of(stream_head(config.cors, true) +
                                       encode_stream_open(jittered_retry(config.retry_ms))));
    ++context_.counters.streams_opened;
    context_.broadcaster.subscribe(*this, {}, mono_ms());  // heartbeats only, meanwhile
    fetching_ = std::make_unique<StreamRequest>(std::move(stream));
    context_.events.fetch_resume(resume_id, fetching_->topics,
                                 std::min(kMaxReplayBytes, config.history_bytes), this);
    exchange_.flush();
    return Next::kDone;
  }
  ResumePlan plan;
  if (stream.resume) {
    plan = context_.events.plan_resume(stream.last_event_id);
    ++context_.counters.replays;
  }
  StreamStart start =
      start_stream(stream, plan, context_.events, config.cors, jittered_retry(config.retry_ms),
                   std::min(kMaxReplayBytes, config.history_bytes));
  exchange_.begin_stream();
  if (start.gap) ++context_.counters.gaps;
  OutQueue& out = out_queue();
  out.push(FrameRef::copy_of(start.head + start.opening));
  for (FrameRef& frame : start.frames) out.push(std::move(frame));
  count_replayed(start.frames.size() - (start.gap ? 1 : 0));
  mark_start_end();
  ++context_.counters.streams_opened;
  context_.broadcaster.subscribe(*this, stream.topics, mono_ms());
  if (tracing()) {
    trace_line("stream_handler", "fd %d: 200, now a stream: head and retry queued, %zu replayed, subscribed to %zu topic%s",
               exchange_.fd(), start.frames.size() - (start.gap ? 1 : 0), stream.topics.size(),
               stream.topics.size() == 1 ? "" : "s");
  }
  if (!log_quiet()) {
    log_line("fd %d: stream opened (%zu topics)", exchange_.fd(), stream.topics.size());
  }
  return Next::kDone;
}

void StreamHandler::mark_start_end() {
  const OutQueue& out = out_queue();
  start_end_ = out.bytes_written() + out.backlog_bytes();
  start_end_frames_ = out.frames_written() + out.frame_count();
}

void StreamHandler::on_resumed(const ResumePlan& plan, Replay replay) noexcept {
  std::unique_ptr<StreamRequest> request = std::move(fetching_);
  if (!exchange_.is_open() || !request) return;
  bool gap = false;
  OutQueue& out = out_queue();
  std::vector<FrameRef> frames = resume_frames(*request, plan, std::move(replay), gap);
  for (FrameRef& frame : frames) out.push(std::move(frame));
  count_replayed(frames.size() - (gap ? 1 : 0));
  if (gap) ++context_.counters.gaps;
  mark_start_end();
  // From heartbeats only to the stream's topics: in this pass, before the
  // broadcaster delivers, so the events after the replay all come live.
  context_.broadcaster.unsubscribe(*this);
  context_.broadcaster.subscribe(*this, request->topics, mono_ms());
  exchange_.flush();
}

void StreamHandler::on_sweep(int64_t now_ms) noexcept {
  if (expires_ms_ == 0 || now_ms < expires_ms_ || !exchange_.is_open()) return;
  // What is queued goes out first, then the comment, then a clean close
  // (FIN): the client's EventSource reconnects, and must bring a new token.
  context_.broadcaster.unsubscribe(*this);
  if (fetching_) context_.events.cancel_resume(this);
  fetching_.reset();
  expires_ms_ = 0;
  exchange_.end_stream(encode_comment("token expired"), "token expired");
}

void StreamHandler::on_close() {
  if (fetching_) context_.events.cancel_resume(this);
  fetching_.reset();
  context_.broadcaster.unsubscribe(*this);
}

size_t StreamHandler::start_unsent() const {
  const OutQueue& out = out_queue();
  uint64_t bytes = out.bytes_written();
  uint64_t frames = out.frames_written();
  size_t unsent_bytes = bytes >= start_end_ ? 0 : static_cast<size_t>(start_end_ - bytes);
  size_t unsent_frames =
      frames >= start_end_frames_ ? 0 : static_cast<size_t>(start_end_frames_ - frames);
  return unsent_bytes + unsent_frames * OutQueue::kEntryBytes;
}

void StreamHandler::flush_frames() noexcept {
  if (!exchange_.is_open()) return;
  exchange_.flush();
  // Everything went out (a subscriber that keeps up): nothing is owed, so
  // there is no backlog to judge. A failed write leaves the queue empty too
  // (closing clears it).
  if (out_queue().empty()) return;
  if (!exchange_.is_open()) return;  // the write failed: the peer is gone
  // The slow-consumer rule: only what was queued after the start counts;
  // queue entries count as well as bytes.
  if (out_queue().cost_bytes() > context_.config.max_backlog + start_unsent()) {
    ++context_.counters.slow_consumers_dropped;
    exchange_.close("slow consumer: backlog over --max-backlog");
  }
}

}  // namespace sse
