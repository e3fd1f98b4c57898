// socket_address.h — what the server asks of a peer's address.
//
// The listener hands each accepted connection its peer address; the
// connection asks once, at accept, whether that peer is on this machine
// (tokenless publishing is allowed only then, see publish_handler.h); the
// access log and --trace print it.
#pragma once

#include <sys/socket.h>

#include <string>

namespace sse {

// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z).
bool is_loopback(const sockaddr_storage& address);

// "127.0.0.1:5123", "[::1]:5123"; "?" for other families.
std::string format_address(const sockaddr_storage& address);

}  // namespace sse
