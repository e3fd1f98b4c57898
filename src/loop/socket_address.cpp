// socket_address.cpp — see socket_address.h.
#include "sse/loop/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

namespace sse {

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(&address)->sin_addr.s_addr);
    return (ip >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&ip)) return true;
    return IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace sse
