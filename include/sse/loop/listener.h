// listener.h — the listening socket: bind, listen, accept until EAGAIN.
//
// The reactor calls on_events() when connections are waiting; the listener
// accepts every one of them (accept4, non-blocking, close-on-exec) and hands
// each to the server's callback together with the peer address.
//
// Running out of descriptors (EMFILE/ENFILE) would otherwise leave the
// pending connection in the kernel's queue, and level-triggered epoll would
// report it again at once: a busy loop. The listener keeps one spare fd
// (/dev/null) for that moment: it closes the spare, accepts and closes the
// connection (the client sees a reset instead of hanging), and reopens the
// spare (the muduo Acceptor technique). Normally --max-clients keeps a
// reserve below the fd limit, so this is the last line of defence.
//
// The listen address may be a name ("localhost") as well as a literal. It
// is resolved once, before the loop runs (getaddrinfo blocks, and a loop
// must never wait on DNS): main() calls resolve_listen_address() to refuse
// a bad --host as a bad option (exit 2), then hands the numeric form on, so
// open() resolving it again is a parse, not a lookup.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include "sse/loop/reactor.h"
#include "sse/loop/unique_fd.h"

namespace sse {

struct ListenAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};

// `host` (an IPv4 or IPv6 literal, or a name) and `port` as a socket
// address: getaddrinfo with AI_PASSIVE | AI_NUMERICSERV, the first IPv4 or
// IPv6 result in the resolver's order (RFC 6724, /etc/gai.conf). False,
// with a one-line `error` naming --host, when nothing usable comes back.
// Blocks while the resolver works: call it before the loop starts.
bool resolve_listen_address(const std::string& host, uint16_t port, ListenAddress& out,
                            std::string& error);

// The address as a numeric host, without the port: "127.0.0.1", "::1",
// "fe80::1%eth0".
std::string numeric_host(const ListenAddress& address);

class Listener final : public EventHandler {
 public:
  using AcceptFn = std::function<void(UniqueFd client, const sockaddr_storage& peer)>;

  // `shed_count` is incremented for every connection closed unserved for
  // lack of descriptors (the /stats counter connections_shed).
  Listener(Reactor& reactor, AcceptFn on_accept, uint64_t& shed_count);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Resolves `host` (resolve_listen_address), binds and listens; on failure
  // returns false and sets `error`.
  // `reuse_port`: SO_REUSEPORT, so that several processes (--workers) each
  // listen on the same port and the kernel spreads connections over them.
  bool open(const std::string& host, uint16_t port, std::string& error, bool reuse_port = false);
  // Stops accepting: unregisters and closes the socket (graceful shutdown).
  void close();

  // "127.0.0.1:3000" or "[::1]:3000": the address actually bound.
  std::string bound_address() const;
  uint16_t bound_port() const;

  void on_events(uint32_t events) noexcept override;

 private:
  Reactor& reactor_;
  AcceptFn on_accept_;
  UniqueFd fd_;
  UniqueFd spare_fd_;
  uint64_t& shed_count_;
};

}  // namespace sse
