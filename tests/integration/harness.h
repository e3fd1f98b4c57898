// harness.h — support for the integration tests: starts the real sse-server
// binary as a child process, talks to it over raw TCP sockets, and reads its
// event stream the way a browser's EventSource would (WHATWG HTML §9.2).
//
// Every wait in here has a deadline and is built on poll(): a test either sees
// the condition it asked for or fails with a message, it never hangs and never
// "sleeps and hopes". Deadlines are generous because the server under test may
// be an AddressSanitizer build on a busy two-core machine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using Deadline = std::chrono::steady_clock::time_point;

// A point in time `ms` milliseconds from now.
Deadline after_ms(long ms);

// Milliseconds left until `deadline` (0 once it has passed), for poll().
int ms_left(Deadline deadline);

// Path of the binary under test: env SSE_SERVER, else "./sse-server".
std::string server_path();

// How a child process ended.
struct ExitStatus {
  bool timed_out = false;  // still running at the deadline
  bool exited = false;     // WIFEXITED
  int code = -1;           // WEXITSTATUS when exited
  int signal = 0;          // WTERMSIG when killed by a signal
};

// How to start the child, beyond its arguments.
struct SpawnOptions {
  // > 0: the child's RLIMIT_NOFILE, soft and hard, set before exec (the
  // server raises its soft limit to the hard one, so both must be lowered).
  long fd_limit = 0;
  // "NAME=VALUE" entries added to the child's environment.
  std::vector<std::string> env;
  // Non-empty: the child's stderr goes to this file (created or truncated).
  std::string stderr_file;
};

// Options for a server whose memory is measured: ASan's quarantine capped
// at 2 MiB (harness.cpp says why); `fd_limit` as in SpawnOptions.
SpawnOptions measured(long fd_limit = 0);

// One sse-server child. The constructor returns once the server printed its
// "listening on ADDR:PORT" line, so the port is known and accepting; it throws
// std::runtime_error (which doctest reports as a failure) when that line does
// not come within 10 s.
class ServerProcess {
 public:
  // `args` are extra options. `--host 127.0.0.1 --quiet` are always added, and
  // `--port 0` too unless `args` name their own --port.
  explicit ServerProcess(std::vector<std::string> args = {}, const SpawnOptions& options = {});
  ~ServerProcess();  // SIGTERM, wait; SIGKILL after 5 s

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends `sig` and waits until the child exits or `timeout_ms` passes.
  ExitStatus signal_and_wait(int sig, long timeout_ms);

  // True while the child has not exited (reaps it if it has).
  bool running();

  // The child's resident set (VmRSS in /proc/PID/status) in KiB, and its
  // number of open descriptors (entries of /proc/PID/fd); -1 if unreadable.
  long rss_kib() const;
  long fd_count() const;
  // CPU time the child has used (user + system, /proc/PID/stat), in ms.
  long cpu_ms() const;

 private:
  ExitStatus wait_exit(Deadline deadline);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // kept open so the server never writes into a closed pipe
  int port_ = 0;
  bool reaped_ = false;
  ExitStatus status_;
};

// Runs the binary with exactly `args` (nothing added) and collects its output,
// for command-line tests. Killed with SIGKILL if it outlives `timeout_ms`.
struct RunResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
RunResult run_to_exit(const std::vector<std::string>& args, long timeout_ms);

// A parsed HTTP response. Header names are lower-cased; a repeated header
// keeps its last value (tests that care about repeats look at raw_head).
struct HttpResponse {
  int status = 0;  // 0: no complete response before the deadline or close
  std::string status_line;
  std::string raw_head;
  std::map<std::string, std::string> headers;
  std::string body;

  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const;
};

// A raw TCP client. The socket is blocking, but every read and write is
// preceded by poll() with the caller's deadline, so nothing waits forever.
// Bytes received and not yet consumed stay in buffer().
class Client {
 public:
  // Connects to 127.0.0.1:port. `rcvbuf` > 0 sets SO_RCVBUF before connect()
  // (so the advertised window is small from the first segment). Throws on
  // failure to connect.
  explicit Client(int port, int rcvbuf = 0);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes all of `bytes`; false if the peer reset or the deadline passed.
  bool send(std::string_view bytes, long timeout_ms = 5000);

