// test_reactor.cpp — the epoll loop (src/loop/reactor.cpp) over real fds.
#include <doctest/doctest.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "sse/loop/reactor.h"
#include "sse/loop/unique_fd.h"

using sse::Reactor;
using sse::UniqueFd;

namespace {

// Records what it was told, and optionally consumes the input.
struct Recorder final : sse::EventHandler {
  std::vector<uint32_t> seen;
  int fd = -1;
  bool consume = true;
  void on_events(uint32_t events) noexcept override {
    seen.push_back(events);
    char buffer[64];
    if (consume && (events & EPOLLIN)) {
      while (::read(fd, buffer, sizeof buffer) > 0) {
      }
    }
  }
};

// A reactor watching end `a` of a socketpair for input, with a Recorder.
struct Watched {
  Reactor reactor;
  UniqueFd a, b;
  Recorder handler;
  Watched() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
    handler.fd = a.get();
    REQUIRE(reactor.add(a.get(), EPOLLIN, &handler));
  }
};

}  // namespace

TEST_CASE("a readable fd is dispatched to its handler, once per poll") {
  Watched w;
  Reactor& reactor = w.reactor;
  Recorder& handler = w.handler;

  CHECK(reactor.poll(0) == 0);  // nothing to read yet
  REQUIRE(::write(w.b.get(), "x", 1) == 1);
  CHECK(reactor.poll(1000) == 1);
  REQUIRE(handler.seen.size() == 1);
  CHECK((handler.seen[0] & EPOLLIN) != 0);
  CHECK(reactor.poll(0) == 0);  // consumed: quiet again
}

TEST_CASE("registration is level-triggered: unread input is reported again") {
  Watched w;
  Reactor& reactor = w.reactor;
  Recorder& handler = w.handler;
  handler.consume = false;
  REQUIRE(::write(w.b.get(), "x", 1) == 1);
  CHECK(reactor.poll(1000) == 1);
  CHECK(reactor.poll(0) == 1);
  CHECK(handler.seen.size() == 2);
}

TEST_CASE("modify changes the interest set; remove stops dispatch") {
  Watched w;
  Reactor& reactor = w.reactor;
  Recorder& handler = w.handler;
  CHECK(reactor.poll(0) == 0);

  // An empty socket buffer is writable at once.
  REQUIRE(reactor.modify(w.a.get(), EPOLLIN | EPOLLOUT, &handler));
  CHECK(reactor.poll(1000) == 1);
  REQUIRE(handler.seen.size() == 1);
  CHECK((handler.seen[0] & EPOLLOUT) != 0);

  reactor.remove(w.a.get());
  CHECK(reactor.poll(0) == 0);
  CHECK(handler.seen.size() == 1);
}

TEST_CASE("the peer closing is reported as a hang-up") {
  Watched w;
  Reactor& reactor = w.reactor;
  Recorder& handler = w.handler;
  w.b.reset();
  CHECK(reactor.poll(1000) == 1);
  REQUIRE(!handler.seen.empty());
  CHECK((handler.seen[0] & (EPOLLHUP | EPOLLRDHUP | EPOLLIN)) != 0);
}

TEST_CASE("add reports a failure with errno") {
  Reactor reactor;
  Recorder handler;
  errno = 0;
  CHECK_FALSE(reactor.add(-1, EPOLLIN, &handler));
  CHECK(errno == EBADF);
}

TEST_CASE("epoll_event_names spells the bits for --trace") {
  CHECK(sse::epoll_event_names(EPOLLIN) == "IN");
  CHECK(sse::epoll_event_names(EPOLLIN | EPOLLRDHUP) == "IN|RDHUP");
  CHECK(sse::epoll_event_names(EPOLLOUT | EPOLLHUP | EPOLLERR) == "OUT|HUP|ERR");
  CHECK(sse::epoll_event_names(0).empty());
}
