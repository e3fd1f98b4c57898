// fanout.cpp — the fan-out load client: how long does one event take to reach
// every subscriber, and what does the server pay per delivery?
//
// Opens N subscribers to GET /sse, then publishes E events on one separate
// keep-alive connection (publish, burst) or listens to sse-server's built-in
// ticker (ticker), and times every delivery. One thread, one epoll loop, so the
// client's own cost is small and measured: when the client was busier than
// ~90% of its core while events were in flight, the result is flagged as
// client-limited rather than reported as the server's.
//
// Wire format read (WHATWG HTML §9.2 "Server-sent events"): lines end with LF
// (a trailing CR is stripped), an event ends at a blank line, `id:` and `data:`
// are read, `:` comments and `retry:` are skipped. A named event (`event:`) is
// an error here: the benchmark publishes none, so one means a resume gap. A
// stream sent with `Transfer-Encoding: chunked` (what Node's http module does
// for a response without Content-Length) is de-chunked first (RFC 9112 §7.1).
//
// Loss, duplication and reordering are judged by the sequence number the
// publisher put in the data, never by the `id:` line, so servers whose ids are
// not integers can be measured too. `--protocol` says how to publish:
//   json  (default: sse-server, bench/floor, bench/node-server.mjs)
//         POST /publish with {"data":"..."}, a JSON array of them in burst mode;
//         202 expected.
//   nchan (nginx + nchan's nchan_publisher) the raw POST body is the message,
//         one event per POST, so a burst batch goes as that many pipelined
//         POSTs; 201 (delivered to subscribers) or 202 expected. Its ids look
//         like `1700000000:0` and are not read.
//
// Time is CLOCK_MONOTONIC ns everywhere: the publisher stamps it into the data
// (`<t_ns>:<seq>:<padding>`), sse-server's ticker into `sent_mono_ns`. A
// delivery's latency is the time the read() that completed it returned minus
// that stamp; an event's fan-out completion is the latest of those over all
// subscribers. Both processes share the machine, so the clocks are the same.
//
// The server's cost comes from /proc: CPU from /proc/PID/task/*/schedstat
// (nanoseconds; /proc/PID/stat utime+stime, in 10 ms ticks, when schedstat is
// missing), RSS from VmRSS in /proc/PID/status, before the subscribers connect
// and once they all have their response head.
//
// Usage: fanout --port P [--host 127.0.0.1] --subscribers N --events E
//          --interval-ms I --mode publish|ticker|burst|listen --payload BYTES
//          --server-pid PID --csv FILE --label NAME
//          [--warmup W] [--batch 50] [--burst-depth 4] [--sources 8] [--connect-batch 256]
//          [--connect-timeout-ms 60000] [--grace-ms 10000] [--protocol json|nchan]
//          [--split-port P2] [--aux-pid PID]... [--cpu-pid PID]... [--source-base 127.0.0.1]
//          [--probe-ms MS --probe-csv FILE] [--ready-file F] [--wait-ready F]...
//          [--done-file F] [--wait-done F]... [--stop-file F] [--events-out FILE]
//          [--listen-timeout-ms 900000]
// --split-port: every second subscriber (odd index) connects to port P2
// instead, so N subscribers are split between two servers (two sse-server
// --redis instances sharing one Redis); publishes still go to --port, and
// loss, duplication and reordering are judged for every subscriber alike.
// --aux-pid (repeatable): another process whose CPU time over the same
// window is reported per delivery beside the server's (Redis, the second
// instance); summary only, the CSV keeps its columns.
// --cpu-pid (repeatable): another process of the server itself (a worker of
// sse-server --workers): its CPU and RSS are added to --server-pid's in every
// server figure (CPU per delivery, busy, RSS per subscriber).
// --source-base: subscribers bind source addresses --source-base + 0 ..
// --sources - 1 (default 127.0.0.1 .. 127.0.0.8), so several fanout processes
// can hold their subscribers from addresses of their own.
// --probe-ms MS: a second thread GETs /health on its own keep-alive
// connection every MS ms while the measured events are in flight (open loop:
// a request goes when due, pipelined behind any unanswered one) and times
// each reply from its send; summary line, and one row in --probe-csv.
//
// Several processes, one measurement (bench/scale.sh): --mode listen only
// holds subscribers and counts what they receive (events published by
// another fanout, `<t_ns>:<seq>:` data), judged like any run; it ends when
// every subscriber has every event, --grace-ms after --stop-file appears, or
// after --listen-timeout-ms. --ready-file F is written ("ok" or "failed")
// once every subscriber has its response head, --done-file F once the
// measurement is over; the publishing process waits for its --wait-ready
// files before its warm-up, and for its --wait-done files before it closes
// the measurement window (so the server CPU covers every process's
// deliveries). --events-out FILE: one line of key=value figures (window,
// server CPU, irq+softirq), then per measured event `seq stamp_ns
// last_recv_ns deliveries`, to merge the processes' fan-out times.
// Exit status: 0 clean run, 1 any lost/duplicated/reordered event or error,
// 2 bad usage.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace bench {
namespace {

enum class Mode { kPublish, kTicker, kBurst, kListen };
enum class Protocol { kJson, kNchan };

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int subscribers = 100;
  int events = 50;
  int interval_ms = 100;
  Mode mode = Mode::kPublish;
  int payload = 64;    // bytes of `data:` per event
  int server_pid = 0;  // 0: no server-side figures
  std::string csv;
  std::string label = "run";
  int warmup = 0;           // events published (or ticks skipped) before measuring
  int batch = 50;           // events per POST in burst mode
  int burst_depth = 4;      // POSTs in flight in burst mode
  int sources = 8;          // source addresses 127.0.0.1 .. 127.0.0.<sources>
  int connect_batch = 256;  // subscribers connecting at once
  int connect_timeout_ms = 60000;
  int grace_ms = 10000;  // wait for late deliveries after the last publish
  Protocol protocol = Protocol::kJson;
  int split_port = 0;         // 0: every subscriber on --port
  std::vector<int> aux_pids;  // CPU reported beside the server's
  std::vector<int> cpu_pids;  // more processes of the server: summed with it
  uint32_t source_base = 0x7f000001u;  // 127.0.0.1, host order
  int probe_ms = 0;                    // 0: no /health probe
  std::string probe_csv;
  std::string ready_file, done_file, stop_file, events_out;
  std::vector<std::string> wait_ready, wait_done;
  int listen_timeout_ms = 900000;
};

constexpr uint64_t kPublisherTag = ~0ULL;
constexpr int32_t kIgnored = -1;  // event outside the measurement (ticker)
constexpr int32_t kWarmup = -2;   // warm-up event: counted, not measured
constexpr int kMaxErrorsShown = 20;

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double self_cpu_s() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool slurp(const std::string& path, std::string& out) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  out.clear();
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return true;
}

// Server CPU seconds. schedstat's first field is the task's run time in ns;
// summed over threads so a multi-threaded server is measured whole.
double server_cpu_sched_s(int pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  double total = 0;
  bool any = false;
  std::string text;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (!slurp(dir + "/" + e->d_name + "/schedstat", text)) continue;
    total += std::strtod(text.c_str(), nullptr) / 1e9;
    any = true;
  }
  closedir(d);
  return any ? total : -1;
}

// Fallback: utime + stime (fields 14 and 15 of /proc/PID/stat, clock ticks).
double server_cpu_stat_s(int pid) {
  std::string s;
  if (!slurp("/proc/" + std::to_string(pid) + "/stat", s)) return -1;
  size_t p = s.rfind(')');  // the command name may hold spaces and ')'
  if (p == std::string::npos) return -1;
  const char* c = s.c_str() + p + 2;  // field 3 starts here
  char* end = nullptr;
  unsigned long long v[13] = {};
  for (int i = 0; i < 13; ++i) {  // fields 3..15; the first is a letter
    if (i == 0) {
      while (*c && *c != ' ') ++c;
      continue;
    }
    v[i] = std::strtoull(c, &end, 10);
    c = end;
  }
  return double(v[11] + v[12]) / double(sysconf(_SC_CLK_TCK));
}

