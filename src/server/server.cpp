// server.cpp — see server.h.
#include "sse/server/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "sse/base/clock.h"
#include "sse/base/log.h"
#include "sse/base/trace.h"
#include "sse/events/local_event_log.h"
#include "sse/http/http_response.h"
#include "sse/loop/socket_address.h"

namespace sse {

namespace {

// Descriptors kept free for the listener, timers, signalfd, epoll, the www
// directory and the static file being read: --max-clients defaults to the
// fd limit minus this, so 503 comes before EMFILE.
constexpr size_t kReservedFds = 64;

// How often a worker copies its figures to the shared page: how old
// another worker's figures in /stats can be (worker_slots.h).
constexpr int64_t kFiguresPeriodMs = 250;

// Raises the soft fd limit to the hard one (servers are expected to hold
// many sockets; the soft default is often 1024) and returns it.
size_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<size_t>(limit.rlim_cur);
}

// How often to look for timeouts and idle streams: a quarter of the
// shortest of those periods, so each fires at most 25% late, but no more
// than every 10 ms and at least once a second.
int64_t housekeeping_period_ms(const Config& config) {
  int64_t shortest = std::min(config.header_timeout_ms, config.heartbeat_ms);
  return std::clamp<int64_t>(shortest / 4, 10, 1000);
}

}  // namespace

Server::Server(const Config& config, const WorkerRole* role)
    : config_(config),
      events_(make_event_log()),
      redis_(dynamic_cast<RedisEventLog*>(events_.get())),
      context_{config_,   reactor_, broadcaster_, *events_, files_,
               counters_, closed_,  ready_,       redis_,   &loop_monitor_},
      listener_(
          reactor_,
          [this](UniqueFd fd, const sockaddr_storage& peer) { on_accept(std::move(fd), peer); },
          counters_.connections_shed),
      signals_(reactor_,
               [this](int signo) {
                 if (signo == SIGHUP) {
                   reopen_access_log();
                   return;
                 }
                 if (!log_quiet()) log_line("signal %d: shutting down", signo);
                 if (tracing()) trace_line("server", "signal %d: stop after this pass", signo);
                 running_ = false;
               }),
      tick_timer_(reactor_, [this] { on_tick(); }),
      housekeeping_timer_(reactor_, [this] { on_housekeeping(); }),
      role_(role != nullptr ? *role : WorkerRole()),
      figures_timer_(reactor_, [this] { publish_figures(); }) {
  counters_.started_mono_ms = mono_ms();
  broadcaster_.set_slice_limit(config_.fanout_slice);
  context_.worker_slots = role_.slots;
  context_.worker_index = role_.index;
}

std::unique_ptr<EventLog> Server::make_event_log() {
  if (config_.redis_url.empty()) {
    // Ids start at the clock in microseconds: higher than any id of an
    // earlier run, and below 2^53 (exact in JavaScript) until the year 2255.
    return std::make_unique<LocalEventLog>(broadcaster_, config_.history,
                                           static_cast<uint64_t>(real_us()),
                                           config_.history_bytes);
  }
  RedisOptions options;
  options.address = config_.redis;
  options.prefix = config_.redis_prefix;
  options.history = config_.history;
  options.history_bytes = config_.history_bytes;
  options.timeout_ms = config_.redis_timeout_ms;
  return std::make_unique<RedisEventLog>(reactor_, broadcaster_, options);
}

Server::~Server() {
  close_all();
}

bool Server::open(std::string& error) {
  size_t fd_limit = raise_fd_limit();
  if (config_.max_clients == 0) {
    config_.max_clients = fd_limit > kReservedFds * 2 ? fd_limit - kReservedFds : fd_limit / 2;
  }
  if (config_.www != "none" && !files_.open(config_.www, error)) {
    // An explicit --www that cannot be opened is a mistake to stop on; the
    // default ./www missing (the binary run from another directory) only
    // means there is no page: streams, publish and stats work without it.
    if (config_.www_given) return false;
    log_line("no ./www here and no installed page: static files are not served "
             "(--www DIR to serve some)");
    error.clear();
  }
  if (!config_.access_log.empty()) {
    access_log_ = std::make_unique<AccessLog>();
    if (!access_log_->open(config_.access_log, error)) return false;
    context_.access_log = access_log_.get();
  }
  if (!signals_.open()) {
    error = "cannot set up signal handling";
    return false;
  }
  bool worker = role_.slots != nullptr;
  if (!listener_.open(config_.host, config_.port, error, worker)) return false;
  if (config_.tick_ms > 0 && !tick_timer_.start(config_.tick_ms)) {
    error = "cannot start the ticker timer";
    return false;
  }
  if (!housekeeping_timer_.start(housekeeping_period_ms(config_))) {
    error = "cannot start the housekeeping timer";
    return false;
  }
  // Redis may be away now: the server runs anyway and the log connects
  // (and reconnects) in the background.
  if (redis_ != nullptr) redis_->start();
  if (worker) {
    // The supervisor prints the one start-up line once every worker is in.
    if (!figures_timer_.start(kFiguresPeriodMs)) {
      error = "cannot start the figures timer";
      return false;
    }
    publish_figures();
    // A restarted worker's supervisor does not wait for it (the pipe may be
    // closed already): a failed write is no failure to start.
    char ready = 1;
    ssize_t told = ::write(role_.ready_fd, &ready, 1);
    (void)told;
    ::close(role_.ready_fd);
    role_.ready_fd = -1;
    return true;
  }
  // The one line scripts wait for (tests read the port from it).
  std::printf("sse-server listening on %s\n", listener_.bound_address().c_str());
  std::fflush(stdout);
  return true;
}

