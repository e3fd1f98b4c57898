// server.h — wires everything together once and runs the loop.
//
// main() builds a Server from the Config, calls open() and run(). The
// Server owns every long-lived object (reactor, listener, timers, signals,
// broadcaster, event log, static files, counters) and every Connection,
// indexed by fd. One pass of the loop:
//
//   1. reactor.poll(): accept, read and answer requests, fire timers;
//      publishes go to the event log, which parks them on the broadcaster;
//   2. broadcaster.queue_pending() and flush_slice(): each topic's events of this pass,
//      joined into one frame, go to its subscribers: one flush each,
//      normally a single send();
//   3. reap_closed(): destroy the connections closed during 1 and 2.
//
// A connection with more pipelined requests than one pass may answer puts
// itself on ready_; the next pass then polls without sleeping and resumes
// it after the reactor's events (resume_ready).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/events/event_log.h"
#include "sse/http/static_files.h"
#include "sse/loop/listener.h"
#include "sse/loop/reactor.h"
#include "sse/loop/signals.h"
#include "sse/loop/timer.h"
#include "sse/redis/redis_event_log.h"
#include "sse/server/access_log.h"
#include "sse/server/config.h"
#include "sse/server/connection.h"
#include "sse/server/loop_monitor.h"
#include "sse/server/stats.h"
#include "sse/server/ticker.h"
#include "sse/server/worker_slots.h"

namespace sse {

// What a worker process of --workers is told by its supervisor
// (supervisor.h): which slot of the shared figures is its own, and where to
// say "listening" instead of printing the start-up line.
struct WorkerRole {
  size_t index = 0;
  WorkerSlots* slots = nullptr;
  int ready_fd = -1;  // one byte is written here once the port is open
};

class Server {
 public:
  // `role` is null for a server of its own, else this worker's role.
  explicit Server(const Config& config, const WorkerRole* role = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens www, the listening socket, signals and timers, and prints the
  // start-up line. False (with `error`) if any of them failed.
  bool open(std::string& error);
  // Runs until SIGINT or SIGTERM; returns the exit status.
  int run();

 private:
  std::unique_ptr<EventLog> make_event_log();
  void on_accept(UniqueFd fd, const sockaddr_storage& peer);
  void on_tick();
  void on_housekeeping();
  void publish_figures();
  void resume_ready();
  void reap_closed();
  void close_all();
  void flush_access_log();
  void reopen_access_log();  // SIGHUP

  Config config_;
  Reactor reactor_;
  Broadcaster broadcaster_;
  // The in-memory log (LocalEventLog), or with --redis the shared one;
  // redis_ points at the latter for /stats (null without --redis).
  std::unique_ptr<EventLog> events_;
  RedisEventLog* redis_;
  StaticFiles files_;
  ServerCounters counters_;
  LoopMonitor loop_monitor_;
  std::unique_ptr<AccessLog> access_log_;  // --access-log, else null
  std::vector<Connection*> closed_;
  std::vector<Connection*> ready_;
  std::vector<Connection*> resuming_;
  ServerContext context_;
  std::vector<std::unique_ptr<Connection>> connections_;  // index: fd
  Listener listener_;
  Signals signals_;
  Ticker ticker_;
  Timer tick_timer_;
  Timer housekeeping_timer_;
  WorkerRole role_;  // index 0, no slots: not a worker
  Timer figures_timer_;  // workers: the shared figures, every 250 ms
  bool running_ = true;
};

}  // namespace sse