// The one CPU the server is pinned to, or -1 when it may run on several.
int server_cpu_index(int pid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(pid, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return -1;
}

// irq + softirq and steal seconds of one CPU, from /proc/stat. On loopback the
// receiving side of every send() (the client's TCP input) runs as softirq on
// the sender's CPU; with IRQ time accounting it is billed to no process, so it
// is reported beside the server's own time, not in it. cpu < 0: all CPUs
// (the "cpu" line), for a server that is not pinned to one.
bool cpu_irq_steal_s(int cpu, double& irq, double& steal) {
  std::string s;
  if (!slurp("/proc/stat", s)) return false;
  std::string key = cpu < 0 ? std::string("cpu ") : "\ncpu" + std::to_string(cpu) + ' ';
  size_t p = cpu < 0 ? (s.compare(0, 4, "cpu ") == 0 ? 0 : std::string::npos) : s.find(key);
  if (p == std::string::npos) return false;
  unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
  const char* c = s.c_str() + p + key.size();
  for (auto& x : v) x = std::strtoull(c, const_cast<char**>(&c), 10);
  const double hz = double(sysconf(_SC_CLK_TCK));
  irq = double(v[5] + v[6]) / hz;
  steal = double(v[7]) / hz;
  return true;
}

long server_rss_kb(int pid) {
  std::string s;
  if (!slurp("/proc/" + std::to_string(pid) + "/status", s)) return -1;
  size_t p = s.find("VmRSS:");
  return p == std::string::npos ? -1 : std::strtol(s.c_str() + p + 6, nullptr, 10);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Written whole to a temporary name, then renamed: a reader polling for the
// file never sees it half written.
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "fanout: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
    return;
  }
  std::fputs(text.c_str(), f);
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
}

// The /health probe: its own thread and keep-alive connection, so that its
// timing is not held up by the main loop reading thousands of subscribers.
// Open loop, like the publisher: a GET goes every period whether or not the
// previous one was answered (pipelined behind it), so a server that stalls
// for 400 ms shows 400 ms, not one slow probe followed by silence. Each reply
// is timed from the send() of its request, replies matched in order (HTTP/1.1
// answers pipelined requests in order). Requests still unanswered when the
// probe ends count with the time they had waited by then: a lower bound.
class HealthProbe {
 public:
  // Connects (blocking, bounded by 5 s); on failure `error` says why and
  // start() does nothing.
  void open(const sockaddr_in& server, const std::string& host, int port, int period_ms) {
    period_ns_ = int64_t(period_ms) * 1000000;
    opened_ = true;
    request_ = "GET /health HTTP/1.1\r\nHost: " + host + ':' + std::to_string(port) + "\r\n\r\n";
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      if (fd >= 0) close(fd);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fd_ = fd;
  }
  void start() {
    if (fd_ >= 0) thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool opened() const { return opened_; }

  std::string error;             // connect or connection failure, empty if none
  std::vector<int64_t> latency;  // ns, one per request (unanswered: a lower bound)
  uint64_t sent = 0, answered = 0, non200 = 0, unanswered = 0;

 private:
  void loop();
  bool read_replies(std::deque<int64_t>& sent_at);

  int fd_ = -1;
  bool opened_ = false;
  int64_t period_ns_ = 20000000;
  std::string request_, out_, in_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Reads what is there and completes every whole reply (head, then
// Content-Length bytes of body). False when the connection is gone.
bool HealthProbe::read_replies(std::deque<int64_t>& sent_at) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      error = n == 0 ? "connection closed by the server" : std::string("read: ") + std::strerror(errno);
      return false;
    }
    if (n < 0) return true;
    const int64_t t = mono_ns();
    in_.append(buf, size_t(n));
    for (;;) {
      size_t head_end = in_.find("\r\n\r\n");
      if (head_end == std::string::npos) break;
      std::string head = in_.substr(0, head_end);
      for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
      size_t cl = head.find("\ncontent-length:");
      size_t length = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 16, nullptr, 10);
      if (in_.size() < head_end + 4 + length) break;
      if (head.compare(0, 13, "http/1.1 200 ") != 0) non200++;
      in_.erase(0, head_end + 4 + length);
      if (sent_at.empty()) {
        error = "a reply to no request";
        return false;
      }
      latency.push_back(t - sent_at.front());
      sent_at.pop_front();
      answered++;
    }
  }
}

void HealthProbe::loop() {
  std::deque<int64_t> sent_at;
  int64_t next = mono_ns();
  bool alive = true;
  while (!stop_ && alive) {
    int64_t now = mono_ns();
    if (now >= next) {
      out_ += request_;
      sent_at.push_back(now);
      sent++;
      while (next <= now) next += period_ns_;
    }
    if (!out_.empty()) {
      ssize_t w = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (w > 0) out_.erase(0, size_t(w));
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        error = std::string("send: ") + std::strerror(errno);
        break;
      }
    }
    pollfd pfd{fd_, short(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    const int64_t wait = std::clamp<int64_t>(next - mono_ns(), 0, 5000000);  // stop_ seen within 5 ms
    timespec ts{0, long(wait)};
    if (ppoll(&pfd, 1, &ts, nullptr) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
      alive = read_replies(sent_at);
    }
  }
  // The last requests get up to a second to be answered.
  const int64_t deadline = mono_ns() + 1000000000;
  while (alive && !sent_at.empty() && mono_ns() < deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 10) > 0) alive = read_replies(sent_at);
  }
  const int64_t end = mono_ns();
  for (int64_t t : sent_at) latency.push_back(end - t);
  unanswered = sent_at.size();
}

// One subscriber: its socket, where it is in its life, and the event being
// assembled from `id:`/`data:` lines. `carry` holds an incomplete line (or an
// incomplete response head) between reads.
enum class SubState : uint8_t { kIdle, kConnecting, kAwaitingHead, kStreaming, kClosed };
// Where a chunked stream is: in a chunk-size line (or its extension), in the
// chunk's data, or in the CRLF after it; kEnd after the last (zero) chunk.
enum class ChunkState : uint8_t { kSize, kExt, kSizeLF, kData, kDataCR, kDataLF, kEnd };

struct Subscriber {
  int fd = -1;
  SubState state = SubState::kIdle;
  uint8_t attempts = 0;
  bool ev_has_data = false;
  bool ev_named = false;
  bool ev_bad = false;
  bool chunked = false;
  ChunkState chunk_state = ChunkState::kSize;
  uint32_t chunk_left = 0;
  int32_t ev_seq = kIgnored;
  int32_t last_seq = -1;
  int64_t ev_stamp = 0;
  uint64_t ev_id = 0;
  std::string carry;
};

// The publishing connection: requests not yet answered, unsent bytes and the
// unparsed reply. Publish mode is open-loop: an event is sent when it is due
// even if earlier ones are unanswered (HTTP/1.1 pipelining). Waiting for the
// reply would let a server that answers late slow the publisher down and hide
// its own queueing delay from the stamps ("coordinated omission").
struct Publisher {
  int fd = -1;
  int pending = 0;
  std::string out;
  std::string in;
};

class Fanout {
 public:
  explicit Fanout(const Options& o) : o_(o) {}
  int run();

 private:
  bool connect_all();
  bool open_subscriber(size_t i);
  void close_subscriber(size_t i, bool retry);
  bool open_publisher();
  void warm_up();
  void measure();
  int report();
  bool wait_files(const std::vector<std::string>& files, bool ready);
  double server_cpu_all();
  long server_rss_all_kb();
  void write_events_out(double srv_cpu_s) const;
  void report_probe();

  void pump(int timeout_ms);
  void on_subscriber(size_t i, uint32_t events);
  void on_connected(size_t i);
  void feed(size_t i, const char* p, size_t n, int64_t t);
  void dechunk(size_t i, const char* p, size_t n, int64_t t);
  void feed_lines(size_t i, const char* p, size_t n, int64_t t);
  void on_line(size_t i, std::string_view line, int64_t t);
  void on_event_end(size_t i, int64_t t);
  void record(size_t i, int32_t seq, int64_t stamp, int64_t t);
  void send_events(int first_seq, int count, bool warm);
  void on_publisher(uint32_t events);
  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  Options o_;
  size_t n_ = 0;  // subscribers
  size_t e_ = 0;  // measured events
  int epfd_ = -1;
  sockaddr_in server_{};
  std::vector<Subscriber> subs_;
  Publisher pub_;
  std::string request_;  // the GET /sse request, identical for every subscriber
  sockaddr_in server2_{};  // --split-port: odd subscribers connect here
  std::string request2_;
  bool on_split(size_t i) const { return o_.split_port != 0 && i % 2 == 1; }

