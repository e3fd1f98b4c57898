// harness.cpp — the integration tests' process, socket and event-stream
// plumbing (see harness.h). Uses only POSIX and the standard library, so the
// tests share no code with the server they judge.
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

namespace {

using SteadyClock = std::chrono::steady_clock;

bool passed(Deadline deadline) {
  return SteadyClock::now() >= deadline;
}

// Sleeps up to `ms` or until the deadline; used only between polls of a
// condition that has no fd to wait on (a child's exit, a /stats counter).
void pause_ms(long ms, Deadline deadline) {
  int wait = std::min<long>(ms, ms_left(deadline));
  if (wait > 0) poll(nullptr, 0, wait);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  std::size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

ExitStatus decode_status(int raw) {
  ExitStatus status;
  if (WIFEXITED(raw)) {
    status.exited = true;
    status.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    status.signal = WTERMSIG(raw);
  }
  return status;
}

// Waits for `pid` to exit. There is no fd for "child exited" without
// pidfd_open, so this polls waitpid(WNOHANG) every 5 ms until the deadline.
bool wait_child(pid_t pid, Deadline deadline, ExitStatus& out) {
  for (;;) {
    int raw = 0;
    pid_t got = waitpid(pid, &raw, WNOHANG);
    if (got == pid) {
      out = decode_status(raw);
      return true;
    }
    if (got < 0 && errno != EINTR) {
      out = ExitStatus{};  // not our child any more: treat as gone
      return true;
    }
    if (passed(deadline)) {
      out = ExitStatus{};
      out.timed_out = true;
      return false;
    }
    pause_ms(5, deadline);
  }
}

// fork()+execv() of the server with stdout (and optionally stderr) on pipes.
// The child dies with the test binary (PR_SET_PDEATHSIG), so an aborted run
// leaves no servers behind holding ports.
pid_t spawn(const std::vector<std::string>& args, int* out_fd, int* err_fd,
            const SpawnOptions& options = {}) {
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (err_fd != nullptr && pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (options.fd_limit > 0) {
      rlimit limit{static_cast<rlim_t>(options.fd_limit), static_cast<rlim_t>(options.fd_limit)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    for (const std::string& entry : options.env) putenv(const_cast<char*>(entry.c_str()));
    dup2(out_pipe[1], STDOUT_FILENO);
    if (err_fd != nullptr) dup2(err_pipe[1], STDERR_FILENO);
    if (!options.stderr_file.empty()) {
      int err_file = open(options.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err_file < 0) _exit(126);
      dup2(err_file, STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  *out_fd = out_pipe[0];
  if (err_fd != nullptr) {
    close(err_pipe[1]);
    *err_fd = err_pipe[0];
  }
  return pid;
}

// RFC 9112 §7.1 chunked body: true once the last chunk and the trailer
// section are complete; `body` gets the data, `used` the bytes consumed.
bool decode_chunked(const std::string& in, std::string& body, std::size_t& used) {
  std::size_t pos = 0;
  body.clear();
  for (;;) {
    std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    std::size_t size = std::strtoul(in.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      // Trailer fields, each ending in CRLF, then an empty line.
      for (;;) {
        std::size_t end = in.find("\r\n", pos);
        if (end == std::string::npos) return false;
        bool empty = end == pos;
        pos = end + 2;
        if (empty) {
          used = pos;
          return true;
        }
      }
    }
    if (in.size() < pos + size + 2) return false;
    body.append(in, pos, size);
    pos += size + 2;
  }
}

}  // namespace

Deadline after_ms(long ms) {
  return SteadyClock::now() + std::chrono::milliseconds(ms);
}

int ms_left(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 60000));
}

std::string server_path() {
  const char* env = std::getenv("SSE_SERVER");
  return (env != nullptr && *env != '\0') ? env : "./sse-server";
}

// ---------------------------------------------------------------- processes

ServerProcess::ServerProcess(std::vector<std::string> args, const SpawnOptions& options) {
  bool own_port = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
    return arg == "--port" || arg.rfind("--port=", 0) == 0;
  });
  std::vector<std::string> argv = {server_path()};
  if (!own_port) argv.insert(argv.end(), {"--port", "0"});
  argv.insert(argv.end(), {"--host", "127.0.0.1", "--quiet"});
  argv.insert(argv.end(), args.begin(), args.end());

  pid_ = spawn(argv, &stdout_fd_, nullptr, options);

  // The start-up line may arrive in pieces; only a whole line is parsed.
  std::string seen;
  Deadline deadline = after_ms(10000);
  for (;;) {
    std::size_t start = 0;
    for (std::size_t eol; (eol = seen.find('\n', start)) != std::string::npos; start = eol + 1) {
      std::string line = seen.substr(start, eol - start);
      if (line.find("listening on ") == std::string::npos) continue;
      std::size_t colon = line.rfind(':');
      port_ = colon == std::string::npos ? 0 : std::atoi(line.c_str() + colon + 1);
      if (port_ <= 0 || port_ > 65535) break;
      return;
    }
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, ms_left(deadline));
    ssize_t n = 0;
    char chunk[4096];
    if (ready > 0) n = read(stdout_fd_, chunk, sizeof chunk);
    if (ready > 0 && n > 0) {
      seen.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    // EOF (the server exited), a bad port, or the deadline: clean up, fail.
    ExitStatus status = signal_and_wait(SIGKILL, 5000);
    close(stdout_fd_);
    stdout_fd_ = -1;
    std::string why =
        ready == 0 ? "no start-up line within 10 s" : "server exited before listening";
    throw std::runtime_error(why + " (exit code " + std::to_string(status.code) + ", signal " +
                             std::to_string(status.signal) + "), stdout: " + seen);
  }
}

ServerProcess::~ServerProcess() {
  if (!reaped_ && pid_ > 0) {
    ExitStatus status = signal_and_wait(SIGTERM, 5000);
    if (status.timed_out) signal_and_wait(SIGKILL, 5000);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

ExitStatus ServerProcess::wait_exit(Deadline deadline) {
  if (reaped_) return status_;
  ExitStatus status;
  if (wait_child(pid_, deadline, status)) {
    reaped_ = true;
    status_ = status;
  }
  return status;
}

ExitStatus ServerProcess::signal_and_wait(int sig, long timeout_ms) {
  if (!reaped_) kill(pid_, sig);
  return wait_exit(after_ms(timeout_ms));
}

bool ServerProcess::running() {
  if (reaped_) return false;
  wait_exit(SteadyClock::now());
  return !reaped_;
}

long ServerProcess::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

long ServerProcess::fd_count() const {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", error);
  if (error) return -1;
  long count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return -1;
    ++count;
  }
  return count;
}

long ServerProcess::cpu_ms() const {
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields 14 and 15 (utime, stime) count after the command name, which is
  // in parentheses and may contain spaces: start after the last ')'.
  std::size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields;
  std::size_t pos = close + 2;
  while (pos < text.size() && fields.size() < 13) {
    std::size_t space = text.find(' ', pos);
    if (space == std::string::npos) space = text.size();
    fields.push_back(text.substr(pos, space - pos));
    pos = space + 1;
  }
  if (fields.size() < 13) return -1;
  long ticks = std::atol(fields[11].c_str()) + std::atol(fields[12].c_str());
  return ticks * 1000 / sysconf(_SC_CLK_TCK);
}

RunResult run_to_exit(const std::vector<std::string>& args, long timeout_ms) {
  std::vector<std::string> argv = {server_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  int out_fd = -1;
  int err_fd = -1;
  pid_t pid = spawn(argv, &out_fd, &err_fd);

  RunResult result;
  Deadline deadline = after_ms(timeout_ms);
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0 && !passed(deadline)) {
    if (poll(fds, 2, ms_left(deadline)) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[4096];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  if (!wait_child(pid, deadline, result.status)) {
    kill(pid, SIGKILL);
    ExitStatus ignored;
    wait_child(pid, after_ms(5000), ignored);
    result.status.timed_out = true;
  }
  for (pollfd& pfd : fds) {
    if (pfd.fd >= 0) close(pfd.fd);
  }
  return result;
}

// ------------------------------------------------------------------- client

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

Client::Client(int port, int rcvbuf) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // No Nagle: a test that writes a request in pieces wants them to travel as
  // pieces, to exercise the server's incremental parser.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // SO_SNDTIMEO also bounds connect(); the reads and writes below use poll().
  timeval timeout{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(err));
  }
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

bool Client::send(std::string_view bytes, long timeout_ms) {
  Deadline deadline = after_ms(timeout_ms);
  while (!bytes.empty()) {
    pollfd pfd{fd_, POLLOUT, 0};
    int ready = poll(&pfd, 1, ms_left(deadline));
    if (ready == 0) return false;
    if (ready < 0) continue;
    // MSG_NOSIGNAL: a server that closes early must fail the send, not kill
    // the test binary with SIGPIPE.
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
  }
  return true;
}

bool Client::fill(Deadline deadline) {
  if (fd_ < 0) return false;
  // With time left, wait for input; without, just try (MSG_DONTWAIT), which
  // saves a poll() per read when thousands of streams are drained.
  if (!passed(deadline)) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, ms_left(deadline)) <= 0) return false;
  }
  char chunk[kChunk];
  ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
  last_read_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  if (n > 0) {
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  if (n == 0 || (errno != EAGAIN && errno != EINTR)) peer_closed_ = true;
  if (n < 0 && errno == ECONNRESET) peer_reset_ = true;
  return false;
}

bool Client::read_until(const std::function<bool(const std::string&)>& done, Deadline deadline) {
  for (;;) {
    if (done(buffer_)) return true;
    if (peer_closed_ || passed(deadline)) return false;
    fill(deadline);
  }
}

bool Client::read_until(std::string_view needle, Deadline deadline) {
  return read_until(
      [needle](const std::string& buffer) { return buffer.find(needle) != std::string::npos; },
      deadline);
}

std::size_t Client::read_some(long ms) {
  std::size_t before = buffer_.size();
  Deadline deadline = after_ms(ms);
  // Wait for the first bytes, then take everything already queued. A read
  // that did not fill the chunk emptied the socket: no need to ask again.
  if (fill(deadline)) {
    while (!peer_closed_ && last_read_ == kChunk && fill(SteadyClock::now())) {
    }
  }
  return buffer_.size() - before;
}

HttpResponse Client::read_head(Deadline deadline) {
  HttpResponse response;
  if (!read_until("\r\n\r\n", deadline)) return response;
  std::size_t end = buffer_.find("\r\n\r\n");
  response.raw_head = buffer_.substr(0, end + 4);
  buffer_.erase(0, end + 4);

  std::size_t eol = response.raw_head.find("\r\n");
  response.status_line = response.raw_head.substr(0, eol);
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  std::size_t space = response.status_line.find(' ');
  if (space != std::string::npos)
    response.status = std::atoi(response.status_line.c_str() + space + 1);

  std::size_t pos = eol + 2;
  while (pos < end) {
    std::size_t next = response.raw_head.find("\r\n", pos);
    std::string line = response.raw_head.substr(pos, next - pos);
    pos = next + 2;
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    response.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return response;
}

HttpResponse Client::read_response(Deadline deadline, bool head_request) {
  HttpResponse response = read_head(deadline);
  if (response.status == 0 || head_request) return response;
  if (response.status < 200 || response.status == 204 || response.status == 304) return response;

  if (response.has("content-length")) {
    std::size_t length = std::strtoull(response.header("content-length").c_str(), nullptr, 10);
    read_until([length](const std::string& buffer) { return buffer.size() >= length; }, deadline);
    std::size_t take = std::min(length, buffer_.size());
    response.body = buffer_.substr(0, take);
    buffer_.erase(0, take);
  } else if (lower(response.header("transfer-encoding")).find("chunked") != std::string::npos) {
    std::size_t used = 0;
    std::string body;
    if (read_until([&](const std::string& buffer) { return decode_chunked(buffer, body, used); },
                   deadline)) {
      response.body = body;
      buffer_.erase(0, used);
    }
  } else {
    wait_closed(deadline);
    response.body = buffer_;
    buffer_.clear();
  }
  return response;
}

bool Client::wait_closed(Deadline deadline) {
  for (;;) {
    if (peer_closed_) return true;
    if (passed(deadline)) return false;
    fill(deadline);
  }
}

void Client::close_abruptly() {
  if (fd_ < 0) return;
  linger abort_on_close{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  close(fd_);
  fd_ = -1;
}

void Client::shut_write() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

// ------------------------------------------------------------- event stream

void SseParser::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF split across reads
    }
    if (c == '\r' || c == '\n') {
      process_line(line_);
      line_.clear();
      after_cr_ = c == '\r';
    } else {
      line_ += c;
    }
  }
}

void SseParser::process_line(const std::string& raw) {
  std::string line = raw;
  if (!started_) {
    started_ = true;
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  }
  SseLine parsed;
  if (line.empty()) {
    parsed.blank = true;
    if (keep_lines) lines.push_back(parsed);
    dispatch();
    return;
  }
  if (line[0] == ':') {
    parsed.comment = true;
    parsed.value = line.substr(1);
    if (keep_lines) lines.push_back(parsed);
    return;
  }
  std::size_t colon = line.find(':');
  parsed.field = line.substr(0, colon);
  if (colon != std::string::npos) {
    parsed.value = line.substr(colon + 1);
    if (!parsed.value.empty() && parsed.value[0] == ' ') parsed.value.erase(0, 1);
  }
  if (keep_lines) lines.push_back(parsed);

  const std::string& value = parsed.value;
  if (parsed.field == "event") {
    type_ = value;
  } else if (parsed.field == "data") {
    data_ += value;
    data_ += '\n';
  } else if (parsed.field == "id") {
    if (value.find('\0') == std::string::npos) {
      last_id_ = value;
      id_in_event_ = true;
    }
  } else if (parsed.field == "retry") {
    bool digits =
        !value.empty() && value.size() < 10 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) retry_ms = std::atol(value.c_str());
  }
}

