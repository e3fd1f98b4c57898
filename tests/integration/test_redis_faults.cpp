// test_redis_faults.cpp — sse-server instances on one redis-server while
// things go wrong: Redis killed with -9 (with and without persistence, and
// rolled back to an older snapshot), Redis stopped, its pub/sub connections
// cut, an instance restarted. Each test checks from the clients' side that
// nothing acknowledged is lost and nothing is delivered twice: every id a
// 202 named reaches every stream open at the time exactly once, in order,
// ids strictly increasing (harness tally()); and where events really are
// gone, the client is told with `event: gap` — never a silent hole. Each
// prints one line "FAULT <name>: published=N delivered=N lost=N
// duplicated=N gaps=N" for the README's table.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "redis_helpers.h"

namespace {

using Ids = std::vector<unsigned long long>;

// The test's publisher: every publish is sequential, so the acknowledged ids
// are in the order the answers came, and each must be above the one before.
struct Publisher {
  Ids acked;
  int refused = 0;  // 503 answers
  int serial = 0;

  // One publish; a 202's ids are acknowledged. Anything but 202 or 503 (a
  // 500, a dropped connection) fails the test. Returns the status.
  int publish_to(int port, const std::string& headers = "") {
    std::string json = R"({"data":"event )" + std::to_string(serial++) + "\"}";
    HttpResponse response = publish(port, json, headers);
    CAPTURE(response.status_line);
    CAPTURE(response.body);
    if (response.status == 202) {
      for (unsigned long long id : published_ids(response.body)) acked.push_back(id);
    } else {
      CHECK(response.status == 503);
      CHECK_FALSE(response.header("retry-after").empty());
      ++refused;
    }
    return response.status;
  }

  // Retries on 503 (Redis coming back, the instance reconnecting with
  // backoff) until a 202 or the deadline.
  bool publish_until_accepted(int port, const std::string& headers = "", long ms = 15000) {
    Deadline deadline = after_ms(ms);
    for (;;) {
      int status = publish_to(port, headers);
      if (status == 202) return true;
      if (status != 503 || ms_left(deadline) == 0) return false;
      poll(nullptr, 0, std::min(50, ms_left(deadline)));
    }
  }
};

bool strictly_increasing(const Ids& ids) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) return false;
  }
  return true;
}

// The acknowledged ids above `resumed_from` that `events` jumped over with no
// gap notice between the events on either side: silent holes. Ids not
// reached yet (above the last event) are not holes.
Ids silent_holes(const std::vector<SseEvent>& events, const Ids& acked,
                 unsigned long long resumed_from) {
  std::set<unsigned long long> delivered;
  for (const SseEvent& event : events) {
    if (event.type != "gap") delivered.insert(to_id(event.last_event_id));
  }
  Ids holes;
  unsigned long long previous = resumed_from;
  bool told = false;
  for (const SseEvent& event : events) {
    if (event.type == "gap") {
      told = true;
      continue;
    }
    unsigned long long id = to_id(event.last_event_id);
    for (unsigned long long missed : acked) {
      if (missed > previous && missed < id && delivered.count(missed) == 0 && !told) {
        holes.push_back(missed);
      }
    }
    previous = id;
    told = false;
  }
  return holes;
}

// The tally of one resumed stream: the acknowledged ids above `from` are
// what it should get; those it did not get are lost (told or not: a gap
// notice is counted beside).
Delivery resume_tally(const std::vector<SseEvent>& events, const Ids& acked,
                      unsigned long long from) {
  Delivery result;
  std::set<unsigned long long> seen;
  for (const SseEvent& event : events) {
    if (event.type == "gap") {
      ++result.gaps;
    } else if (!seen.insert(to_id(event.last_event_id)).second) {
      ++result.duplicated;
    }
  }
  for (unsigned long long id : acked) {
    if (id <= from) continue;
    ++result.published;
    if (seen.count(id) != 0) ++result.delivered;
  }
  result.lost = result.published - result.delivered;
  return result;
}