  // Connect phase.
  std::vector<size_t> retry_;
  size_t in_flight_ = 0, streaming_ = 0, failed_subs_ = 0, connect_retries_ = 0;
  int64_t connect_ms_ = 0;

  // Delivery bookkeeping: seen_[i * e_ + seq] per subscriber and event.
  std::vector<uint8_t> seen_;
  std::vector<uint32_t> count_;     // subscribers that got each event
  std::vector<int64_t> stamp_;      // each event's send stamp
  std::vector<int64_t> last_recv_;  // each event's latest delivery
  std::vector<int64_t> latency_;    // one per delivery, ns
  uint64_t unique_ = 0, dup_ = 0, reordered_ = 0, warm_ = 0;
  uint64_t errors_ = 0;
  int64_t t0_ticker_ = 0;  // ticks stamped before this are ignored
  uint64_t base_id_ = 0;   // first ticker id counted (warm-up included)
  bool aborted_ = false;

  // Measurement window and client busy time (while some event is in flight).
  int64_t t_start_ = 0, t_end_ = 0, first_publish_ = 0, last_delivery_ = 0;
  double self_cpu0_ = 0, self_cpu1_ = 0;
  double srv_cpu0_ = -1, srv_cpu1_ = -1;
  std::vector<double> aux_cpu0_, aux_cpu1_;
  int srv_core_ = -1;
  bool core_ok_ = false;
  double irq0_ = 0, irq1_ = 0, steal0_ = 0, steal1_ = 0;
  bool srv_cpu_sched_ = true;
  long rss_before_kb_ = -1, rss_after_kb_ = -1, rss_end_kb_ = -1;
  uint64_t outstanding_ = 0;
  int64_t busy_t0_ = 0, busy_wall_ns_ = 0;
  double busy_cpu0_ = 0, busy_cpu_s_ = 0;

  HealthProbe probe_;  // --probe-ms
};

void Fanout::fail(const char* fmt, ...) {
  if (++errors_ > kMaxErrorsShown) return;
  va_list ap;
  va_start(ap, fmt);
  std::fputs("fanout: error: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  if (errors_ == kMaxErrorsShown) std::fputs("fanout: (further errors only counted)\n", stderr);
}

double server_cpu(int pid, bool& sched) {
  double s = server_cpu_sched_s(pid);
  if (s >= 0) return s;
  sched = false;
  return server_cpu_stat_s(pid);
}

// The server's CPU seconds and RSS: --server-pid plus every --cpu-pid (the
// workers of one server); -1 if any of them cannot be read.
double Fanout::server_cpu_all() {
  double total = server_cpu(o_.server_pid, srv_cpu_sched_);
  for (int pid : o_.cpu_pids) {
    double s = server_cpu(pid, srv_cpu_sched_);
    if (s < 0 || total < 0) return -1;
    total += s;
  }
  return total;
}

long Fanout::server_rss_all_kb() {
  long total = server_rss_kb(o_.server_pid);
  for (int pid : o_.cpu_pids) {
    long kb = server_rss_kb(pid);
    if (kb < 0 || total < 0) return -1;
    total += kb;
  }
  return total;
}

// Waits, reading the subscribers meanwhile, until every file exists: the
// other processes' --ready-file (then a "failed" in one ends the wait at
// once) or --done-file. Bounded by --connect-timeout-ms (ready) or
// --grace-ms (done).
bool Fanout::wait_files(const std::vector<std::string>& files, bool ready) {
  const int64_t deadline =
      mono_ns() + int64_t(ready ? o_.connect_timeout_ms : o_.grace_ms) * 1000000;
  for (;;) {
    size_t present = 0;
    for (const std::string& f : files) {
      if (!file_exists(f)) continue;
      present++;
      std::string text;
      if (ready && slurp(f, text) && text.compare(0, 2, "ok") != 0) {
        fail("%s: another process could not connect its subscribers", f.c_str());
        return false;
      }
    }
    if (present == files.size()) return true;
    if (mono_ns() > deadline) {
      fail("%zu of %zu %s files after %d ms", present, files.size(), ready ? "ready" : "done",
           ready ? o_.connect_timeout_ms : o_.grace_ms);
      return false;
    }
    pump(20);
  }
}

// ---------------------------------------------------------------- connecting

// Each subscriber binds to one of several loopback source addresses before
// connect(): one source address has ~28k ephemeral ports, and
// IP_BIND_ADDRESS_NO_PORT leaves the port choice to connect(), which may then
// reuse a port per destination instead of reserving it for the whole address.
bool Fanout::open_subscriber(size_t i) {
  Subscriber& s = subs_[i];
  s.attempts++;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail("socket: %s", std::strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(o_.source_base + uint32_t(i % size_t(o_.sources)));
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      (connect(fd, reinterpret_cast<const sockaddr*>(on_split(i) ? &server2_ : &server_),
               sizeof server_) != 0 &&
       errno != EINPROGRESS)) {
    fail("subscriber %zu: bind/connect: %s", i, std::strerror(errno));
    close(fd);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = i;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  s.fd = fd;
  s.state = SubState::kConnecting;
  return true;
}

void Fanout::close_subscriber(size_t i, bool retry) {
  Subscriber& s = subs_[i];
  bool was_connecting = s.state == SubState::kConnecting || s.state == SubState::kAwaitingHead;
  if (s.fd >= 0) close(s.fd);  // close() also removes it from the epoll set
  s.fd = -1;
  s.carry.clear();
  if (was_connecting) {
    in_flight_--;
    if (retry && s.attempts < 3) {
      s.state = SubState::kIdle;
      retry_.push_back(i);
      connect_retries_++;
      return;
    }
    failed_subs_++;
  }
  s.state = SubState::kClosed;
}

void Fanout::on_connected(size_t i) {
  Subscriber& s = subs_[i];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    if (s.attempts >= 3) fail("subscriber %zu: connect: %s", i, std::strerror(err));
    close_subscriber(i, true);
    return;
  }
  // The request is ~80 bytes into an empty socket buffer: it goes out whole.
  const std::string& request = on_split(i) ? request2_ : request_;
  if (send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
    fail("subscriber %zu: send request: %s", i, std::strerror(errno));
    close_subscriber(i, false);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = i;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
  s.state = SubState::kAwaitingHead;
}

// Connect in batches of --connect-batch so the server's accept queue never
// overflows (a dropped SYN costs a 1 s retransmit), until every subscriber has
// its response head or the deadline passes.
bool Fanout::connect_all() {
  const int64_t start = mono_ns();
  const int64_t deadline = start + int64_t(o_.connect_timeout_ms) * 1000000;
  size_t next = 0;
  while (streaming_ + failed_subs_ < n_ && !aborted_) {
    if (mono_ns() > deadline) {
      fail("only %zu of %zu subscribers connected within %d ms", streaming_, n_,
           o_.connect_timeout_ms);
      return false;
    }
    while (in_flight_ < size_t(o_.connect_batch) && (!retry_.empty() || next < n_)) {
      size_t i;
      if (!retry_.empty()) {
        i = retry_.back();
        retry_.pop_back();
      } else {
        i = next++;
      }
      if (open_subscriber(i)) {
        in_flight_++;
      } else {
        subs_[i].state = SubState::kClosed;
        failed_subs_++;
      }
    }
    pump(10);
  }
  connect_ms_ = (mono_ns() - start) / 1000000;
  if (failed_subs_ > 0) fail("%zu subscribers could not connect", failed_subs_);
  return failed_subs_ == 0;
}

// ------------------------------------------------------------------- reading

void Fanout::on_subscriber(size_t i, uint32_t events) {
  Subscriber& s = subs_[i];
  if (s.state == SubState::kConnecting) {
    on_connected(i);
    return;
  }
  if (s.state != SubState::kAwaitingHead && s.state != SubState::kStreaming) return;
  // Level-triggered: one read per readiness; if more is queued, epoll says so
  // again next round, which keeps the subscribers served in turn.
  static char buf[65536];
  ssize_t n = read(s.fd, buf, sizeof buf);
  if (n > 0) {
    feed(i, buf, size_t(n), mono_ns());
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  (void)events;
  if (s.state == SubState::kStreaming) {
    fail("subscriber %zu: stream closed by the server (%s)", i,
         n == 0 ? "EOF" : std::strerror(errno));
  } else {
    fail("subscriber %zu: closed before the response head (%s)", i,
         n == 0 ? "EOF" : std::strerror(errno));
  }
  close_subscriber(i, false);
}

// Incremental parse of whatever one read() returned: first the response head
// (until CRLF CRLF), then event-stream lines.
void Fanout::feed(size_t i, const char* p, size_t n, int64_t t) {
  Subscriber& s = subs_[i];
  if (s.state == SubState::kAwaitingHead) {
    s.carry.append(p, n);
    size_t head_end = s.carry.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (s.carry.size() > 16384) {
        fail("subscriber %zu: response head over 16 KiB", i);
        close_subscriber(i, false);
      }
      return;
    }
    if (s.carry.compare(0, 13, "HTTP/1.1 200 ") != 0 &&
        s.carry.compare(0, 13, "HTTP/1.0 200 ") != 0) {
      fail("subscriber %zu: %s", i, s.carry.substr(0, s.carry.find('\r')).c_str());
      close_subscriber(i, false);
      return;
    }
    std::string head = s.carry.substr(0, head_end);
    for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
    size_t te = head.find("\ntransfer-encoding:");
    s.chunked = te != std::string::npos &&
                head.substr(te, head.find('\n', te + 1) - te).find("chunked") != std::string::npos;
    std::string rest = s.carry.substr(head_end + 4);
    s.carry.clear();
    s.state = SubState::kStreaming;
    in_flight_--;
    streaming_++;
    if (!rest.empty()) feed(i, rest.data(), rest.size(), t);
    return;
  }
  if (s.chunked) {
    dechunk(i, p, n, t);
  } else {
    feed_lines(i, p, n, t);
  }
}

// Strips the chunked framing and hands each piece of chunk data to
// feed_lines(). Chunk boundaries need not fall on line boundaries: the line
// parser's carry joins the pieces.
void Fanout::dechunk(size_t i, const char* p, size_t n, int64_t t) {
  Subscriber& s = subs_[i];
  const char* end = p + n;
  auto bad = [&](const char* what) {
    fail("subscriber %zu: bad chunked encoding (%s)", i, what);
    close_subscriber(i, false);
  };
  while (p < end && s.state == SubState::kStreaming) {
    switch (s.chunk_state) {
      case ChunkState::kSize: {
        char c = *p++;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d >= 0) {
          if (s.chunk_left >= (1u << 24)) return bad("chunk over 256 MiB");
          s.chunk_left = s.chunk_left * 16 + uint32_t(d);
        } else if (c == ';') {
          s.chunk_state = ChunkState::kExt;
        } else if (c == '\r') {
          s.chunk_state = ChunkState::kSizeLF;
        } else {
          return bad("chunk size");
        }
        break;
      }
      case ChunkState::kExt:
        if (*p++ == '\r') s.chunk_state = ChunkState::kSizeLF;
        break;
      case ChunkState::kSizeLF:
        if (*p++ != '\n') return bad("chunk size line");
        s.chunk_state = s.chunk_left ? ChunkState::kData : ChunkState::kEnd;
        if (s.chunk_left == 0) {
          fail("subscriber %zu: the server ended the stream (last chunk)", i);
          return close_subscriber(i, false);
        }
        break;
      case ChunkState::kData: {
        size_t k = std::min(size_t(s.chunk_left), size_t(end - p));
        s.chunk_left -= uint32_t(k);
        if (s.chunk_left == 0) s.chunk_state = ChunkState::kDataCR;
        feed_lines(i, p, k, t);
        p += k;
        break;
      }
      case ChunkState::kDataCR:
        if (*p++ != '\r') return bad("CRLF after chunk data");
        s.chunk_state = ChunkState::kDataLF;
        break;
      case ChunkState::kDataLF:
        if (*p++ != '\n') return bad("CRLF after chunk data");
        s.chunk_state = ChunkState::kSize;
        break;
      case ChunkState::kEnd:
        return;
    }
  }
}

// Event-stream lines out of stream bytes (already de-chunked).
void Fanout::feed_lines(size_t i, const char* p, size_t n, int64_t t) {
  Subscriber& s = subs_[i];
  const char* end = p + n;
  if (!s.carry.empty()) {  // finish the line left over from the last read
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    if (!nl) {
      s.carry.append(p, n);
      if (s.carry.size() > (1u << 20)) {
        fail("subscriber %zu: line over 1 MiB", i);
        close_subscriber(i, false);
      }
      return;
    }
    s.carry.append(p, size_t(nl - p));
    on_line(i, s.carry, t);
    s.carry.clear();
    p = nl + 1;
  }
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (!nl) {
      s.carry.assign(p, size_t(end - p));
      return;
    }
    on_line(i, std::string_view(p, size_t(nl - p)), t);
    p = nl + 1;
  }
}

