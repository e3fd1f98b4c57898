// test_worker_slots.cpp — the shared figures page of --workers
// (src/server/worker_slots.cpp), across a real fork().
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sse/server/stats.h"
#include "sse/server/worker_slots.h"

using sse::StatsFigures;
using sse::WorkerSlots;

TEST_CASE("a slot written by a forked worker is read by its parent, and cleared") {
  WorkerSlots* slots = WorkerSlots::create(3);
  REQUIRE(slots != nullptr);
  StatsFigures figures;
  CHECK_FALSE(slots->read(1, figures));  // never written
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    StatsFigures mine;
    mine.present = true;
    mine.pid = 4242;
    mine.counters[1] = 17;  // subscribers
    mine.fanout_us.record(300);
    slots->publish(1, mine);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(slots->read(1, figures));
  CHECK(figures.pid == 4242);
  CHECK(figures.counters[1] == 17);
  CHECK(figures.fanout_us.count() == 1);
  CHECK_FALSE(slots->read(0, figures));
  slots->clear(1);
  CHECK_FALSE(slots->read(1, figures));
}

TEST_CASE("figures of several workers add up; histograms merge exactly") {
  StatsFigures a, b;
  a.present = b.present = true;
  a.counters[0] = 3;
  b.counters[0] = 4;
  a.last_id = 10;
  b.last_id = 12;
  a.uptime_ms = 500;
  b.uptime_ms = 200;
  for (int i = 0; i < 90; ++i) a.fanout_us.record(100);
  for (int i = 0; i < 10; ++i) b.fanout_us.record(100000);
  a.add(b);
  CHECK(a.counters[0] == 7);
  CHECK(a.last_id == 12);
  CHECK(a.uptime_ms == 500);
  CHECK(a.fanout_us.count() == 100);
  CHECK(a.fanout_us.max() == 100000);
  CHECK(a.fanout_us.percentile(0.5) <= 128);
  CHECK(a.fanout_us.percentile(0.99) >= 65536);
}
