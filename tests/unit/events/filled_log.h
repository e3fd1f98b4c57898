// filled_log.h — a LocalEventLog filled the way the server fills it, for
// the resume tests (test_local_event_log.cpp, test_stream_handler.cpp).
//
// Events go through the real path: append() numbers them, the broadcaster
// delivers them (to nobody) and hands them to the history. Each event's
// data is its own id, so a replay is easy to check.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/events/local_event_log.h"

namespace test {

class FilledLog {
 public:
  // `count` events on `topic`, ids first_id .. first_id + count - 1.
  FilledLog(size_t capacity, uint64_t first_id, size_t count, const std::string& topic = "main")
      : log_(broadcaster_, capacity, first_id), next_id_(first_id) {
    for (size_t i = 0; i < count; ++i) add(topic);
  }

  // One more event on `topic`, delivered (so it is in the history).
  void add(const std::string& topic) {
    log_.append({sse::NewEvent{topic, "", std::to_string(next_id_++)}}, "", nullptr);
    broadcaster_.deliver_pending(0);
  }

  sse::ResumePlan plan_resume(std::string_view last_event_id) const {
    return log_.plan_resume(last_event_id);
  }
  std::vector<sse::FrameRef> after(uint64_t id, const std::vector<std::string>& topics) const {
    return log_.replay(id, topics, sse::kMaxReplayBytes).frames;
  }
  const sse::LocalEventLog& log() const { return log_; }

 private:
  sse::Broadcaster broadcaster_;
  sse::LocalEventLog log_;
  uint64_t next_id_;
};

}  // namespace test