std::string ids_text(const Ids& ids) {
  std::string text;
  for (unsigned long long id : ids) text += std::to_string(id) + " ";
  return text;
}

std::string events_text(const std::vector<SseEvent>& events) {
  std::string text;
  for (const SseEvent& event : events) {
    text += event.type == "gap" ? "gap(" + event.last_event_id + ") " : event.last_event_id + " ";
  }
  return text;
}

// The log as "id(p=prev) ..." from XRANGE sse:log, for failure messages.
// The test's events have one-line fields, so the RESP reply is read by lines:
// after the '*' and '$' lines, each entry is its id, then field, value pairs.
std::string log_text(RedisProcess& redis) {
  std::string reply = redis.command({"XRANGE", "sse:log", "-", "+"});
  std::vector<std::string> values;
  for (std::size_t pos = 0; pos < reply.size();) {
    std::size_t eol = reply.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::string line = reply.substr(pos, eol - pos);
    if (line.empty() || (line[0] != '*' && line[0] != '$')) values.push_back(line);
    pos = eol + 2;
  }
  std::string text;
  for (std::size_t i = 0; i + 9 <= values.size(); i += 9) {
    text += values[i] + "(p=" + values[i + 8] + ") ";
  }
  return text;
}

// The figure after "key": in the "redis" object of /stats.
double redis_stat(int port, const std::string& key) {
  return json_number(json_object(stats(port), "redis"), key);
}

// Checks the delivery, prints the FAULT line and returns the tally.
// `in_order`: every acknowledged id is above the one acknowledged before it
// (false where a retry with an Idempotency-Key may be answered the id an
// earlier, unanswered publish got when Redis ran it later).
Delivery judge(const std::string& fault, const Ids& acked, const std::vector<Watcher*>& watchers,
               bool gaps_allowed, bool in_order = true) {
  bool complete = wait_delivered(acked, watchers, after_ms(15000));
  Delivery delivery = tally(acked, watchers);
  print_fault(fault, delivery);
  CAPTURE(fault);
  CAPTURE(delivery.detail);
  CHECK(complete);
  CAPTURE(ids_text(acked));
  if (in_order) CHECK(strictly_increasing(acked));  // ids increase across the fault
  CHECK(delivery.lost == 0);
  CHECK(delivery.duplicated == 0);
  CHECK(delivery.disordered == 0);
  if (!gaps_allowed) CHECK(delivery.gaps == 0);
  for (Watcher* watcher : watchers) {
    CAPTURE(watcher->name());
    CHECK_FALSE(watcher->stream().client.peer_closed());  // streams stayed open
  }
  return delivery;
}

}  // namespace

TEST_CASE("redis fault: kill -9 of Redis with appendfsync always loses nothing acknowledged") {
  RedisProcess redis(/*append_only=*/true);
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);
  Watcher two_topics("b two topics", b.port(), "/sse?topic=main&topic=other", 0);

  for (int i = 0; i < 10; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  redis.kill9();
  // Redis is gone: a publish is refused, never acknowledged and then lost.
  for (int i = 0; i < 3; ++i) CHECK(pub.publish_to(i % 2 ? b.port() : a.port()) == 503);
  redis.start();  // the same port and directory: it replays its AOF
  REQUIRE(pub.publish_until_accepted(a.port()));
  REQUIRE(pub.publish_until_accepted(b.port()));
  for (int i = 0; i < 10; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);

  judge("redis kill -9, restart with AOF (appendfsync always)", pub.acked,
        {&on_a, &on_b, &two_topics}, /*gaps_allowed=*/false);
  // The log kept every event: a fresh instance replays them all from the first.
  ServerProcess fresh(on_redis(redis));
  require_connected({&fresh});
  SseStream resumed(fresh.port(), "/sse", "Last-Event-ID: " + std::to_string(pub.acked[0]) + "\r\n");
  REQUIRE(resumed.wait_for(
      [&pub](const SseParser& p) { return p.events.size() >= pub.acked.size() - 1; },
      after_ms(10000)));
  resumed.collect(200);
  CHECK(event_ids(resumed.parser) == Ids(pub.acked.begin() + 1, pub.acked.end()));
}

