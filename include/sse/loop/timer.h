// timer.h — a periodic timerfd registered with the reactor.
//
// All time-driven work in the server goes through this one mechanism: the
// ticker fires a Timer every --tick-ms, and a housekeeping Timer sweeps the
// connections for header timeouts and idle streams that need a heartbeat.
// timerfd turns time into an fd, so the loop sleeps in epoll_wait() with no
// timeout arithmetic of its own. A timer that fires several times while
// the loop is busy runs its callback once when the loop gets to it: the
// expiration count is read (which re-arms the fd) and thrown away, so a
// late tick is one tick, never a burst of catch-up ticks. The Redis link
// (redis_link.h) also uses one-shot timers for its reconnect backoff.
#pragma once

#include <cstdint>
#include <functional>

#include "sse/loop/reactor.h"
#include "sse/loop/unique_fd.h"

namespace sse {

class Timer final : public EventHandler {
 public:
  // `on_fire` runs in the loop, once per wake-up, however many periods passed.
  Timer(Reactor& reactor, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Starts (or restarts) the timer with the given period. False on failure.
  bool start(int64_t period_ms);
  // Fires once, `delay_ms` from now (a reconnect backoff, a deadline);
  // replaces whatever was set before. False on failure.
  bool start_once(int64_t delay_ms);
  // Disarms it: nothing fires until the next start.
  void stop();
  void on_events(uint32_t events) noexcept override;

 private:
  bool arm(int64_t first_ms, int64_t period_ms);

  Reactor& reactor_;
  std::function<void()> on_fire_;
  UniqueFd fd_;
};

}  // namespace sse