void SseParser::dispatch() {
  bool had_id = id_in_event_;
  id_in_event_ = false;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  SseEvent event;
  data_.pop_back();  // the LF after the last data line
  event.data = data_;
  event.type = type_.empty() ? "message" : type_;
  event.last_event_id = last_id_;
  event.had_id_field = had_id;
  events.push_back(event);
  data_.clear();
  type_.clear();
}

SseStream::SseStream(int port, const std::string& target, const std::string& extra_headers,
                     int rcvbuf)
    : client(port, rcvbuf) {
  client.send("GET " + target + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" +
              extra_headers + "\r\n");
  head = client.read_head(after_ms(10000));
  absorb();
}

SseStream::SseStream(NoWait, int port, const std::string& target, const std::string& extra_headers,
                     int rcvbuf)
    : client(port, rcvbuf) {
  client.send("GET " + target + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" +
              extra_headers + "\r\n");
}

bool SseStream::finish_open(Deadline deadline) {
  head = client.read_head(deadline);
  absorb();
  return head.status == 200;
}

std::vector<SseEvent> SseStream::take_events() {
  absorb();
  std::vector<SseEvent> taken(parser.events.begin() + static_cast<std::ptrdiff_t>(next_),
                              parser.events.end());
  parser.events.clear();
  parser.lines.clear();
  next_ = 0;
  scanned_ = 0;
  return taken;
}

