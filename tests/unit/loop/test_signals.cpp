// test_signals.cpp — SIGINT/SIGTERM/SIGQUIT through the signalfd, SIGHUP
// read and dropped (src/loop/signals.cpp).
//
// Signals::open() blocks SIGINT, SIGTERM, SIGQUIT and SIGHUP for this test
// process too: a raise() then stays pending until the signalfd reads it,
// which is exactly the behaviour under test. Before raising a signal whose
// default action ends the process, a test REQUIREs that it is blocked, so
// a regression fails the test instead of killing the test runner.
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

namespace {

bool is_blocked(int signo) {
  sigset_t blocked;
  sigemptyset(&blocked);
  return ::sigprocmask(SIG_BLOCK, nullptr, &blocked) == 0 && sigismember(&blocked, signo) == 1;
}

}  // namespace

TEST_CASE("SIGQUIT arrives as an event, like SIGTERM") {
  sse::Reactor reactor;
  std::vector<int> received;
  sse::Signals signals(reactor, [&](int signo) { received.push_back(signo); });
  REQUIRE(signals.open());

  REQUIRE(is_blocked(SIGQUIT));  // else raise() would dump core
  REQUIRE(::raise(SIGQUIT) == 0);
  CHECK(reactor.poll(1000) == 1);
  CHECK(received == std::vector<int>{SIGQUIT});
}

TEST_CASE("SIGHUP is read from the signalfd and reported (the server reopens its log), the process lives") {
  sse::Reactor reactor;
  std::vector<int> received;
  sse::Signals signals(reactor, [&](int signo) { received.push_back(signo); });
  REQUIRE(signals.open());

  REQUIRE(is_blocked(SIGHUP));  // else raise() would end the process
  REQUIRE(::raise(SIGHUP) == 0);
  CHECK(reactor.poll(1000) == 1);  // the signalfd woke the loop...
  CHECK(received == std::vector<int>{SIGHUP});
  CHECK(reactor.poll(0) == 0);     // it was read: nothing stays pending

  // The signals after it are reported too.
  REQUIRE(::raise(SIGTERM) == 0);
  CHECK(reactor.poll(1000) == 1);
  CHECK(received == std::vector<int>{SIGHUP, SIGTERM});
}