  // Reads until `done(buffer())` holds, the peer closes, or the deadline.
  // Returns whether `done` held.
  bool read_until(const std::function<bool(const std::string&)>& done, Deadline deadline);
  bool read_until(std::string_view needle, Deadline deadline);

  // Reads one response: status line, headers, then a Content-Length body,
  // a chunked body, or (neither, and `head_request` false) the bytes up to
  // close. With `head_request` only the head is read. Consumes it from the
  // buffer; what follows (a pipelined response) stays.
  HttpResponse read_response(Deadline deadline, bool head_request = false);

  // Reads only the status line and headers, leaving the body in buffer().
  HttpResponse read_head(Deadline deadline);

  // Reads (and keeps in buffer()) until the server closes the connection.
  // True when it closed (EOF or reset) before the deadline.
  bool wait_closed(Deadline deadline);

  // Reads whatever is available within `ms` milliseconds; returns bytes read.
  std::size_t read_some(long ms);

  // Closes with SO_LINGER 0, so the server sees a reset, not a FIN.
  void close_abruptly();

  // Half-closes: shutdown(SHUT_WR), a FIN after what was sent; reading
  // goes on.
  void shut_write();

  std::string& buffer() { return buffer_; }
  bool peer_closed() const { return peer_closed_; }
  // The close was a reset (ECONNRESET), not an orderly FIN.
  bool peer_reset() const { return peer_reset_; }
  int fd() const { return fd_; }

 private:
  // One recv(), after a poll() if the deadline leaves time to wait; returns
  // false on timeout, nothing to read, EOF or error.
  bool fill(Deadline deadline);

  static constexpr std::size_t kChunk = 65536;  // bytes per recv()

  int fd_ = -1;
  std::string buffer_;
  std::size_t last_read_ = 0;  // bytes the last recv() returned
  bool peer_closed_ = false;
  bool peer_reset_ = false;
};

// One dispatched event, as EventSource would deliver it.
struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" if none
  std::string data;              // `data:` lines joined by "\n"
  std::string last_event_id;     // the last event ID buffer at dispatch
  bool had_id_field = false;     // this event carried its own `id:` line
};

// One line of the stream, for tests about framing (retry first, comments).
struct SseLine {
  bool comment = false;
  std::string field;  // empty for comments and blank lines
  std::string value;  // comment text after the ':' for comments
  bool blank = false;
};

// The event-stream interpretation of WHATWG HTML §9.2.6: lines end in CRLF,
// LF or CR; a blank line dispatches; ':' starts a comment; one space after
// the field's colon is dropped; an event with no data is not dispatched.
// Fed incrementally, so a CR at the end of one chunk and an LF at the start
// of the next count as one line end.
class SseParser {
 public:
  void feed(std::string_view bytes);

  std::vector<SseLine> lines;
  std::vector<SseEvent> events;
  long retry_ms = -1;  // last valid `retry:` value, -1 if none
  // Long runs (the soak) turn this off: `lines` then stays empty, and
  // events are taken with SseStream::take_events(), so memory stays flat.
  bool keep_lines = true;

 private:
  void process_line(const std::string& line);
  void dispatch();

  std::string line_;
  bool after_cr_ = false;
  bool started_ = false;  // a leading BOM is skipped once
  std::string data_;
  std::string type_;
  std::string last_id_;
  bool id_in_event_ = false;
};

// A subscriber: connects, sends GET `target`, reads the response head, then
// parses the body as an event stream.
class SseStream {
 public:
  explicit SseStream(int port, const std::string& target = "/sse",
                     const std::string& extra_headers = "", int rcvbuf = 0);

  // Sends the request without waiting for the response head, so that
  // thousands of streams can be opened at once: send every request, then
  // finish_open() each (see open_streams()).
  struct NoWait {};
  SseStream(NoWait, int port, const std::string& target = "/sse",
            const std::string& extra_headers = "", int rcvbuf = 0);

  // Reads the response head; true when it is a 200.
  bool finish_open(Deadline deadline);

  // Reads until `done(parser)` holds; false on deadline or close.
  bool wait_for(const std::function<bool(const SseParser&)>& done, Deadline deadline);

