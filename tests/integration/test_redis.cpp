// test_redis.cpp — several sse-server instances on one redis-server are one
// broadcaster (SPEC "Many processes and hosts"): an event published through
// any instance reaches the streams of every instance, in one id order, with
// the id its 202 named; a client resumes on any instance; a publish that
// Redis did not store is a 503, never a 202. Each test starts its own
// redis-server on a free loopback port (harness RedisProcess). The faults
// (Redis killed, restarted, stopped) are in test_redis_faults.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "redis_helpers.h"

namespace {

using Ids = std::vector<unsigned long long>;

// One publish that must be accepted; its ids.
Ids publish_ok(int port, const std::string& json) {
  HttpResponse response = publish(port, json);
  CAPTURE(json);
  CAPTURE(response.body);
  REQUIRE(response.status == 202);
  Ids ids = published_ids(response.body);
  REQUIRE(!ids.empty());
  return ids;
}

unsigned long long publish_one(int port, const std::string& json) {
  return publish_ok(port, json).at(0);
}

// Reads until the stream holds `count` events (gap notices included), then
// a little longer, so that a duplicate or a stray event would be seen too.
bool holds(SseStream& stream, std::size_t count, long settle_ms = 200) {
  bool got = stream.wait_for([count](const SseParser& p) { return p.events.size() >= count; },
                             after_ms(10000));
  stream.collect(settle_ms);
  return got;
}

bool strictly_increasing(const Ids& ids) {
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) return false;
  }
  return true;
}

bool has_gap(const SseParser& parser) {
  for (const SseEvent& event : parser.events) {
    if (event.type == "gap") return true;
  }
  return false;
}

}  // namespace

TEST_CASE("redis: an event published on one instance reaches every instance with the 202's id") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  ServerProcess c(on_redis(redis));
  require_connected({&a, &b, &c});
  SseStream on_a(a.port());
  SseStream on_b(b.port());
  SseStream on_c(c.port());
  REQUIRE(on_a.head.status == 200);
  REQUIRE(on_b.head.status == 200);
  REQUIRE(on_c.head.status == 200);

  Ids acked;
  for (int i = 0; i < 10; ++i) {
    acked.push_back(publish_one(
        a.port(), R"({"event":"n","data":{"n":)" + std::to_string(i) + "}}"));
  }
  CHECK(strictly_increasing(acked));
  for (SseStream* stream : {&on_a, &on_b, &on_c}) {
    REQUIRE(holds(*stream, acked.size()));
    CHECK(event_ids(stream->parser) == acked);  // the same ids, in order, once
    for (std::size_t i = 0; i < stream->parser.events.size(); ++i) {
      CHECK(stream->parser.events[i].type == "n");
      CHECK(stream->parser.events[i].data == R"({"n":)" + std::to_string(i) + "}");
    }
  }
}

TEST_CASE("redis: publishes through different instances reach every stream in one increasing order") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  SseStream on_a(a.port());
  SseStream on_b(b.port());
  REQUIRE(on_a.head.status == 200);
  REQUIRE(on_b.head.status == 200);

  Ids acked;
  for (int i = 0; i < 20; ++i) {
    int port = i % 2 == 0 ? a.port() : b.port();
    acked.push_back(publish_one(port, R"({"data":")" + std::to_string(i) + "\"}"));
  }
  // Sequential publishes: each later one got a larger id, whichever
  // instance took it (one sequence in Redis, not one per instance).
  CHECK(strictly_increasing(acked));
  for (SseStream* stream : {&on_a, &on_b}) {
    REQUIRE(holds(*stream, acked.size()));
    CHECK(event_ids(stream->parser) == acked);
  }
}

TEST_CASE("redis: a stream of two topics sees increasing ids from publishes on different instances") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  ServerProcess c(on_redis(redis));
  require_connected({&a, &b, &c});
  SseStream both(b.port(), "/sse?topic=a&topic=b");
  SseStream only_a(c.port(), "/sse?topic=a");
  REQUIRE(both.head.status == 200);
  REQUIRE(only_a.head.status == 200);

  Ids for_both;
  Ids for_a;
  for (int i = 0; i < 12; ++i) {
    // Topic a through A, topic b through C, an unwatched topic through B.
    switch (i % 3) {
      case 0: {
        unsigned long long id = publish_one(a.port(), R"({"topic":"a","data":"a"})");
        for_both.push_back(id);
        for_a.push_back(id);
        break;
      }
      case 1:
        for_both.push_back(publish_one(c.port(), R"({"topic":"b","data":"b"})"));
        break;
      default:
        publish_one(b.port(), R"({"topic":"other","data":"x"})");
    }
  }
  REQUIRE(holds(both, for_both.size()));
  REQUIRE(holds(only_a, for_a.size()));
  CHECK(event_ids(both.parser) == for_both);
  CHECK(strictly_increasing(event_ids(both.parser)));
  CHECK(event_ids(only_a.parser) == for_a);
}