void Fanout::on_line(size_t i, std::string_view line, int64_t t) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    on_event_end(i, t);
    return;
  }
  if (line[0] == ':') return;  // comment: stream open, heartbeat
  Subscriber& s = subs_[i];
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  const char* b = value.data();
  const char* e = b + value.size();
  if (field == "id") {
    // Only the ticker mode uses ids (sse-server's integers); nchan's are not.
    if (o_.protocol == Protocol::kJson && std::from_chars(b, e, s.ev_id).ec != std::errc())
      s.ev_bad = true;
  } else if (field == "event") {
    s.ev_named = true;
  } else if (field == "data") {
    if (s.ev_has_data) {  // the benchmark's data never spans lines
      s.ev_bad = true;
      return;
    }
    s.ev_has_data = true;
    if (o_.mode == Mode::kTicker) {
      static constexpr std::string_view kKey = "\"sent_mono_ns\":";
      size_t k = value.find(kKey);
      if (k == std::string_view::npos ||
          std::from_chars(b + k + kKey.size(), e, s.ev_stamp).ec != std::errc()) {
        s.ev_bad = true;
      }
      return;
    }
    // "<t_ns>:<seq>:<padding>" or "<t_ns>:w:<padding>" for warm-up events.
    auto r = std::from_chars(b, e, s.ev_stamp);
    if (r.ec != std::errc() || r.ptr == e || *r.ptr != ':') {
      s.ev_bad = true;
      return;
    }
    if (r.ptr + 1 < e && r.ptr[1] == 'w') {
      s.ev_seq = kWarmup;
    } else if (std::from_chars(r.ptr + 1, e, s.ev_seq).ec != std::errc()) {
      s.ev_bad = true;
    }
  }
  // retry: and unknown fields are ignored, as a browser would.
}

void Fanout::on_event_end(size_t i, int64_t t) {
  Subscriber& s = subs_[i];
  if (s.ev_has_data) {
    if (s.ev_named || s.ev_bad) {
      fail("subscriber %zu: unexpected event (named or malformed), id %llu", i,
           static_cast<unsigned long long>(s.ev_id));
    } else if (o_.mode == Mode::kTicker) {
      // Ids are one sequence and the ticker is the only publisher, so the
      // first tick stamped after every subscriber connected defines seq 0.
      if (s.ev_stamp >= t0_ticker_) {
        if (base_id_ == 0) base_id_ = s.ev_id;
        if (s.ev_id < base_id_) {
          fail("subscriber %zu: tick id %llu before the first counted one", i,
               static_cast<unsigned long long>(s.ev_id));
        } else {
          uint64_t raw = s.ev_id - base_id_;
          if (raw < uint64_t(o_.warmup)) {
            warm_++;
          } else if (raw - uint64_t(o_.warmup) < e_) {
            record(i, int32_t(raw - uint64_t(o_.warmup)), s.ev_stamp, t);
          }
        }
      }
    } else if (s.ev_seq == kWarmup) {
      warm_++;
    } else if (s.ev_seq < 0 || size_t(s.ev_seq) >= e_) {
      fail("subscriber %zu: sequence number %d out of range", i, s.ev_seq);
    } else {
      record(i, s.ev_seq, s.ev_stamp, t);
    }
  }
  s.ev_has_data = s.ev_named = s.ev_bad = false;
  s.ev_seq = kIgnored;
  s.ev_id = 0;
}

