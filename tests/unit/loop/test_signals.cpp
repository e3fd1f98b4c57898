// test_signals.cpp — SIGINT/SIGTERM through the signalfd (src/loop/signals.cpp).
//
// Signals::open() blocks SIGINT and SIGTERM for this test process too: a
// raise() then stays pending until the signalfd reads it, which is exactly
// the behaviour under test.
#include <doctest/doctest.h>
#include <signal.h>

#include <vector>

#include "sse/loop/reactor.h"
#include "sse/loop/signals.h"

TEST_CASE("SIGTERM and SIGINT arrive as events, in the loop") {
  sse::Reactor reactor;
  std::vector<int> received;
  sse::Signals signals(reactor, [&](int signo) { received.push_back(signo); });
  REQUIRE(signals.open());

  REQUIRE(::raise(SIGTERM) == 0);  // blocked: pending, the process lives on
  CHECK(reactor.poll(1000) == 1);
  CHECK(received == std::vector<int>{SIGTERM});

  REQUIRE(::raise(SIGINT) == 0);
  CHECK(reactor.poll(1000) == 1);
  CHECK(received == std::vector<int>{SIGTERM, SIGINT});
}

TEST_CASE("SIGPIPE is ignored once the signals are open") {
  sse::Reactor reactor;
  sse::Signals signals(reactor, [](int) {});
  REQUIRE(signals.open());
  REQUIRE(::raise(SIGPIPE) == 0);  // would have killed the process
  struct sigaction current {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &current) == 0);
  CHECK((current.sa_handler == SIG_IGN));
}
