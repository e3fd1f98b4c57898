// test_shutdown.cpp — the process around the protocol: graceful shutdown on
// SIGTERM and SIGINT (exit 0, every stream ends), the command line (status 2
// and a message naming a bad option), SIGPIPE from clients that vanish, and
// event ids that keep increasing across a restart.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// Streams and an idle keep-alive client are open; `sig` must end the server
// with status 0 within 2 s and close every one of them.
void check_graceful_shutdown(int sig) {
  ServerProcess server({"--tick-ms", "50"});
  std::vector<std::unique_ptr<SseStream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<SseStream>(server.port()));
    REQUIRE(streams.back()->head.status == 200);
    REQUIRE(streams.back()->receives_new_event(after_ms(5000)));
  }
  Client idle(server.port());
  REQUIRE(idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(idle.read_response(after_ms(5000)).status == 200);

  auto start = std::chrono::steady_clock::now();
  ExitStatus status = server.signal_and_wait(sig, 2000);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CAPTURE(took.count());
  CHECK_FALSE(status.timed_out);
  CHECK(status.exited);
  CHECK(status.code == 0);

  for (auto& stream : streams) CHECK(stream->client.wait_closed(after_ms(1000)));
  CHECK(idle.wait_closed(after_ms(1000)));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("SIGTERM with open streams exits 0 within 2 s and ends every stream") {
  check_graceful_shutdown(SIGTERM);
}

TEST_CASE("SIGINT with open streams exits 0 within 2 s and ends every stream") {
  check_graceful_shutdown(SIGINT);
}

TEST_CASE("an unknown option or a bad value exits 2 with a message naming the option") {
  struct Case {
    std::vector<std::string> args;
    const char* named;  // must appear in the message on stderr
  };
  const std::vector<std::string> base = {"--host", "127.0.0.1", "--quiet"};
  const Case cases[] = {
      {{"--port", "abc"}, "port"},
      {{"--port", "70000"}, "port"},
      {{"--port", "0", "--tick-ms", "-1"}, "tick-ms"},
      {{"--port", "0", "--retry-ms", "12x"}, "retry-ms"},
      {{"--port", "0", "--max-backlog", ""}, "max-backlog"},
      {{"--port", "0", "--bogus"}, "bogus"},
      {{"--port", "0", "--tick-ms"}, "tick-ms"},  // value missing
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::string joined;
    for (const std::string& arg : c.args) joined += arg + " ";
    CAPTURE(joined);
    RunResult result = run_to_exit(args, 5000);
    CAPTURE(result.err);
    CHECK_FALSE(result.status.timed_out);
    CHECK(result.status.exited);
    CHECK(result.status.code == 2);
    CHECK(contains(result.err, c.named));
    CHECK_FALSE(contains(result.out, "listening on"));
  }
}

TEST_CASE("--help and --version print to stdout and exit 0") {
  RunResult help = run_to_exit({"--help"}, 5000);
  CHECK(help.status.exited);
  CHECK(help.status.code == 0);
  CHECK(contains(help.out, "--port"));
  CHECK(contains(help.out, "--max-backlog"));
  CHECK_FALSE(contains(help.out, "listening on"));

  RunResult version = run_to_exit({"--version"}, 5000);
  CHECK(version.status.exited);
  CHECK(version.status.code == 0);
  CHECK(version.out.find_first_of("0123456789") != std::string::npos);
}

TEST_CASE("a port already in use is a start-up error, not a hang") {
  ServerProcess first;
  RunResult second =
      run_to_exit({"--host", "127.0.0.1", "--quiet", "--port", std::to_string(first.port())}, 5000);
  CHECK_FALSE(second.status.timed_out);
  CHECK(second.status.exited);
  CHECK(second.status.code != 0);
  CHECK_FALSE(second.err.empty());
  CHECK(first.running());
}

TEST_CASE("subscribers that reset their connections mid-stream never kill the server") {
  // At one tick per millisecond the server is almost always writing, so a
  // reset lands on a socket it is about to write to: without SIGPIPE
  // ignored (or MSG_NOSIGNAL) the process would die here.
  ServerProcess server({"--tick-ms", "1"});
  SseStream survivor(server.port());
  REQUIRE(survivor.head.status == 200);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    std::vector<std::unique_ptr<SseStream>> doomed;
    for (int i = 0; i < 10; ++i) {
      doomed.push_back(std::make_unique<SseStream>(server.port()));
      REQUIRE(doomed.back()->receives_new_event(after_ms(5000)));
    }
    for (auto& stream : doomed) stream->client.close_abruptly();
    survivor.collect(200);
    REQUIRE(server.running());
  }
  CHECK(survivor.receives_new_event(after_ms(5000)));
  CHECK(http_get(server.port(), "/health").status == 200);
  // Every reset subscriber is gone from the count; only the survivor stays.
  Deadline deadline = after_ms(5000);
  double subscribers = -1;
  while (ms_left(deadline) > 0 && subscribers != 1) {
    subscribers = json_number(stats(server.port()), "subscribers");
    survivor.pump(20);
  }
  CHECK(subscribers == 1);
}

TEST_CASE("a client that sends half a request and resets never kills the server") {
  ServerProcess server({"--tick-ms", "1"});
  for (int i = 0; i < 20; ++i) {
    Client client(server.port());
    client.send(i % 2 == 0 ? "GET /health HTTP/1.1\r\nHo"
                           : "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    client.close_abruptly();
  }
  CHECK(server.running());
  CHECK(http_get(server.port(), "/health").status == 200);
}

TEST_CASE("event ids keep increasing across a restart") {
  std::string before;
  {
    ServerProcess first({"--tick-ms", "0"});
    before = publish(first.port(), R"({"data":"before"})").body;
    ExitStatus status = first.signal_and_wait(SIGTERM, 5000);
    CHECK(status.code == 0);
  }
  ServerProcess second({"--tick-ms", "0"});
  std::string after = publish(second.port(), R"({"data":"after"})").body;
  unsigned long long id_before = static_cast<unsigned long long>(json_number(before, "id"));
  unsigned long long id_after = static_cast<unsigned long long>(json_number(after, "id"));
  CAPTURE(before);
  CAPTURE(after);
  CHECK(id_before > 1700000000000000ULL);
  CHECK(id_after > id_before);
}
