// local_event_log.h — the event log of one process: a counter and a ring.
//
// The server's EventLog when there is no shared log. append() numbers the
// events from this process's counter, enqueues them on the broadcaster and
// answers at once; the broadcaster adds each event to the History after
// delivering it (broadcaster.h says why that order matters). Ids start at
// the wall clock in microseconds at start-up, so a restarted server's ids
// are higher than its predecessor's and a client's Last-Event-ID from
// before the restart is recognised as "older than anything here": a gap.
#pragma once

#include <deque>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/events/event_log.h"
#include "sse/events/history.h"

namespace sse {

class LocalEventLog final : public EventLog {
 public:
  // Keeps the last `history_capacity` events, at most `history_bytes` of
  // them; the first id is `first_id`.
  LocalEventLog(Broadcaster& broadcaster, size_t history_capacity, uint64_t first_id,
                size_t history_bytes = std::numeric_limits<size_t>::max());
  ~LocalEventLog() override;
  LocalEventLog(const LocalEventLog&) = delete;
  LocalEventLog& operator=(const LocalEventLog&) = delete;

  void append(const std::vector<NewEvent>& events, std::string_view idempotency_key,
              AppendDone* done) override;
  void cancel(AppendDone*) override {}  // append answers before it returns

  ResumePlan plan_resume(std::string_view last_event_id) const override;
  Replay replay(uint64_t after_id, const std::vector<std::string>& topics,
                size_t max_bytes) const override;

  size_t retained() const override { return history_.size(); }
  uint64_t last_id() const override { return next_id_ - 1; }

  size_t idempotency_keys() const { return keys_.size(); }  // for tests

 private:
  // Drops the keys older than the window, and the oldest beyond the bound.
  void forget_old_keys(int64_t now_ms);

  Broadcaster& broadcaster_;
  History history_;
  uint64_t next_id_;

  // Idempotency keys of the last 10 minutes and the ids they were given,
  // oldest first in key_order_. Bounded by kMaxRememberedIds ids in all,
  // so a flood of keys costs a fixed amount of memory: the oldest keys are
  // then forgotten early (a retry of those would publish again).
  struct Remembered {
    std::vector<uint64_t> ids;
    int64_t expires_ms;
  };
  std::unordered_map<std::string, Remembered> keys_;
  std::deque<std::string> key_order_;
  size_t remembered_ids_ = 0;
};

}  // namespace sse
