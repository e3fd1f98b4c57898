// history.cpp — see history.h.
#include "sse/events/history.h"

#include <algorithm>

namespace sse {

History::History(size_t max_events, uint64_t complete_after, size_t max_bytes)
    : max_events_(max_events), max_bytes_(max_bytes), complete_after_(complete_after) {}

void History::drop_oldest() {
  complete_after_ = events_.front().id;
  bytes_ -= events_.front().frame->size();
  events_.pop_front();
}

void History::add(uint64_t id, std::string_view topic, FrameRef frame) {
  size_t size = frame->size();
  if (max_events_ == 0 || size > max_bytes_) {
    // --history 0, or one event bigger than the whole budget: it is not
    // kept, so only a client that saw it misses nothing.
    complete_after_ = id;
    return;
  }
  while (!events_.empty() && (events_.size() >= max_events_ || bytes_ + size > max_bytes_)) {
    drop_oldest();
  }
  events_.push_back(Entry{id, std::string(topic), std::move(frame)});
  bytes_ += size;
}

uint64_t History::oldest_id() const {
  return empty() ? 0 : events_.front().id;
}
uint64_t History::newest_id() const {
  return empty() ? 0 : events_.back().id;
}

History::Replay History::replay(uint64_t after_id, const std::vector<std::string>& topics,
                                size_t max_bytes) const {
  // Binary search for the first id > after_id.
  auto first = std::partition_point(events_.begin(), events_.end(),
                                    [&](const Entry& entry) { return entry.id <= after_id; });
  // Newest first, so that a bound keeps the most recent events; reversed
  // at the end.
  Replay replay;
  size_t bytes = 0;
  for (auto it = events_.end(); it != first;) {
    --it;
    if (std::find(topics.begin(), topics.end(), it->topic) == topics.end()) continue;
    if (bytes + it->frame->size() > max_bytes) {
      replay.skipped_through = it->id;
      break;
    }
    bytes += it->frame->size();
    replay.frames.push_back(it->frame);
  }
  std::reverse(replay.frames.begin(), replay.frames.end());
  return replay;
}

}  // namespace sse
