// floor.cpp — the least any SSE server can do, as a yardstick for sse-server.
//
// Accepts connections with epoll, reads each request head, and:
//   GET /sse        -> the event-stream response head and "retry: 3000\n\n";
//                      the socket joins the subscriber list;
//   POST /publish   -> reads the body (Content-Length only), builds ONE frame
//                      ("id: <n>\ndata: <data>\n\n" per event, concatenated for
//                      a JSON array) and send()s it once to every subscriber,
//                      then answers 202 {"id":n} / {"ids":[...]};
//   GET /health     -> 200 ok.
// Nothing else: no topics, no history, no heartbeat, no timeouts, no auth.
// What it still must do to be a correct server is what a subscriber whose
// socket buffer is full needs: the unsent tail is kept and flushed on EPOLLOUT
// (beyond 16 MiB the subscriber is dropped), so no delivery is cut in half.
//
// It speaks the wire format bench/fanout parses, with ids seeded like
// sse-server's (microseconds since the epoch) so frames have the same size.
//
// JSON accepted: an object {"data":"<string>", ...} or an array of them; only
// string values, escapes \" \\ \/ \b \f \n \r \t (a \n splits the data into
// several data: lines, WHATWG HTML §9.2). Anything else gets 400.
//
// Usage: floor --port P [--host 127.0.0.1] [--lifetime-s S]
// Prints "floor listening on HOST:PORT" (port 0 picks one). SIGINT/SIGTERM or
// --lifetime-s (0 = no limit) end it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace bench {
namespace {

constexpr size_t kMaxHead = 16384;
constexpr size_t kMaxBody = 1 << 20;
constexpr size_t kMaxBacklog = 16 << 20;
constexpr uint64_t kListenTag = ~0ULL;

constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache, no-transform\r\n"
    "Connection: keep-alive\r\n"
    "X-Accel-Buffering: no\r\n"
    "Access-Control-Allow-Origin: *\r\n"
    "\r\n"
    "retry: 3000\n\n";

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

// A connection: reading requests, or streaming (then `in` is released and the
// socket is only watched for the peer closing). `out` holds what send() could
// not take yet; while it is non-empty new bytes are appended, never sent
// around it, so the stream stays in order.
struct Conn {
  int fd = -1;
  bool streaming = false;
  size_t sub_index = 0;  // position in the subscriber list while streaming
  std::string in;
  std::string out;
};

class Floor {
 public:
  bool listen_on(const std::string& host, int port);
  void run(int lifetime_s);

 private:
  void on_accept();
  void on_conn(int fd, uint32_t events);
  void process(Conn& c);
  void handle(Conn& c, std::string_view method, std::string_view path, std::string_view body);
  void publish(Conn& c, std::string_view body);
  void write(Conn& c, const char* p, size_t n);
  void flush(Conn& c);
  void close_conn(int fd);

  int listen_fd_ = -1;
  int epfd_ = -1;
  int spare_fd_ = -1;        // given up to shed a connection when out of fds
  std::vector<Conn> conns_;  // indexed by fd
  std::vector<int> subscribers_;
  uint64_t next_id_ = 0;
};

bool Floor::listen_on(const std::string& host, int port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(listen_fd_, SOMAXCONN) != 0) {
    std::fprintf(stderr, "floor: cannot listen on %s:%d: %s\n", host.c_str(), port,
                 std::strerror(errno));
    return false;
  }
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Ids like sse-server's: microseconds since the epoch, so frames match in size.
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  next_id_ = uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
  std::printf("floor listening on %s:%d\n", host.c_str(), ntohs(a.sin_port));
  std::fflush(stdout);
  return true;
}

void Floor::run(int lifetime_s) {
  const time_t end = lifetime_s > 0 ? time(nullptr) + lifetime_s : 0;
  epoll_event events[1024];
  while (!g_stop && (end == 0 || time(nullptr) < end)) {
    int n = epoll_wait(epfd_, events, 1024, 1000);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kListenTag) {
        on_accept();
      } else {
        on_conn(int(events[i].data.u64), events[i].events);
      }
    }
  }
}