  // The next event not yet returned by next_event(); false if none arrived.
  bool next_event(SseEvent& out, Deadline deadline);

  // Waits for an event with a numeric id above every id seen so far: the
  // proof that the stream is still alive and moving forward.
  bool receives_new_event(Deadline deadline);

  // Reads whatever arrived within `ms` and parses it; returns at the first
  // bytes, so it is a cheap "anything new?" check.
  void pump(long ms);

  // Reads and parses everything that arrives during the next `ms`: for
  // checking that nothing more (no duplicate, no stray event) comes.
  void collect(long ms);

  // Highest numeric id seen so far, 0 if none.
  unsigned long long max_id() const { return max_id_; }

  // Parses what is buffered and hands over every event not yet returned by
  // next_event(), forgetting them (and the parsed lines): for long runs.
  std::vector<SseEvent> take_events();

  HttpResponse head;
  SseParser parser;
  Client client;

 private:
  void absorb();             // moves client.buffer() into the parser
  std::size_t next_ = 0;     // events handed out by next_event()
  std::size_t scanned_ = 0;  // events already folded into max_id_
  unsigned long long max_id_ = 0;
};

// Opens `count` streams on `target`, `batch` connections at a time (the
// requests of a batch are all sent before any answer is read). Fails the
// current test (REQUIRE-style, via an exception) if one does not get a 200.
std::vector<std::unique_ptr<SseStream>> open_streams(int port, std::size_t count,
                                                     const std::string& target = "/sse",
                                                     std::size_t batch = 250);

// One poll() over every client for up to `ms`, then reads what each ready
// client has into its buffer (read_some). Returns how many were ready.
std::size_t read_ready(const std::vector<Client*>& clients, long ms);

// One poll() over every stream for up to `ms`, then reads and parses what
// each ready stream has: a cheap way to keep thousands of streams drained.
// Returns how many streams were ready.
std::size_t pump_streams(const std::vector<SseStream*>& streams, long ms);

// GET `path` on a fresh connection ("Connection: close").
HttpResponse http_get(int port, const std::string& path);

// Any request on a fresh connection. `raw` is sent as is.
HttpResponse http_raw(int port, const std::string& raw, bool head_request = false);

// The bytes of POST /publish with a JSON body, to send on a connection the
// caller keeps; `extra_headers` end in "\r\n" each (a Content-Type among
// them replaces application/json).
std::string publish_request(const std::string& json, const std::string& extra_headers = "");

// POST /publish with a JSON body on a fresh connection ("Connection: close").
HttpResponse publish(int port, const std::string& json, const std::string& extra_headers = "");

// The body of GET /stats (empty if the request failed).
std::string stats(int port);

// The number after "key": in a JSON text, found by plain search (the /stats
// keys are unique, so no real parser is needed); NaN if absent, which makes
// every comparison with it fail.
double json_number(const std::string& body, const std::string& key);

// The string value after "key":, with JSON escapes decoded; empty if absent.
std::string json_string(const std::string& body, const std::string& key);

// The ids of the events a stream received, in order, gap notices left out.
std::vector<unsigned long long> event_ids(const SseParser& parser);

// The ids in a 202 body of POST /publish, {"id":N} or {"ids":[N,...]}, read
// as exact integers (a double would lose the last digits of a 16-digit id).
std::vector<unsigned long long> published_ids(const std::string& body);

// Parses a decimal event id; 0 if `text` is not one.
unsigned long long to_id(const std::string& text);

// Polls /stats until json_number(key) >= value or the deadline passes.
bool wait_stat_at_least(int port, const std::string& key, double value, Deadline deadline);

// Polls /stats until json_number(key) == value or the deadline passes.
bool wait_stat_equal(int port, const std::string& key, double value, Deadline deadline);

// A fresh directory under /tmp, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// ------------------------------------------------------------------- Redis

// The object value `{...}` after "key": (braces matched, strings skipped), or
// "" if absent: e.g. the "redis" object of /stats, whose "gaps" must not be
// confused with the top-level one.
std::string json_object(const std::string& body, const std::string& key);

