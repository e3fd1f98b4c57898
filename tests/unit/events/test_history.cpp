// test_history.cpp — the replay ring (src/events/history.cpp).
//
// The lookup is a binary search over ring positions, so the tests compare
// after() with a brute-force scan at every boundary (before the oldest, at
// each retained id, past the newest), for every fill level of rings of
// several sizes, including ones that have wrapped around many times.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sse/events/history.h"
#include "sse/events/sse_frame.h"

using sse::FrameRef;
using sse::History;

namespace {

std::vector<std::string> texts(const std::vector<FrameRef>& frames) {
  std::vector<std::string> out;
  for (const FrameRef& frame : frames) out.emplace_back(frame->view());
  return out;
}

FrameRef frame_for(uint64_t id) {
  return sse::encode_event(id, "", std::to_string(id));
}

struct Added {
  uint64_t id;
  std::string topic;
};

// What after() must return: the last `capacity` added, id > after_id, topic
// in `topics`, oldest first.
std::vector<std::string> expected_after(const std::vector<Added>& added, size_t capacity,
                                        uint64_t after_id, const std::vector<std::string>& topics) {
  std::vector<std::string> out;
  size_t first = added.size() > capacity ? added.size() - capacity : 0;
  for (size_t i = first; i < added.size(); ++i) {
    bool wanted = false;
    for (const std::string& t : topics) wanted = wanted || t == added[i].topic;
    if (added[i].id > after_id && wanted) out.emplace_back(frame_for(added[i].id)->view());
  }
  return out;
}

}  // namespace

TEST_CASE("an empty history has no ids and replays nothing") {
  History history(4, 0);
  CHECK(history.empty());
  CHECK(history.size() == 0);
  CHECK(history.oldest_id() == 0);
  CHECK(history.newest_id() == 0);
  CHECK(history.after(0, {"main"}).empty());
}

TEST_CASE("events are kept in order up to the capacity") {
  History history(3, 0);
  history.add(10, "main", frame_for(10));
  history.add(11, "main", frame_for(11));
  CHECK(history.size() == 2);
  CHECK(history.oldest_id() == 10);
  CHECK(history.newest_id() == 11);
  CHECK(texts(history.after(0, {"main"})) ==
        std::vector<std::string>{"id: 10\ndata: 10\n\n", "id: 11\ndata: 11\n\n"});
}

TEST_CASE("a full history overwrites its oldest event (wrap-around)") {
  History history(3, 0);
  for (uint64_t id = 10; id <= 14; ++id) history.add(id, "main", frame_for(id));
  CHECK(history.size() == 3);
  CHECK(history.oldest_id() == 12);
  CHECK(history.newest_id() == 14);
  CHECK(texts(history.after(0, {"main"})) == texts({frame_for(12), frame_for(13), frame_for(14)}));
}

TEST_CASE("after() finds the first newer id at every boundary, at every fill level") {
  // Consecutive ids (one run of the server) and ids with holes (events of
  // other topics are in the same sequence, so a topic alone has holes).
  for (uint64_t step : {uint64_t{1}, uint64_t{3}}) {
    for (size_t capacity = 1; capacity <= 7; ++capacity) {
      History history(capacity, 0);
      std::vector<Added> added;
      for (size_t count = 0; count <= 3 * capacity + 2; ++count) {
        if (count > 0) {
          uint64_t id = 100 + (count - 1) * step;
          history.add(id, "main", frame_for(id));
          added.push_back(Added{id, "main"});
        }
        uint64_t last = added.empty() ? 100 : added.back().id;
        for (uint64_t after_id = 95; after_id <= last + 3; ++after_id) {
          INFO("step " << step << ", capacity " << capacity << ", count " << count << ", after "
                       << after_id);
          CHECK(texts(history.after(after_id, {"main"})) ==
                expected_after(added, capacity, after_id, {"main"}));
        }
      }
    }
  }
}

