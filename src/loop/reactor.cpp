// reactor.cpp — see reactor.h.
#include "sse/loop/reactor.h"

#include <errno.h>

#include <cstdio>
#include <cstdlib>

#include "sse/base/clock.h"
#include "sse/base/trace.h"

namespace sse {

Reactor::Reactor() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_fd_) {
    std::perror("sse-server: epoll_create1");
    std::abort();
  }
}

bool Reactor::add(int fd, uint32_t events, EventHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Reactor::modify(int fd, uint32_t events, EventHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Reactor::remove(int fd) {
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

std::string epoll_event_names(uint32_t events) {
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{EPOLLIN, "IN"}, {EPOLLOUT, "OUT"}, {EPOLLRDHUP, "RDHUP"},
                {EPOLLHUP, "HUP"}, {EPOLLERR, "ERR"}};
  std::string names;
  for (const auto& [bit, name] : kNames) {
    if ((events & bit) == 0) continue;
    if (!names.empty()) names += '|';
    names += name;
  }
  return names;
}

int Reactor::poll(int timeout_ms) {
  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epoll_fd_.get(), events, kMaxEvents, timeout_ms);
  last_wake_ns_ = mono_ns();
  if (n < 0) return 0;  // EINTR: signals arrive through the signalfd instead
  if (tracing() && n > 0) {
    trace_line("reactor", "epoll_wait: %d fd%s ready%s", n, n == 1 ? "" : "s",
               timeout_ms == 0 ? " (a look between fan-out slices)" : "");
  }
  for (int i = 0; i < n; ++i) {
    static_cast<EventHandler*>(events[i].data.ptr)->on_events(events[i].events);
  }
  return n;
}

}  // namespace sse
