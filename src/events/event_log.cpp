// event_log.cpp — see event_log.h: what every event log shares.
#include "sse/events/event_log.h"

#include <charconv>

namespace sse {

bool parse_event_id(std::string_view text, uint64_t& id) {
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, id);
  return !text.empty() && ec == std::errc() && stop == end;
}

ResumePlan plan_resume_from(const History& history, uint64_t last_id,
                            std::string_view last_event_id) {
  ResumePlan plan;
  plan.oldest_id = history.empty() ? last_id + 1 : history.oldest_id();
  uint64_t id = 0;
  if (!parse_event_id(last_event_id, id) || id > last_id) {
    plan.gap = true;  // not an id we could have sent, or one from the future
    plan.gap_id = last_id;
    return plan;
  }
  plan.replay = true;
  plan.replay_after = id;
  // Complete exactly when nothing after `id` has left the history; events
  // not yet delivered are still pending and reach the new stream live.
  plan.gap = id < history.complete_after();
  plan.gap_id = history.complete_after();
  return plan;
}

}  // namespace sse
