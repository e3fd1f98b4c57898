// supervisor.cpp — see supervisor.h.
#include "sse/server/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sse/base/clock.h"
#include "sse/base/log.h"
#include "sse/loop/listener.h"
#include "sse/loop/unique_fd.h"
#include "sse/server/server.h"
#include "sse/server/worker_slots.h"

namespace sse {

namespace {

constexpr int64_t kFirstRestartMs = 100;
constexpr int64_t kMaxRestartMs = 5000;
constexpr int64_t kHealthyAfterMs = 10000;  // a worker that lived this long starts afresh
constexpr int64_t kStartDeadlineMs = 10000;
constexpr int64_t kStopDeadlineMs = 5000;

struct Worker {
  pid_t pid = 0;  // 0: not running
  int64_t started_ms = 0;
  int64_t restart_at_ms = 0;  // > 0: due for a restart then
  int64_t backoff_ms = kFirstRestartMs;
};

// Binds (without listening) a socket on the configured address and port
// with SO_REUSEPORT: the port is then ours for as long as the supervisor
// runs, even while every worker restarts, and --port 0 becomes a port the
// workers can all bind. Not listening, it is given no connections.
bool reserve_port(Config& config, UniqueFd& reserved, std::string& bound, std::string& error) {
  ListenAddress address;
  if (!resolve_listen_address(config.host, config.port, address, error)) return false;
  reserved.reset(::socket(address.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!reserved ||
      ::setsockopt(reserved.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::setsockopt(reserved.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      ::bind(reserved.get(), reinterpret_cast<sockaddr*>(&address.address), address.length) != 0) {
    error = "cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " +
            std::strerror(errno);
    return false;
  }
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(reserved.get(), reinterpret_cast<sockaddr*>(&local), &length);
  config.port = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  bound = (local.ss_family == AF_INET6 ? "[" + config.host + "]" : config.host) + ":" +
          std::to_string(config.port);
  return true;
}

class Supervisor {
 public:
  Supervisor(const Config& config, WorkerSlots* slots, int reserved_fd)
      : config_(config), slots_(slots), reserved_fd_(reserved_fd), workers_(config.workers) {}

  // Forks worker `index`; returns the read end of its ready pipe (-1 on failure).
  int spawn(size_t index);
  // Starts every worker and waits until each listens. False if one failed.
  bool start_all();
  int run();

 private:
  void reap();
  void restart_due(int64_t now);
  int stop_all(int signo);
  int64_t wait_ms(int64_t now) const;

  Config config_;
  WorkerSlots* slots_;
  int reserved_fd_;
  std::vector<Worker> workers_;
  sigset_t signals_{};
  bool stopping_ = false;
};

int Supervisor::spawn(size_t index) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return -1;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(ready[0]);
    ::close(ready[1]);
    return -1;
  }
  if (pid == 0) {
    // The worker. If the supervisor goes, so do we (and if it went
    // between fork and here, at once).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    ::close(ready[0]);
    ::close(reserved_fd_);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the Server sets up its own
    WorkerRole role{index, slots_, ready[1]};
    int status = 1;
    {
      Server server(config_, &role);
      std::string error;
      if (server.open(error)) {
        status = server.run();
      } else {
        std::fprintf(stderr, "sse-server: worker %zu: %s\n", index, error.c_str());
      }
    }
    std::fflush(nullptr);
    ::_exit(status);
  }
  ::close(ready[1]);
  workers_[index].pid = pid;
  workers_[index].started_ms = mono_ms();
  workers_[index].restart_at_ms = 0;
  return ready[0];
}

bool Supervisor::start_all() {
  sigemptyset(&signals_);
  for (int signo : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) sigaddset(&signals_, signo);
  ::sigprocmask(SIG_BLOCK, &signals_, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<pollfd> ready;
  for (size_t i = 0; i < workers_.size(); ++i) {
    int fd = spawn(i);
    if (fd < 0) {
      std::fprintf(stderr, "sse-server: cannot start worker %zu: %s\n", i, std::strerror(errno));
      stop_all(SIGTERM);
      return false;
    }
    ready.push_back(pollfd{fd, POLLIN, 0});
  }
  // Every worker says it listens (one byte) or dies trying (EOF).
  bool ok = true;
  size_t waiting = ready.size();
  int64_t deadline = mono_ms() + kStartDeadlineMs;
  while (waiting > 0 && ok) {
    int64_t left = deadline - mono_ms();
    if (left <= 0 || ::poll(ready.data(), ready.size(), static_cast<int>(left)) < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    for (pollfd& p : ready) {
      if (p.fd < 0 || p.revents == 0) continue;
      char byte = 0;
      if (::read(p.fd, &byte, 1) != 1) ok = false;  // exited before listening
      ::close(p.fd);
      p.fd = -1;
      --waiting;
    }
  }
  for (pollfd& p : ready) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (!ok) {
    stop_all(SIGTERM);
    return false;
  }
  return true;
}

int64_t Supervisor::wait_ms(int64_t now) const {
  int64_t wait = -1;
  for (const Worker& worker : workers_) {
    if (worker.pid == 0 && worker.restart_at_ms > 0) {
      int64_t until = std::max<int64_t>(0, worker.restart_at_ms - now);
      wait = wait < 0 ? until : std::min(wait, until);
    }
  }
  return wait;
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker& worker = workers_[i];
      if (worker.pid != pid) continue;
      worker.pid = 0;
      slots_->clear(i);
      if (stopping_) break;
      int64_t now = mono_ms();
      if (now - worker.started_ms >= kHealthyAfterMs) worker.backoff_ms = kFirstRestartMs;
      worker.restart_at_ms = now + worker.backoff_ms;
      if (WIFSIGNALED(status)) {
        log_line("supervisor: worker %zu (pid %d) killed by signal %d; restarting in %lld ms", i,
                 static_cast<int>(pid), WTERMSIG(status),
                 static_cast<long long>(worker.backoff_ms));
      } else {
        log_line("supervisor: worker %zu (pid %d) exited with %d; restarting in %lld ms", i,
                 static_cast<int>(pid), WEXITSTATUS(status),
                 static_cast<long long>(worker.backoff_ms));
      }
      worker.backoff_ms = std::min(kMaxRestartMs, worker.backoff_ms * 2);
    }
  }
}

void Supervisor::restart_due(int64_t now) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& worker = workers_[i];
    if (worker.pid != 0 || worker.restart_at_ms == 0 || worker.restart_at_ms > now) continue;
    int fd = spawn(i);
    if (fd < 0) {
      worker.restart_at_ms = now + worker.backoff_ms;  // try again later
      continue;
    }
    // Its readiness is not awaited: the others serve meanwhile.
    ::close(fd);
    log_line("supervisor: worker %zu restarted (pid %d)", i, static_cast<int>(worker.pid));
  }
}

int Supervisor::stop_all(int signo) {
  stopping_ = true;
  for (Worker& worker : workers_) {
    if (worker.pid != 0) ::kill(worker.pid, signo);
  }
  // Each worker closes its streams and exits within a second; wait for all.
  int64_t deadline = mono_ms() + kStopDeadlineMs;
  for (;;) {
    reap();
    bool any = std::any_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.pid; });
    if (!any) return 0;
    int64_t left = deadline - mono_ms();
    if (left <= 0) break;
    timespec wait{0, 20'000'000};  // SIGCHLD wakes us sooner
    siginfo_t info;
    ::sigtimedwait(&signals_, &info, &wait);
  }
  for (Worker& worker : workers_) {
    if (worker.pid != 0) {
      log_line("supervisor: worker pid %d did not stop; killing it", static_cast<int>(worker.pid));
      ::kill(worker.pid, SIGKILL);
      ::waitpid(worker.pid, nullptr, 0);
      worker.pid = 0;
    }
  }
  return 0;
}

