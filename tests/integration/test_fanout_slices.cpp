// test_fanout_slices.cpp — the fan-out written in slices with the loop
// running in between (broadcaster.h): with slices forced tiny
// (--fanout-slice), publishes, joins, leaves and a slow consumer land
// between slices, and every stream still gets every event once, in order;
// requests are answered while a big fan-out is still being written.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace {

std::vector<SseStream*> raw(const std::vector<std::unique_ptr<SseStream>>& streams) {
  std::vector<SseStream*> out;
  for (const auto& stream : streams) out.push_back(stream.get());
  return out;
}

// Pumps every stream until each has seen `last_id` (or the deadline).
bool drain_until(const std::vector<SseStream*>& streams, unsigned long long last_id,
                 Deadline deadline) {
  for (;;) {
    bool all = std::all_of(streams.begin(), streams.end(),
                           [&](SseStream* s) { return s->max_id() >= last_id; });
    if (all) return true;
    if (ms_left(deadline) == 0) return false;
    pump_streams(streams, 20);
  }
}

}  // namespace

TEST_CASE("with fan-out slices of 3, joins, leaves and publishes between slices lose nothing") {
  ServerProcess server({"--tick-ms", "0", "--fanout-slice", "3"});
  auto streams = open_streams(server.port(), 60, "/sse?topic=t");
  std::vector<unsigned long long> ids;  // every id published, in order
  HttpResponse first = publish(server.port(), R"({"topic":"t","data":"first"})");
  REQUIRE(first.status == 202);
  ids.push_back(published_ids(first.body).at(0));
  std::vector<std::unique_ptr<SseStream>> late;
  std::vector<size_t> late_from;  // index into ids of each late stream's first event
  for (int round = 0; round < 10; ++round) {
    size_t round_start = ids.size();
    // A single event and a batch, back to back: the second lands while the
    // first is still being written, three subscribers per pass.
    HttpResponse one = publish(server.port(), R"({"topic":"t","data":"single"})");
    REQUIRE(one.status == 202);
    HttpResponse batch = publish(
        server.port(), R"([{"topic":"t","data":"b1"},{"topic":"t","data":"b2"},{"topic":"t","data":"b3"}])");
    REQUIRE(batch.status == 202);
    for (auto* body : {&one.body, &batch.body}) {
      for (unsigned long long id : published_ids(*body)) ids.push_back(id);
    }
    // A stream joins, resuming from the id before this round's events.
    std::string last = std::to_string(ids[round_start - 1]);
    late.push_back(std::make_unique<SseStream>(server.port(), "/sse?topic=t",
                                               "Last-Event-ID: " + last + "\r\n"));
    late_from.push_back(round_start);
    // A stream leaves without a word.
    if (round % 3 == 0) streams[static_cast<size_t>(round)]->client.close_abruptly();
  }
  std::vector<SseStream*> all = raw(streams);
  std::vector<SseStream*> joined = raw(late);
  std::vector<SseStream*> alive;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 3 != 0 || i >= 10) alive.push_back(all[i]);
  }
  REQUIRE(drain_until(alive, ids.back(), after_ms(15000)));
  REQUIRE(drain_until(joined, ids.back(), after_ms(15000)));
  for (SseStream* stream : alive) CHECK(event_ids(stream->parser) == ids);
  for (size_t i = 0; i < late.size(); ++i) {
    INFO("late stream " << i);
    std::vector<unsigned long long> expected(ids.begin() + static_cast<long>(late_from[i]),
                                             ids.end());
    CHECK(event_ids(late[i]->parser) == expected);
  }
}

TEST_CASE("a slow consumer dropped between slices does not hold the others") {
  ServerProcess server({"--tick-ms", "0", "--fanout-slice", "2", "--max-backlog", "4096"});
  auto streams = open_streams(server.port(), 20, "/sse?topic=t");
  // Never reads, with a small receive window: it falls behind and is dropped.
  SseStream stuck(server.port(), "/sse?topic=t", "", 4096);
  REQUIRE(stuck.head.status == 200);
  std::string data(30000, 'x');
  std::vector<unsigned long long> ids;
  std::vector<SseStream*> readers = raw(streams);
  for (int i = 0; i < 100; ++i) {
    HttpResponse reply = publish(server.port(), R"({"topic":"t","data":")" + data + R"("})");
    REQUIRE(reply.status == 202);
    ids.push_back(published_ids(reply.body).at(0));
    pump_streams(readers, 0);
  }
  REQUIRE(drain_until(readers, ids.back(), after_ms(15000)));
  for (SseStream* stream : readers) CHECK(event_ids(stream->parser) == ids);
  CHECK(wait_stat_at_least(server.port(), "slow_consumers_dropped", 1, after_ms(5000)));
}

TEST_CASE("requests are answered while a large fan-out is written one subscriber per pass") {
  ServerProcess server({"--tick-ms", "0", "--fanout-slice", "1"});
  auto streams = open_streams(server.port(), 1500, "/sse?topic=t");
  HttpResponse reply = publish(server.port(), R"({"topic":"t","data":"to everyone"})");
  REQUIRE(reply.status == 202);
  // Answered while (or after) the 1500 writes go on, one per loop pass.
  HttpResponse health = http_get(server.port(), "/health");
  CHECK(health.status == 200);
  std::vector<SseStream*> all = raw(streams);
  unsigned long long id = published_ids(reply.body).at(0);
  REQUIRE(drain_until(all, id, after_ms(20000)));
  // The loop monitor shows that no pass wrote more than one subscriber,
  // and that the fan-out took (at least) one pass per subscriber.
  std::string stats_body = stats(server.port());
  CHECK(json_number(stats_body, "passes") >= 1500);
  size_t slowest = stats_body.find("\"slowest\"");
  REQUIRE(slowest != std::string::npos);
  for (size_t at = stats_body.find("\"written\":", slowest); at != std::string::npos;
       at = stats_body.find("\"written\":", at + 1)) {
    CHECK(std::stoi(stats_body.substr(at + 10)) <= 1);
  }
}
