// test_connection.cpp — Connection corners that need a socket the test
// controls (src/server/connection.cpp); the integration tests cover the
// rest over TCP.
//
// The connection gets one end of a real socketpair and a real reactor; the
// test holds the other end. Nothing is mocked: a "full socket buffer" is a
// buffer the test really filled.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "fixture.h"
#include "sse/base/clock.h"
#include "sse/http/http_response.h"
#include "sse/server/connection.h"

namespace {

// Reads whatever `fd` has now; returns it.
std::string read_available(int fd) {
  std::string got;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<size_t>(n));
  return got;
}

}  // namespace

TEST_CASE("a connection over capacity gets its 503 even when it does not fit the socket buffer") {
  test::ServerFixture server;
  server.config.header_timeout_ms = 10'000;
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  sse::UniqueFd ours(fds[1]);
  // Fill the server side's buffer, as a client that has not read yet would.
  std::string filler(4096, 'x');
  while (::write(fds[0], filler.data(), filler.size()) > 0) {
  }
  sockaddr_storage peer{};
  peer.ss_family = AF_UNIX;
  auto connection = std::make_unique<sse::Connection>(server.context, sse::UniqueFd(fds[0]), peer);
  REQUIRE(connection->start_rejected());
  REQUIRE_FALSE(connection->is_closed());
  std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(ours.get(), request.data(), request.size()) ==
          static_cast<ssize_t>(request.size()));
  server.reactor.poll(100);  // read, answered, the answer queued: the buffer is full

  // The housekeeping sweep right after: the answer is owed, but its
  // deadline has not passed.
  connection->check_timeouts(sse::mono_ms());
  CHECK_FALSE(connection->is_closed());

  // The client reads: the 503 goes out behind what was already queued.
  std::string received;
  int64_t deadline = sse::mono_ms() + 5000;
  while (received.find("HTTP/1.1 503") == std::string::npos && sse::mono_ms() < deadline) {
    received += read_available(ours.get());
    server.reactor.poll(10);
  }
  received += read_available(ours.get());
  CHECK(received.find("HTTP/1.1 503 Service Unavailable\r\n") != std::string::npos);
}