void SseStream::absorb() {
  if (client.buffer().empty()) return;
  parser.feed(client.buffer());
  client.buffer().clear();
  for (; scanned_ < parser.events.size(); ++scanned_) {
    const SseEvent& event = parser.events[scanned_];
    if (event.had_id_field) max_id_ = std::max(max_id_, to_id(event.last_event_id));
  }
}

void SseStream::pump(long ms) {
  client.read_some(ms);
  absorb();
}

void SseStream::collect(long ms) {
  Deadline deadline = after_ms(ms);
  while (ms_left(deadline) > 0 && !client.peer_closed()) client.read_some(ms_left(deadline));
  absorb();
}

bool SseStream::wait_for(const std::function<bool(const SseParser&)>& done, Deadline deadline) {
  for (;;) {
    absorb();
    if (done(parser)) return true;
    if (client.peer_closed() || passed(deadline)) return false;
    client.read_some(std::max(1, ms_left(deadline)));
  }
}

bool SseStream::next_event(SseEvent& out, Deadline deadline) {
  if (!wait_for([this](const SseParser& p) { return p.events.size() > next_; }, deadline)) {
    return false;
  }
  out = parser.events[next_++];
  return true;
}

bool SseStream::receives_new_event(Deadline deadline) {
  pump(0);  // events already on the wire do not count as new
  unsigned long long baseline = max_id_;
  return wait_for([this, baseline](const SseParser&) { return max_id_ > baseline; }, deadline);
}