int Server::run() {
  while (running_) {
    // Without work left over (requests held back, a fan-out in progress),
    // sleep until something happens; with some, only look and go on.
    int ready_fds = reactor_.poll(ready_.empty() && !broadcaster_.flushing() ? -1 : 0);
    resume_ready();
    size_t events = broadcaster_.pending_count();
    broadcaster_.queue_pending(mono_ms());
    broadcaster_.flush_slice();
    reap_closed();
    flush_access_log();
    int64_t end_ns = mono_ns();
    loop_monitor_.record(PassRecord{end_ns / 1'000'000, (end_ns - reactor_.last_wake_ns()) / 1000,
                                    static_cast<uint32_t>(ready_fds),
                                    static_cast<uint32_t>(events),
                                    static_cast<uint32_t>(broadcaster_.last_slice_written())});
  }
  // Graceful shutdown: stop accepting, deliver what was published in the
  // last pass, then close every connection. What already sits in a socket's
  // kernel buffer still goes out before the FIN; what a slow subscriber had
  // queued in our OutQueue is dropped: it resumes with Last-Event-ID.
  listener_.close();
  broadcaster_.deliver_pending(mono_ms());
  close_all();
  flush_access_log();  // one last try: what the kernel will not take now is dropped
  return 0;
}

void Server::on_accept(UniqueFd fd, const sockaddr_storage& peer) {
  int fd_number = fd.get();
  // Events are small and latency matters: never let Nagle hold one back
  // waiting for the ACK of the previous one.
  int one = 1;
  ::setsockopt(fd_number, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto connection = std::make_unique<Connection>(context_, std::move(fd), peer);
  bool full = counters_.connections_open > config_.max_clients;
  bool started = full ? connection->start_rejected() : connection->start();
  if (!started) return;  // destroyed here: it never reached the reactor
  if (connections_.size() <= static_cast<size_t>(fd_number)) {
    connections_.resize(static_cast<size_t>(fd_number) + 1);
  }
  if (!log_quiet()) log_line("fd %d: accepted%s", fd_number, full ? " (full: 503)" : "");
  if (tracing()) {
    trace_line("server", "fd %d: accepted from %s%s", fd_number, format_address(peer).c_str(),
               full ? " (over --max-clients: it gets a 503)" : "");
  }
  connections_[static_cast<size_t>(fd_number)] = std::move(connection);
}

void Server::on_tick() {
  if (tracing()) trace_line("server", "timer: the ticker fired: publish a tick to main");
  ++counters_.ticks;
  const BroadcastCounters& delivered = broadcaster_.counters();
  TickInput input{broadcaster_.subscriber_count(), delivered.events_published,
                  delivered.frames_sent, &delivered.fanout_us};
  events_->append({NewEvent{"main", "", ticker_.next_data(input)}}, "", nullptr);
}

void Server::on_housekeeping() {
  // A linear sweep: O(connections) every period, one cheap comparison per
  // connection (20,000 connections: well under a millisecond). Every
  // timeout has the same length, so a per-deadline list would make this
  // O(expired); worth it only at far larger connection counts.
  int64_t now = mono_ms();
  if (tracing()) trace_line("server", "timer: housekeeping (timeouts, heartbeats)");
  for (auto& connection : connections_) {
    if (connection && !connection->is_closed()) connection->check_timeouts(now);
  }
  broadcaster_.send_heartbeats(now, config_.heartbeat_ms);
  flush_access_log();  // a pipe that was full may take the rest now
}

void Server::reopen_access_log() {
  if (!access_log_) return;
  // What is buffered goes to the old file first, as far as it will take it.
  flush_access_log();
  std::string error;
  if (!access_log_->reopen(error)) log_line("SIGHUP: %s (the old file is kept)", error.c_str());
}

void Server::flush_access_log() {
  if (!access_log_) return;
  access_log_->flush();
  counters_.access_log_lines = access_log_->buffer().lines_written();
  counters_.access_log_dropped = access_log_->buffer().lines_dropped();
}

void Server::publish_figures() {
  StatsView view{counters_, broadcaster_, events_->retained(), events_->last_id(), mono_ms(),
                 redis_,     &loop_monitor_};
  role_.slots->publish(role_.index, collect_stats(view));
}

void Server::resume_ready() {
  // Swapped first: a connection that yields again goes on the next list.
  // Connections closed this pass are still alive (reaped after), and say so.
  resuming_.swap(ready_);
  for (Connection* connection : resuming_) {
    if (!connection->is_closed()) connection->resume();
  }
  resuming_.clear();
}

void Server::reap_closed() {
  // No pointer to a connection about to be destroyed may stay on ready_.
  if (!ready_.empty() && !closed_.empty()) {
    ready_.erase(
        std::remove_if(ready_.begin(), ready_.end(), [](Connection* c) { return c->is_closed(); }),
        ready_.end());
  }
  for (Connection* connection : closed_) {
    connections_[static_cast<size_t>(connection->fd())].reset();
  }
  closed_.clear();
}

void Server::close_all() {
  for (auto& connection : connections_) {
    if (connection && !connection->is_closed()) connection->close("server shutdown");
  }
  reap_closed();
}

}  // namespace sse
