// signals.h — SIGINT/SIGTERM/SIGQUIT as an fd, SIGHUP held, SIGPIPE off.
//
// The signals are blocked and read from a signalfd in the loop, so a
// shutdown request is just another event: no async-signal-safety rules, no
// flag polled by the loop. SIGINT, SIGTERM and SIGQUIT are handed to the
// callback (the server shuts down gracefully on each; SIGQUIT's default
// action, a core dump, is not what an operator stopping the server wants).
// SIGHUP is blocked and read too (its default action would kill the
// server) and handed to the callback: the server reopens its access log,
// the conventional meaning ("logrotate moved the file").
// SIGPIPE is ignored for the whole process, so a write to a vanished peer
// is an EPIPE return value, never a dead server.
#pragma once

#include <functional>

#include "sse/loop/reactor.h"
#include "sse/loop/unique_fd.h"

namespace sse {

class Signals final : public EventHandler {
 public:
  Signals(Reactor& reactor, std::function<void(int signo)> on_signal);
  ~Signals();
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  // Blocks SIGINT, SIGTERM, SIGQUIT and SIGHUP, ignores SIGPIPE, registers
  // the signalfd.
  bool open();
  void on_events(uint32_t events) noexcept override;

 private:
  Reactor& reactor_;
  std::function<void(int)> on_signal_;
  UniqueFd fd_;
};

}  // namespace sse