std::vector<std::unique_ptr<SseStream>> open_streams(int port, std::size_t count,
                                                     const std::string& target, std::size_t batch) {
  std::vector<std::unique_ptr<SseStream>> streams;
  streams.reserve(count);
  while (streams.size() < count) {
    std::size_t first = streams.size();
    std::size_t last = std::min(count, first + std::max<std::size_t>(batch, 1));
    for (std::size_t i = first; i < last; ++i) {
      streams.push_back(std::make_unique<SseStream>(SseStream::NoWait{}, port, target));
    }
    Deadline deadline = after_ms(20000);
    for (std::size_t i = first; i < last; ++i) {
      if (!streams[i]->finish_open(deadline)) {
        throw std::runtime_error("stream " + std::to_string(i) + " of " + std::to_string(count) +
                                 " did not open: status " +
                                 std::to_string(streams[i]->head.status));
      }
    }
  }
  return streams;
}

namespace {
// poll() for input over `fds` for up to `ms`; the indices that are ready.
std::vector<std::size_t> readable(const std::vector<int>& fds, long ms) {
  std::vector<pollfd> polled;
  polled.reserve(fds.size());
  for (int fd : fds) polled.push_back(pollfd{fd, POLLIN, 0});
  std::vector<std::size_t> ready;
  if (poll(polled.data(), polled.size(), static_cast<int>(ms)) <= 0) return ready;
  for (std::size_t i = 0; i < polled.size(); ++i) {
    if (polled[i].revents != 0) ready.push_back(i);
  }
  return ready;
}
}  // namespace

