// broadcaster.cpp — see broadcaster.h.
#include "sse/events/broadcaster.h"

#include <algorithm>
#include <cstring>

#include "sse/base/clock.h"
#include "sse/base/trace.h"
#include "sse/events/history.h"
#include "sse/events/sse_frame.h"

namespace sse {

namespace {
// A flush slice lasts about this long: long enough that the clock and the
// extra epoll_wait between slices cost nothing measurable (a slice writes
// a few hundred subscribers), short enough that a request arriving during
// a fan-out waits milliseconds, not the whole fan-out.
constexpr int64_t kSliceNs = 2'000'000;
// The clock is read once per this many flushes, not per flush.
constexpr size_t kClockEvery = 32;
}  // namespace

Broadcaster::Broadcaster() : heartbeat_(encode_comment("")) {}

void Broadcaster::enqueue(uint64_t id, std::string_view topic_name, std::string_view event,
                          std::string_view data) {
  auto [it, inserted] = topics_.try_emplace(std::string(topic_name));
  Topic& topic = it->second;
  if (inserted) topic.name = it->first;
  if (topic.pending_events++ == 0) pass_topics_.push_back(&topic);
  FrameRef frame = encode_event(id, event, data);
  topic.pending_bytes += frame->size();
  pending_.push_back(PendingEvent{id, &topic, std::move(frame), mono_ns()});
  ++counters_.events_published;
}

void Broadcaster::subscribe(Subscriber& subscriber, const std::vector<std::string>& topics,
                            int64_t now_ms) {
  subscriber.subscribed_ = true;
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
  // A subscriber with no topics is still in all_ (it gets heartbeats), so
  // "subscribed" is its own flag, not "has memberships".
  if (!subscriber.subscribed_) return;
  subscriber.subscribed_ = false;
  if (subscriber.flush_pending_) {
    // Struck off the flush list: it may be destroyed before the fan-out
    // gets to its place.
    to_flush_[subscriber.flush_index_] = nullptr;
    subscriber.flush_pending_ = false;
  }
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
  subscriber.flush_index_ = to_flush_.size();
  to_flush_.push_back(&subscriber);
}

bool Broadcaster::flush_slice() {
  last_slice_written_ = 0;
  if (!flushing()) return false;
  ++counters_.flush_slices;
  int64_t end_ns = mono_ns() + kSliceNs;
  size_t written = 0;
  while (flush_cursor_ < to_flush_.size()) {
    Subscriber* subscriber = to_flush_[flush_cursor_++];
    if (subscriber == nullptr) continue;  // left meanwhile
    // Off the list first: flush_frames() may unsubscribe it (a slow
    // consumer), and new frames queued later put it back at the end.
    subscriber->flush_pending_ = false;
    subscriber->flush_frames();
    ++written;
    if (slice_limit_ != 0 && written >= slice_limit_) break;
    if (written % kClockEvery == 0 && mono_ns() >= end_ns) break;
  }
  last_slice_written_ = written;
  if (tracing()) {
    trace_line("broadcaster", "fan-out slice: %zu subscriber%s written%s", written,
               written == 1 ? "" : "s", flushing() ? ", the rest after the loop looks around" : ", done");
  }
  if (flushing()) return true;
  finish_round();
  return false;
}

void Broadcaster::finish_round() {
  // Everyone owed a write got it: the events of this round are delivered.
  to_flush_.clear();
  flush_cursor_ = 0;
  int64_t done_ns = mono_ns();
  for (int64_t published_ns : in_flight_ns_) {
    counters_.fanout_us.record((done_ns - published_ns) / 1000);
  }
  in_flight_ns_.clear();
}

void Broadcaster::build_pass_frames() {
  for (Topic* topic : pass_topics_) {
    if (topic->pending_events > 1) topic->pass_frame = FrameRef::allocate(topic->pending_bytes);
  }
  // One walk in id order fills every topic's frame; pending_bytes counts
  // down to tell where the next event goes.
  for (const PendingEvent& event : pending_) {
    Topic& topic = *event.topic;
    if (topic.pending_events == 1) {
      topic.pass_frame = event.frame;  // nothing to join
      continue;
    }
    size_t offset = topic.pass_frame->size() - topic.pending_bytes;
    std::memcpy(topic.pass_frame.writable() + offset, event.frame->data(), event.frame->size());
    topic.pending_bytes -= event.frame->size();
  }
}

void Broadcaster::queue_in_id_order(Subscriber& subscriber) {
  // Most multi-topic subscribers got events from one of their topics only:
  // then that topic's pass frame is already in id order.
  Topic* only = nullptr;
  size_t topics_with_events = 0;
  for (const Subscriber::Membership& membership : subscriber.memberships_) {
    if (membership.topic->pending_events > 0) {
      only = membership.topic;
      ++topics_with_events;
      subscriber.events_queued_ += membership.topic->pending_events;
    }
  }
  if (topics_with_events == 1) {
    subscriber.out_->push(only->pass_frame);
    return;
  }
  // Several of its topics got events: one frame of exactly those topics'
  // events in id order, built once per distinct set of topics and shared by
  // every subscriber with that set. So a batch costs such a subscriber one
  // queue entry, not one per event.
  // The key is built in a reused vector and copied only for a new set: no
  // allocation per subscriber.
  std::vector<Topic*>& key = joined_key_;
  key.clear();
  for (const Subscriber::Membership& membership : subscriber.memberships_) {
    if (membership.topic->pending_events > 0) key.push_back(membership.topic);
  }
  std::sort(key.begin(), key.end());
  auto found = joined_frames_.find(key);
  if (found == joined_frames_.end()) found = joined_frames_.emplace(key, FrameRef()).first;
  FrameRef& joined = found->second;
  if (!joined) {
    size_t bytes = 0;
    for (Topic* topic : key) bytes += topic->pass_frame->size();
    joined = FrameRef::allocate(bytes);
    size_t offset = 0;
    for (const PendingEvent& event : pending_) {
      if (!std::binary_search(key.begin(), key.end(), event.topic)) continue;
      std::memcpy(joined.writable() + offset, event.frame->data(), event.frame->size());
      offset += event.frame->size();
    }
  }
  subscriber.out_->push(joined);
}

void Broadcaster::deliver_pending(int64_t now_ms) {
  queue_pending(now_ms);
  while (flush_slice()) {
  }
}

void Broadcaster::queue_pending(int64_t now_ms) {
  if (pending_.empty()) return;
  ++pass_;
  build_pass_frames();
  if (tracing()) {
    size_t subscribers = 0;
    for (Topic* topic : pass_topics_) subscribers += topic->subscribers.size();
    trace_line("broadcaster", "fan-out: %zu event%s on %zu topic%s: one frame per topic, queued to %zu subscriber%s",
               pending_.size(), pending_.size() == 1 ? "" : "s", pass_topics_.size(),
               pass_topics_.size() == 1 ? "" : "s", subscribers, subscribers == 1 ? "" : "s");
  }
  for (Topic* topic : pass_topics_) {
    for (Subscriber* subscriber : topic->subscribers) {
      subscriber->last_sent_ms_ = now_ms;
      subscriber->events_queued_ += topic->pending_events;
      if (subscriber->memberships_.size() == 1) {
        subscriber->out_->push(topic->pass_frame);
      } else if (subscriber->queued_pass_ != pass_) {  // first of its topics seen
        subscriber->queued_pass_ = pass_;
        multi_topic_.push_back(subscriber);
      }
      schedule_flush(*subscriber);
    }
    counters_.frames_sent += topic->subscribers.size() * topic->pending_events;
  }
  for (Subscriber* subscriber : multi_topic_) queue_in_id_order(*subscriber);
  multi_topic_.clear();
  joined_frames_.clear();

  for (PendingEvent& event : pending_) {
    // Fan-out latency is measured for events someone receives: an event
    // nobody listens to has no fan-out (and must not wait in in_flight_ns_
    // for the next round that has writes, which would record it late).
    if (!event.topic->subscribers.empty()) in_flight_ns_.push_back(event.published_ns);
    if (history_ != nullptr) history_->add(event.id, event.topic->name, std::move(event.frame));
  }
  pending_.clear();
  for (Topic* topic : pass_topics_) {
    topic->pending_events = 0;
    topic->pending_bytes = 0;
    topic->pass_frame = FrameRef();
    // A topic that had events but nobody listening is dropped now.
    forget_if_unused(*topic);
  }
  pass_topics_.clear();
}

void Broadcaster::broadcast_notice(const FrameRef& notice, int64_t now_ms) {
  queue_pending(now_ms);
  for (Subscriber* subscriber : all_) {
    subscriber->out_->push(notice);
    subscriber->last_sent_ms_ = now_ms;
    schedule_flush(*subscriber);
  }
}

void Broadcaster::send_heartbeats(int64_t now_ms, int64_t idle_ms) {
  for (Subscriber* subscriber : all_) {
    if (now_ms - subscriber->last_sent_ms_ < idle_ms) continue;
    subscriber->out_->push(heartbeat_);
    subscriber->last_sent_ms_ = now_ms;
    ++counters_.heartbeats_sent;
    schedule_flush(*subscriber);
  }
}

const Broadcaster::TopTopics& Broadcaster::top_topics(int64_t now_ms) const {
  if (top_topics_ms_ >= 0 && now_ms - top_topics_ms_ < 1000) return top_topics_;
  top_topics_ms_ = now_ms;
  // A bounded selection: names are copied for the winners only.
  std::vector<std::pair<size_t, const std::string*>> best;
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  };
  for (const auto& [name, topic] : topics_) {
    if (topic.subscribers.empty()) continue;
    best.emplace_back(topic.subscribers.size(), &name);
    std::push_heap(best.begin(), best.end(), better);  // the worst kept on top
    if (best.size() > kTopTopics) {
      std::pop_heap(best.begin(), best.end(), better);
      best.pop_back();
    }
  }
  std::sort(best.begin(), best.end(), better);
  top_topics_.clear();
  for (const auto& [count, name] : best) top_topics_.emplace_back(*name, count);
  return top_topics_;
}

size_t Broadcaster::new_topics(const std::vector<std::string>& names) const {
  size_t fresh = 0;
  for (const std::string& name : names) fresh += topics_.count(name) == 0 ? 1 : 0;
  return fresh;
}

size_t Broadcaster::topic_subscribers(std::string_view name) const {
  auto it = topics_.find(std::string(name));
  return it == topics_.end() ? 0 : it->second.subscribers.size();
}

}  // namespace sse
