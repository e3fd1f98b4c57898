// reactor.h — the event loop: one epoll instance, one thread.
//
// Everything the server waits on is an fd registered here with an
// EventHandler: the listening socket, each connection, the timerfds and the
// signalfd. poll() blocks in epoll_wait() and calls on_events() for each
// ready fd. The reactor knows nothing about HTTP or SSE (the redis ae.c
// model: the loop is a library the server uses, not the other way round).
//
// Registration is level-triggered: a handler that leaves bytes unread is
// called again on the next pass, which keeps handlers simple and lets a
// connection pause reading (backpressure) just by dropping EPOLLIN.
//
// Stale events: one epoll_wait() batch can hold an event for a connection
// that an earlier event in the same batch closed. Handlers are therefore
// never destroyed inside poll(); their owner frees them after it returns
// (see Server::reap_closed), and a closed handler ignores late events.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>

#include "sse/loop/unique_fd.h"

namespace sse {

class EventHandler {
 public:
  virtual void on_events(uint32_t events) noexcept = 0;

 protected:
  ~EventHandler() = default;
};

// "IN|RDHUP": the epoll bits of `events`, for --trace.
std::string epoll_event_names(uint32_t events);

class Reactor {
 public:
  Reactor();  // aborts if epoll_create1 fails: nothing can work without it
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Each returns false with errno set if epoll_ctl failed.
  bool add(int fd, uint32_t events, EventHandler* handler);
  bool modify(int fd, uint32_t events, EventHandler* handler);
  void remove(int fd);

  // Waits up to `timeout_ms` (-1: forever) and dispatches what is ready.
  // Returns the number of events dispatched.
  int poll(int timeout_ms);
  // When the last poll() woke up (CLOCK_MONOTONIC ns): the start of the
  // loop pass, for the loop-latency monitor (one clock read per pass).
  int64_t last_wake_ns() const { return last_wake_ns_; }

 private:
  int64_t last_wake_ns_ = 0;
  static constexpr int kMaxEvents = 256;
  UniqueFd epoll_fd_;
};

}  // namespace sse