TEST_CASE("redis fault: Redis restarted empty: ids still increase, and a resume it cannot cover is a gap") {
  RedisProcess redis;  // nothing persisted
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);

  for (int i = 0; i < 6; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  CHECK(redis.command({"XLEN", "sse:log"}) == ":6\r\n");
  const Ids before = pub.acked;
  redis.kill9();
  redis.start();
  CHECK(redis.command({"XLEN", "sse:log"}) == ":0\r\n");  // the log is gone
  REQUIRE(pub.publish_until_accepted(a.port()));
  REQUIRE(pub.publish_until_accepted(b.port()));
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  const Ids after(pub.acked.begin() + static_cast<std::ptrdiff_t>(before.size()), pub.acked.end());
  CHECK(after.front() > before.back());

  // The open streams had every event before the crash; a gap notice on
  // them is allowed (their instance cannot know that nothing was lost).
  Delivery delivery = judge("redis kill -9, restart without persistence", pub.acked,
                            {&on_a, &on_b}, /*gaps_allowed=*/true);
  MESSAGE("gap notices on the open streams: " << delivery.gaps);

  // A fresh instance has none of the old events in memory, and Redis has
  // lost them: a client that missed some of them (it resumes from before[2])
  // must be told first. One that had them all (before.back()) missed
  // nothing: the first event after the restart names before.back() as the
  // one before it (the publishing instance's floor), so a replay of the
  // new log is complete; a cautious gap notice is allowed, a hole is not.
  ServerProcess fresh(on_redis(redis));
  require_connected({&fresh});
  for (unsigned long long from : {before[2], before.back()}) {
    CAPTURE(from);
    bool missed_lost_events = from != before.back();
    SseStream resumed(fresh.port(), "/sse", "Last-Event-ID: " + std::to_string(from) + "\r\n");
    REQUIRE(resumed.head.status == 200);
    SseEvent first;
    REQUIRE(resumed.next_event(first, after_ms(5000)));
    resumed.collect(200);
    CAPTURE(events_text(resumed.parser.events));
    CAPTURE(ids_text(pub.acked));
    CAPTURE(log_text(redis));
    if (missed_lost_events) {
      CHECK(first.type == "gap");
      CHECK(json_string(first.data, "lastEventId") == std::to_string(from));
    }
    REQUIRE(pub.publish_to(a.port()) == 202);
    unsigned long long live = pub.acked.back();
    REQUIRE(resumed.wait_for(
        [live](const SseParser& p) {
          for (const SseEvent& e : p.events) {
            if (to_id(e.last_event_id) == live && e.type != "gap") return true;
          }
          return false;
        },
        after_ms(5000)));
    resumed.collect(200);
    Ids got = event_ids(resumed.parser);
    CAPTURE(events_text(resumed.parser.events));
    CHECK(strictly_increasing(got));
    for (unsigned long long id : got) CHECK(id > from);
    CHECK(silent_holes(resumed.parser.events, pub.acked, from).empty());
    print_fault(std::string("redis restart without persistence, resume on a fresh instance from ") +
                    (missed_lost_events ? "a lost id" : "the last id before the crash"),
                resume_tally(resumed.parser.events, pub.acked, from));
    if (!missed_lost_events && first.type != "gap") {
      // Covered: everything after it, in order, the live event last.
      CHECK(got == Ids(pub.acked.begin() + static_cast<std::ptrdiff_t>(before.size()),
                       pub.acked.end()));
    }
  }
}

