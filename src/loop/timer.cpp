// timer.cpp — see timer.h.
#include "sse/loop/timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

namespace sse {

Timer::Timer(Reactor& reactor, std::function<void()> on_fire)
    : reactor_(reactor), on_fire_(std::move(on_fire)) {}

Timer::~Timer() {
  if (fd_) reactor_.remove(fd_.get());
}

namespace {
timespec to_timespec(int64_t ms) {
  timespec t{};
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1'000'000;
  return t;
}
}  // namespace

bool Timer::arm(int64_t first_ms, int64_t period_ms) {
  if (!fd_) {
    fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!fd_ || !reactor_.add(fd_.get(), EPOLLIN, this)) return false;
  }
  itimerspec spec{};
  spec.it_value = to_timespec(first_ms);
  spec.it_interval = to_timespec(period_ms);
  return ::timerfd_settime(fd_.get(), 0, &spec, nullptr) == 0;
}

bool Timer::start(int64_t period_ms) {
  return arm(period_ms, period_ms);
}

bool Timer::start_once(int64_t delay_ms) {
  // it_value 0 would disarm the timer: the shortest delay is 1 ms.
  return arm(delay_ms > 0 ? delay_ms : 1, 0);
}

void Timer::stop() {
  if (fd_) arm(0, 0);
}

void Timer::on_events(uint32_t) noexcept {
  uint64_t expirations = 0;
  // Reading resets the count; EAGAIN means another pass already did.
  if (::read(fd_.get(), &expirations, sizeof expirations) != sizeof expirations) return;
  on_fire_();
}

}  // namespace sse
