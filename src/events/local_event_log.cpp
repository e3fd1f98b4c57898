// local_event_log.cpp — see local_event_log.h.
#include "sse/events/local_event_log.h"

#include "sse/base/clock.h"
#include "sse/base/trace.h"

namespace sse {

LocalEventLog::LocalEventLog(Broadcaster& broadcaster, size_t history_capacity, uint64_t first_id,
                             size_t history_bytes)
    : broadcaster_(broadcaster),
      history_(history_capacity, first_id - 1, history_bytes),
      next_id_(first_id) {
  broadcaster_.attach_history(&history_);
}

LocalEventLog::~LocalEventLog() {
  broadcaster_.attach_history(nullptr);
}

namespace {
constexpr size_t kMaxRememberedIds = 1 << 20;  // ~8 MiB of ids, plus the keys
}  // namespace

void LocalEventLog::forget_old_keys(int64_t now_ms) {
  while (!key_order_.empty()) {
    auto it = keys_.find(key_order_.front());
    bool expired = it == keys_.end() || it->second.expires_ms <= now_ms;
    if (!expired && remembered_ids_ <= kMaxRememberedIds) break;
    if (it != keys_.end()) {
      remembered_ids_ -= it->second.ids.size();
      keys_.erase(it);
    }
    key_order_.pop_front();
  }
}

void LocalEventLog::append(const std::vector<NewEvent>& events, std::string_view idempotency_key,
                           AppendDone* done) {
  int64_t now_ms = mono_ms();
  if (!idempotency_key.empty()) {
    forget_old_keys(now_ms);
    auto it = keys_.find(std::string(idempotency_key));
    if (it != keys_.end()) {
      AppendResult again;
      again.ids = it->second.ids;
      if (done != nullptr) done->on_appended(again);
      return;
    }
  }
  AppendResult result;
  result.ids.reserve(events.size());
  for (const NewEvent& event : events) {
    uint64_t id = next_id_++;
    if (tracing()) {
      trace_line("local_event_log", "id %llu for an event on %.*s: queued for this pass's fan-out",
                 static_cast<unsigned long long>(id), static_cast<int>(event.topic.size()),
                 event.topic.data());
    }
    broadcaster_.enqueue(id, event.topic, event.event, event.data);
    result.ids.push_back(id);
  }
  if (!idempotency_key.empty()) {
    std::string key(idempotency_key);
    remembered_ids_ += result.ids.size();
    keys_[key] = Remembered{result.ids, now_ms + kIdempotencyWindowMs};
    key_order_.push_back(std::move(key));
    forget_old_keys(now_ms);
  }
  if (done != nullptr) done->on_appended(result);
}

ResumePlan LocalEventLog::plan_resume(std::string_view last_event_id) const {
  return plan_resume_from(history_, last_id(), last_event_id);
}

Replay LocalEventLog::replay(uint64_t after_id, const std::vector<std::string>& topics,
                             size_t max_bytes) const {
  return history_.replay(after_id, topics, max_bytes);
}

}  // namespace sse
