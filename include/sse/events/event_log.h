// event_log.h — where events get their ids and are kept.
//
// The seam between "someone published" and "this process fans it out".
// The publish handler hands a validated batch to append(); the event log
// gives each event its id, keeps it for resume and passes it to the
// broadcaster (broadcaster.h), which delivers it to this process's
// subscribers at the end of the loop pass. When a stream opens with a
// Last-Event-ID, the stream handler asks plan_resume() whether a replay is
// complete and replay() for the frames.
//
// Two implementations: LocalEventLog (local_event_log.h): ids from this
// process's counter, history in memory, append answered at once; and
// RedisEventLog (redis/redis_event_log.h, --redis), which answers append in
// a later loop pass, learns of other processes' events on its own, and may
// have to read a resume from Redis (fetch_resume). Both sides of this
// interface are written for either:
//   - append() may call `done` before it returns or in any later pass;
//   - ids increase but need not be consecutive: gaps are decided by the log
//     (History::complete_after), never by arithmetic on ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sse/events/history.h"
#include "sse/loop/frame.h"

namespace sse {

// One event as a publisher sent it: not yet given an id.
struct NewEvent {
  std::string topic;
  std::string event;  // may be empty: the browser's default "message"
  std::string data;   // text as sent, or compact JSON
};

struct AppendResult {
  bool ok = true;
  std::vector<uint64_t> ids;  // when ok: one per event, in order
  // When not ok: why (for the 503 body) and when to try again.
  std::string error;
  int retry_after_s = 1;
};

// The publisher's side of an append (the publish handler, for one request).
class AppendDone {
 public:
  virtual void on_appended(const AppendResult& result) noexcept = 0;

 protected:
  ~AppendDone() = default;
};

// What a stream that resumes from `last_event_id` is sent before live events.
struct ResumePlan {
  bool gap = false;  // send "event: gap" first: something was missed
  // The gap notice's own id: where the stream goes on from, so that a
  // browser reconnecting after the notice (Last-Event-ID: gap_id) is not
  // told of the same gap again. The newest id no longer retained when the
  // client is too far behind; the newest id assigned when its id is
  // unknown or from the future (live events only follow).
  uint64_t gap_id = 0;
  bool replay = false;  // replay retained events with id > replay_after
  uint64_t replay_after = 0;
  uint64_t oldest_id = 0;  // for the gap notice: the oldest id still available
};

// What a replay sends: the frames, and whether its bound left some out.
using Replay = History::Replay;

// A stream waiting for a resume the log could not plan from memory
// (EventLog::fetch_resume): hears the plan and the frames to replay.
class ResumeDone {
 public:
  virtual void on_resumed(const ResumePlan& plan, Replay replay) noexcept = 0;

 protected:
  ~ResumeDone() = default;
};

// A replay is at most this many bytes of frames (or --history-bytes, if
// smaller): beyond it the oldest events are left out and the stream starts
// with a gap notice instead. It bounds what one resuming client can make us
// queue, and how much old history a client that never reads can pin.
inline constexpr size_t kMaxReplayBytes = 16u << 20;

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Gives every event an id (increasing, in the batch's order), keeps it
  // and queues it on the broadcaster. `done` (null: nobody is waiting, as
  // for the ticker) hears the outcome, possibly before this returns.
  // A non-empty `idempotency_key` seen in the last kIdempotencyWindowMs
  // answers that append's ids again and appends nothing (SPEC
  // "Idempotency-Key": a client that lost the answer may retry safely).
  virtual void append(const std::vector<NewEvent>& events, std::string_view idempotency_key,
                      AppendDone* done) = 0;
  // `done` is going away: it must not be called any more.
  virtual void cancel(AppendDone* done) = 0;

  // Whether the events after `last_event_id` (as the client sent it) can
  // be replayed completely, and from where.
  virtual ResumePlan plan_resume(std::string_view last_event_id) const = 0;
  // The retained frames with id > after_id on one of `topics`, oldest first,
  // at most `max_bytes` of them (the newest that fit).
  virtual Replay replay(uint64_t after_id, const std::vector<std::string>& topics,
                        size_t max_bytes) const = 0;

  // A shared log keeps only the recent tail in memory. When the tail does
  // not reach back to `last_event_id` (or the id is newer than anything
  // seen here), resumes_locally() is false, and the stream asks
  // fetch_resume() instead, which answers through `done` in a later loop
  // pass with the plan and the frames (at most `max_bytes`), the events
  // delivered here meanwhile included: the stream subscribes in on_resumed()
  // and from then on gets live events. cancel_resume(): `done` is going away.
  virtual bool resumes_locally(std::string_view last_event_id) const {
    (void)last_event_id;
    return true;
  }
  virtual void fetch_resume(uint64_t after_id, const std::vector<std::string>& topics,
                            size_t max_bytes, ResumeDone* done) {
    (void)after_id, (void)topics, (void)max_bytes, (void)done;
  }
  virtual void cancel_resume(ResumeDone* done) { (void)done; }

  virtual size_t retained() const = 0;   // events kept for replay (/stats)
  virtual uint64_t last_id() const = 0;  // the newest id assigned (/stats)
};

inline constexpr int64_t kIdempotencyWindowMs = 10 * 60 * 1000;

// Reads an event id as a client sends it back (decimal, nothing else).
bool parse_event_id(std::string_view text, uint64_t& id);

// The resume plan from a history that holds every event this process
// delivered after history.complete_after(), `last_id` the newest id handed
// to the broadcaster: how both logs plan a resume from memory.
ResumePlan plan_resume_from(const History& history, uint64_t last_id,
                            std::string_view last_event_id);

}  // namespace sse
