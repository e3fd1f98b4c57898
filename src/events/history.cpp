// history.cpp — see history.h.
#include "sse/events/history.h"

#include <algorithm>

namespace sse {

History::History(size_t capacity, uint64_t complete_after)
    : ring_(capacity), complete_after_(complete_after) {}

void History::add(uint64_t id, std::string_view topic, FrameRef frame) {
  if (ring_.empty()) {  // --history 0: only a client that saw the last event misses nothing
    complete_after_ = id;
    return;
  }
  Entry* slot;
  if (size_ < ring_.size()) {
    slot = &ring_[(start_ + size_) % ring_.size()];
    ++size_;
  } else {
    slot = &ring_[start_];  // overwrite the oldest
    complete_after_ = slot->id;
    start_ = (start_ + 1) % ring_.size();
  }
  slot->id = id;
  slot->topic.assign(topic.data(), topic.size());
  slot->frame = std::move(frame);
}

uint64_t History::oldest_id() const { return empty() ? 0 : at(0).id; }
uint64_t History::newest_id() const { return empty() ? 0 : at(size_ - 1).id; }

std::vector<FrameRef> History::after(uint64_t after_id,
                                     const std::vector<std::string>& topics) const {
  // Binary search over ring positions for the first id > after_id.
  size_t low = 0, high = size_;
  while (low < high) {
    size_t mid = (low + high) / 2;
    if (at(mid).id <= after_id) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  std::vector<FrameRef> frames;
  for (size_t i = low; i < size_; ++i) {
    const Entry& entry = at(i);
    if (std::find(topics.begin(), topics.end(), entry.topic) != topics.end()) {
      frames.push_back(entry.frame);
    }
  }
  return frames;
}

}  // namespace sse
