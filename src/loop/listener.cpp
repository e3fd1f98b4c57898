// listener.cpp — see listener.h.
#include "sse/loop/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include "sse/loop/socket_address.h"

namespace sse {

Listener::Listener(Reactor& reactor, AcceptFn on_accept, uint64_t& shed_count)
    : reactor_(reactor), on_accept_(std::move(on_accept)), shed_count_(shed_count) {}

Listener::~Listener() {
  close();
}

bool resolve_listen_address(const std::string& host, uint16_t port, ListenAddress& out,
                            std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  std::string service = std::to_string(port);
  int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (status != 0) {
    error = "--host: cannot resolve '" + host + "': " + ::gai_strerror(status);
    return false;
  }
  bool found = false;
  for (addrinfo* r = results; r != nullptr && !found; r = r->ai_next) {
    if ((r->ai_family == AF_INET || r->ai_family == AF_INET6) &&
        r->ai_addrlen <= sizeof out.address) {
      std::memcpy(&out.address, r->ai_addr, r->ai_addrlen);
      out.length = static_cast<socklen_t>(r->ai_addrlen);
      found = true;
    }
  }
  ::freeaddrinfo(results);
  if (!found) error = "--host: no IPv4 or IPv6 address for '" + host + "'";
  return found;
}

std::string numeric_host(const ListenAddress& address) {
  char text[NI_MAXHOST] = "";
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address.address), address.length, text,
                    sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) {
    return std::string();
  }
  return text;
}

bool Listener::open(const std::string& host, uint16_t port, std::string& error, bool reuse_port) {
  ListenAddress resolved;
  if (!resolve_listen_address(host, port, resolved, error)) return false;
  sockaddr_storage& address = resolved.address;
  socklen_t length = resolved.length;

  fd_.reset(::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  // Restarting the server must not wait for old connections in TIME_WAIT.
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    return false;
  }
  // SOMAXCONN (4096 on current kernels): a burst of thousands of subscribers
  // connecting at once waits in the queue instead of being refused.
  if (::listen(fd_.get(), SOMAXCONN) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    return false;
  }
  spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!reactor_.add(fd_.get(), EPOLLIN, this)) {
    error = std::string("epoll_ctl: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void Listener::close() {
  if (fd_) reactor_.remove(fd_.get());
  fd_.reset();
}

void Listener::on_events(uint32_t) noexcept {
  while (fd_) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int client = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      on_accept_(UniqueFd(client), peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if ((errno == EMFILE || errno == ENFILE) && spare_fd_) {
      spare_fd_.reset();
      bool shed = UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)).valid();
      spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (shed) {
        ++shed_count_;
        continue;  // the next one in the queue meets the same fate
      }
    }
    return;  // EAGAIN: the queue is empty (or an error we cannot act on)
  }
}

std::string Listener::bound_address() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  return format_address(address);
}

uint16_t Listener::bound_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

}  // namespace sse