void Fanout::record(size_t i, int32_t seq, int64_t stamp, int64_t t) {
  Subscriber& s = subs_[i];
  const size_t k = size_t(seq);
  uint8_t& seen = seen_[i * e_ + k];
  if (seen) {
    dup_++;
    return;
  }
  seen = 1;
  unique_++;
  latency_.push_back(t - stamp);
  // listen: no publish of its own; the window starts at the first stamp seen.
  if (o_.mode == Mode::kListen && (first_publish_ == 0 || stamp < first_publish_))
    first_publish_ = stamp;
  stamp_[k] = stamp;
  if (t > last_recv_[k]) last_recv_[k] = t;
  if (t > last_delivery_) last_delivery_ = t;
  if (++count_[k] == n_ && outstanding_ > 0 && --outstanding_ == 0) {
    busy_wall_ns_ += t - busy_t0_;  // nothing in flight any more
    busy_cpu_s_ += self_cpu_s() - busy_cpu0_;
  }
  if (seq < s.last_seq) {  // an older event after a newer one
    reordered_++;
  } else {
    s.last_seq = seq;
  }
}

// ---------------------------------------------------------------- publishing

bool Fanout::open_publisher() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail("publisher: socket: %s", std::strerror(errno));
    return false;
  }
  timeval tv{5, 0};  // bounds the blocking connect()
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&server_), sizeof server_) != 0) {
    fail("publisher: connect: %s", std::strerror(errno));
    close(fd);
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kPublisherTag;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  pub_.fd = fd;
  return true;
}

// One POST /publish: a single {"data":...} object, or in burst mode a JSON
// array of `count` of them. Every event of the request carries the same stamp,
// taken just before the request is built. With --protocol nchan each event is
// its own POST whose body is the data itself, the `count` POSTs pipelined.
void Fanout::send_events(int first_seq, int count, bool warm) {
  const int64_t t = mono_ns();
  const bool raw = o_.protocol == Protocol::kNchan;
  const std::string head =
      "POST /publish HTTP/1.1\r\nHost: " + o_.host + ':' + std::to_string(o_.port) +
      "\r\nContent-Type: " + (raw ? "text/plain" : "application/json") + "\r\nContent-Length: ";
  std::string body;
  body.reserve(size_t(count) * size_t(o_.payload + 16) + 2);
  bool array = o_.mode == Mode::kBurst && !warm;
  if (array && !raw) body += '[';
  for (int k = 0; k < count; ++k) {
    std::string data =
        std::to_string(t) + ':' + (warm ? std::string("w") : std::to_string(first_seq + k)) + ':';
    if (data.size() < size_t(o_.payload)) data.append(size_t(o_.payload) - data.size(), 'x');
    if (raw) {
      pub_.out += head + std::to_string(data.size()) + "\r\n\r\n" + data;
      pub_.pending++;
      continue;
    }
    if (k) body += ',';
    body += "{\"data\":\"";
    body += data;
    body += "\"}";
  }
  if (!raw) {
    if (array) body += ']';
    pub_.out += head + std::to_string(body.size()) + "\r\n\r\n" + body;
    pub_.pending++;
  }
  if (!warm && first_publish_ == 0) first_publish_ = t;
  on_publisher(EPOLLOUT);
}

void Fanout::on_publisher(uint32_t events) {
  if (pub_.fd < 0) return;
  if ((events & EPOLLOUT) && !pub_.out.empty()) {
    ssize_t w = send(pub_.fd, pub_.out.data(), pub_.out.size(), MSG_NOSIGNAL);
    if (w > 0) pub_.out.erase(0, size_t(w));
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      fail("publisher: send: %s", std::strerror(errno));
      aborted_ = true;
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (pub_.out.empty() ? 0u : uint32_t(EPOLLOUT));
    ev.data.u64 = kPublisherTag;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, pub_.fd, &ev);
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  char buf[8192];
  ssize_t n = read(pub_.fd, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    fail("publisher: connection closed by the server");
    close(pub_.fd);
    pub_.fd = -1;
    aborted_ = true;
    return;
  }
  pub_.in.append(buf, size_t(n));
  for (;;) {  // one reply per request: head, then Content-Length bytes
    size_t head_end = pub_.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    std::string head = pub_.in.substr(0, head_end);
    for (char& c : head) c = char(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = head.find("\ncontent-length:");
    size_t length = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 16, nullptr, 10);
    if (pub_.in.size() < head_end + 4 + length) return;
    int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    if (status != 202 && !(o_.protocol == Protocol::kNchan && status == 201)) {
      fail("publisher: status %d: %s", status, pub_.in.substr(head_end + 4, length).c_str());
    }
    pub_.in.erase(0, head_end + 4 + length);
    if (pub_.pending-- == 0) fail("publisher: a reply to no request");
  }
}

// ---------------------------------------------------------------- the phases

void Fanout::pump(int timeout_ms) {
  static epoll_event events[1024];
  int k = epoll_wait(epfd_, events, 1024, timeout_ms);
  // The publisher first: its replies release the next request, which should
  // not wait behind a thousand subscriber reads.
  for (int j = 0; j < k; ++j) {
    if (events[j].data.u64 == kPublisherTag) on_publisher(events[j].events);
  }
  for (int j = 0; j < k; ++j) {
    if (events[j].data.u64 != kPublisherTag)
      on_subscriber(size_t(events[j].data.u64), events[j].events);
  }
}

// Warm-up: W events (or ticks) that every subscriber must receive before the
// measurement starts, so that first-touch costs (page faults, cold caches,
// lazily grown buffers) are not billed to the first measured event.
void Fanout::warm_up() {
  t0_ticker_ = mono_ns();
  if (o_.warmup == 0) return;
  const uint64_t target = n_ * uint64_t(o_.warmup);
  const int64_t step = int64_t(std::max(o_.interval_ms, 10)) * 1000000;
  const int64_t deadline = mono_ns() + int64_t(o_.warmup + 1) * step + 10000000000LL;
  int sent = o_.mode == Mode::kTicker ? o_.warmup : 0;
  int64_t next_due = mono_ns();
  while (warm_ < target && !aborted_) {
    int64_t now = mono_ns();
    if (now > deadline) {
      fail("warm-up: %llu of %llu deliveries arrived", static_cast<unsigned long long>(warm_),
           static_cast<unsigned long long>(target));
      return;
    }
    if (sent < o_.warmup && pub_.pending == 0 && now >= next_due) {
      send_events(0, 1, true);
      sent++;
      next_due += step;
    }
    pump(int(std::clamp<int64_t>((next_due - now) / 1000000, 1, 10)));
  }
}

