// test_options_static.cpp — the real binary's newer options and static file
// validators: --publish-token-file (the token from a file, kept out of
// /proc/PID/cmdline), --host given as a name and refused when it does not
// resolve (exit 2, like any bad option), and the ETag / If-None-Match and
// Last-Modified / If-Modified-Since round trips (RFC 9110 §13) over a socket,
// with the connection still usable after each bodiless 304.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// /proc/PID/cmdline with its NULs shown as spaces.
std::string command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

// GET /health over a fresh connection to `literal` (an IPv4 or IPv6
// address): the raw bytes up to close, empty if it could not connect.
// The harness's Client speaks IPv4 only, and "localhost" may be ::1.
std::string health_at(const std::string& literal, int port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return std::string();
  }
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string();
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) == 0) {
    const std::string request =
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      Deadline deadline = after_ms(5000);
      char buffer[4096];
      for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, ms_left(deadline)) <= 0) break;
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        received.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return received;
}

const std::string kGetFile = "GET /app.css HTTP/1.1\r\nHost: x\r\n";

}  // namespace

TEST_CASE("--publish-token-file: the file's token publishes, others get 401, ps never shows it") {
  TempDir dir;
  const std::string token = "tok-from-file-5f3a9c";
  dir.write("token", token + "\n");
  const std::string path = dir.path() + "/token";
  ServerProcess server({"--tick-ms", "0", "--publish-token-file", path});
  CHECK(publish(server.port(), R"({"data":1})").status == 401);
  CHECK(publish(server.port(), R"({"data":1})", "Authorization: Bearer nope\r\n").status == 401);
  // The line end was stripped: the token with it is another token.
  CHECK(
      publish(server.port(), R"({"data":1})", "Authorization: Bearer " + token + "x\r\n").status ==
      401);
  CHECK(publish(server.port(), R"({"data":1})", "Authorization: Bearer " + token + "\r\n").status ==
        202);
  std::string cmdline = command_line(server.pid());
  CHECK(cmdline.find(path) != std::string::npos);  // we read the right process
  CHECK(cmdline.find(token) == std::string::npos);
}

TEST_CASE("--publish-token-file: a CRLF-terminated token file works too") {
  TempDir dir;
  dir.write("token", "crlf-token\r\n");
  ServerProcess server({"--tick-ms", "0", "--publish-token-file", dir.path() + "/token"});
  CHECK(publish(server.port(), R"({"data":1})", "Authorization: Bearer crlf-token\r\n").status ==
        202);
}

TEST_CASE("--publish-token-file: a missing, empty or two-word token file exits 2 naming it") {
  TempDir dir;
  dir.write("empty", "");
  dir.write("spaced", "two words\n");
  dir.write("newline", "\n");
  for (const std::string& file : {dir.path() + "/missing", dir.path() + "/empty",
                                  dir.path() + "/spaced", dir.path() + "/newline", dir.path()}) {
    INFO("file: " << file);
    RunResult run = run_to_exit({"--port", "0", "--publish-token-file", file}, 10000);
    CHECK(run.status.exited);
    CHECK(run.status.code == 2);
    CHECK(run.err.find("--publish-token-file") != std::string::npos);
    CHECK(run.out.find("listening on") == std::string::npos);
  }
}

TEST_CASE("--publish-token with --publish-token-file exits 2 naming the option") {
  TempDir dir;
  dir.write("token", "abc\n");
  RunResult run = run_to_exit(
      {"--port", "0", "--publish-token", "abc", "--publish-token-file", dir.path() + "/token"},
      10000);
  CHECK(run.status.exited);
  CHECK(run.status.code == 2);
  CHECK(run.err.find("--publish-token-file") != std::string::npos);
}

TEST_CASE("--host localhost starts and answers /health on 127.0.0.1 or ::1") {
  // The harness puts --host 127.0.0.1 first; the later --host wins.
  ServerProcess server({"--host", "localhost"});
  std::string answer = health_at("127.0.0.1", server.port());
  if (answer.empty()) answer = health_at("::1", server.port());
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.size() >= 2);
  CHECK(answer.substr(answer.size() - 2) == "ok");
}

