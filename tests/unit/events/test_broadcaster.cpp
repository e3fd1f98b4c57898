// test_broadcaster.cpp — topics, subscribers and fan-out (src/events/broadcaster.cpp).
//
// The broadcaster knows subscribers only as "something with an output
// queue", so the test's Subscriber is the smallest real one: it owns a
// socketpair, and its flush_frames() records what was queued and then
// drains the queue into the socket exactly as a Connection does, so what
// a client would read is checked byte for byte. No mocks.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "numbered_broadcaster.h"
#include "sse/events/broadcaster.h"
#include "sse/events/history.h"
#include "sse/events/sse_frame.h"
#include "sse/loop/unique_fd.h"

using sse::FrameRef;
using sse::History;

namespace {

using Broadcaster = test::NumberedBroadcaster;

class TestSubscriber final : public sse::Subscriber {
 public:
  // The queue is the subscriber's own here; in the server it is the
  // connection's (the Subscriber only points at it).
  explicit TestSubscriber(Broadcaster& broadcaster)
      : sse::Subscriber(queue_), broadcaster_(broadcaster) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    writer_.reset(fds[0]);
    reader_.reset(fds[1]);
  }
  ~TestSubscriber() {
    // The Subscriber contract: unsubscribe before destruction.
    broadcaster_.unsubscribe(*this);
  }

  using sse::Subscriber::out_queue;

  void flush_frames() noexcept override {
    ++flushes;
    frames_per_flush.push_back(queue_.frame_count());
    if (drain) {
      size_t written = 0;
      queue_.flush(writer_.get(), written);
      char buffer[65536];
      ssize_t n;
      while ((n = ::read(reader_.get(), buffer, sizeof buffer)) > 0) {
        received.append(buffer, static_cast<size_t>(n));
      }
    }
    if (unsubscribe_in_flush) broadcaster_.unsubscribe(*this);
  }

  // The frames received so far, split at the blank line that ends each.
  std::vector<std::string> frames() const {
    std::vector<std::string> out;
    size_t start = 0, end;
    while ((end = received.find("\n\n", start)) != std::string::npos) {
      out.push_back(received.substr(start, end + 2 - start));
      start = end + 2;
    }
    return out;
  }

  // The ids of the events received, in order.
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> out;
    for (const std::string& frame : frames()) {
      if (frame.rfind("id: ", 0) == 0) out.push_back(std::stoull(frame.substr(4)));
    }
    return out;
  }

  size_t heartbeats() const {
    size_t count = 0;
    for (const std::string& frame : frames()) count += frame == ":\n\n";
    return count;
  }

  bool drain = true;
  bool unsubscribe_in_flush = false;
  int flushes = 0;
  std::vector<size_t> frames_per_flush;  // queued frames seen by each flush
  std::string received;

 private:
  sse::OutQueue queue_;
  Broadcaster& broadcaster_;
  sse::UniqueFd writer_, reader_;
};

using Ids = std::vector<uint64_t>;

// Heartbeats are queued, then written by flush slices like events.
void heartbeats(Broadcaster& broadcaster, int64_t now_ms, int64_t idle_ms) {
  broadcaster.send_heartbeats(now_ms, idle_ms);
  while (broadcaster.flush_slice()) {
  }
}

}  // namespace

TEST_CASE("a published event waits for deliver_pending, then is sent as one frame") {
  Broadcaster broadcaster(50);
  TestSubscriber subscriber(broadcaster);
  broadcaster.subscribe(subscriber, {"main"}, 0);
  broadcaster.publish("main", "tick", "line 1\nline 2");
  CHECK(subscriber.flushes == 0);
  CHECK(subscriber.out_queue().empty());

  broadcaster.deliver_pending(10);
  CHECK_FALSE(broadcaster.has_pending());
  CHECK(subscriber.flushes == 1);
  CHECK(subscriber.received == "id: 50\nevent: tick\ndata: line 1\ndata: line 2\n\n");
  CHECK(subscriber.out_queue().empty());
}