// The measured part. Publish: event k is sent at start + k * interval, answered
// or not (see Publisher). Burst: batches back-to-back, a few in flight.
// Ticker: wait for the ticks. Ends when every subscriber has every event, or
// --grace-ms after the last publish.
void Fanout::measure() {
  const uint64_t target = n_ * e_;
  const int64_t step = int64_t(o_.interval_ms) * 1000000;
  const int64_t grace = int64_t(o_.grace_ms) * 1000000;
  t_start_ = mono_ns();
  self_cpu0_ = self_cpu_s();
  if (o_.server_pid > 0) {
    srv_cpu0_ = server_cpu_all();
    srv_core_ = server_cpu_index(o_.server_pid);
    for (int pid : o_.cpu_pids) {  // several processes: one core only if all share it
      if (server_cpu_index(pid) != srv_core_) srv_core_ = -1;
    }
    core_ok_ = cpu_irq_steal_s(srv_core_, irq0_, steal0_);
  }
  probe_.start();
  for (int pid : o_.aux_pids) {
    bool sched = true;
    aux_cpu0_.push_back(server_cpu(pid, sched));
  }
  const int64_t hard_deadline =
      t_start_ + int64_t(e_ + 1) * std::max<int64_t>(step, 1000000) + 2 * grace + 60000000000LL;
  int64_t all_sent_at = o_.mode == Mode::kTicker ? t_start_ + int64_t(e_) * step : 0;
  size_t next_seq = 0;
  // listen: nothing to send; the publisher is another process, which touches
  // --stop-file (through the script) once it is done, whatever happened.
  const int64_t listen_deadline = t_start_ + int64_t(o_.listen_timeout_ms) * 1000000;
  int64_t stop_seen = 0, next_stop_check = 0;
  while (o_.mode == Mode::kListen && unique_ < target && !aborted_) {
    const int64_t now = mono_ns();
    if (now > listen_deadline) {
      fail("listen: not every event arrived within %d ms", o_.listen_timeout_ms);
      break;
    }
    if (!o_.stop_file.empty() && stop_seen == 0 && now >= next_stop_check) {
      if (file_exists(o_.stop_file)) stop_seen = now;
      next_stop_check = now + 50000000;
    }
    if (stop_seen != 0 && now > stop_seen + grace) break;
    pump(10);
  }
  while (o_.mode != Mode::kListen && unique_ < target && !aborted_) {
    int64_t now = mono_ns();
    if (all_sent_at == 0 && next_seq >= e_ && pub_.pending == 0) all_sent_at = now;
    if (all_sent_at != 0 && now > all_sent_at + grace) break;
    if (now > hard_deadline) {
      fail("measurement did not finish in time");
      break;
    }
    int timeout = 10;
    // Burst keeps --burst-depth requests in flight: as fast as the server
    // answers, and the next batch is already queued when it does, so neither
    // the reply's round trip nor this loop's turn leaves the server idle.
    // (nchan: a batch is `batch` POSTs, so the depth is counted in batches.)
    const int per_batch = o_.protocol == Protocol::kNchan ? o_.batch : 1;
    bool may_send = o_.mode == Mode::kPublish ||
                    (o_.mode == Mode::kBurst && pub_.pending < o_.burst_depth * per_batch);
    if (may_send && next_seq < e_) {
      int64_t due = o_.mode == Mode::kBurst ? now : t_start_ + int64_t(next_seq) * step;
      if (now >= due) {
        int count = o_.mode == Mode::kBurst ? int(std::min(e_ - next_seq, size_t(o_.batch))) : 1;
        if (outstanding_ == 0) {
          busy_t0_ = now;
          busy_cpu0_ = self_cpu_s();
        }
        outstanding_ += uint64_t(count);
        send_events(int(next_seq), count, false);
        next_seq += size_t(count);
        continue;
      }
      timeout = int(std::clamp<int64_t>((due - now + 999999) / 1000000, 0, 10));
    }
    pump(timeout);
  }
  // The other processes' subscribers may still be getting the last event:
  // the window (and the server's CPU) closes when they all have it.
  if (!o_.wait_done.empty()) wait_files(o_.wait_done, false);
  t_end_ = mono_ns();
  self_cpu1_ = self_cpu_s();
  probe_.stop();
  if (o_.server_pid > 0) srv_cpu1_ = server_cpu_all();
  for (int pid : o_.aux_pids) {
    bool sched = true;
    aux_cpu1_.push_back(server_cpu(pid, sched));
  }
  core_ok_ = core_ok_ && cpu_irq_steal_s(srv_core_, irq1_, steal1_);
  if (outstanding_ > 0) {  // some event never completed: close the busy span
    busy_wall_ns_ += t_end_ - busy_t0_;
    busy_cpu_s_ += self_cpu1_ - busy_cpu0_;
  }
}

// ----------------------------------------------------------------- reporting

double percentile_us(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(p * double(sorted.size()) + 0.999999);  // nearest rank
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return double(sorted[rank - 1]) / 1000.0;
}

int Fanout::report() {
  std::sort(latency_.begin(), latency_.end());
  std::vector<int64_t> fan;
  for (size_t k = 0; k < e_; ++k) {
    if (count_[k] > 0) fan.push_back(last_recv_[k] - stamp_[k]);
  }
  std::sort(fan.begin(), fan.end());
  const uint64_t lost = n_ * e_ - unique_;
  const int64_t span = last_delivery_ - (first_publish_ ? first_publish_ : t_start_);
  const double per_s = span > 0 ? double(unique_) * 1e9 / double(span) : 0;
  const double srv_cpu_s = srv_cpu1_ >= 0 && srv_cpu0_ >= 0 ? srv_cpu1_ - srv_cpu0_ : -1;
  const double cpu_per_delivery =
      srv_cpu_s >= 0 && unique_ ? srv_cpu_s * 1e6 / double(unique_) : -1;
  const double rss_per_sub = rss_after_kb_ >= 0 && rss_before_kb_ >= 0 && n_
                                 ? double(rss_after_kb_ - rss_before_kb_) * 1024.0 / double(n_)
                                 : -1;
  const double window_s = double(t_end_ - t_start_) / 1e9;
  const double client_window_pct = window_s > 0 ? (self_cpu1_ - self_cpu0_) * 100 / window_s : 0;
  const double client_busy_pct =
      busy_wall_ns_ > 0 ? busy_cpu_s_ * 100 / (double(busy_wall_ns_) / 1e9) : client_window_pct;
  const char* mode = o_.mode == Mode::kPublish  ? "publish"
                     : o_.mode == Mode::kBurst  ? "burst"
                     : o_.mode == Mode::kListen ? "listen"
                                                : "ticker";

  std::printf(
      "fanout %s: %zu subscribers (connected in %lld ms, %zu retries), mode %s, "
      "%zu events, %d-byte data\n",
      o_.label.c_str(), n_, static_cast<long long>(connect_ms_), connect_retries_, mode, e_,
      o_.payload);
  std::printf(
      "  deliveries      %llu of %llu  (lost %llu, duplicated %llu, reordered %llu, "
      "errors %llu)\n",
      static_cast<unsigned long long>(unique_), static_cast<unsigned long long>(n_ * e_),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(dup_),
      static_cast<unsigned long long>(reordered_), static_cast<unsigned long long>(errors_));
  std::printf("  latency us      p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
              percentile_us(latency_, .5), percentile_us(latency_, .9),
              percentile_us(latency_, .99), percentile_us(latency_, .999),
              percentile_us(latency_, 1));
  std::printf("  fan-out us      p50 %.0f  p99 %.0f  (publish -> last subscriber, %zu events)\n",
              percentile_us(fan, .5), percentile_us(fan, .99), fan.size());
  std::printf("  rate            %.0f deliveries/s\n", per_s);
  if (o_.server_pid > 0 && srv_cpu_s < 0) {
    std::printf("  server CPU      unavailable (is pid %d still running?)\n", o_.server_pid);
  } else if (o_.server_pid > 0) {
    std::printf("  server CPU      %.3f s = %.2f us per delivery (%s); busy %.0f%% of the window\n",
                srv_cpu_s, cpu_per_delivery, srv_cpu_sched_ ? "schedstat" : "/proc/PID/stat ticks",
                window_s > 0 ? srv_cpu_s * 100 / window_s : 0);
  }
  for (size_t a = 0; a < o_.aux_pids.size() && a < aux_cpu1_.size(); ++a) {
    const int pid = o_.aux_pids[a];
    std::string comm;
    if (slurp("/proc/" + std::to_string(pid) + "/comm", comm) && !comm.empty() &&
        comm.back() == '\n')
      comm.pop_back();
    if (aux_cpu0_[a] < 0 || aux_cpu1_[a] < 0) {
      std::printf("  aux CPU         pid %d (%s): unavailable\n", pid, comm.c_str());
    } else {
      const double s = aux_cpu1_[a] - aux_cpu0_[a];
      std::printf("  aux CPU         pid %d (%s): %.3f s = %.2f us per delivery\n", pid,
                  comm.c_str(), s, unique_ ? s * 1e6 / double(unique_) : 0.0);
    }
  }
  if (o_.split_port != 0) {  // deliveries by server: even subscribers on --port, odd on P2
    uint64_t got[2] = {0, 0}, want[2] = {0, 0};
    for (size_t i = 0; i < n_; ++i) {
      want[i % 2] += e_;
      for (size_t k = 0; k < e_; ++k) got[i % 2] += seen_[i * e_ + k];
    }
    std::printf(
        "  by server       port %d: %llu of %llu deliveries (lost %llu); port %d: %llu of %llu "
        "(lost %llu)\n",
        o_.port, static_cast<unsigned long long>(got[0]), static_cast<unsigned long long>(want[0]),
        static_cast<unsigned long long>(want[0] - got[0]), o_.split_port,
        static_cast<unsigned long long>(got[1]), static_cast<unsigned long long>(want[1]),
        static_cast<unsigned long long>(want[1] - got[1]));
  }
  if (core_ok_) {
    const std::string where = srv_core_ >= 0 ? "cpu" + std::to_string(srv_core_)
                                             : std::string("all cores (server not pinned)");
    std::printf(
        "  server's core   %s: irq+softirq %.3f s (%.2f us per delivery, not in the figure "
        "above), steal %.3f s\n",
        where.c_str(), irq1_ - irq0_, unique_ ? (irq1_ - irq0_) * 1e6 / double(unique_) : 0,
        steal1_ - steal0_);
  }
  if (!o_.cpu_pids.empty()) {
    std::printf("  server          %zu processes (--server-pid and --cpu-pid): CPU and RSS summed\n",
                o_.cpu_pids.size() + 1);
  }
  if (!o_.wait_done.empty()) {
    std::printf(
        "  note            other processes held subscribers too: the figures per delivery and per "
        "subscriber above count this process's only (bench/scale.sh merges them)\n");
  }
  if (o_.server_pid > 0) {
    std::printf(
        "  server RSS      %ld KiB before, %ld KiB with subscribers, %ld KiB at end: "
        "%.0f bytes per subscriber\n",
        rss_before_kb_, rss_after_kb_, rss_end_kb_, rss_per_sub);
  }
  std::printf(
      "  client CPU      %.0f%% of a core while events were in flight, %.0f%% over the "
      "window (%.2f s)\n",
      client_busy_pct, client_window_pct, window_s);
  if (client_busy_pct > 90) {
    std::printf(
        "  WARNING: the client used over 90%% of its core: this result is client-limited\n");
  }
  report_probe();
  if (!o_.events_out.empty()) write_events_out(srv_cpu_s);

  if (!o_.csv.empty()) {
    FILE* probe = std::fopen(o_.csv.c_str(), "r");
    bool fresh = !probe || std::fgetc(probe) == EOF;
    if (probe) std::fclose(probe);
    FILE* f = std::fopen(o_.csv.c_str(), "a");
    if (!f) {
      std::fprintf(stderr, "fanout: cannot write %s: %s\n", o_.csv.c_str(), std::strerror(errno));
      return 1;
    }
    if (fresh) {
      std::fputs(
          "label,subscribers,mode,events,payload,p50_us,p90_us,p99_us,p999_us,max_us,"
          "fanout_p50_us,fanout_p99_us,deliveries_per_s,server_cpu_us_per_delivery,"
          "rss_per_sub_bytes,client_cpu_pct,lost,dup,reordered,errors,fanout_max_us\n",
          f);
    }
    std::fprintf(f,
                 "%s,%zu,%s,%zu,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.0f,%.3f,%.0f,%.1f,%llu,%"
                 "llu,%llu,%llu,%.1f\n",
                 o_.label.c_str(), n_, mode, e_, o_.payload, percentile_us(latency_, .5),
                 percentile_us(latency_, .9), percentile_us(latency_, .99),
                 percentile_us(latency_, .999), percentile_us(latency_, 1), percentile_us(fan, .5),
                 percentile_us(fan, .99), per_s, cpu_per_delivery, rss_per_sub, client_busy_pct,
                 static_cast<unsigned long long>(lost), static_cast<unsigned long long>(dup_),
                 static_cast<unsigned long long>(reordered_),
                 static_cast<unsigned long long>(errors_), percentile_us(fan, 1));
    std::fclose(f);
  }
  return lost || dup_ || reordered_ || errors_ ? 1 : 0;
}

