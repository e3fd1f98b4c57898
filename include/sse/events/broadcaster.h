// broadcaster.h — topics, subscribers and the fan-out of events.
//
// enqueue() takes an event that already has its id (the event log,
// event_log.h, decides ids: this process, or Redis), serializes it once
// into a Frame (sse_frame) and parks it in the pass's pending list. At the
// end of each event-loop pass the server calls queue_pending(), which
//   1. joins each topic's events of the pass, in id order, into one "pass
//      frame" (just the event's own frame when there is one),
//   2. queues that frame (a reference, not a copy) on every subscriber of
//      the topic, and puts each subscriber it touched on the flush list,
//   3. hands each event's frame to the History (when one is attached), for
//      replay to clients that reconnect,
// and then flush_slice(), which writes the subscribers on the flush list
// out, one flush each (normally a single send()), for at most a slice of
// time (kSliceNs, about 2 ms). What is left waits for the next pass, and
// the loop runs in between: a fan-out to 100,000 subscribers no longer
// holds every other client (a /health check, a publish, a new subscriber)
// for the length of the whole fan-out. This is Redis's way with big work
// (incremental rehashing, lazy free): do it in bounded steps from the loop.
//
// Why this keeps every guarantee:
//   - each subscriber's frames are queued, in id order, on its own FIFO
//     queue the moment they are delivered (step 2 is never sliced: it is a
//     pointer push per subscriber); slicing only decides *when* the queue
//     is written to the socket, never what is in it or in which order;
//   - an event published while a fan-out is in progress is queued behind
//     what each subscriber is already owed, and a subscriber still waiting
//     on the list writes both in one go; one already written this round is
//     put back on the list;
//   - a subscriber is on the list at most once (flush_pending_), and one
//     that leaves (unsubscribe) is struck off at once, so nothing is ever
//     written to a subscriber that left, even if it is destroyed before the
//     fan-out reaches its place in the list;
//   - history gets the event in step 3, so a stream that starts between
//     slices either replays it or had it queued live: never both, never
//     neither (the frames are shared, so queued-but-unwritten costs no copy).
// A subscriber of several topics that got events in the same pass gets one
// frame joining those topics' events in id order (built once per distinct
// set of topics), so its ids still increase.
//
// Subscribers are known only as "something with an output queue"
// (class Subscriber: the queue belongs to the connection, the subscriber
// points at it); the broadcaster never sees a socket. A topic keeps a
// vector of its subscribers and each subscriber remembers its index there,
// so subscribe and unsubscribe are O(topics of that subscriber): removal
// swaps the last element into the hole.
//
// Lifetime: a Subscriber must call unsubscribe() before it is destroyed
// (Connection does so when it closes), which also strikes it off the flush
// list. Subscribers may unsubscribe during flush_frames() (a slow consumer
// is dropped there).
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
  uint64_t events_queued() const { return events_queued_; }

  // Called once per loop pass after frames were queued: write them out.
  virtual void flush_frames() noexcept = 0;

 protected:
  // `out` is where this subscriber's frames are queued; it must outlive
  // the subscription (a connection's own queue does).
  explicit Subscriber(OutQueue& out) : out_(&out) {}
  ~Subscriber() = default;
  OutQueue& out_queue() { return *out_; }
  const OutQueue& out_queue() const { return *out_; }
  // Events the subscriber queued itself (a resume's replay), so that
  // events_queued() counts every event it was sent.
  void count_replayed(size_t events) { events_queued_ += events; }

 private:
  friend class Broadcaster;
  struct Membership {
    Topic* topic;
    size_t index;  // position in topic->subscribers
  };
  OutQueue* out_;
  std::vector<Membership> memberships_;
  bool subscribed_ = false;     // in Broadcaster::all_, even with no topics
  bool flush_pending_ = false;  // on the flush list (at flush_index_)
  size_t all_index_ = 0;        // position in Broadcaster::all_
  int64_t last_sent_ms_ = 0;    // for heartbeats
  size_t flush_index_ = 0;
  // Events queued to it (the access log's "events="): one add in the
  // fan-out loop that writes last_sent_ms_ anyway. The two flags side by
  // side freed the 8 bytes of padding it takes: Subscriber did not grow.
  uint64_t events_queued_ = 0;
  uint64_t queued_pass_ = 0;  // the queue_pending() that last queued to it
};

struct Topic {
  std::string name;
  std::vector<Subscriber*> subscribers;
  // This pass's events, not yet delivered, and their bytes.
  size_t pending_events = 0;
  size_t pending_bytes = 0;
  FrameRef pass_frame;  // built by queue_pending, dropped after it
};

struct BroadcastCounters {
  uint64_t events_published = 0;
  uint64_t frames_sent = 0;  // frames queued to subscribers (events x subscribers)
  uint64_t heartbeats_sent = 0;
  uint64_t flush_slices = 0;   // flush_slice() calls that wrote someone
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
  size_t pending_count() const { return pending_.size(); }
  // The oldest id queued and not yet delivered; 0 when nothing is pending.
  // Everything below it has reached the subscribers (and the History).
  uint64_t oldest_pending_id() const { return pending_.empty() ? 0 : pending_.front().id; }

  // Queues what is pending, then `notice` to every subscriber: a gap
  // notice from a shared log that lost events whose topics nobody knows
  // any more. Order is kept: the notice follows every event enqueued
  // before it and precedes every event enqueued after it.
  void broadcast_notice(const FrameRef& notice, int64_t now_ms);

  void subscribe(Subscriber& subscriber, const std::vector<std::string>& topics, int64_t now_ms);
  void unsubscribe(Subscriber& subscriber);

  // Queues each pending event to its topic's subscribers and puts them on
  // the flush list. `now_ms` stamps them for the heartbeat.
  void queue_pending(int64_t now_ms);
  // queue_pending(), then flush slices until the list is empty: the whole
  // fan-out at once (at shutdown, and in tests).
  void deliver_pending(int64_t now_ms);

  // Writes subscribers on the flush list out for about one slice of time
  // (or `max_subscribers` of them, when not 0: the test knob). True when
  // some are left for the next pass.
  bool flush_slice();
  bool flushing() const { return flush_cursor_ < to_flush_.size(); }
  size_t last_slice_written() const { return last_slice_written_; }
  // Subscribers written per slice at most (0: bounded by time only). For
  // tests that force tiny slices (--fanout-slice).
  void set_slice_limit(size_t max_subscribers) { slice_limit_ = max_subscribers; }

  // Queues a comment to every subscriber that was sent nothing for
  // `idle_ms`, and puts them on the flush list.
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
  void finish_round();
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
  // Subscribers owed a flush, in the order they were queued to; entries
  // before flush_cursor_ are done this round, null ones left meanwhile.
  std::vector<Subscriber*> to_flush_;
  size_t flush_cursor_ = 0;
  size_t slice_limit_ = 0;
  size_t last_slice_written_ = 0;
  uint64_t pass_ = 0;  // queue_pending() calls, for Subscriber::queued_pass_
  // When each event of the fan-out in progress was published: its latency
  // is recorded once the flush list is empty (every subscriber written).
  std::vector<int64_t> in_flight_ns_;
  History* history_ = nullptr;
  FrameRef heartbeat_;
  BroadcastCounters counters_;
  mutable TopTopics top_topics_;
  mutable int64_t top_topics_ms_ = -1;  // when top_topics_ was taken; -1: never
};

}  // namespace sse