TEST_CASE("after() returns only the topics asked for, oldest first") {
  History history(8, 0);
  std::vector<Added> added;
  const char* topics[] = {"a", "b", "c", "a", "b", "a", "c", "c", "b", "a"};
  uint64_t id = 500;
  for (const char* topic : topics) {
    history.add(id, topic, frame_for(id));
    added.push_back(Added{id, topic});
    ++id;
  }
  for (const std::vector<std::string>& wanted :
       {std::vector<std::string>{"a"}, {"b", "c"}, {"c", "a", "b"}, {"zzz"}, {}}) {
    for (uint64_t after_id = 499; after_id <= 510; ++after_id) {
      CHECK(texts(history.after(after_id, wanted)) == expected_after(added, 8, after_id, wanted));
    }
  }
  CHECK(history.after(0, {}).empty());
}

TEST_CASE("a history of capacity 0 keeps nothing") {
  History history(0, 0);
  history.add(1, "main", frame_for(1));
  history.add(2, "main", frame_for(2));
  CHECK(history.empty());
  CHECK(history.oldest_id() == 0);
  CHECK(history.newest_id() == 0);
  CHECK(history.after(0, {"main"}).empty());
}

TEST_CASE("replayed frames are shared with the history, not copied") {
  History history(2, 0);
  FrameRef frame = frame_for(1);
  history.add(1, "main", frame);
  CHECK(frame.use_count() == 2);
  std::vector<FrameRef> replay = history.after(0, {"main"});
  REQUIRE(replay.size() == 1);
  CHECK(replay[0].get() == frame.get());
  CHECK(frame.use_count() == 3);
}

TEST_CASE("an overwritten event's frame is released") {
  History history(1, 0);
  FrameRef first = frame_for(1);
  history.add(1, "main", first);
  CHECK(first.use_count() == 2);
  history.add(2, "main", frame_for(2));
  CHECK(first.use_count() == 1);
}

TEST_CASE("complete_after is the newest id overwritten, whatever the spacing of ids") {
  History history(2, 99);
  CHECK(history.complete_after() == 99);  // nothing lost yet: complete from the start
  history.add(100, "main", sse::encode_event(100, "", "a"));
  history.add(250, "main", sse::encode_event(250, "", "b"));
  CHECK(history.complete_after() == 99);
  history.add(400, "main", sse::encode_event(400, "", "c"));  // 100 leaves
  CHECK(history.complete_after() == 100);
  history.add(1000, "main", sse::encode_event(1000, "", "d"));  // 250 leaves
  CHECK(history.complete_after() == 250);
  CHECK(history.oldest_id() == 400);
}

TEST_CASE("with --history 0, complete_after follows the newest event") {
  History history(0, 5);
  history.add(7, "main", sse::encode_event(7, "", "x"));
  CHECK(history.complete_after() == 7);
  CHECK(history.empty());
}

TEST_CASE("the byte bound drops the oldest events first, and a too-big event is not kept") {
  size_t one = frame_for(1000)->size();
  History history(100, 999, 3 * one);
  for (uint64_t id = 1000; id < 1005; ++id) history.add(id, "main", frame_for(id));
  CHECK(history.size() == 3);
  CHECK(history.bytes() == 3 * one);
  CHECK(history.oldest_id() == 1002);
  CHECK(history.complete_after() == 1001);
  history.add(1005, "main", sse::encode_event(1005, "", std::string(4 * one, 'x')));
  CHECK(history.newest_id() == 1004);  // not kept: bigger than the whole budget
  CHECK(history.complete_after() == 1005);
}

TEST_CASE("a bounded replay keeps the newest matching events and names the newest left out") {
  History history(100, 999);
  for (uint64_t id = 1000; id < 1006; ++id) history.add(id, id % 2 ? "odd" : "even", frame_for(id));
  size_t one = frame_for(1000)->size();
  History::Replay replay = history.replay(999, {"even"}, 2 * one);
  CHECK(texts(replay.frames) ==
        std::vector<std::string>{"id: 1002\ndata: 1002\n\n", "id: 1004\ndata: 1004\n\n"});
  CHECK(replay.skipped_through == 1000);
  CHECK(history.replay(999, {"even"}).skipped_through == 0);
}

TEST_CASE("events lost before they arrived make earlier resumes incomplete") {
  History history(10, 0);
  history.add(5, "t", sse::encode_event(5, "", "x"));
  CHECK(history.complete_after() == 0);
  history.mark_lost_through(8);
  CHECK(history.complete_after() == 8);
  history.mark_lost_through(3);  // never moves back
  CHECK(history.complete_after() == 8);
  CHECK(history.size() == 1);    // what was kept stays replayable
}