// The probe's summary line and its row of --probe-csv:
// label,subscribers,mode,probe_ms,sent,answered,non200,unanswered,p50_us,p99_us,max_us,error
void Fanout::report_probe() {
  if (o_.probe_ms <= 0) return;
  std::sort(probe_.latency.begin(), probe_.latency.end());
  const std::vector<int64_t>& l = probe_.latency;
  std::string error = probe_.error;
  if (!probe_.opened()) error = "not run (the run failed before the probe started)";
  if (probe_.unanswered > 0 && error.empty()) error = "unanswered requests at the end";
  std::printf(
      "  /health probe   every %d ms: %llu sent, %llu answered (%llu not 200, %llu unanswered); "
      "latency us p50 %.0f  p99 %.0f  max %.0f%s%s\n",
      o_.probe_ms, static_cast<unsigned long long>(probe_.sent),
      static_cast<unsigned long long>(probe_.answered),
      static_cast<unsigned long long>(probe_.non200),
      static_cast<unsigned long long>(probe_.unanswered), percentile_us(l, .5),
      percentile_us(l, .99), percentile_us(l, 1), error.empty() ? "" : "; ", error.c_str());
  if (o_.probe_csv.empty()) return;
  FILE* probe = std::fopen(o_.probe_csv.c_str(), "r");
  bool fresh = !probe || std::fgetc(probe) == EOF;
  if (probe) std::fclose(probe);
  FILE* f = std::fopen(o_.probe_csv.c_str(), "a");
  if (!f) {
    std::fprintf(stderr, "fanout: cannot write %s: %s\n", o_.probe_csv.c_str(), std::strerror(errno));
    return;
  }
  if (fresh) {
    std::fputs(
        "label,subscribers,mode,probe_ms,sent,answered,non200,unanswered,p50_us,p99_us,max_us,"
        "error\n",
        f);
  }
  for (char& c : error) {
    if (c == ',') c = ';';
  }
  auto us = [&](double p) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", percentile_us(l, p));
    return l.empty() ? std::string() : std::string(b);
  };
  std::fprintf(f, "%s,%zu,%s,%d,%llu,%llu,%llu,%llu,%s,%s,%s,%s\n", o_.label.c_str(), n_,
               o_.mode == Mode::kBurst ? "burst" : o_.mode == Mode::kListen ? "listen"
               : o_.mode == Mode::kTicker                                    ? "ticker"
                                                                             : "publish",
               o_.probe_ms, static_cast<unsigned long long>(probe_.sent),
               static_cast<unsigned long long>(probe_.answered),
               static_cast<unsigned long long>(probe_.non200),
               static_cast<unsigned long long>(probe_.unanswered),
               us(.5).c_str(), us(.99).c_str(), us(1).c_str(), error.c_str());
  std::fclose(f);
}

// --events-out: a line of key=value figures, then one line per measured
// event: seq, its publish stamp, its latest delivery here, deliveries here
// (stamps and times: CLOCK_MONOTONIC ns, the same clock in every process).
void Fanout::write_events_out(double srv_cpu_s) const {
  FILE* f = std::fopen(o_.events_out.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "fanout: cannot write %s: %s\n", o_.events_out.c_str(), std::strerror(errno));
    return;
  }
  std::fprintf(f,
               "# label=%s subscribers=%zu events=%zu deliveries=%llu lost=%llu dup=%llu "
               "reordered=%llu errors=%llu t_start_ns=%lld t_end_ns=%lld first_publish_ns=%lld "
               "last_delivery_ns=%lld server_cpu_s=%.6f irq_softirq_s=%.3f irq_cores=%s "
               "client_cpu_s=%.6f\n",
               o_.label.c_str(), n_, e_, static_cast<unsigned long long>(unique_),
               static_cast<unsigned long long>(n_ * e_ - unique_),
               static_cast<unsigned long long>(dup_), static_cast<unsigned long long>(reordered_),
               static_cast<unsigned long long>(errors_), static_cast<long long>(t_start_),
               static_cast<long long>(t_end_), static_cast<long long>(first_publish_),
               static_cast<long long>(last_delivery_), srv_cpu_s,
               core_ok_ ? irq1_ - irq0_ : -1.0,
               !core_ok_ ? "none" : srv_core_ >= 0 ? ("cpu" + std::to_string(srv_core_)).c_str() : "all",
               self_cpu1_ - self_cpu0_);
  for (size_t k = 0; k < e_; ++k) {
    std::fprintf(f, "%zu %lld %lld %u\n", k, static_cast<long long>(stamp_[k]),
                 static_cast<long long>(last_recv_[k]), count_[k]);
  }
  std::fclose(f);
}