// Where the object starting at body[pos] ('{') ends: the index after its
// matching '}' (strings skipped), or npos.
std::size_t json_object_end(const std::string& body, std::size_t pos);

// True when some "key": in the text is followed by `true`.
bool json_true(const std::string& body, const std::string& key);

// Polls /stats until its "redis" object says "connected": true.
bool wait_redis_connected(int port, Deadline deadline);

// One redis-server child (Debian's /usr/bin/redis-server) on a free loopback
// port with its own data directory, for the --redis tests. Started with
// `--save '' --appendonly no` (nothing persisted), or with `append_only`:
// `--appendonly yes --appendfsync always` (every write fsynced before Redis
// answers). kill9() / pause() / resume() are the faults; start() again
// restarts on the same port and directory, so it loads whatever it persisted
// there (the AOF, or a dump.rdb a SAVE wrote). Killed by PID on destruction.
class RedisProcess {
 public:
  // Picks a free port and, with `start_now`, starts (retrying with another
  // port if this one was taken meanwhile). Throws if Redis does not answer
  // PING within 10 s.
  explicit RedisProcess(bool append_only = false, bool start_now = true);
  ~RedisProcess();

  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }
  void set_append_only(bool on) { append_only_ = on; }

  // Starts redis-server on port() and waits for PONG; throws on failure.
  void start();
  void kill9();   // SIGKILL (also when stopped), and reaped
  void pause();   // SIGSTOP: the sockets stay open, nothing is answered
  void resume();  // SIGCONT
  bool running();

  // Sends one command (RESP array of bulk strings) on a fresh connection and
  // returns the raw RESP reply ("+OK\r\n", ":3\r\n", ...), "" on failure.
  std::string command(const std::vector<std::string>& args, long timeout_ms = 5000);

 private:
  bool launch();  // false when the child exited (port taken) before PONG

  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool append_only_ = false;
};

// A subscriber as an application sees it: one stream, reconnected with
// Last-Event-ID when it is closed, its events (gap notices included) kept
// across the connections. `from` is how many acknowledged ids the test's
// ledger held when it opened: it expects every one acknowledged after.
class Watcher {
 public:
  Watcher(std::string name, int port, std::string target, std::size_t from,
          const std::string& extra_headers = "");

  const std::string& name() const { return name_; }
  std::size_t from() const { return from_; }
  SseStream& stream() { return *stream_; }

  // Events of every connection so far, in arrival order.
  std::vector<SseEvent> events();
  // Ids of those events, gap notices left out.
  std::vector<unsigned long long> ids();
  // Closes the current connection (if any) and opens a new one on `port`
  // with Last-Event-ID: the last id received; true on a 200.
  bool reconnect(int port);

 private:
  std::string name_;
  std::string target_;
  std::size_t from_;
  std::vector<SseEvent> earlier_;  // events of closed connections
  std::unique_ptr<SseStream> stream_;
};

// What the watchers got, measured against the acknowledged ids (202s, in the
// order the sequential publishes were answered).
struct Delivery {
  std::size_t published = 0;   // acknowledged ids
  std::size_t delivered = 0;   // acknowledged ids that reached every watcher expecting them
  std::size_t lost = 0;        // acknowledged ids missing from at least one such watcher
  std::size_t duplicated = 0;  // deliveries of an id a watcher already had
  std::size_t disordered = 0;  // an event id not above the one before it on the same watcher
  std::size_t gaps = 0;        // gap notices received
  std::size_t unacknowledged = 0;  // delivered ids no 202 named (a 503 whose outcome was unknown)
  std::string detail;          // the first few problems, for failure messages
};
Delivery tally(const std::vector<unsigned long long>& acked,
               const std::vector<Watcher*>& watchers);

// Reads every watcher's stream until each has every acknowledged id it
// expects, or the deadline; then reads `settle_ms` more (a duplicate or a
// stray event would show up there). True when all arrived.
bool wait_delivered(const std::vector<unsigned long long>& acked,
                    const std::vector<Watcher*>& watchers, Deadline deadline,
                    long settle_ms = 300);

// "FAULT <name>: published=N delivered=N lost=N duplicated=N gaps=N" on
// stdout, flushed.
void print_fault(const std::string& name, const Delivery& delivery);