void Floor::on_accept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {  // shed one so the loop does not spin
        close(spare_fd_);
        int shed = accept(listen_fd_, nullptr, nullptr);
        if (shed >= 0) close(shed);
        spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      return;  // EAGAIN, or a transient error on one connection
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (size_t(fd) >= conns_.size()) conns_.resize(size_t(fd) + 1024);
    conns_[size_t(fd)] = Conn{};
    conns_[size_t(fd)].fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = uint64_t(fd);
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void Floor::close_conn(int fd) {
  Conn& c = conns_[size_t(fd)];
  if (c.fd < 0) return;
  if (c.streaming) {  // swap-remove from the subscriber list
    int last = subscribers_.back();
    subscribers_[c.sub_index] = last;
    conns_[size_t(last)].sub_index = c.sub_index;
    subscribers_.pop_back();
  }
  close(fd);
  c = Conn{};
}

void Floor::on_conn(int fd, uint32_t events) {
  Conn& c = conns_[size_t(fd)];
  if (c.fd < 0) return;
  if (events & EPOLLOUT) {
    flush(c);
    if (c.fd < 0) return;
  }
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_conn(fd);
    return;
  }
  if (n < 0 || c.streaming) return;  // a subscriber has nothing more to say
  c.in.append(buf, size_t(n));
  process(c);
}

// Takes every complete request from c.in (keep-alive, pipelining).
void Floor::process(Conn& c) {
  const int fd = c.fd;
  while (conns_[size_t(fd)].fd == fd && !c.streaming) {
    size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (c.in.size() > kMaxHead) close_conn(fd);
      return;
    }
    std::string_view head(c.in.data(), head_end);
    size_t sp1 = head.find(' ');
    size_t sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
      close_conn(fd);
      return;
    }
    size_t length = 0;
    for (size_t p = head.find("\r\n"); p != std::string_view::npos; p = head.find("\r\n", p + 2)) {
      std::string_view line = head.substr(p + 2, head.find("\r\n", p + 2) - (p + 2));
      if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
        length = std::strtoul(std::string(line.substr(15)).c_str(), nullptr, 10);
      }
    }
    if (length > kMaxBody) {
      close_conn(fd);
      return;
    }
    if (c.in.size() < head_end + 4 + length) return;  // body still coming
    std::string request = c.in.substr(0, head_end + 4 + length);
    c.in.erase(0, request.size());
    std::string_view method(request.data(), sp1);
    std::string_view path(request.data() + sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    handle(c, method, path, std::string_view(request).substr(head_end + 4));
  }
}

void Floor::handle(Conn& c, std::string_view method, std::string_view path, std::string_view body) {
  if (method == "GET" && path == "/sse") {
    std::string().swap(c.in);  // a subscriber keeps no input buffer
    c.streaming = true;
    c.sub_index = subscribers_.size();
    subscribers_.push_back(c.fd);
    write(c, kStreamHead.data(), kStreamHead.size());
  } else if (method == "POST" && path == "/publish") {
    publish(c, body);
  } else if (method == "GET" && path == "/health") {
    static constexpr std::string_view kOk =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    write(c, kOk.data(), kOk.size());
  } else {
    static constexpr std::string_view kNotFound =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    write(c, kNotFound.data(), kNotFound.size());
  }
}

// --- the little JSON the benchmark sends -----------------------------------

struct Json {
  const char* p;
  const char* end;
  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool lit(char ch) {
    ws();
    if (p < end && *p == ch) {
      ++p;
      return true;
    }
    return false;
  }
  bool string(std::string& out) {
    out.clear();
    if (!lit('"')) return false;
    while (p < end && *p != '"') {
      if (*p != '\\') {
        out += *p++;
        continue;
      }
      if (++p == end) return false;
      switch (*p++) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        default:
          return false;  // \u is beyond what the floor needs
      }
    }
    return lit('"');
  }
  // {"data":"...", "other":"..."}: returns the data string.
  bool object(std::string& data) {
    if (!lit('{')) return false;
    bool have = false;
    std::string key, value;
    do {
      if (!string(key) || !lit(':') || !string(value)) return false;
      if (key == "data") {
        data = value;
        have = true;
      }
    } while (lit(','));
    return lit('}') && have;
  }
};

