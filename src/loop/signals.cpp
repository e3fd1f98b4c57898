// signals.cpp — see signals.h.
#include "sse/loop/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace sse {

Signals::Signals(Reactor& reactor, std::function<void(int)> on_signal)
    : reactor_(reactor), on_signal_(std::move(on_signal)) {}

Signals::~Signals() {
  if (fd_) reactor_.remove(fd_.get());
}

bool Signals::open() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGQUIT);
  sigaddset(&mask, SIGHUP);
  // Blocked signals stay pending until the signalfd reads them.
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return false;
  fd_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  return fd_ && reactor_.add(fd_.get(), EPOLLIN, this);
}

void Signals::on_events(uint32_t) noexcept {
  signalfd_siginfo info;
  while (::read(fd_.get(), &info, sizeof info) == sizeof info) {
    on_signal_(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace sse
