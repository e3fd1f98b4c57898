// test_socket_address.cpp — is_loopback (src/loop/socket_address.cpp), which
// decides who may publish when no --publish-token is set. The listener's
// sockets are covered by the integration tests.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "sse/loop/socket_address.h"

namespace {

sockaddr_storage ipv4(const char* text) {
  sockaddr_storage storage{};
  auto* address = reinterpret_cast<sockaddr_in*>(&storage);
  address->sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, text, &address->sin_addr) == 1);
  return storage;
}

sockaddr_storage ipv6(const char* text) {
  sockaddr_storage storage{};
  auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
  address->sin6_family = AF_INET6;
  REQUIRE(inet_pton(AF_INET6, text, &address->sin6_addr) == 1);
  return storage;
}

}  // namespace

TEST_CASE("IPv4 loopback is all of 127.0.0.0/8") {
  CHECK(sse::is_loopback(ipv4("127.0.0.1")));
  CHECK(sse::is_loopback(ipv4("127.255.254.1")));
  CHECK_FALSE(sse::is_loopback(ipv4("128.0.0.1")));
  CHECK_FALSE(sse::is_loopback(ipv4("10.0.0.1")));
  CHECK_FALSE(sse::is_loopback(ipv4("0.0.0.0")));
  CHECK_FALSE(sse::is_loopback(ipv4("1.0.0.127")));
}

TEST_CASE("IPv6 loopback is ::1 and IPv4-mapped 127.x.y.z") {
  CHECK(sse::is_loopback(ipv6("::1")));
  CHECK(sse::is_loopback(ipv6("::ffff:127.0.0.1")));
  CHECK(sse::is_loopback(ipv6("::ffff:127.1.2.3")));
  CHECK_FALSE(sse::is_loopback(ipv6("::")));
  CHECK_FALSE(sse::is_loopback(ipv6("::2")));
  CHECK_FALSE(sse::is_loopback(ipv6("::ffff:10.0.0.1")));
  CHECK_FALSE(sse::is_loopback(ipv6("fe80::1")));
  CHECK_FALSE(sse::is_loopback(ipv6("::127.0.0.1")));  // IPv4-compatible, deprecated: not mapped
}

TEST_CASE("other address families are not loopback") {
  sockaddr_storage storage{};
  storage.ss_family = AF_UNIX;
  CHECK_FALSE(sse::is_loopback(storage));
  storage.ss_family = AF_UNSPEC;
  CHECK_FALSE(sse::is_loopback(storage));
}