int Fanout::run() {
  n_ = size_t(o_.subscribers);
  e_ = size_t(o_.events);
  // Every subscriber is an fd: take the whole hard limit, and say so early if
  // it is still too small rather than failing halfway through connecting.
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur != RLIM_INFINITY && n_ + 16 > rl.rlim_cur) {
    std::fprintf(stderr, "fanout: %zu subscribers need %zu fds; the limit is %llu\n", n_, n_ + 16,
                 static_cast<unsigned long long>(rl.rlim_cur));
    return 2;
  }
  server_.sin_family = AF_INET;
  server_.sin_port = htons(uint16_t(o_.port));
  if (inet_pton(AF_INET, o_.host.c_str(), &server_.sin_addr) != 1) {
    std::fprintf(stderr, "fanout: --host must be an IPv4 address\n");
    return 2;
  }
  request_ = "GET /sse HTTP/1.1\r\nHost: " + o_.host + ':' + std::to_string(o_.port) +
             "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  if (o_.split_port != 0) {
    server2_ = server_;
    server2_.sin_port = htons(uint16_t(o_.split_port));
    request2_ = "GET /sse HTTP/1.1\r\nHost: " + o_.host + ':' + std::to_string(o_.split_port) +
                "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  subs_.resize(n_);
  seen_.assign(n_ * e_, 0);
  count_.assign(e_, 0);
  stamp_.assign(e_, 0);
  last_recv_.assign(e_, 0);
  latency_.reserve(n_ * e_);

  if (o_.server_pid > 0) rss_before_kb_ = server_rss_all_kb();
  bool ok = connect_all();
  if (o_.server_pid > 0) rss_after_kb_ = server_rss_all_kb();
  if (!o_.ready_file.empty()) write_file(o_.ready_file, ok ? "ok\n" : "failed\n");
  if (ok && !o_.wait_ready.empty()) ok = wait_files(o_.wait_ready, true);
  if (ok && o_.mode != Mode::kTicker && o_.mode != Mode::kListen) ok = open_publisher();
  if (ok && o_.probe_ms > 0) probe_.open(server_, o_.host, o_.port, o_.probe_ms);
  if (ok) {
    if (o_.mode != Mode::kListen) warm_up();
    measure();
  }
  if (!o_.done_file.empty()) write_file(o_.done_file, "done\n");
  if (o_.server_pid > 0) rss_end_kb_ = server_rss_all_kb();
  return report();
}

// ------------------------------------------------------------------ options

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "fanout: %s\nusage: fanout --port P [--host 127.0.0.1] --subscribers N --events E "
               "--interval-ms I --mode publish|ticker|burst|listen --payload BYTES --server-pid PID "
               "--csv FILE --label NAME [--warmup W] [--batch 50] [--burst-depth 4] [--sources 8] "
               "[--connect-batch 256] [--connect-timeout-ms 60000] [--grace-ms 10000] "
               "[--protocol json|nchan] [--split-port P2] [--aux-pid PID]... [--cpu-pid PID]... "
               "[--source-base 127.0.0.1] [--probe-ms MS] [--probe-csv FILE] [--ready-file F] "
               "[--wait-ready F]... [--done-file F] [--wait-done F]... [--stop-file F] "
               "[--events-out FILE] [--listen-timeout-ms 900000]\n",
               msg);
  std::exit(2);
}

int to_int(const std::string& name, const std::string& v, int lo, int hi) {
  int x = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || x < lo || x > hi) {
    usage(("bad value for " + name + ": " + v).c_str());
  }
  return x;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    std::string name = argv[a], value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (name == "--help") {
      usage("help");
    } else if (a + 1 < argc) {
      value = argv[++a];
    } else {
      usage(("missing value for " + name).c_str());
    }
    if (name == "--host")
      o.host = value;
    else if (name == "--port")
      o.port = to_int(name, value, 1, 65535);
    else if (name == "--subscribers")
      o.subscribers = to_int(name, value, 1, 1000000);
    else if (name == "--events")
      o.events = to_int(name, value, 1, 10000000);
    else if (name == "--interval-ms")
      o.interval_ms = to_int(name, value, 0, 3600000);
    else if (name == "--payload")
      o.payload = to_int(name, value, 0, 1 << 20);
    else if (name == "--server-pid")
      o.server_pid = to_int(name, value, 0, 1 << 30);
    else if (name == "--csv")
      o.csv = value;
    else if (name == "--label")
      o.label = value;
    else if (name == "--warmup")
      o.warmup = to_int(name, value, 0, 100000);
    else if (name == "--batch")
      o.batch = to_int(name, value, 1, 100000);
    else if (name == "--burst-depth")
      o.burst_depth = to_int(name, value, 1, 1000);
    else if (name == "--sources")
      o.sources = to_int(name, value, 1, 250);
    else if (name == "--connect-batch")
      o.connect_batch = to_int(name, value, 1, 100000);
    else if (name == "--connect-timeout-ms")
      o.connect_timeout_ms = to_int(name, value, 1, 3600000);
    else if (name == "--grace-ms")
      o.grace_ms = to_int(name, value, 0, 3600000);
    else if (name == "--split-port")
      o.split_port = to_int(name, value, 1, 65535);
    else if (name == "--aux-pid")
      o.aux_pids.push_back(to_int(name, value, 1, 1 << 30));
    else if (name == "--cpu-pid")
      o.cpu_pids.push_back(to_int(name, value, 1, 1 << 30));
    else if (name == "--source-base") {
      in_addr addr{};
      if (inet_pton(AF_INET, value.c_str(), &addr) != 1) usage("--source-base must be an IPv4 address");
      o.source_base = ntohl(addr.s_addr);
    } else if (name == "--probe-ms")
      o.probe_ms = to_int(name, value, 0, 60000);
    else if (name == "--probe-csv")
      o.probe_csv = value;
    else if (name == "--ready-file")
      o.ready_file = value;
    else if (name == "--wait-ready")
      o.wait_ready.push_back(value);
    else if (name == "--done-file")
      o.done_file = value;
    else if (name == "--wait-done")
      o.wait_done.push_back(value);
    else if (name == "--stop-file")
      o.stop_file = value;
    else if (name == "--events-out")
      o.events_out = value;
    else if (name == "--listen-timeout-ms")
      o.listen_timeout_ms = to_int(name, value, 1, 86400000);
    else if (name == "--protocol") {
      if (value == "json")
        o.protocol = Protocol::kJson;
      else if (value == "nchan")
        o.protocol = Protocol::kNchan;
      else
        usage(("bad value for --protocol: " + value).c_str());
    } else if (name == "--mode") {
      if (value == "publish")
        o.mode = Mode::kPublish;
      else if (value == "ticker")
        o.mode = Mode::kTicker;
      else if (value == "burst")
        o.mode = Mode::kBurst;
      else if (value == "listen")
        o.mode = Mode::kListen;
      else
        usage(("bad value for --mode: " + value).c_str());
    } else {
      usage(("unknown option " + name).c_str());
    }
  }
  if (o.port == 0) usage("--port is required");
  if (o.split_port != 0 && o.mode == Mode::kTicker) {
    usage("--split-port is for --mode publish and burst");
  }
  if (o.protocol == Protocol::kNchan && o.mode == Mode::kTicker) {
    usage("--mode ticker needs sse-server's ticker (--protocol json)");
  }
  if (uint64_t(o.subscribers) * uint64_t(o.events) > 200000000ULL) {
    usage("subscribers x events over 2e8: too much to keep per delivery");
  }
  return o;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::Fanout fanout(bench::parse(argc, argv));
  return fanout.run();
}