std::size_t read_ready(const std::vector<Client*>& clients, long ms) {
  std::vector<int> fds;
  fds.reserve(clients.size());
  for (Client* client : clients) fds.push_back(client->fd());
  std::vector<std::size_t> ready = readable(fds, ms);
  for (std::size_t i : ready) clients[i]->read_some(0);
  return ready.size();
}

std::size_t pump_streams(const std::vector<SseStream*>& streams, long ms) {
  std::vector<int> fds;
  fds.reserve(streams.size());
  for (SseStream* stream : streams) fds.push_back(stream->client.fd());
  std::vector<std::size_t> ready = readable(fds, ms);
  for (std::size_t i : ready) streams[i]->pump(0);
  return ready.size();
}

// -------------------------------------------------------------- conveniences

HttpResponse http_raw(int port, const std::string& raw, bool head_request) {
  Client client(port);
  client.send(raw);
  return client.read_response(after_ms(10000), head_request);
}

HttpResponse http_get(int port, const std::string& path) {
  return http_raw(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

std::string publish_request(const std::string& json, const std::string& extra_headers) {
  std::string request = "POST /publish HTTP/1.1\r\nHost: localhost\r\n";
  if (lower(extra_headers).find("content-type:") == std::string::npos) {
    request += "Content-Type: application/json\r\n";
  }
  request += "Content-Length: " + std::to_string(json.size()) + "\r\n" + extra_headers + "\r\n";
  return request + json;
}

HttpResponse publish(int port, const std::string& json, const std::string& extra_headers) {
  return http_raw(port, publish_request(json, "Connection: close\r\n" + extra_headers));
}

std::string stats(int port) {
  HttpResponse response = http_get(port, "/stats");
  return response.status == 200 ? response.body : "";
}

namespace {
// Position just after `"key":` (and any spaces), or npos.
std::size_t value_start(const std::string& body, const std::string& key) {
  std::size_t pos = body.find("\"" + key + "\"");
  if (pos == std::string::npos) return pos;
  pos += key.size() + 2;
  while (pos < body.size() && std::isspace(static_cast<unsigned char>(body[pos]))) ++pos;
  if (pos >= body.size() || body[pos] != ':') return std::string::npos;
  ++pos;
  while (pos < body.size() && std::isspace(static_cast<unsigned char>(body[pos]))) ++pos;
  return pos;
}
}  // namespace

double json_number(const std::string& body, const std::string& key) {
  std::size_t pos = value_start(body, key);
  if (pos == std::string::npos) return std::nan("");
  const char* begin = body.c_str() + pos;
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  return end == begin ? std::nan("") : value;
}

std::string json_string(const std::string& body, const std::string& key) {
  std::size_t pos = value_start(body, key);
  if (pos == std::string::npos || body[pos] != '"') return "";
  std::string out;
  for (++pos; pos < body.size() && body[pos] != '"'; ++pos) {
    char c = body[pos];
    if (c == '\\' && pos + 5 < body.size() && body[pos + 1] == 'u') {
      // \uXXXX to UTF-8; a surrogate half is encoded on its own, which is
      // enough for comparing and measuring test strings.
      unsigned long code = std::strtoul(body.substr(pos + 2, 4).c_str(), nullptr, 16);
      pos += 5;
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
      continue;
    }
    if (c == '\\' && pos + 1 < body.size()) {
      c = body[++pos];
      if (c == 'n') c = '\n';
      if (c == 'r') c = '\r';
      if (c == 't') c = '\t';
      if (c == 'b') c = '\b';
      if (c == 'f') c = '\f';
    }
    out += c;
  }
  return out;
}

std::vector<unsigned long long> event_ids(const SseParser& parser) {
  std::vector<unsigned long long> ids;
  for (const SseEvent& event : parser.events) {
    if (event.type != "gap") ids.push_back(to_id(event.last_event_id));
  }
  return ids;
}

std::vector<unsigned long long> published_ids(const std::string& body) {
  std::vector<unsigned long long> ids;
  std::size_t pos = body.find(':');
  while (pos != std::string::npos) {
    std::size_t begin = body.find_first_of("0123456789", pos);
    if (begin == std::string::npos) break;
    std::size_t end = body.find_first_not_of("0123456789", begin);
    ids.push_back(to_id(body.substr(begin, end - begin)));
    pos = end;
  }
  return ids;
}

unsigned long long to_id(const std::string& text) {
  if (text.empty() || text.size() > 19) return 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
  }
  return std::strtoull(text.c_str(), nullptr, 10);
}

bool wait_stat_at_least(int port, const std::string& key, double value, Deadline deadline) {
  for (;;) {
    if (json_number(stats(port), key) >= value) return true;
    if (passed(deadline)) return false;
    pause_ms(50, deadline);
  }
}

bool wait_stat_equal(int port, const std::string& key, double value, Deadline deadline) {
  for (;;) {
    if (json_number(stats(port), key) == value) return true;
    if (passed(deadline)) return false;
    pause_ms(50, deadline);
  }
}

TempDir::TempDir() {
  char pattern[] = "/tmp/sse-it-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::filesystem::path file = std::filesystem::path(path_) / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

// measured(): a server whose memory is measured. ASan's quarantine keeps
// freed blocks out of reuse up to 256 MiB, so without a cap RSS grows by
// everything a round allocated (measured: 50 MiB per 2,000 connections);
// capped at 2 MiB it still catches a use-after-free of recent blocks, and
// the RSS settles within two rounds. A release build ignores the variable.
SpawnOptions measured(long fd_limit) {
  SpawnOptions options;
  options.fd_limit = fd_limit;
  const char* inherited = std::getenv("ASAN_OPTIONS");
  std::string asan = inherited != nullptr ? inherited : "";
  if (!asan.empty()) asan += ":";
  options.env.push_back("ASAN_OPTIONS=" + asan + "quarantine_size_mb=2");
  return options;
}

// -------------------------------------------------------------------- Redis

namespace {


// Positions just after every `"key":` (and spaces) in the text: a key may
// also occur as a string value ("state":"connected"), which has no colon.
std::vector<std::size_t> values_of(const std::string& body, const std::string& key) {
  std::vector<std::size_t> found;
  const std::string quoted = "\"" + key + "\"";
  for (std::size_t pos = body.find(quoted); pos != std::string::npos;
       pos = body.find(quoted, pos + 1)) {
    std::size_t at = pos + quoted.size();
    while (at < body.size() && std::isspace(static_cast<unsigned char>(body[at]))) ++at;
    if (at >= body.size() || body[at] != ':') continue;
    ++at;
    while (at < body.size() && std::isspace(static_cast<unsigned char>(body[at]))) ++at;
    found.push_back(at);
  }
  return found;
}

// Where the RESP reply starting at s[pos] ends, or npos while incomplete.
std::size_t resp_end(const std::string& s, std::size_t pos) {
  if (pos >= s.size()) return std::string::npos;
  std::size_t eol = s.find("\r\n", pos);
  if (eol == std::string::npos) return std::string::npos;
  long count = std::atol(s.c_str() + pos + 1);
  switch (s[pos]) {
    case '$':
      if (count < 0) return eol + 2;
      return s.size() >= eol + 2 + count + 2 ? eol + 2 + count + 2 : std::string::npos;
    case '*':
      pos = eol + 2;
      for (long i = 0; i < count && pos != std::string::npos; ++i) pos = resp_end(s, pos);
      return pos;
    default:  // + - : and the other one-line types
      return eol + 2;
  }
}

std::string redis_server_path() {
  const char* env = std::getenv("SSE_REDIS_SERVER");
  return (env != nullptr && *env != '\0') ? env : "/usr/bin/redis-server";
}

// A port nothing listens on right now: bind port 0, read it, close. Another
// process may take it before Redis does; the caller retries then.
int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  if (port == 0) throw std::runtime_error("no free loopback port");
  return port;
}

}  // namespace

std::size_t json_object_end(const std::string& body, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (; pos < body.size(); ++pos) {
    char c = body[pos];
    if (in_string) {
      if (c == '\\') ++pos;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return pos + 1;
  }
  return std::string::npos;
}

std::string json_object(const std::string& body, const std::string& key) {
  for (std::size_t at : values_of(body, key)) {
    if (body[at] != '{') continue;
    std::size_t end = json_object_end(body, at);
    if (end != std::string::npos) return body.substr(at, end - at);
  }
  return "";
}

bool json_true(const std::string& body, const std::string& key) {
  for (std::size_t at : values_of(body, key)) {
    if (body.compare(at, 4, "true") == 0) return true;
  }
  return false;
}

bool wait_redis_connected(int port, Deadline deadline) {
  for (;;) {
    if (json_true(json_object(stats(port), "redis"), "connected")) return true;
    if (passed(deadline)) return false;
    pause_ms(20, deadline);
  }
}

RedisProcess::RedisProcess(bool append_only, bool start_now) : append_only_(append_only) {
  if (access(redis_server_path().c_str(), X_OK) != 0) {
    throw std::runtime_error(redis_server_path() + " is not installed (apt-get install redis-server)");
  }
  port_ = free_loopback_port();
  if (!start_now) return;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (launch()) return;
    port_ = free_loopback_port();  // taken meanwhile: another one
  }
  throw std::runtime_error("redis-server did not start; log in " + dir_.path());
}

RedisProcess::~RedisProcess() {
  kill9();
}

void RedisProcess::start() {
  if (!launch()) {
    throw std::runtime_error("redis-server exited at start on port " + std::to_string(port_) +
                             "; log in " + dir_.path() + "/redis.log");
  }
}

bool RedisProcess::launch() {
  std::vector<std::string> args = {redis_server_path(), "--bind", "127.0.0.1", "--port",
                                   std::to_string(port_), "--save", "", "--dir", dir_.path(),
                                   "--daemonize", "no", "--logfile", dir_.path() + "/redis.log"};
  if (append_only_) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Loading an AOF or a dump answers -LOADING for a while: wait for PONG.
  Deadline deadline = after_ms(10000);
  for (;;) {
    ExitStatus status;
    if (wait_child(pid_, SteadyClock::now(), status)) {
      pid_ = -1;
      return false;
    }
    if (command({"PING"}, 1000) == "+PONG\r\n") return true;
    if (passed(deadline)) {
      kill9();
      throw std::runtime_error("redis-server did not answer PING within 10 s; log in " +
                               dir_.path() + "/redis.log");
    }
    pause_ms(20, deadline);
  }
}

void RedisProcess::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);  // works on a stopped process too
  ExitStatus ignored;
  wait_child(pid_, after_ms(10000), ignored);
  pid_ = -1;
}