TEST_CASE("deliver_pending with nothing published flushes nobody") {
  Broadcaster broadcaster(1);
  TestSubscriber subscriber(broadcaster);
  broadcaster.subscribe(subscriber, {"main"}, 0);
  broadcaster.deliver_pending(10);
  CHECK(subscriber.flushes == 0);
}

TEST_CASE("an event reaches exactly the subscribers of its topic") {
  Broadcaster broadcaster(1);
  TestSubscriber a(broadcaster), b(broadcaster), both(broadcaster), neither(broadcaster);
  broadcaster.subscribe(a, {"a"}, 0);
  broadcaster.subscribe(b, {"b"}, 0);
  broadcaster.subscribe(both, {"a", "b"}, 0);
  broadcaster.subscribe(neither, {"c"}, 0);
  uint64_t on_a = broadcaster.publish("a", "", "for a");
  uint64_t on_b = broadcaster.publish("b", "", "for b");
  broadcaster.deliver_pending(1);
  CHECK(a.ids() == Ids{on_a});
  CHECK(b.ids() == Ids{on_b});
  CHECK(both.ids() == Ids{on_a, on_b});
  CHECK(neither.ids().empty());
  CHECK(neither.flushes == 0);
  CHECK(broadcaster.topic_subscribers("a") == 2);
  CHECK(broadcaster.topic_subscribers("b") == 2);
  CHECK(broadcaster.topic_subscribers("nope") == 0);
  CHECK(broadcaster.subscriber_count() == 4);
}

TEST_CASE("a subscriber of several topics receives ids in increasing order") {
  Broadcaster broadcaster(100);
  TestSubscriber both(broadcaster);
  broadcaster.subscribe(both, {"b", "a"}, 0);
  Ids published;
  for (const char* topic : {"b", "a", "a", "b", "a", "b", "b"}) {
    published.push_back(broadcaster.publish(topic, "", topic));
  }
  broadcaster.deliver_pending(1);
  CHECK(both.ids() == published);
}

TEST_CASE("several events in one pass reach each subscriber in one flush") {
  Broadcaster broadcaster(1);
  TestSubscriber first(broadcaster), second(broadcaster), third(broadcaster);
  broadcaster.subscribe(first, {"main"}, 0);
  broadcaster.subscribe(second, {"main", "side"}, 0);
  broadcaster.subscribe(third, {"main", "other"}, 0);
  broadcaster.publish("main", "", "1");
  broadcaster.publish("side", "", "2");
  broadcaster.publish("main", "", "3");
  broadcaster.deliver_pending(1);
  // One topic's events of a pass are joined into one frame...
  CHECK(first.flushes == 1);
  CHECK(first.frames_per_flush == std::vector<size_t>{1});
  CHECK(first.ids() == Ids{1, 3});
  // ...also for a subscriber whose other topics had nothing this pass...
  CHECK(third.frames_per_flush == std::vector<size_t>{1});
  CHECK(third.ids() == Ids{1, 3});
  // ...and one with events from two topics gets one frame of both, in id order.
  CHECK(second.flushes == 1);
  CHECK(second.frames_per_flush == std::vector<size_t>{1});
  CHECK(second.ids() == Ids{1, 2, 3});

  // The next pass flushes again, once.
  broadcaster.publish("main", "", "4");
  broadcaster.deliver_pending(2);
  CHECK(first.flushes == 2);
  CHECK(first.ids() == Ids{1, 3, 4});
}

