// history.h — the last N events, kept so a reconnecting client can resume.
//
// Fed by the broadcaster after each delivery (so an event is either still
// pending, and will reach a new subscriber live, or already here, never
// both); read through the event log (local_event_log.h) when a stream opens
// with a Last-Event-ID. Events are kept as their serialized Frames, shared
// with the subscribers' queues, so replay copies nothing. Ids are strictly
// increasing around the ring, so lookups are a binary search; they need not
// be consecutive: complete_after() says from which id on nothing is missing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sse/loop/frame.h"

namespace sse {

class History {
 public:
  // `complete_after`: the id after which every event will pass through
  // add() (the event log's first id minus one).
  History(size_t capacity, uint64_t complete_after);

  void add(uint64_t id, std::string_view topic, FrameRef frame);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint64_t oldest_id() const;  // 0 when empty
  uint64_t newest_id() const;  // 0 when empty
  // Every event with an id above this one is retained (or not yet added):
  // the newest id that was overwritten, or dropped at once by --history 0,
  // or the `complete_after` given at construction. A replay after an id at
  // or above it misses nothing.
  uint64_t complete_after() const { return complete_after_; }

  // Frames of the retained events with id > after_id whose topic is in
  // `topics`, oldest first.
  std::vector<FrameRef> after(uint64_t after_id, const std::vector<std::string>& topics) const;

 private:
  struct Entry {
    uint64_t id = 0;
    std::string topic;
    FrameRef frame;
  };
  const Entry& at(size_t i) const { return ring_[(start_ + i) % ring_.size()]; }

  std::vector<Entry> ring_;  // capacity slots; the oldest at start_
  size_t start_ = 0;
  size_t size_ = 0;
  uint64_t complete_after_;
};

}  // namespace sse