void RedisProcess::pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisProcess::resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

bool RedisProcess::running() {
  if (pid_ <= 0) return false;
  ExitStatus status;
  if (wait_child(pid_, SteadyClock::now(), status)) pid_ = -1;
  return pid_ > 0;
}

std::string RedisProcess::command(const std::vector<std::string>& args, long timeout_ms) {
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    request += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  try {
    Client client(port_);
    if (!client.send(request, timeout_ms)) return "";
    bool complete = client.read_until(
        [](const std::string& buffer) { return resp_end(buffer, 0) != std::string::npos; },
        after_ms(timeout_ms));
    return complete ? client.buffer().substr(0, resp_end(client.buffer(), 0)) : "";
  } catch (const std::runtime_error&) {
    return "";  // nothing listening
  }
}

// ------------------------------------------------------------------ ledger

Watcher::Watcher(std::string name, int port, std::string target, std::size_t from,
                 const std::string& extra_headers)
    : name_(std::move(name)), target_(std::move(target)), from_(from) {
  stream_ = std::make_unique<SseStream>(port, target_, extra_headers);
  if (stream_->head.status != 200) {
    throw std::runtime_error("watcher " + name_ + ": GET " + target_ + " answered " +
                             std::to_string(stream_->head.status));
  }
}

std::vector<SseEvent> Watcher::events() {
  std::vector<SseEvent> all = earlier_;
  all.insert(all.end(), stream_->parser.events.begin(), stream_->parser.events.end());
  return all;
}

