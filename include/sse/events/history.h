// history.h — the last events, kept so a reconnecting client can resume.
//
// Fed by the broadcaster after each delivery (so an event is either still
// pending, and will reach a new subscriber live, or already here, never
// both); read through the event log (local_event_log.h) when a stream opens
// with a Last-Event-ID. Events are kept as their serialized Frames, shared
// with the subscribers' queues, so replay copies nothing. Ids are strictly
// increasing, so lookups are a binary search; they need not be
// consecutive: complete_after() says from which id on nothing is missing.
//
// Bounded twice: at most `max_events` events (--history) and at most
// `max_bytes` bytes of encoded frames (--history-bytes); the oldest go
// first. The count alone would not do: a 1 MiB body of line breaks encodes
// to 3.5 MiB of "data:" lines, so 1024 of them would be gigabytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "sse/loop/frame.h"

namespace sse {

class History {
 public:
  // `complete_after`: the id after which every event will pass through
  // add() (the event log's first id minus one).
  History(size_t max_events, uint64_t complete_after,
          size_t max_bytes = std::numeric_limits<size_t>::max());

  void add(uint64_t id, std::string_view topic, FrameRef frame);
  // Events up to `id` were lost before they reached us (a shared log told
  // us so): a replay from before it is no longer complete.
  void mark_lost_through(uint64_t id) {
    if (id > complete_after_) complete_after_ = id;
  }

  size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }
  size_t bytes() const { return bytes_; }  // of the retained frames
  uint64_t oldest_id() const;              // 0 when empty
  uint64_t newest_id() const;              // 0 when empty
  // Every event with an id above this one is retained (or not yet added):
  // the newest id that was dropped (by either bound, or at once by
  // --history 0), or the `complete_after` given at construction. A replay
  // after an id at or above it misses nothing.
  uint64_t complete_after() const { return complete_after_; }

  struct Replay {
    std::vector<FrameRef> frames;  // oldest first
    // When `max_bytes` left older matching events out: the newest of those
    // (the stream goes on from there), else 0.
    uint64_t skipped_through = 0;
  };
  // The retained events with id > after_id whose topic is in `topics`: the
  // newest of them whose frames fit in `max_bytes`.
  Replay replay(uint64_t after_id, const std::vector<std::string>& topics,
                size_t max_bytes = std::numeric_limits<size_t>::max()) const;
  // All of them, frames only.
  std::vector<FrameRef> after(uint64_t after_id, const std::vector<std::string>& topics) const {
    return replay(after_id, topics).frames;
  }

 private:
  struct Entry {
    uint64_t id = 0;
    std::string topic;
    FrameRef frame;
  };
  void drop_oldest();

  std::deque<Entry> events_;  // oldest first; grows only as events arrive
  size_t max_events_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t complete_after_;
};

}  // namespace sse