TEST_CASE("redis fault: Redis rolled back to an older snapshot: lost events are a gap, never a silent hole") {
  RedisProcess redis;  // no AOF; SAVE writes dump.rdb, which a restart loads
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);

  for (int i = 0; i < 5; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  const Ids saved = pub.acked;
  REQUIRE(redis.command({"SAVE"}) == "+OK\r\n");
  for (int i = 0; i < 5; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  const Ids rolled_back(pub.acked.begin() + 5, pub.acked.end());
  redis.kill9();
  redis.start();
  CHECK(redis.command({"XLEN", "sse:log"}) == ":5\r\n");  // back at the snapshot
  // The first events after the rollback go through the instances that saw
  // the lost ones (so they know the log lost something).
  REQUIRE(pub.publish_until_accepted(a.port()));
  REQUIRE(pub.publish_until_accepted(b.port()));
  const Ids after(pub.acked.begin() + 10, pub.acked.end());
  CHECK(after.front() > rolled_back.back());

  Delivery delivery = judge("redis rollback to an older snapshot (SAVE, publish, kill -9)",
                            pub.acked, {&on_a, &on_b}, /*gaps_allowed=*/true);
  MESSAGE("gap notices on the open streams: " << delivery.gaps);

  ServerProcess fresh(on_redis(redis));
  require_connected({&fresh});

  {
    INFO("a resume from an id published after the SAVE gets a gap first");
    unsigned long long from = rolled_back[2];
    SseStream resumed(fresh.port(), "/sse", "Last-Event-ID: " + std::to_string(from) + "\r\n");
    REQUIRE(resumed.head.status == 200);
    SseEvent first;
    REQUIRE(resumed.next_event(first, after_ms(5000)));
    CAPTURE(events_text(resumed.parser.events));
    CHECK(first.type == "gap");
    CHECK(json_string(first.data, "lastEventId") == std::to_string(from));
    REQUIRE(pub.publish_to(a.port()) == 202);
    unsigned long long live = pub.acked.back();
    REQUIRE(resumed.wait_for(
        [live](const SseParser& p) {
          return !p.events.empty() && to_id(p.events.back().last_event_id) == live;
        },
        after_ms(5000)));
    resumed.collect(200);
    for (unsigned long long id : event_ids(resumed.parser)) CHECK(id > from);
    CHECK(strictly_increasing(event_ids(resumed.parser)));
    CHECK(silent_holes(resumed.parser.events, pub.acked, from).empty());
    print_fault("redis rollback, resume on a fresh instance from an id published after the SAVE",
                resume_tally(resumed.parser.events, pub.acked, from));
  }

  {
    INFO("a resume from before the SAVE gets what the snapshot kept, then a gap for what it lost");
    unsigned long long from = saved[2];
    SseStream resumed(fresh.port(), "/sse", "Last-Event-ID: " + std::to_string(from) + "\r\n");
    REQUIRE(resumed.head.status == 200);
    REQUIRE(resumed.wait_for(
        [&after](const SseParser& p) {
          return !p.events.empty() && to_id(p.events.back().last_event_id) >= after.back() &&
                 p.events.back().type != "gap";
        },
        after_ms(5000)));
    resumed.collect(200);
    Ids got = event_ids(resumed.parser);
    CAPTURE(events_text(resumed.parser.events));
    CAPTURE(ids_text(pub.acked));
    CHECK(strictly_increasing(got));
    // saved[3] and saved[4] are in the snapshot: replayed, not skipped.
    std::set<unsigned long long> delivered(got.begin(), got.end());
    CHECK(delivered.count(saved[3]) == 1);
    CHECK(delivered.count(saved[4]) == 1);
    // The five published after the SAVE are gone: the client must be told
    // before it is handed the events that followed them.
    print_fault("redis rollback, resume on a fresh instance from before the SAVE",
                resume_tally(resumed.parser.events, pub.acked, from));
    Ids holes = silent_holes(resumed.parser.events, pub.acked, from);
    CAPTURE(ids_text(holes));
    CAPTURE(log_text(redis));
    CHECK(holes.empty());
  }
}

TEST_CASE("redis fault: Redis stopped (SIGSTOP): publishes get 503, streams stay open, all resumes on SIGCONT") {
  RedisProcess redis;
  std::vector<std::string> options = {"--redis-timeout-ms", "500", "--heartbeat-ms", "200"};
  ServerProcess a(on_redis(redis, options));
  ServerProcess b(on_redis(redis, options));
  require_connected({&a, &b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);

  redis.pause();
  // Unanswered within --redis-timeout-ms: 503 (the outcome is unknown: the
  // script may still run when Redis wakes up; the Idempotency-Key makes the
  // retry below safe either way).
  CHECK(pub.publish_to(a.port(), "Idempotency-Key: stopped-a\r\n") == 503);
  CHECK(pub.publish_to(b.port(), "Idempotency-Key: stopped-b\r\n") == 503);
  // Open streams stay open and keep their heartbeats.
  auto comments = [](const SseParser& p) {
    int count = 0;
    for (const SseLine& line : p.lines) count += line.comment ? 1 : 0;
    return count;
  };
  int seen = comments(on_a.stream().parser);
  CHECK(on_a.stream().wait_for([&](const SseParser& p) { return comments(p) >= seen + 2; },
                               after_ms(5000)));
  // A new stream is answered 200 meanwhile, and gets its events later.
  Watcher newcomer("b, opened while Redis was stopped", b.port(), "/sse", pub.acked.size());
  CHECK(http_get(a.port(), "/health").status == 200);

  redis.resume();
  REQUIRE(pub.publish_until_accepted(a.port(), "Idempotency-Key: stopped-a\r\n"));
  REQUIRE(pub.publish_until_accepted(b.port(), "Idempotency-Key: stopped-b\r\n"));
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);

  // The two retries may be answered ids the stopped publishes got when
  // Redis woke up and ran them, in whichever order it read the two
  // connections; the publishes after them are in order.
  Delivery delivery = judge("redis SIGSTOP / SIGCONT (--redis-timeout-ms 500)", pub.acked,
                            {&on_a, &on_b, &newcomer}, /*gaps_allowed=*/false, /*in_order=*/false);
  REQUIRE(pub.acked.size() == 10);
  CHECK(std::min(pub.acked[4], pub.acked[5]) > pub.acked[3]);
  CHECK(pub.acked[6] > std::max(pub.acked[4], pub.acked[5]));
  CHECK(strictly_increasing(Ids(pub.acked.begin() + 6, pub.acked.end())));
  MESSAGE("503 answers: " << pub.refused << ", events delivered that no 202 named: "
                          << delivery.unacknowledged);
}

TEST_CASE("redis fault: pub/sub connections killed: publishing goes on, the repair delivers the rest") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  REQUIRE(wait_delivered(pub.acked, {&on_a, &on_b}, after_ms(5000), 0));
  double reconnects_a = redis_stat(a.port(), "reconnects");
  double reconnects_b = redis_stat(b.port(), "reconnects");

  std::string killed = redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  CAPTURE(killed);
  CHECK(killed == ":2\r\n");  // one subscriber connection per instance
  // Published at once, while the instances resubscribe: Redis answers
  // (only the subscriptions were cut), the announcements reach nobody, and
  // only the log has the events.
  for (int i = 0; i < 6; ++i) CHECK(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  MESSAGE("PUBSUB NUMSUB right after the publishes: "
          << redis.command({"PUBSUB", "NUMSUB", "sse:events"}));
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_until_accepted(i % 2 ? b.port() : a.port()));

  judge("redis CLIENT KILL TYPE pubsub", pub.acked, {&on_a, &on_b}, /*gaps_allowed=*/false);
  CHECK(redis_stat(a.port(), "reconnects") > reconnects_a);
  CHECK(redis_stat(b.port(), "reconnects") > reconnects_b);
  MESSAGE("503 answers: " << pub.refused << "; repairs: a " << redis_stat(a.port(), "repairs")
                          << ", b " << redis_stat(b.port(), "repairs"));
}

