// stream_handler.h — GET /sse: a connection becomes a subscriber.
//
// StreamHandler is the Handler (handler.h) for GET and HEAD /sse. Its
// on_head() reads what the request asks for with parse_stream_request():
// the topics (?topic=, at most 32, each 1-64 of A-Z a-z 0-9 _ . : -,
// default "main") and the resume point (Last-Event-ID header, else
// ?lastEventId=). The event log (event_log.h) decides whether the retained
// events after that id are a complete catch-up or the client must be told
// of a gap; start_stream() assembles the first bytes: response head, retry
// hint, comment, gap notice and replayed frames. The handler queues them on
// the connection's output queue, then subscribes to the broadcaster:
// single-threaded, so no event can slip in between the two.
//
// With a shared log whose memory tail does not reach back to the client's
// id, the replay is read from Redis first (EventLog::fetch_resume): the
// head goes out at once, and the handler subscribes when the replay is
// queued (on_resumed), so again nothing slips in between.
//
// From then on the handler *is* the subscriber: the broadcaster queues
// frames on the connection's queue and calls flush_frames(), which writes
// them and applies the slow-consumer rule (SPEC "Slow consumers and
// limits"): a stream whose unsent backlog passes --max-backlog is closed,
// so it can never make the others wait or hold unbounded memory. The
// stream's start (head, gap notice, replay) does not count: it is the
// history's own shared frames, so a client resuming after a long absence
// is not a slow consumer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/events/event_log.h"
#include "sse/events/topic.h"
#include "sse/http/http_parser.h"
#include "sse/loop/frame.h"
#include "sse/server/config.h"
#include "sse/server/handler.h"
#include "sse/server/server_context.h"

namespace sse {

inline constexpr size_t kMaxTopicsPerStream = 32;

struct StreamRequest {
  int status = 200;  // 400 when a topic is invalid
  std::string error;
  std::vector<std::string> topics;
  bool resume = false;
  std::string last_event_id;  // as sent, when `resume`
  std::string access_token;   // ?access_token=, decoded (topic_access.h)
};

StreamRequest parse_stream_request(const Request& request);

// The response head of a stream (also the answer to HEAD /sse, which is
// the only case where `keep_alive` may be false: a stream itself ends only
// when the connection does).
std::string stream_head(std::string_view cors_origin, bool keep_alive);

// Everything a stream's client receives before live events, in order.
struct StreamStart {
  std::string head;              // the HTTP response head
  std::string opening;           // retry hint and opening comment
  std::vector<FrameRef> frames;  // gap notice and replayed events
  bool gap = false;              // frames begin with a gap notice
};

// `max_replay_bytes` bounds the replay (kMaxReplayBytes in the server):
// beyond it the oldest events are left out and a gap notice comes first.
StreamStart start_stream(const StreamRequest& request, const ResumePlan& plan,
                         const EventLog& events, std::string_view cors_origin, int64_t retry_ms,
                         size_t max_replay_bytes = kMaxReplayBytes);

// The frames of a resume: a gap notice when the plan or the replay's bound
// says so, then the replayed events. Sets `gap` accordingly.
std::vector<FrameRef> resume_frames(const StreamRequest& request, const ResumePlan& plan,
                                    Replay replay, bool& gap);

// The whole answer to GET /sse when the server is full: the stream head, a
// retry: of several seconds (jittered), a comment saying why; the
// connection closes after it and the browser comes back by itself.
FrameRef stream_full_answer(const Config& config,
                            std::string_view why = "server full: try again later");

// Up to 10% more than `retry_ms`, so that the clients of a restarted
// server do not all come back in the same millisecond.
int64_t jittered_retry(int64_t retry_ms);

class StreamHandler final : public Handler, public Subscriber, private ResumeDone {
 public:
  StreamHandler(ServerContext& context, Exchange& exchange);
  ~StreamHandler() override;

  Next on_head(const Request& request) override;
  void on_close() override;
  void flush_frames() noexcept override;
  // Ends the stream (a final comment, then a clean close) once the token
  // that let it read a private topic has expired.
  void on_sweep(int64_t now_ms) noexcept override;
  // Replayed and live events queued to it (the access log's "events=").
  uint64_t events_sent() const override { return events_queued(); }

 private:
  // A resume the event log answers later (a shared log reading Redis):
  // the head and retry hint go out at once, the stream gets heartbeats
  // (it is subscribed to no topic meanwhile), and on_resumed() queues the
  // gap notice and replay, then subscribes to the topics.
  void on_resumed(const ResumePlan& plan, Replay replay) noexcept override;
  // Marks where the stream's start ends in the queue (see start_unsent).
  void mark_start_end();

  // What is still unsent of the stream's start, in the queue's cost terms
  // (bytes plus entries; the queue is FIFO: the start goes first).
  size_t start_unsent() const;

  ServerContext& context_;
  Exchange& exchange_;
  // The queue's bytes_written() once the whole start will have been sent.
  uint64_t start_end_ = 0;
  uint64_t start_end_frames_ = 0;  // and its frames_written()
  int64_t expires_ms_ = 0;  // CLOCK_MONOTONIC ms when its token expires; 0: never
  // The request, kept only while waiting for on_resumed() (on the heap: a
  // stream that is not waiting pays 8 bytes for it, not a whole request).
  std::unique_ptr<StreamRequest> fetching_;
};

std::unique_ptr<Handler> make_stream_handler(ServerContext& context, Exchange& exchange);

}  // namespace sse
