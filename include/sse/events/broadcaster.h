// broadcaster.h — topics, subscribers and the fan-out of events.
//
// enqueue() takes an event that already has its id (the event log,
// event_log.h, decides ids: this process, or later Redis), serializes it
// once into a Frame (sse_frame) and parks it in the pass's pending list. At the end of each
// event-loop pass the server calls deliver_pending(), which
//   1. joins each topic's events of the pass, in id order, into one "pass
//      frame" (just the event's own frame when there is one),
//   2. queues that frame (a reference, not a copy) to every subscriber of
//      the topic, and
//   3. flushes each subscriber touched once,
// so whatever was published in one pass reaches a socket in one write of
// one contiguous buffer. A subscriber of several topics that got events in
// the same pass instead gets one frame joining those topics' events in id
// order (built once per distinct set of topics), so its ids still increase. Then each event's frame
// is handed to the History (when one is attached) for replay to clients that reconnect.
//
// Subscribers are known only as "something with an output queue"
// (class Subscriber: the queue belongs to the connection, the subscriber
// points at it); the broadcaster never sees a socket. A topic keeps a
// vector of its subscribers and each subscriber remembers its index there,
// so subscribe and unsubscribe are O(topics of that subscriber): removal
// swaps the last element into the hole.
//
// Lifetime: a Subscriber must call unsubscribe() before it is destroyed
// (Connection does so when it closes). Subscribers may unsubscribe during
// flush_frames() (a slow consumer is dropped there): the flush list is
// built before any flush runs, and a flushed subscriber is only unlinked,
// never destroyed, until the loop pass is over.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sse/base/latency_histogram.h"
#include "sse/loop/frame.h"
#include "sse/loop/out_queue.h"

namespace sse {

class Broadcaster;
class History;
struct Topic;

class Subscriber {
 public:
  bool subscribed() const { return subscribed_; }

  // Called once per loop pass after frames were queued: write them out.
  virtual void flush_frames() noexcept = 0;

 protected:
  // `out` is where this subscriber's frames are queued; it must outlive
  // the subscription (a connection's own queue does).
  explicit Subscriber(OutQueue& out) : out_(&out) {}
  ~Subscriber() = default;
  OutQueue& out_queue() { return *out_; }
  const OutQueue& out_queue() const { return *out_; }

 private:
  friend class Broadcaster;
  struct Membership {
    Topic* topic;
    size_t index;  // position in topic->subscribers
  };
  OutQueue* out_;
  std::vector<Membership> memberships_;
  bool subscribed_ = false;     // in Broadcaster::all_, even with no topics
  size_t all_index_ = 0;        // position in Broadcaster::all_
  int64_t last_sent_ms_ = 0;    // for heartbeats
  bool flush_pending_ = false;  // already on this pass's flush list
};

struct Topic {
  std::string name;
  std::vector<Subscriber*> subscribers;
  // This pass's events, not yet delivered, and their bytes.
  size_t pending_events = 0;
  size_t pending_bytes = 0;
  FrameRef pass_frame;  // built by deliver_pending, dropped after it
};

struct BroadcastCounters {
  uint64_t events_published = 0;
  uint64_t frames_sent = 0;  // frames queued to subscribers (events x subscribers)
  uint64_t heartbeats_sent = 0;
  LatencyHistogram fanout_us;  // publish -> last subscriber flushed, per event
};

class Broadcaster {
 public:
  Broadcaster();

  // Optional: delivered events are added to it (the event log's local tail).
  void attach_history(History* history) { history_ = history; }

  // Queues an event for the end of this loop pass. `data` is sent as text,
  // split into "data:" lines at line breaks. Ids must increase from one
  // call to the next: the event log that assigns them promises it.
  void enqueue(uint64_t id, std::string_view topic, std::string_view event, std::string_view data);
  bool has_pending() const { return !pending_.empty(); }  // for tests
  // The oldest id queued and not yet delivered; 0 when nothing is pending.
  // Everything below it has reached the subscribers (and the History).
  uint64_t oldest_pending_id() const { return pending_.empty() ? 0 : pending_.front().id; }

  // Delivers what is pending, then queues `notice` to every subscriber and
  // flushes them: a gap notice from a shared log that lost events whose
  // topics nobody knows any more. Order is kept: the notice follows every
  // event delivered before it and precedes every event enqueued after it.
  void broadcast_notice(const FrameRef& notice, int64_t now_ms);

  void subscribe(Subscriber& subscriber, const std::vector<std::string>& topics, int64_t now_ms);
  void unsubscribe(Subscriber& subscriber);

  // Queues each pending event to its topic's subscribers and flushes each
  // subscriber once. `now_ms` stamps them for the heartbeat.
  void deliver_pending(int64_t now_ms);

  // Queues a comment to every subscriber that was sent nothing for
  // `idle_ms`, and flushes them.
  void send_heartbeats(int64_t now_ms, int64_t idle_ms);

  size_t subscriber_count() const { return all_.size(); }
  size_t topic_count() const { return topics_.size(); }
  // How many of `names` are not topics yet (what subscribing would add).
  size_t new_topics(const std::vector<std::string>& names) const;
  size_t topic_subscribers(std::string_view topic) const;

  // The kTopTopics topics with the most subscribers, largest first (ties
  // by name), for /stats and /metrics. Walking every topic costs
  // O(topics), so the answer is kept for up to a second (`now_ms`): a
  // client asking /stats in a loop costs the same at 10 topics or 65,536.
  static constexpr size_t kTopTopics = 10;
  using TopTopics = std::vector<std::pair<std::string, size_t>>;
  const TopTopics& top_topics(int64_t now_ms) const;
  const std::unordered_map<std::string, Topic>& topics() const { return topics_; }
  const BroadcastCounters& counters() const { return counters_; }

 private:
  void forget_if_unused(Topic& topic);
  void schedule_flush(Subscriber& subscriber);
  void flush_scheduled();
  void build_pass_frames();
  void queue_in_id_order(Subscriber& subscriber);

  // Published this pass, in id order. Delivering in this order is what keeps
  // a subscriber of several topics receiving ids in increasing order.
  struct PendingEvent {
    uint64_t id;
    Topic* topic;
    FrameRef frame;
    int64_t published_ns;
  };

  std::unordered_map<std::string, Topic> topics_;
  std::vector<Subscriber*> all_;
  std::vector<PendingEvent> pending_;
  std::vector<Topic*> pass_topics_;       // topics with pending events
  std::vector<Subscriber*> multi_topic_;  // subscribers queue_in_id_order serves
  // This pass's frames for subscribers of several topics with events, by
  // the (sorted) set of those topics.
  std::map<std::vector<Topic*>, FrameRef> joined_frames_;
  std::vector<Topic*> joined_key_;  // scratch for queue_in_id_order
  std::vector<Subscriber*> to_flush_;
  History* history_ = nullptr;
  FrameRef heartbeat_;
  BroadcastCounters counters_;
  mutable TopTopics top_topics_;
  mutable int64_t top_topics_ms_ = -1;  // when top_topics_ was taken; -1: never
};

}  // namespace sse
