// test_logs.cpp — what the server writes about itself, against the real
// binary: --access-log FILE (server/access_log.h, loop/log_buffer.h) writes
// one correct line per finished request or stream for a scripted sequence
// (a stream dropped as a slow consumer included), a pipe that nobody reads
// costs log lines, never answers or events, and SIGHUP reopens the file;
// --trace (base/trace.h) names the steps of a stream and a publish in order.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct LogLine {
  std::string text;
  std::string request;  // between the quotes
  int status = 0;
  unsigned long long bytes = 0;
  double ms = -1;
  long events = -1;  // streams only
  std::string end;   // streams only
};

// Parses one line of the documented shape,
//   TIME PEER "REQUEST" STATUS BYTES MS [events=N end="WHY"]
// false if it has another.
bool parse_line(const std::string& line, LogLine& out) {
  out.text = line;
  // 2026-12-06T15:20:01.123Z
  if (line.size() < 25 || line[10] != 'T' || line[19] != '.' || line[23] != 'Z') return false;
  const std::string peer = " 127.0.0.1:";
  if (line.compare(24, peer.size(), peer) != 0) return false;
  size_t open_quote = line.find(" \"", 24);
  if (open_quote == std::string::npos) return false;
  size_t close_quote = line.find('"', open_quote + 2);
  if (close_quote == std::string::npos) return false;
  out.request = line.substr(open_quote + 2, close_quote - open_quote - 2);
  std::istringstream rest(line.substr(close_quote + 1));
  std::string ms;
  if (!(rest >> out.status >> out.bytes >> ms)) return false;
  size_t dot = ms.find('.');
  if (dot == std::string::npos || ms.size() - dot != 4) return false;  // three decimals
  out.ms = std::stod(ms);
  std::string events;
  if (!(rest >> events)) return true;  // a plain request
  if (events.rfind("events=", 0) != 0) return false;
  out.events = std::stol(events.substr(7));
  std::string end;
  std::getline(rest, end);
  const std::string prefix = " end=\"";
  if (end.rfind(prefix, 0) != 0 || end.back() != '"') return false;
  out.end = end.substr(prefix.size(), end.size() - prefix.size() - 1);
  return true;
}

// Every line of the log; a line of another shape fails the test.
std::vector<LogLine> parse_log(const std::string& text) {
  std::vector<LogLine> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    LogLine parsed;
    bool ok = parse_line(line, parsed);
    CHECK_MESSAGE(ok, "unexpected line: " << line);
    if (ok) lines.push_back(parsed);
  }
  return lines;
}

// The lines whose request is `request` (the /stats polls of the test are
// logged too, and ignored).
std::vector<LogLine> lines_for(const std::vector<LogLine>& lines, const std::string& request) {
  std::vector<LogLine> found;
  for (const LogLine& line : lines) {
    if (line.request == request) found.push_back(line);
  }
  return found;
}

// Waits until the log file has a line containing `needle`.
bool wait_for_line(const std::string& path, const std::string& needle, Deadline deadline) {
  while (ms_left(deadline) > 0) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    ::usleep(20 * 1000);  // polling a file: there is no readiness to wait on
  }
  return false;
}

double figure(int port, const std::string& key) { return json_number(stats(port), key); }

// The whole answer to `raw` on a fresh connection, as bytes (the server
// closes after it: the requests say "Connection: close").
std::string exchange(int port, const std::string& raw) {
  Client client(port);
  REQUIRE(client.send(raw));
  CHECK(client.wait_closed(after_ms(10000)));
  return client.buffer();
}

}  // namespace

