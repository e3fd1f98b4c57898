// test_timer.cpp — the periodic timerfd (src/loop/timer.cpp) in a real reactor.
#include <doctest/doctest.h>

#include "sse/base/clock.h"
#include "sse/loop/reactor.h"
#include "sse/loop/timer.h"

using sse::Reactor;
using sse::Timer;

namespace {
// Polls until `done()` or the deadline; true if done.
template <typename Done>
bool poll_until(Reactor& reactor, Done done, int64_t deadline_ms) {
  int64_t end = sse::mono_ms() + deadline_ms;
  while (!done()) {
    int64_t left = end - sse::mono_ms();
    if (left <= 0) return false;
    reactor.poll(static_cast<int>(left));
  }
  return true;
}
}  // namespace

TEST_CASE("a started timer fires repeatedly through the reactor") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  REQUIRE(timer.start(5));
  CHECK(poll_until(
      reactor, [&] { return fired >= 3; }, 5000));
}

TEST_CASE("a timer that is never started never fires") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  CHECK(reactor.poll(20) == 0);
  CHECK(fired == 0);
}

TEST_CASE("periods missed while the loop was busy give one call, not a burst") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  REQUIRE(timer.start(1));
  // Let several periods pass without polling: the expiration count grows,
  // but the handler runs once per wake-up.
  int64_t until = sse::mono_ms() + 20;
  while (sse::mono_ms() < until) {
  }
  REQUIRE(reactor.poll(1000) == 1);
  CHECK(fired == 1);
}

TEST_CASE("restarting a timer changes its period without a second fd") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  REQUIRE(timer.start(60'000));
  REQUIRE(timer.start(2));
  CHECK(poll_until(
      reactor, [&] { return fired >= 2; }, 5000));
}

TEST_CASE("a one-shot timer fires once and then stays quiet") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  REQUIRE(timer.start_once(5));
  CHECK(poll_until(
      reactor, [&] { return fired == 1; }, 5000));
  reactor.poll(30);
  CHECK(fired == 1);
}

TEST_CASE("a stopped timer does not fire") {
  Reactor reactor;
  int fired = 0;
  Timer timer(reactor, [&] { ++fired; });
  REQUIRE(timer.start_once(10));
  timer.stop();
  reactor.poll(40);
  CHECK(fired == 0);
}
