// test_local_event_log.cpp — ids, and the resume decision of the
// in-memory event log (src/events/local_event_log.cpp).
//
// Logs are filled through the real path (events/filled_log.h): append(),
// then the broadcaster's delivery into the history.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "filled_log.h"
#include "sse/events/broadcaster.h"
#include "sse/events/local_event_log.h"

using sse::ResumePlan;
using test::FilledLog;

namespace {

struct Recorder final : sse::AppendDone {
  void on_appended(const sse::AppendResult& result) noexcept override {
    ++calls;
    last = result;
  }
  int calls = 0;
  sse::AppendResult last;
};

}  // namespace

TEST_CASE("ids start at first_id and increase by one per appended event") {
  sse::Broadcaster broadcaster;
  sse::LocalEventLog log(broadcaster, 8, 1000);
  CHECK(log.last_id() == 999);
  CHECK_FALSE(broadcaster.has_pending());
  Recorder done;
  log.append({{"main", "", "a"}, {"other", "e", "b"}}, "", &done);
  log.append({{"main", "", "c"}}, "", &done);
  CHECK(done.calls == 2);  // answered before append() returned
  CHECK(done.last.ok);
  CHECK(done.last.ids == std::vector<uint64_t>{1002});
  CHECK(log.last_id() == 1002);
  CHECK(broadcaster.has_pending());
}

TEST_CASE("a batch's ids are its events' ids, in order") {
  sse::Broadcaster broadcaster;
  sse::LocalEventLog log(broadcaster, 8, 50);
  Recorder done;
  log.append({{"a", "", "1"}, {"b", "", "2"}, {"a", "", "3"}}, "", &done);
  CHECK(done.last.ids == std::vector<uint64_t>{50, 51, 52});
}

TEST_CASE("events are retained only once delivered, never twice") {
  sse::Broadcaster broadcaster;
  sse::LocalEventLog log(broadcaster, 8, 1000);
  log.append({{"main", "", "x"}}, "", nullptr);
  CHECK(log.retained() == 0);  // pending: a stream opened now gets it live
  broadcaster.deliver_pending(0);
  CHECK(log.retained() == 1);
  CHECK(log.replay(999, {"main"}, sse::kMaxReplayBytes).frames.size() == 1);
}

// ------------------------------------------------------------- plan_resume
//
// The run's ids are 1000..1009; a history of 5 retains 1005..1009.

TEST_CASE("resuming from a retained id replays what follows, with no gap") {
  FilledLog history(5, 1000, 10);
  ResumePlan plan = history.plan_resume("1006");
  CHECK_FALSE(plan.gap);
  CHECK(plan.replay);
  CHECK(plan.replay_after == 1006);
}

TEST_CASE("resuming from the id just before the oldest retained one is complete") {
  FilledLog history(5, 1000, 10);
  ResumePlan plan = history.plan_resume("1004");
  CHECK_FALSE(plan.gap);
  CHECK(plan.replay);
  CHECK(plan.replay_after == 1004);
}

TEST_CASE("resuming from the latest id is caught up: no gap, nothing to replay") {
  FilledLog history(5, 1000, 10);
  ResumePlan plan = history.plan_resume("1009");
  CHECK_FALSE(plan.gap);
  CHECK(history.after(plan.replay_after, {"main"}).empty());
}

TEST_CASE("an id older than the history gets a gap, then every retained event") {
  FilledLog history(5, 1000, 10);
  ResumePlan plan = history.plan_resume("1003");
  CHECK(plan.gap);
  CHECK(plan.replay);
  CHECK(plan.replay_after == 1003);
  CHECK(plan.oldest_id == 1005);
}

TEST_CASE("an id from the future gets a gap and no replay") {
  FilledLog history(5, 1000, 10);
  for (const char* id : {"1010", "99999999999", "18446744073709551615"}) {
    INFO("id " << std::string(id));
    ResumePlan plan = history.plan_resume(id);
    CHECK(plan.gap);
    CHECK_FALSE(plan.replay);
    CHECK(plan.oldest_id == 1005);
  }
}

TEST_CASE("an id that is not a plain decimal number gets a gap and no replay") {
  FilledLog history(5, 1000, 10);
  for (const std::string& id :
       std::vector<std::string>{"", "abc", "-1", " 1006", "1006 ", "+1006", "1e3", "0x3ee",
                                "1006abc", "18446744073709551616",
                                std::string("10\0"
                                            "06",
                                            5)}) {
    INFO("id '" << id << "'");
    ResumePlan plan = history.plan_resume(id);
    CHECK(plan.gap);
    CHECK_FALSE(plan.replay);
  }
}

TEST_CASE("an id from an earlier run gets a gap even when this run is all retained") {
  FilledLog history(64, 1000, 5);
  ResumePlan plan = history.plan_resume("500");
  CHECK(plan.gap);
  CHECK(plan.replay);  // the client still gets everything this run has
  CHECK(plan.replay_after == 500);
  CHECK(plan.oldest_id == 1000);
}

TEST_CASE("with an empty history, an id from before the first event gets a gap") {
  // A fresh server: nothing published yet, last_id == first_id - 1.
  FilledLog history(16, 1000, 0);
  ResumePlan plan = history.plan_resume("500");
  CHECK(plan.gap);
  CHECK(plan.oldest_id == 1000);  // the next id: nothing older is available
}

TEST_CASE("with an empty history (--history 0), a past id of this run gets a gap") {
  FilledLog history(0, 1000, 5);
  ResumePlan plan = history.plan_resume("1002");
  CHECK(plan.gap);
  CHECK(plan.oldest_id == 1005);
}

TEST_CASE("with an empty history, the latest id is caught up") {
  FilledLog history(0, 1000, 5);
  ResumePlan plan = history.plan_resume("1004");
  CHECK_FALSE(plan.gap);
}