// Appends one event frame: "id: N\n", a "data: " line per line, "\n".
void append_frame(std::string& frame, uint64_t id, std::string_view data) {
  frame += "id: ";
  frame += std::to_string(id);
  frame += '\n';
  for (;;) {
    size_t nl = data.find('\n');
    frame += "data: ";
    frame.append(data.substr(0, nl));
    frame += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  frame += '\n';
}

void Floor::publish(Conn& c, std::string_view body) {
  Json j{body.data(), body.data() + body.size()};
  std::vector<std::string> datas;
  std::string data;
  bool ok;
  bool batch = j.lit('[');
  if (batch) {
    ok = true;
    do {
      ok = j.object(data);
      if (ok) datas.push_back(data);
    } while (ok && j.lit(','));
    ok = ok && j.lit(']');
  } else {
    ok = j.object(data);
    if (ok) datas.push_back(data);
  }
  j.ws();
  if (!ok || j.p != j.end) {
    static constexpr std::string_view kBad =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
        "{\"error\":\"floor: bad JSON\"}";
    write(c, kBad.data(), kBad.size());
    return;
  }
  // The frame is built once; every subscriber gets the same bytes, one send().
  std::string frame;
  std::string reply = batch ? "{\"ids\":[" : "{\"id\":";
  for (size_t k = 0; k < datas.size(); ++k) {
    uint64_t id = next_id_++;
    append_frame(frame, id, datas[k]);
    if (k) reply += ',';
    reply += std::to_string(id);
  }
  reply += batch ? "]}" : "}";
  for (size_t k = 0; k < subscribers_.size();) {
    int fd = subscribers_[k];
    write(conns_[size_t(fd)], frame.data(), frame.size());
    if (k < subscribers_.size() && subscribers_[k] == fd) ++k;  // else it was dropped
  }
  std::string response =
      "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(reply.size()) + "\r\n\r\n" + reply;
  write(c, response.data(), response.size());
}

// --- writing -----------------------------------------------------------------

void Floor::write(Conn& c, const char* p, size_t n) {
  if (!c.out.empty()) {  // already behind: queue after what is owed
    if (c.out.size() + n > kMaxBacklog) {
      std::fprintf(stderr, "floor: dropping a subscriber over %zu bytes behind\n", kMaxBacklog);
      close_conn(c.fd);
      return;
    }
    c.out.append(p, n);
    return;
  }
  ssize_t w = send(c.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w == ssize_t(n)) return;
  if (w < 0 && errno != EAGAIN && errno != EINTR) {
    close_conn(c.fd);
    return;
  }
  c.out.assign(p + (w > 0 ? w : 0), n - size_t(w > 0 ? w : 0));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
  ev.data.u64 = uint64_t(c.fd);
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Floor::flush(Conn& c) {
  if (c.out.empty()) return;
  ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (w < 0) {
    if (errno != EAGAIN && errno != EINTR) close_conn(c.fd);
    return;
  }
  c.out.erase(0, size_t(w));
  if (c.out.empty()) {
    std::string().swap(c.out);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = uint64_t(c.fd);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = -1, lifetime_s = 0;
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string name = argv[a];
    if (name == "--host")
      host = argv[a + 1];
    else if (name == "--port")
      port = std::atoi(argv[a + 1]);
    else if (name == "--lifetime-s")
      lifetime_s = std::atoi(argv[a + 1]);
    else
      port = -2;
  }
  if (argc % 2 == 0 || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: floor --port P [--host 127.0.0.1] [--lifetime-s S]\n");
    return 2;
  }
  rlimit rl;  // one fd per subscriber: take the whole hard limit
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, bench::on_signal);
  std::signal(SIGTERM, bench::on_signal);
  bench::Floor floor;
  if (!floor.listen_on(host, port)) return 1;
  floor.run(lifetime_s);
  return 0;
}