namespace {
// The ids of the subscribed (pub/sub) clients, from CLIENT LIST TYPE pubsub.
std::vector<std::string> pubsub_client_ids(RedisProcess& redis) {
  std::vector<std::string> ids;
  std::string list = redis.command({"CLIENT", "LIST", "TYPE", "pubsub"});
  for (std::size_t pos = list.find("id="); pos != std::string::npos;
       pos = list.find("\nid=", pos + 1)) {
    std::size_t begin = list.find('=', pos) + 1;
    ids.push_back(list.substr(begin, list.find(' ', begin) - begin));
  }
  return ids;
}
}  // namespace

TEST_CASE("redis fault: one instance's subscription killed: it repairs what another published meanwhile") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  require_connected({&a});
  std::vector<std::string> subscription_of_a = pubsub_client_ids(redis);
  REQUIRE(subscription_of_a.size() == 1);
  ServerProcess b(on_redis(redis));
  require_connected({&b});
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b", b.port(), "/sse", 0);
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_to(i % 2 ? b.port() : a.port()) == 202);
  REQUIRE(wait_delivered(pub.acked, {&on_a, &on_b}, after_ms(5000), 0));
  double repairs_a = redis_stat(a.port(), "repairs");
  double reconnects_a = redis_stat(a.port(), "reconnects");

  CHECK(redis.command({"CLIENT", "KILL", "ID", subscription_of_a[0]}) == ":1\r\n");
  // B's links are untouched: these are stored and announced, and A, not
  // subscribed for a while (its reconnect waits 50 ms at least), misses them.
  for (int i = 0; i < 6; ++i) REQUIRE(pub.publish_to(b.port()) == 202);
  MESSAGE("PUBSUB NUMSUB right after the publishes: "
          << redis.command({"PUBSUB", "NUMSUB", "sse:events"}));
  for (int i = 0; i < 4; ++i) REQUIRE(pub.publish_until_accepted(i % 2 ? b.port() : a.port()));

  judge("redis CLIENT KILL ID (one instance's subscription)", pub.acked, {&on_a, &on_b},
        /*gaps_allowed=*/false);
  CHECK(redis_stat(a.port(), "reconnects") > reconnects_a);
  CHECK(redis_stat(a.port(), "repairs") > repairs_a);
  MESSAGE("503 answers: " << pub.refused);
}

