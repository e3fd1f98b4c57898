// local_event_log.cpp — see local_event_log.h.
#include "sse/events/local_event_log.h"

namespace sse {

LocalEventLog::LocalEventLog(Broadcaster& broadcaster, size_t history_capacity,
                             uint64_t first_id)
    : broadcaster_(broadcaster), history_(history_capacity, first_id - 1), next_id_(first_id) {
  broadcaster_.attach_history(&history_);
}

LocalEventLog::~LocalEventLog() { broadcaster_.attach_history(nullptr); }

void LocalEventLog::append(const std::vector<NewEvent>& events, AppendDone* done) {
  AppendResult result;
  result.ids.reserve(events.size());
  for (const NewEvent& event : events) {
    uint64_t id = next_id_++;
    broadcaster_.enqueue(id, event.topic, event.event, event.data);
    result.ids.push_back(id);
  }
  if (done != nullptr) done->on_appended(result);
}

ResumePlan LocalEventLog::plan_resume(std::string_view last_event_id) const {
  ResumePlan plan;
  plan.oldest_id = history_.empty() ? last_id() + 1 : history_.oldest_id();
  uint64_t id = 0;
  if (!parse_event_id(last_event_id, id) || id > last_id()) {
    plan.gap = true;  // not an id we could have sent, or one from the future
    return plan;
  }
  plan.replay = true;
  plan.replay_after = id;
  // Complete exactly when nothing after `id` has left the history; events
  // not yet delivered are still pending and reach the new stream live.
  plan.gap = id < history_.complete_after();
  return plan;
}

std::vector<FrameRef> LocalEventLog::replay(uint64_t after_id,
                                            const std::vector<std::string>& topics) const {
  return history_.after(after_id, topics);
}

}  // namespace sse