TEST_CASE("a subscriber that falls behind keeps a reference, not a copy") {
  Broadcaster broadcaster(1);
  History history(8, 0);
  broadcaster.attach_history(&history);
  TestSubscriber s1(broadcaster), s2(broadcaster), s3(broadcaster);
  for (TestSubscriber* s : {&s1, &s2, &s3}) {
    s->drain = false;  // never writes: the frame stays queued
    broadcaster.subscribe(*s, {"main"}, 0);
  }
  broadcaster.publish("main", "", std::string(1000, 'x'));
  broadcaster.deliver_pending(1);

  std::vector<FrameRef> retained = history.after(0, {"main"});
  REQUIRE(retained.size() == 1);
  // One frame: the history's reference, one per queue, and ours.
  CHECK(retained[0].use_count() == 1 + 3 + 1);
  for (TestSubscriber* s : {&s1, &s2, &s3}) {
    CHECK(s->out_queue().frame_count() == 1);
    CHECK(s->out_queue().backlog_bytes() == retained[0]->size());
  }
}

TEST_CASE("a subscriber that unsubscribes itself in flush_frames is safe") {
  // A slow consumer is dropped from inside its own flush: the flush list was
  // built before any flush ran, and the others are still served.
  Broadcaster broadcaster(1);
  auto first = std::make_unique<TestSubscriber>(broadcaster);
  auto leaver = std::make_unique<TestSubscriber>(broadcaster);
  auto last = std::make_unique<TestSubscriber>(broadcaster);
  broadcaster.subscribe(*first, {"main", "x"}, 0);
  broadcaster.subscribe(*leaver, {"x", "main"}, 0);
  broadcaster.subscribe(*last, {"main"}, 0);
  leaver->unsubscribe_in_flush = true;

  broadcaster.publish("main", "", "1");
  broadcaster.publish("x", "", "2");
  broadcaster.deliver_pending(1);
  CHECK(first->ids() == Ids{1, 2});
  CHECK(leaver->ids() == Ids{1, 2});  // what was queued before it left is written
  CHECK(last->ids() == Ids{1});
  CHECK_FALSE(leaver->subscribed());
  CHECK(broadcaster.subscriber_count() == 2);
  CHECK(broadcaster.topic_subscribers("main") == 2);
  CHECK(broadcaster.topic_subscribers("x") == 1);

  // The server destroys it after the pass; later events must not touch it.
  leaver.reset();
  broadcaster.publish("main", "", "3");
  broadcaster.publish("x", "", "4");
  broadcaster.deliver_pending(2);
  CHECK(first->ids() == Ids{1, 2, 3, 4});
  CHECK(last->ids() == Ids{1, 3});
}

TEST_CASE("every subscriber unsubscribing itself in one flush pass is safe") {
  Broadcaster broadcaster(1);
  std::vector<std::unique_ptr<TestSubscriber>> subscribers;
  for (int i = 0; i < 5; ++i) {
    subscribers.push_back(std::make_unique<TestSubscriber>(broadcaster));
    subscribers.back()->unsubscribe_in_flush = true;
    broadcaster.subscribe(*subscribers.back(), {"main"}, 0);
  }
  broadcaster.publish("main", "", "bye");
  broadcaster.deliver_pending(1);
  for (const auto& s : subscribers) CHECK(s->ids() == Ids{1});
  CHECK(broadcaster.subscriber_count() == 0);
  CHECK(broadcaster.topics().empty());
  subscribers.clear();
  broadcaster.publish("main", "", "nobody");
  broadcaster.deliver_pending(2);
  heartbeats(broadcaster, 100000, 1);
}

TEST_CASE("a subscriber that unsubscribes itself during a heartbeat flush is safe") {
  Broadcaster broadcaster(1);
  auto leaver = std::make_unique<TestSubscriber>(broadcaster);
  TestSubscriber stays(broadcaster);
  broadcaster.subscribe(*leaver, {"main"}, 0);
  broadcaster.subscribe(stays, {"main"}, 0);
  leaver->unsubscribe_in_flush = true;
  heartbeats(broadcaster, 1000, 1000);
  CHECK(leaver->heartbeats() == 1);
  CHECK(stays.heartbeats() == 1);
  leaver.reset();
  heartbeats(broadcaster, 2000, 1000);
  CHECK(stays.heartbeats() == 2);
}