TEST_CASE("redis: a stream resumes on another instance from an id another instance returned") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess c(on_redis(redis));
  require_connected({&a, &c});
  Ids ids;
  for (int i = 0; i < 5; ++i) ids.push_back(publish_one(a.port(), R"({"data":"x"})"));
  const std::string resume = "Last-Event-ID: " + std::to_string(ids[1]) + "\r\n";

  // C saw these events go by (its memory tail covers the id)...
  SseStream on_c(c.port(), "/sse", resume);
  REQUIRE(on_c.head.status == 200);
  REQUIRE(holds(on_c, 3));
  CHECK(event_ids(on_c.parser) == Ids{ids[2], ids[3], ids[4]});
  CHECK_FALSE(has_gap(on_c.parser));

  // ...and D, started after them, has nothing in memory: the Redis log.
  ServerProcess d(on_redis(redis));
  require_connected({&d});
  SseStream on_d(d.port(), "/sse", resume);
  REQUIRE(on_d.head.status == 200);
  REQUIRE(holds(on_d, 3));
  CHECK(event_ids(on_d.parser) == Ids{ids[2], ids[3], ids[4]});
  CHECK_FALSE(has_gap(on_d.parser));

  // Both go on with live events, wherever they are published.
  unsigned long long live = publish_one(a.port(), R"({"data":"live"})");
  REQUIRE(holds(on_c, 4));
  REQUIRE(holds(on_d, 4));
  CHECK(event_ids(on_c.parser) == Ids{ids[2], ids[3], ids[4], live});
  CHECK(event_ids(on_d.parser) == Ids{ids[2], ids[3], ids[4], live});

  // Resuming from the newest id replays nothing and is no gap.
  SseStream newest(d.port(), "/sse", "Last-Event-ID: " + std::to_string(live) + "\r\n");
  REQUIRE(newest.head.status == 200);
  newest.collect(300);
  CHECK(newest.parser.events.empty());
}

TEST_CASE("redis: a resume from the Redis log replays only the stream's own topics") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  require_connected({&a});
  unsigned long long start = publish_one(a.port(), R"({"topic":"a","data":"a0"})");
  publish_one(a.port(), R"({"topic":"b","data":"b1"})");
  unsigned long long a2 = publish_one(a.port(), R"({"topic":"a","data":"a2"})");
  publish_one(a.port(), R"({"topic":"b","data":"b3"})");
  ServerProcess fresh(on_redis(redis));  // nothing in memory: the log serves the resume
  require_connected({&fresh});
  SseStream stream(fresh.port(), "/sse?topic=a", "Last-Event-ID: " + std::to_string(start) + "\r\n");
  REQUIRE(stream.head.status == 200);
  REQUIRE(holds(stream, 1, 300));
  CHECK(event_ids(stream.parser) == Ids{a2});
  CHECK_FALSE(has_gap(stream.parser));
  REQUIRE(!stream.parser.events.empty());
  CHECK(stream.parser.events[0].data == "a2");
}

TEST_CASE("redis: a batch of 100 events arrives whole and in order on every instance") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  ServerProcess c(on_redis(redis));
  require_connected({&a, &b, &c});
  std::vector<std::unique_ptr<SseStream>> streams;
  for (const ServerProcess* server : {&a, &b, &c}) {
    for (int i = 0; i < 2; ++i) {
      streams.push_back(std::make_unique<SseStream>(server->port()));
      REQUIRE(streams.back()->head.status == 200);
    }
  }
  std::string batch = "[";
  for (int i = 0; i < 100; ++i) {
    batch += (i == 0 ? "" : ",") + std::string(R"({"data":)") + std::to_string(i) + "}";
  }
  batch += "]";
  Ids acked = publish_ok(b.port(), batch);
  REQUIRE(acked.size() == 100);
  CHECK(strictly_increasing(acked));
  // Then single events through every instance in turn, right behind it.
  const ServerProcess* servers[] = {&a, &b, &c};
  for (int i = 0; i < 30; ++i) {
    acked.push_back(publish_one(servers[i % 3]->port(), R"({"data":"single"})"));
  }
  CHECK(strictly_increasing(acked));
  for (std::size_t s = 0; s < streams.size(); ++s) {
    CAPTURE(s);
    REQUIRE(holds(*streams[s], acked.size(), 100));
    CHECK(event_ids(streams[s]->parser) == acked);
    CHECK(streams[s]->parser.events[0].data == "0");
    CHECK(streams[s]->parser.events[99].data == "99");
  }
}