std::vector<unsigned long long> Watcher::ids() {
  std::vector<unsigned long long> out;
  for (const SseEvent& event : events()) {
    if (event.type != "gap") out.push_back(to_id(event.last_event_id));
  }
  return out;
}

bool Watcher::reconnect(int port) {
  stream_->collect(200);  // what the old connection still carried
  earlier_.insert(earlier_.end(), stream_->parser.events.begin(), stream_->parser.events.end());
  std::string headers;
  if (!earlier_.empty()) headers = "Last-Event-ID: " + earlier_.back().last_event_id + "\r\n";
  stream_.reset();
  stream_ = std::make_unique<SseStream>(port, target_, headers);
  return stream_->head.status == 200;
}

Delivery tally(const std::vector<unsigned long long>& acked,
               const std::vector<Watcher*>& watchers) {
  Delivery result;
  result.published = acked.size();
  std::vector<bool> missing(acked.size(), false);
  std::set<unsigned long long> acked_set(acked.begin(), acked.end());
  auto note = [&result](const std::string& text) {
    if (result.detail.size() < 2000) result.detail += text + "\n";
  };
  for (Watcher* watcher : watchers) {
    std::set<unsigned long long> seen;
    unsigned long long previous = 0;
    for (const SseEvent& event : watcher->events()) {
      if (event.type == "gap") {
        ++result.gaps;
        note(watcher->name() + ": gap " + event.data + " id " + event.last_event_id);
        continue;
      }
      unsigned long long id = to_id(event.last_event_id);
      if (!seen.insert(id).second) {
        ++result.duplicated;
        note(watcher->name() + ": duplicate " + std::to_string(id));
      } else if (id <= previous) {
        ++result.disordered;
        note(watcher->name() + ": " + std::to_string(id) + " after " + std::to_string(previous));
      }
      if (acked_set.count(id) == 0) ++result.unacknowledged;
      previous = id;
    }
    for (std::size_t i = watcher->from(); i < acked.size(); ++i) {
      if (seen.count(acked[i]) != 0) continue;
      if (!missing[i]) note(watcher->name() + ": missing " + std::to_string(acked[i]));
      missing[i] = true;
    }
  }
  result.lost = static_cast<std::size_t>(std::count(missing.begin(), missing.end(), true));
  result.delivered = result.published - result.lost;
  return result;
}

