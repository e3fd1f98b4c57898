// socket_address.h — what the server asks of a peer's address.
//
// The listener hands each accepted connection its peer address; the
// connection asks once, at accept, whether that peer is on this machine
// (tokenless publishing is allowed only then, see publish_handler.h).
#pragma once

#include <sys/socket.h>

namespace sse {

// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z).
bool is_loopback(const sockaddr_storage& address);

}  // namespace sse