TEST_CASE("--host that is not an address and does not resolve exits 2 naming --host") {
  for (const char* host : {"999.1.1.1", "no-such-host.invalid"}) {
    INFO("host: " << std::string(host));
    // The lookup of a name may go to DNS: allow for a slow resolver.
    RunResult run = run_to_exit({"--host", host, "--port", "0"}, 30000);
    CHECK_FALSE(run.status.timed_out);
    CHECK(run.status.exited);
    CHECK(run.status.code == 2);
    CHECK(run.err.find("--host") != std::string::npos);
    CHECK(run.out.find("listening on") == std::string::npos);
  }
}

TEST_CASE("a static file's ETag round trip over one connection: 304, no body, then the file") {
  TempDir www;
  www.write("app.css", "body{color:red}");
  ServerProcess server({"--www", www.path()});
  Client client(server.port());
  REQUIRE(client.send(kGetFile + "\r\n"));
  HttpResponse first = client.read_response(after_ms(5000));
  REQUIRE(first.status == 200);
  CHECK(first.body == "body{color:red}");
  CHECK(first.header("x-content-type-options") == "nosniff");
  const std::string etag = first.header("etag");
  REQUIRE(etag.rfind("W/\"", 0) == 0);
  const std::string modified = first.header("last-modified");
  CHECK(modified.size() == 29);

  // A 304 and a 200 pipelined: if the 304 carried any body bytes, the
  // second response would not parse as one.
  REQUIRE(client.send(kGetFile + "If-None-Match: " + etag + "\r\n\r\n" + kGetFile + "\r\n"));
  HttpResponse again = client.read_response(after_ms(5000));
  CHECK(again.status == 304);
  CHECK(again.status_line == "HTTP/1.1 304 Not Modified");
  CHECK(again.body.empty());
  CHECK_FALSE(again.has("content-length"));
  CHECK(again.header("etag") == etag);
  CHECK(again.header("last-modified") == modified);
  CHECK(again.header("x-content-type-options") == "nosniff");
  HttpResponse after = client.read_response(after_ms(5000));
  CHECK(after.status == 200);
  CHECK(after.body == "body{color:red}");

  // If-Modified-Since at the file's own Last-Modified: 304 as well.
  REQUIRE(client.send(kGetFile + "If-Modified-Since: " + modified + "\r\n\r\n"));
  HttpResponse since = client.read_response(after_ms(5000));
  CHECK(since.status == 304);
  CHECK(since.body.empty());

  // A changed file has another ETag: the old one gets the new bytes.
  www.write("app.css", "body{color:blue;margin:0}");
  REQUIRE(client.send(kGetFile + "If-None-Match: " + etag + "\r\n\r\n"));
  HttpResponse changed = client.read_response(after_ms(5000));
  CHECK(changed.status == 200);
  CHECK(changed.body == "body{color:blue;margin:0}");
  CHECK(changed.header("etag") != etag);
}

TEST_CASE("a FIFO under --www is answered 404 at once and never opened for reading") {
  TempDir www;
  const std::string fifo = www.path() + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  ServerProcess server({"--www", www.path()});
  Client client(server.port());
  Deadline started = after_ms(0);
  REQUIRE(client.send("GET /pipe HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpResponse response = client.read_response(after_ms(5000));
  CHECK(response.status == 404);
  CHECK(response.header("x-content-type-options") == "nosniff");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  // No reader holds it open: a non-blocking writer is told so.
  errno = 0;
  int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  CHECK(writer == -1);
  CHECK(errno == ENXIO);
  if (writer >= 0) ::close(writer);
  // And the server still answers on that connection.
  REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(client.read_response(after_ms(5000)).status == 200);
}

TEST_CASE("--www none serves no static files; streams, publish and stats work as always") {
  ServerProcess server({"--www", "none", "--tick-ms", "0"});
  CHECK(http_get(server.port(), "/").status == 404);
  CHECK(http_get(server.port(), "/index.html").status == 404);
  CHECK(http_get(server.port(), "/health").status == 200);
  SseStream stream(server.port(), "/sse");
  REQUIRE(stream.head.status == 200);
  HttpResponse reply = publish(server.port(), R"({"data":"without pages"})");
  REQUIRE(reply.status == 202);
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));
  CHECK(event.data == "without pages");
  CHECK(!stats(server.port()).empty());
}
