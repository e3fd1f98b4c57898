// signals.h — SIGINT/SIGTERM as an fd, and SIGPIPE switched off.
//
// The signals are blocked and read from a signalfd in the loop, so a
// shutdown request is just another event: no async-signal-safety rules, no
// flag polled by the loop. SIGPIPE is ignored for the whole process, so a
// write to a vanished peer is an EPIPE return value, never a dead server.
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

  // Blocks SIGINT and SIGTERM, ignores SIGPIPE, registers the signalfd.
  bool open();
  void on_events(uint32_t events) noexcept override;

 private:
  Reactor& reactor_;
  std::function<void(int)> on_signal_;
  UniqueFd fd_;
};

}  // namespace sse