TEST_CASE("unsubscribing in any order keeps the others' positions right") {
  // Removal swaps the last subscriber into the hole; each order of removal
  // must leave every remaining subscriber reachable exactly once.
  const std::vector<std::vector<int>> orders = {
      {0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}, {1, 3, 0, 4, 2}};
  for (const std::vector<int>& order : orders) {
    Broadcaster broadcaster(1);
    std::vector<std::unique_ptr<TestSubscriber>> subscribers;
    for (int i = 0; i < 5; ++i) {
      subscribers.push_back(std::make_unique<TestSubscriber>(broadcaster));
      // Different topic lists, so indexes differ from topic to topic.
      std::vector<std::string> topics = {"t"};
      if (i % 2 == 0) topics.insert(topics.begin(), "u");
      broadcaster.subscribe(*subscribers.back(), topics, 0);
    }
    size_t remaining = 5;
    for (int leaving : order) {
      subscribers[leaving].reset();  // unsubscribes, then frees it
      --remaining;
      CHECK(broadcaster.subscriber_count() == remaining);
      CHECK(broadcaster.topic_subscribers("t") == remaining);
      uint64_t id_t = broadcaster.publish("t", "", "t");
      uint64_t id_u = broadcaster.publish("u", "", "u");
      broadcaster.deliver_pending(1);
      for (int i = 0; i < 5; ++i) {
        if (!subscribers[i]) continue;
        Ids ids = subscribers[i]->ids();
        INFO("subscriber " << i);
        REQUIRE(ids.size() >= 1);
        if (i % 2 == 0) {
          REQUIRE(ids.size() >= 2);
          CHECK(Ids(ids.end() - 2, ids.end()) == Ids{id_t, id_u});
        } else {
          CHECK(ids.back() == id_t);
        }
        subscribers[i]->received.clear();
      }
    }
    CHECK(broadcaster.topics().empty());
  }
}

TEST_CASE("unsubscribing twice, or a subscriber never subscribed, is harmless") {
  Broadcaster broadcaster(1);
  TestSubscriber once(broadcaster), never(broadcaster), other(broadcaster);
  broadcaster.subscribe(once, {"main"}, 0);
  broadcaster.subscribe(other, {"main"}, 0);
  broadcaster.unsubscribe(once);
  broadcaster.unsubscribe(once);
  broadcaster.unsubscribe(never);
  CHECK(broadcaster.subscriber_count() == 1);
  broadcaster.publish("main", "", "x");
  broadcaster.deliver_pending(1);
  CHECK(other.ids() == Ids{1});
  CHECK(once.ids().empty());
}

TEST_CASE("heartbeats go only to subscribers idle for the interval") {
  Broadcaster broadcaster(1);
  TestSubscriber busy(broadcaster), idle(broadcaster);
  broadcaster.subscribe(busy, {"busy"}, 0);
  broadcaster.subscribe(idle, {"idle"}, 0);
  broadcaster.publish("busy", "", "x");
  broadcaster.deliver_pending(1000);  // busy was sent something at t=1000

  heartbeats(broadcaster, 1500, 1000);
  CHECK(idle.heartbeats() == 1);
  CHECK(busy.heartbeats() == 0);
  CHECK(busy.flushes == 1);  // only the event's flush
  CHECK(broadcaster.counters().heartbeats_sent == 1);

  heartbeats(broadcaster, 2000, 1000);  // busy is now idle 1000 ms; idle only 500
  CHECK(busy.heartbeats() == 1);
  CHECK(idle.heartbeats() == 1);
  CHECK(broadcaster.counters().heartbeats_sent == 2);
  CHECK(busy.received == "id: 1\ndata: x\n\n:\n\n");
}

TEST_CASE("a subscriber that just subscribed is not idle") {
  Broadcaster broadcaster(1);
  TestSubscriber fresh(broadcaster);
  broadcaster.subscribe(fresh, {"main"}, 5000);
  heartbeats(broadcaster, 5500, 1000);
  CHECK(fresh.flushes == 0);
  heartbeats(broadcaster, 6000, 1000);
  CHECK(fresh.heartbeats() == 1);
}