TEST_CASE("--access-log: one correct line per request and per stream, tokens masked") {
  TempDir dir;
  std::string log_path = dir.path() + "/access.log";
  ServerProcess server({"--tick-ms", "0", "--max-backlog", "65536", "--history", "8",
                        "--access-log", log_path});
  int port = server.port();

  // Plain requests, each answer read in full to compare its size.
  std::string health = exchange(port, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string missing =
      exchange(port, "GET /missing?x=%22 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string bad = exchange(port, "BAD\r\n\r\n");
  REQUIRE(health.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(missing.rfind("HTTP/1.1 404", 0) == 0);
  REQUIRE(bad.rfind("HTTP/1.1 400", 0) == 0);

  // A stream that receives two events, then leaves.
  auto stream = std::make_unique<SseStream>(port, "/sse?topic=a&access_token=SECRET-TOKEN");
  REQUIRE(stream->head.status == 200);
  HttpResponse published = publish(port, R"([{"topic":"a","data":"1"},{"topic":"a","data":"2"}])");
  REQUIRE(published.status == 202);
  REQUIRE(stream->wait_for([](const SseParser& p) { return p.events.size() == 2; },
                           after_ms(10000)));
  stream.reset();  // closes the connection (FIN)

  // A client that sends a head and half its body, then gives up: 499.
  {
    Client quitter(port);
    REQUIRE(quitter.send("POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         "Content-Length: 100\r\n\r\n{\"data\":"));
  }  // closed here, its body unfinished

  // A subscriber that never reads: dropped at --max-backlog.
  SseStream stalled(port, "/sse?topic=bulk", "", 4096);
  REQUIRE(stalled.head.status == 200);
  const std::string bulky = R"({"topic":"bulk","data":")" + std::string(16000, 'x') + R"("})";
  Deadline deadline = after_ms(30000);
  while (figure(port, "slow_consumers_dropped") < 1 && ms_left(deadline) > 0) {
    REQUIRE(publish(port, bulky).status == 202);
  }
  REQUIRE(figure(port, "slow_consumers_dropped") == 1);

  REQUIRE(wait_for_line(log_path, "end=\"slow consumer", after_ms(10000)));
  REQUIRE(wait_for_line(log_path, "\"POST /publish HTTP/1.1\" 499", after_ms(10000)));
  REQUIRE(wait_for_line(log_path, "events=2 end=\"subscriber left\"", after_ms(10000)));
  std::string text = read_file(log_path);
  INFO("access log:\n" << text);
  std::vector<LogLine> lines = parse_log(text);

  auto one = [&](const std::string& request) {
    std::vector<LogLine> found = lines_for(lines, request);
    CHECK_MESSAGE(found.size() == 1, request);
    return found.empty() ? LogLine{} : found.front();
  };
  LogLine health_line = one("GET /health HTTP/1.1");
  CHECK(health_line.status == 200);
  CHECK(health_line.bytes == health.size());
  CHECK(health_line.ms >= 0);
  LogLine missing_line = one("GET /missing?x=%22 HTTP/1.1");
  CHECK(missing_line.status == 404);
  CHECK(missing_line.bytes == missing.size());
  LogLine bad_line = one("-");
  CHECK(bad_line.status == 400);
  CHECK(bad_line.bytes == bad.size());

  // The token is not in the log; the stream's line has its events and why.
  CHECK(text.find("SECRET-TOKEN") == std::string::npos);
  LogLine stream_line = one("GET /sse?topic=a&access_token=*** HTTP/1.1");
  CHECK(stream_line.status == 200);
  CHECK(stream_line.events == 2);
  CHECK(stream_line.end == "subscriber left");
  CHECK(stream_line.bytes >= 2 * std::string("id: 1796570255990268\ndata: 1\n\n").size());

  LogLine slow_line = one("GET /sse?topic=bulk HTTP/1.1");
  CHECK(slow_line.events >= 1);
  CHECK(slow_line.end.rfind("slow consumer", 0) == 0);

  std::vector<LogLine> publishes = lines_for(lines, "POST /publish HTTP/1.1");
  size_t accepted = 0, gave_up = 0;
  for (const LogLine& line : publishes) {
    accepted += line.status == 202 ? 1 : 0;
    gave_up += line.status == 499 ? 1 : 0;
  }
  CHECK(gave_up == 1);
  // (the server counts a publish once its body is read: the 499 is not one)
  CHECK(accepted == static_cast<size_t>(figure(port, "publish_requests")));
  CHECK(figure(port, "access_log_dropped") == 0);
}

TEST_CASE("--access-log to a pipe nobody reads: lines are dropped and counted, streams go on") {
  TempDir dir;
  std::string fifo = dir.path() + "/log.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader that never reads (without one, opening for writing fails).
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  ServerProcess server({"--tick-ms", "0", "--access-log", fifo});
  int port = server.port();
  SseStream subscriber(port, "/sse");
  REQUIRE(subscriber.head.status == 200);

  // ~100 bytes a line: 64 KiB of pipe and 1 MiB of buffer hold ~11,000
  // lines; 16,000 pipelined requests overflow both.
  std::string batch;
  for (int i = 0; i < 499; ++i) batch += "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
  batch += "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  unsigned long long last_id = 0;
  for (int round = 0; round < 32; ++round) {
    Client client(port);
    REQUIRE(client.send(batch, 20000));
    CHECK(client.wait_closed(after_ms(30000)));
    HttpResponse response = publish(port, R"({"data":"still flowing"})");
    REQUIRE(response.status == 202);
    last_id = published_ids(response.body).at(0);
  }
  // Every event reached the subscriber while the log was stuck.
  CHECK(subscriber.wait_for([&](const SseParser&) { return subscriber.max_id() >= last_id; },
                            after_ms(10000)));
  CHECK(subscriber.parser.events.size() == 32);
  CHECK(figure(port, "access_log_dropped") > 0);
  // What did reach the pipe is whole lines.
  std::string got;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(reader, buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<size_t>(n));
  CHECK(!got.empty());
  CHECK(got.back() == '\n');
  ::close(reader);
}

TEST_CASE("SIGHUP reopens --access-log: after logrotate's rename, lines go to the new file") {
  TempDir dir;
  std::string log_path = dir.path() + "/access.log";
  ServerProcess server({"--tick-ms", "0", "--access-log", log_path});
  int port = server.port();
  REQUIRE(http_get(server.port(), "/health?before").status == 200);
  REQUIRE(wait_for_line(log_path, "/health?before", after_ms(10000)));
  REQUIRE(::rename(log_path.c_str(), (log_path + ".1").c_str()) == 0);
  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  // The signal and the next request may be read in either order: ask
  // until a request's line lands in the new file.
  Deadline deadline = after_ms(10000);
  bool reopened = false;
  while (!reopened && ms_left(deadline) > 0) {
    REQUIRE(http_get(port, "/health?after").status == 200);
    reopened = wait_for_line(log_path, "/health?after", after_ms(100));
  }
  CHECK(reopened);
  CHECK(server.running());
  CHECK(read_file(log_path + ".1").find("/health?before") != std::string::npos);
}

// ------------------------------------------------------------------ --trace

TEST_CASE("--trace names the steps of one stream and one publish, in order") {
  TempDir dir;
  std::string trace_path = dir.path() + "/trace.txt";
  SpawnOptions options;
  options.stderr_file = trace_path;
  std::string text;
  {
    ServerProcess server({"--tick-ms", "0", "--trace"}, options);
    int port = server.port();
    SseStream stream(port, "/sse?topic=t");
    REQUIRE(stream.head.status == 200);
    HttpResponse published = publish(port, R"({"topic":"t","data":"traced"})");
    REQUIRE(published.status == 202);
    REQUIRE(stream.wait_for([](const SseParser& p) { return p.events.size() == 1; },
                            after_ms(10000)));
    CHECK(server.signal_and_wait(SIGTERM, 10000).exited);
    text = read_file(trace_path);
  }
  INFO("trace:\n" << text);
  // The steps of the two requests, each found after the one before it.
  const std::vector<std::string> steps = {
      "reactor         epoll_wait:",
      "server          fd ",  // accepted from 127.0.0.1
      "connection      fd ",  // read
      "http_parser     fd ",  // head complete
      "GET /sse?topic=t",
      "routes          fd ",
      "stream_handler  fd ",  // now a stream
      "out_queue       fd ",  // the head written
      "POST /publish",
      "http_body       fd ",
      "publish_handler fd ",
      "local_event_log id ",
      "publish_handler fd ",  // answer 202
      "broadcaster     fan-out: 1 event on 1 topic",
      "out_queue       fd ",  // the event written to the stream
      "broadcaster     fan-out slice: 1 subscriber written, done",
      "server          signal 15",
  };
  size_t at = 0;
  for (const std::string& step : steps) {
    size_t found = text.find(step, at);
    CHECK_MESSAGE(found != std::string::npos, "step not found in order: " << step);
    if (found != std::string::npos) at = found + step.size();
  }
}

TEST_CASE("without --trace nothing is traced") {
  TempDir dir;
  std::string trace_path = dir.path() + "/stderr.txt";
  SpawnOptions options;
  options.stderr_file = trace_path;
  {
    ServerProcess server({"--tick-ms", "0"}, options);
    REQUIRE(publish(server.port(), R"({"data":"quiet"})").status == 202);
    CHECK(server.signal_and_wait(SIGTERM, 10000).exited);
  }
  CHECK(read_file(trace_path).find("epoll_wait") == std::string::npos);
}