int Supervisor::run() {
  for (;;) {
    int64_t now = mono_ms();
    int64_t wait = wait_ms(now);
    siginfo_t info{};
    int signo;
    if (wait < 0) {
      signo = ::sigwaitinfo(&signals_, &info);
    } else {
      timespec timeout{static_cast<time_t>(wait / 1000), static_cast<long>(wait % 1000) * 1'000'000};
      signo = ::sigtimedwait(&signals_, &info, &timeout);
    }
    switch (signo) {
      case SIGCHLD:
        reap();
        break;
      case SIGHUP:
        for (Worker& worker : workers_) {
          if (worker.pid != 0) ::kill(worker.pid, SIGHUP);
        }
        break;
      case SIGINT:
      case SIGTERM:
      case SIGQUIT:
        log_line("supervisor: signal %d: stopping %zu workers", signo, workers_.size());
        return stop_all(SIGTERM);
      default:
        break;  // a timeout (or EINTR): restarts may be due
    }
    restart_due(mono_ms());
  }
}

}  // namespace

int run_supervisor(const Config& original) {
  Config config = original;
  UniqueFd reserved;
  std::string bound, error;
  if (!reserve_port(config, reserved, bound, error)) {
    std::fprintf(stderr, "sse-server: %s\n", error.c_str());
    return 1;
  }
  WorkerSlots* slots = WorkerSlots::create(config.workers);
  if (slots == nullptr) {
    std::fprintf(stderr, "sse-server: cannot map the shared figures: %s\n", std::strerror(errno));
    return 1;
  }
  Supervisor supervisor(config, slots, reserved.get());
  if (!supervisor.start_all()) {
    std::fprintf(stderr, "sse-server: the workers could not start\n");
    return 1;
  }
  // The one start-up line, as a single server prints it.
  std::printf("sse-server listening on %s\n", bound.c_str());
  std::fflush(stdout);
  log_line("supervisor: %zu workers on %s", config.workers, bound.c_str());
  return supervisor.run();
}

}  // namespace sse