TEST_CASE("delivered events go to the history; pending ones are not there yet") {
  Broadcaster broadcaster(10);
  History history(16, 0);
  broadcaster.attach_history(&history);
  TestSubscriber subscriber(broadcaster);
  broadcaster.subscribe(subscriber, {"a"}, 0);
  broadcaster.publish("a", "", "to a");
  broadcaster.publish("nobody", "", "to no one");
  CHECK(history.empty());

  broadcaster.deliver_pending(1);
  CHECK(history.size() == 2);
  CHECK(history.oldest_id() == 10);
  CHECK(history.newest_id() == 11);
  std::vector<FrameRef> on_a = history.after(0, {"a"});
  REQUIRE(on_a.size() == 1);
  CHECK(on_a[0]->view() == subscriber.received);  // the very bytes the subscriber got
  std::vector<FrameRef> on_nobody = history.after(0, {"nobody"});
  REQUIRE(on_nobody.size() == 1);
  CHECK(on_nobody[0]->view() == "id: 11\ndata: to no one\n\n");
}

TEST_CASE("the topics map forgets topics nobody uses") {
  Broadcaster broadcaster(1);
  broadcaster.publish("ghost", "", "x");
  CHECK(broadcaster.topics().count("ghost") == 1);  // it has a pending event
  broadcaster.deliver_pending(1);
  CHECK(broadcaster.topics().count("ghost") == 0);

  TestSubscriber x(broadcaster), y(broadcaster);
  broadcaster.subscribe(x, {"t"}, 0);
  broadcaster.subscribe(y, {"t", "u"}, 0);
  CHECK(broadcaster.topics().size() == 2);
  broadcaster.unsubscribe(x);
  CHECK(broadcaster.topics().count("t") == 1);  // y still listens
  broadcaster.unsubscribe(y);
  CHECK(broadcaster.topics().empty());
}

TEST_CASE("a topic whose last subscriber leaves with an event pending survives until delivery") {
  Broadcaster broadcaster(1);
  History history(4, 0);
  broadcaster.attach_history(&history);
  auto subscriber = std::make_unique<TestSubscriber>(broadcaster);
  broadcaster.subscribe(*subscriber, {"t"}, 0);
  broadcaster.publish("t", "", "pending");
  subscriber.reset();  // leaves before the end of the pass
  CHECK(broadcaster.topics().count("t") == 1);
  broadcaster.deliver_pending(1);
  CHECK(broadcaster.topics().empty());
  CHECK(history.size() == 1);
}

TEST_CASE("counters count events, frames queued and one latency sample per event") {
  Broadcaster broadcaster(1);
  TestSubscriber a1(broadcaster), a2(broadcaster), b(broadcaster);
  broadcaster.subscribe(a1, {"a"}, 0);
  broadcaster.subscribe(a2, {"a"}, 0);
  broadcaster.subscribe(b, {"b"}, 0);
  broadcaster.publish("a", "", "1");
  broadcaster.publish("a", "", "2");
  broadcaster.publish("b", "", "3");
  broadcaster.publish("none", "", "4");
  broadcaster.deliver_pending(1);
  const sse::BroadcastCounters& counters = broadcaster.counters();
  CHECK(counters.events_published == 4);
  CHECK(counters.frames_sent == 2 * 2 + 1);
  CHECK(counters.fanout_us.count() == 3);  // "none" had nobody to fan out to
  CHECK(counters.heartbeats_sent == 0);
}

TEST_CASE("an event nobody listens to records no fan-out latency, then or later") {
  // It used to wait among the in-flight events until the next round that
  // wrote someone, and was then recorded with the whole wait as latency.
  Broadcaster broadcaster(1);
  broadcaster.publish("main", "", "to nobody");
  broadcaster.deliver_pending(1);
  CHECK(broadcaster.counters().fanout_us.count() == 0);
  TestSubscriber subscriber(broadcaster);
  broadcaster.subscribe(subscriber, {"main"}, 0);
  broadcaster.publish("main", "", "to one");
  broadcaster.deliver_pending(2);
  CHECK(broadcaster.counters().fanout_us.count() == 1);
}