bool wait_delivered(const std::vector<unsigned long long>& acked,
                    const std::vector<Watcher*>& watchers, Deadline deadline, long settle_ms) {
  auto open_streams_of = [&watchers]() {
    std::vector<SseStream*> open;
    for (Watcher* watcher : watchers) {
      if (!watcher->stream().client.peer_closed()) open.push_back(&watcher->stream());
    }
    return open;
  };
  bool complete = false;
  for (;;) {
    complete = true;
    for (Watcher* watcher : watchers) {
      std::vector<unsigned long long> got = watcher->ids();
      std::set<unsigned long long> seen(got.begin(), got.end());
      for (std::size_t i = watcher->from(); i < acked.size() && complete; ++i) {
        complete = seen.count(acked[i]) != 0;
      }
    }
    if (complete || passed(deadline)) break;
    std::vector<SseStream*> open = open_streams_of();
    if (open.empty()) break;  // nothing more can arrive
    pump_streams(open, std::min(50, ms_left(deadline)));
  }
  Deadline settle = after_ms(settle_ms);
  while (ms_left(settle) > 0) {
    std::vector<SseStream*> open = open_streams_of();
    if (open.empty()) break;
    pump_streams(open, ms_left(settle));
  }
  return complete;
}

void print_fault(const std::string& name, const Delivery& delivery) {
  std::printf("FAULT %s: published=%zu delivered=%zu lost=%zu duplicated=%zu gaps=%zu\n",
              name.c_str(), delivery.published, delivery.delivered, delivery.lost,
              delivery.duplicated, delivery.gaps);
  std::fflush(stdout);
}
