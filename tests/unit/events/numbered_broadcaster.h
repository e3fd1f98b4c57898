// numbered_broadcaster.h — a Broadcaster that numbers its own events, for
// tests of the fan-out and of /stats without an event log.
//
// The broadcaster takes ids from the event log; these tests number events
// themselves, the way LocalEventLog does: consecutive from `first_id`.
#pragma once

#include <cstdint>
#include <string_view>

#include "sse/events/broadcaster.h"

namespace test {

class NumberedBroadcaster : public sse::Broadcaster {
 public:
  explicit NumberedBroadcaster(uint64_t first_id) : next_id_(first_id) {}
  uint64_t publish(std::string_view topic, std::string_view event, std::string_view data) {
    enqueue(next_id_, topic, event, data);
    return next_id_++;
  }
  uint64_t last_id() const { return next_id_ - 1; }

 private:
  uint64_t next_id_;
};

}  // namespace test