TEST_CASE("a subscriber with no topics leaves completely, so no heartbeat touches it after") {
  Broadcaster broadcaster(1);
  auto subscriber = std::make_unique<TestSubscriber>(broadcaster);
  broadcaster.subscribe(*subscriber, {}, 0);
  CHECK(subscriber->subscribed());
  CHECK(broadcaster.subscriber_count() == 1);
  broadcaster.unsubscribe(*subscriber);
  CHECK_FALSE(subscriber->subscribed());
  CHECK(broadcaster.subscriber_count() == 0);
  subscriber.reset();
  // A dangling entry would be read here (AddressSanitizer: use after free).
  heartbeats(broadcaster, 1'000'000, 1);
  CHECK(broadcaster.counters().heartbeats_sent == 0);
}

TEST_CASE("subscribers of the same topics share one joined frame, one queue entry per batch") {
  Broadcaster broadcaster(1);
  TestSubscriber a(broadcaster), b(broadcaster), c(broadcaster);
  for (TestSubscriber* s : {&a, &b, &c}) s->drain = false;
  broadcaster.subscribe(a, {"x", "y", "z"}, 0);
  broadcaster.subscribe(b, {"z", "x"}, 0);  // the same topics with events, other order
  broadcaster.subscribe(c, {"y", "x"}, 0);
  for (int i = 0; i < 1000; ++i) broadcaster.publish(i % 2 ? "x" : "z", "", std::to_string(i));
  broadcaster.publish("y", "", "last");
  broadcaster.deliver_pending(1);
  CHECK(a.frames_per_flush == std::vector<size_t>{1});
  CHECK(b.frames_per_flush == std::vector<size_t>{1});
  CHECK(c.frames_per_flush == std::vector<size_t>{1});
  for (TestSubscriber* s : {&a, &b, &c}) s->drain = true;
  a.flush_frames();
  b.flush_frames();
  c.flush_frames();
  CHECK(a.ids().size() == 1001);
  CHECK(b.ids().size() == 1000);
  CHECK(c.ids().size() == 501);  // the x events and y's
  for (TestSubscriber* s : {&a, &b, &c}) {
    Ids ids = s->ids();
    CHECK(std::is_sorted(ids.begin(), ids.end()));
  }
}

TEST_CASE("a broadcast notice follows what was pending and reaches every subscriber") {
  Broadcaster broadcaster(10);
  TestSubscriber on_a(broadcaster), on_b(broadcaster), no_topic(broadcaster);
  broadcaster.subscribe(on_a, {"a"}, 0);
  broadcaster.subscribe(on_b, {"b"}, 0);
  broadcaster.subscribe(no_topic, {}, 0);
  uint64_t first = broadcaster.publish("a", "", "before");
  CHECK(broadcaster.oldest_pending_id() == first);
  broadcaster.broadcast_notice(sse::encode_event(99, "gap", "{}"), 5);
  CHECK(broadcaster.oldest_pending_id() == 0);  // delivered first, in order
  uint64_t after = broadcaster.publish("b", "", "after");
  broadcaster.deliver_pending(6);
  CHECK(on_a.received == "id: 10\ndata: before\n\nid: 99\nevent: gap\ndata: {}\n\n");
  CHECK(on_b.received == "id: 99\nevent: gap\ndata: {}\n\nid: 11\ndata: after\n\n");
  CHECK(no_topic.received == "id: 99\nevent: gap\ndata: {}\n\n");
  CHECK(after == 11);
}

// ---------------------------------------------------------------- fan-out slices

