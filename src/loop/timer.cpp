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

bool Timer::start(int64_t period_ms) {
  if (!fd_) {
    fd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!fd_ || !reactor_.add(fd_.get(), EPOLLIN, this)) return false;
  }
  itimerspec spec{};
  spec.it_interval.tv_sec = period_ms / 1000;
  spec.it_interval.tv_nsec = (period_ms % 1000) * 1'000'000;
  spec.it_value = spec.it_interval;
  return ::timerfd_settime(fd_.get(), 0, &spec, nullptr) == 0;
}

void Timer::on_events(uint32_t) noexcept {
  uint64_t expirations = 0;
  // Reading resets the count; EAGAIN means another pass already did.
  if (::read(fd_.get(), &expirations, sizeof expirations) != sizeof expirations) return;
  on_fire_();
}

}  // namespace sse