TEST_CASE("redis fault: an instance restarted while another publishes: its client resumes on the new one") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  auto b = std::make_unique<ServerProcess>(on_redis(redis));
  require_connected({&a, b.get()});
  const int b_port = b->port();
  Publisher pub;
  Watcher on_a("a", a.port(), "/sse", 0);
  Watcher on_b("b, then the new b", b_port, "/sse", 0);
  for (int i = 0; i < 5; ++i) REQUIRE(pub.publish_to(i % 2 ? b_port : a.port()) == 202);
  REQUIRE(wait_delivered(pub.acked, {&on_a, &on_b}, after_ms(5000), 0));

  ExitStatus stopped = b->signal_and_wait(SIGTERM, 5000);
  CHECK(stopped.exited);
  CHECK(stopped.code == 0);
  CHECK(on_b.stream().client.wait_closed(after_ms(5000)));
  for (int i = 0; i < 5; ++i) REQUIRE(pub.publish_to(a.port()) == 202);  // b is down

  // A new instance on the same port, as a restarted service would be.
  b = std::make_unique<ServerProcess>(
      on_redis(redis, {"--port", std::to_string(b_port)}));
  require_connected({b.get()});
  for (int i = 0; i < 3; ++i) REQUIRE(pub.publish_to(a.port()) == 202);
  // The browser reconnects with the last id it got (EventSource does).
  REQUIRE(on_b.reconnect(b_port));
  for (int i = 0; i < 6; ++i) REQUIRE(pub.publish_to(i % 2 ? b_port : a.port()) == 202);

  judge("sse-server instance restarted (SIGTERM, new process), client resumes", pub.acked,
        {&on_a, &on_b}, /*gaps_allowed=*/false);
}