TEST_CASE("with slices of 3, each subscriber gets every event once, in order, and late events join") {
  Broadcaster broadcaster(1);
  broadcaster.set_slice_limit(3);
  std::vector<std::unique_ptr<TestSubscriber>> subscribers;
  for (int i = 0; i < 10; ++i) {
    subscribers.push_back(std::make_unique<TestSubscriber>(broadcaster));
    broadcaster.subscribe(*subscribers.back(), {"t"}, 0);
  }
  uint64_t first = broadcaster.publish("t", "", "one");
  broadcaster.queue_pending(1);
  CHECK(broadcaster.flush_slice());  // 3 of 10 written
  CHECK(subscribers[2]->ids() == Ids{first});
  CHECK(subscribers[3]->ids().empty());
  // Published while the fan-out is in progress: queued behind "one".
  uint64_t second = broadcaster.publish("t", "", "two");
  broadcaster.queue_pending(2);
  while (broadcaster.flush_slice()) {
  }
  for (size_t i = 0; i < subscribers.size(); ++i) {
    INFO("subscriber " << i);
    CHECK(subscribers[i]->ids() == Ids{first, second});
  }
  // The first three were written twice; the others once, both events in
  // that one write.
  CHECK(subscribers[0]->flushes == 2);
  CHECK(subscribers[9]->flushes == 1);
  CHECK(subscribers[9]->frames_per_flush == std::vector<size_t>{2});
  CHECK(broadcaster.counters().fanout_us.count() == 2);
}

TEST_CASE("a subscriber that leaves between slices is never written to, even once destroyed") {
  Broadcaster broadcaster(1);
  broadcaster.set_slice_limit(2);
  std::vector<std::unique_ptr<TestSubscriber>> subscribers;
  for (int i = 0; i < 6; ++i) {
    subscribers.push_back(std::make_unique<TestSubscriber>(broadcaster));
    broadcaster.subscribe(*subscribers.back(), {"t"}, 0);
  }
  uint64_t id = broadcaster.publish("t", "", "x");
  broadcaster.queue_pending(1);
  CHECK(broadcaster.flush_slice());
  subscribers[4].reset();  // unsubscribes, then is freed (ASan would see a later write)
  while (broadcaster.flush_slice()) {
  }
  for (size_t i : {0, 1, 2, 3, 5}) CHECK(subscribers[i]->ids() == Ids{id});
  CHECK_FALSE(broadcaster.flushing());
}

TEST_CASE("a slow consumer dropped in one slice does not disturb the next slices") {
  Broadcaster broadcaster(1);
  broadcaster.set_slice_limit(1);
  TestSubscriber a(broadcaster), dropped(broadcaster), c(broadcaster);
  for (TestSubscriber* s : {&a, &dropped, &c}) broadcaster.subscribe(*s, {"t"}, 0);
  dropped.unsubscribe_in_flush = true;
  uint64_t first = broadcaster.publish("t", "", "1");
  broadcaster.queue_pending(1);
  while (broadcaster.flush_slice()) {
  }
  uint64_t second = broadcaster.publish("t", "", "2");
  broadcaster.deliver_pending(2);
  CHECK(a.ids() == Ids{first, second});
  CHECK(dropped.ids() == Ids{first});
  CHECK(c.ids() == Ids{first, second});
}

TEST_CASE("a multi-topic subscriber still waiting for its slice gets the next pass's events too") {
  Broadcaster broadcaster(1);
  broadcaster.set_slice_limit(1);
  TestSubscriber first_in_line(broadcaster), both(broadcaster);
  broadcaster.subscribe(first_in_line, {"a"}, 0);
  broadcaster.subscribe(both, {"a", "b"}, 0);
  uint64_t one = broadcaster.publish("a", "", "1");
  broadcaster.queue_pending(1);
  CHECK(broadcaster.flush_slice());  // first_in_line only; `both` still owed
  uint64_t two = broadcaster.publish("b", "", "2");
  uint64_t three = broadcaster.publish("a", "", "3");
  broadcaster.queue_pending(2);
  while (broadcaster.flush_slice()) {
  }
  CHECK(both.ids() == Ids{one, two, three});
  CHECK(first_in_line.ids() == Ids{one, three});
}