TEST_CASE("redis: without Redis the server starts, serves /health and answers a publish 503") {
  RedisProcess redis(false, /*start_now=*/false);  // a port where nothing listens yet
  // The constructor returns once the start line is printed: it must be,
  // although Redis refuses every connection.
  ServerProcess a(on_redis(redis));
  HttpResponse health = http_get(a.port(), "/health");
  CHECK(health.status == 200);
  CHECK(health.body == "ok");

  HttpResponse refused = publish(a.port(), R"({"data":"x"})");
  CHECK(refused.status == 503);
  CHECK_FALSE(refused.header("retry-after").empty());
  CHECK(refused.header("content-type").find("application/json") != std::string::npos);
  CHECK_FALSE(json_string(refused.body, "error").empty());

  std::string link = json_object(stats(a.port()), "redis");
  CAPTURE(link);
  CHECK_FALSE(link.empty());
  CHECK_FALSE(json_true(link, "connected"));
  CHECK(json_string(link, "state") != "connected");

  // Once Redis is there the same server publishes; killed, it refuses again.
  redis.start();
  REQUIRE(wait_redis_connected(a.port(), after_ms(10000)));
  CHECK(publish(a.port(), R"({"data":"y"})").status == 202);
  redis.kill9();
  HttpResponse after_kill = publish(a.port(), R"({"data":"z"})");
  CAPTURE(after_kill.body);
  CHECK(after_kill.status == 503);
  CHECK_FALSE(after_kill.header("retry-after").empty());
  CHECK_FALSE(json_string(after_kill.body, "error").empty());
  CHECK(http_get(a.port(), "/health").status == 200);
}

TEST_CASE("redis: a stream opened while Redis is away gets 200, and its events once Redis is up") {
  RedisProcess redis(false, /*start_now=*/false);
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  SseStream early(b.port());
  CHECK(early.head.status == 200);  // EventSource would give up for good on anything else
  redis.start();
  require_connected({&a, &b});
  unsigned long long id = publish_one(a.port(), R"({"data":"after"})");
  REQUIRE(holds(early, 1));
  CHECK(event_ids(early.parser) == Ids{id});
}

TEST_CASE("redis: --redis with a malformed URL or an unknown host exits 2 with a message naming it") {
  const std::string bad[] = {
      "",
      "redis://",
      "redis://127.0.0.1:notaport",
      "127.0.0.1:70000",
      "http://127.0.0.1:6379",
      "redis://127.0.0.1:6379/notadb",
      "redis://no-such-host.invalid:6379",
  };
  for (const std::string& url : bad) {
    CAPTURE(url);
    RunResult run =
        run_to_exit({"--redis", url, "--port", "0", "--host", "127.0.0.1", "--tick-ms", "0"}, 10000);
    CAPTURE(run.out);
    CAPTURE(run.err);
    CHECK(run.status.exited);
    CHECK(run.status.code == 2);
    CHECK(run.out.find("listening on") == std::string::npos);
    // One line naming the option (then, as for every bad option, the
    // "Try 'sse-server --help'." hint).
    std::string message = run.err.substr(0, run.err.find('\n'));
    CHECK(message.find("--redis") != std::string::npos);
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') <= 2);
  }
}

TEST_CASE("redis: /stats has a redis object with the link's figures, /metrics the sse_redis_ ones") {
  RedisProcess redis;
  ServerProcess a(on_redis(redis));
  ServerProcess b(on_redis(redis));
  require_connected({&a, &b});
  SseStream on_b(b.port());
  REQUIRE(on_b.head.status == 200);
  Ids ids;
  for (int i = 0; i < 3; ++i) ids.push_back(publish_one(a.port(), R"({"data":"x"})"));
  REQUIRE(holds(on_b, 3));

  for (const ServerProcess* server : {&a, &b}) {
    CAPTURE(server->port());
    std::string body = stats(server->port());
    std::string link = json_object(body, "redis");
    CAPTURE(link);
    REQUIRE_FALSE(link.empty());
    CHECK(json_string(link, "state") == "connected");
    CHECK(json_true(link, "connected"));
    CHECK(json_number(link, "reconnects") >= 0);
    if (server == &b) CHECK(json_number(link, "events_received") >= 3);
    CHECK(json_number(link, "repairs") == 0);
    CHECK(json_number(link, "gaps") == 0);
    std::string rtt = json_object(link, "publish_rtt_us");
    CAPTURE(rtt);
    CHECK(json_number(rtt, "count") >= 0);
    CHECK(json_number(rtt, "p50") >= 0);
    CHECK(json_number(rtt, "p99") >= json_number(rtt, "p50"));
    CHECK(json_number(rtt, "max") >= json_number(rtt, "p99"));
    // The sequence is shared: every instance knows the newest id.
    CHECK(json_number(body, "last_id") == static_cast<double>(ids.back()));
  }
  CHECK(json_number(json_object(json_object(stats(a.port()), "redis"), "publish_rtt_us"),
                    "count") >= 3);

  HttpResponse metrics = http_get(a.port(), "/metrics");
  CHECK(metrics.status == 200);
  for (const char* name :
       {"sse_redis_connected 1", "sse_redis_reconnects_total", "sse_redis_events_received_total",
        "sse_redis_repairs_total", "sse_redis_gaps_total", "sse_redis_publish_latency_seconds"}) {
    CAPTURE(name);
    CHECK(metrics.body.find(name) != std::string::npos);
  }

  // Without --redis there is no redis object.
  ServerProcess alone({"--tick-ms", "0"});
  CHECK(json_object(stats(alone.port()), "redis").empty());
  CHECK(stats(alone.port()).find("\"redis\"") == std::string::npos);
}
