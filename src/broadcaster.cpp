// broadcaster.cpp — see broadcaster.h.
#include "sse/broadcaster.h"

#include "sse/clock.h"
#include "sse/history.h"
#include "sse/sse_frame.h"

namespace sse {

Broadcaster::Broadcaster(uint64_t first_id)
    : next_id_(first_id), heartbeat_(encode_comment("")) {}

uint64_t Broadcaster::publish(std::string_view topic_name, std::string_view event,
                              std::string_view data) {
  uint64_t id = next_id_++;
  auto [it, inserted] = topics_.try_emplace(std::string(topic_name));
  Topic& topic = it->second;
  if (inserted) topic.name = it->first;
  ++topic.pending_events;
  pending_.push_back(PendingEvent{id, &topic, encode_event(id, event, data), mono_ns()});
  ++counters_.events_published;
  return id;
}

void Broadcaster::subscribe(Subscriber& subscriber, const std::vector<std::string>& topics,
                            int64_t now_ms) {
  subscriber.all_index_ = all_.size();
  all_.push_back(&subscriber);
  subscriber.last_sent_ms_ = now_ms;
  for (const std::string& name : topics) {
    auto [it, inserted] = topics_.try_emplace(name);
    Topic& topic = it->second;
    if (inserted) topic.name = name;
    subscriber.memberships_.push_back(Subscriber::Membership{&topic, topic.subscribers.size()});
    topic.subscribers.push_back(&subscriber);
  }
}

void Broadcaster::unsubscribe(Subscriber& subscriber) {
  if (subscriber.memberships_.empty()) return;
  for (const Subscriber::Membership& membership : subscriber.memberships_) {
    Topic& topic = *membership.topic;
    // Swap-remove, and tell the moved subscriber its new index.
    Subscriber* moved = topic.subscribers.back();
    topic.subscribers[membership.index] = moved;
    topic.subscribers.pop_back();
    if (moved != &subscriber) {
      for (Subscriber::Membership& other : moved->memberships_) {
        if (other.topic == &topic) other.index = membership.index;
      }
    }
    // A topic with nobody listening and nothing pending is forgotten, so
    // clients inventing topic names cannot grow the map without bound.
    forget_if_unused(topic);
  }
  subscriber.memberships_.clear();
  subscriber.memberships_.shrink_to_fit();

  Subscriber* moved = all_.back();
  all_[subscriber.all_index_] = moved;
  moved->all_index_ = subscriber.all_index_;
  all_.pop_back();
}

void Broadcaster::forget_if_unused(Topic& topic) {
  // Erase by iterator: erasing by `topic.name` would pass a reference into
  // the very node being freed.
  if (topic.subscribers.empty() && topic.pending_events == 0) {
    topics_.erase(topics_.find(topic.name));
  }
}

void Broadcaster::schedule_flush(Subscriber& subscriber) {
  if (subscriber.flush_pending_) return;
  subscriber.flush_pending_ = true;
  to_flush_.push_back(&subscriber);
}

void Broadcaster::flush_scheduled() {
  // flush_frames() may unsubscribe (a slow consumer is dropped), which
  // changes the topic vectors but not this list, and destroys nobody.
  for (Subscriber* subscriber : to_flush_) {
    subscriber->flush_pending_ = false;
    subscriber->flush_frames();
  }
  to_flush_.clear();
}

void Broadcaster::deliver_pending(int64_t now_ms) {
  if (pending_.empty()) return;
  for (const PendingEvent& event : pending_) {
    for (Subscriber* subscriber : event.topic->subscribers) {
      subscriber->out_.push(event.frame);
      subscriber->last_sent_ms_ = now_ms;
      schedule_flush(*subscriber);
    }
    counters_.frames_sent += event.topic->subscribers.size();
  }
  flush_scheduled();

  int64_t done_ns = mono_ns();
  for (PendingEvent& event : pending_) {
    counters_.fanout_us.record((done_ns - event.published_ns) / 1000);
    --event.topic->pending_events;
    if (history_ != nullptr) history_->add(event.id, event.topic->name, std::move(event.frame));
    // A topic that had events but nobody listening is dropped now.
    forget_if_unused(*event.topic);
  }
  pending_.clear();
}

void Broadcaster::send_heartbeats(int64_t now_ms, int64_t idle_ms) {
  for (Subscriber* subscriber : all_) {
    if (now_ms - subscriber->last_sent_ms_ < idle_ms) continue;
    subscriber->out_.push(heartbeat_);
    subscriber->last_sent_ms_ = now_ms;
    ++counters_.heartbeats_sent;
    schedule_flush(*subscriber);
  }
  flush_scheduled();
}

size_t Broadcaster::topic_subscribers(std::string_view name) const {
  auto it = topics_.find(std::string(name));
  return it == topics_.end() ? 0 : it->second.subscribers.size();
}

}  // namespace sse
