// redis_address.cpp — see redis_address.h.
#include "sse/redis/redis_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <string_view>

namespace sse {

namespace {

bool parse_number(std::string_view text, long max, long& value) {
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && stop == end && value >= 0 && value <= max;
}

}  // namespace

bool parse_redis_url(const std::string& url, RedisAddress& out, std::string& error) {
  error = "--redis: expected redis://[:PASSWORD@]HOST:PORT[/DB] or HOST:PORT, got '" + url + "'";
  std::string_view rest = url;
  bool scheme = rest.substr(0, 8) == "redis://";
  if (scheme) rest.remove_prefix(8);
  out = RedisAddress{};
  if (scheme) {
    // The password is everything before the last '@' (it may hold '@').
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view auth = rest.substr(0, at);
      size_t colon = auth.find(':');
      if (colon == std::string_view::npos) return false;  // a user without a password
      out.password.assign(auth.substr(colon + 1));
      if (out.password.empty()) return false;
      rest.remove_prefix(at + 1);
    }
    if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
      std::string_view db = rest.substr(slash + 1);
      long number = 0;
      if (!db.empty()) {
        if (!parse_number(db, 65535, number)) return false;
        out.db = static_cast<int>(number);
      }
      rest = rest.substr(0, slash);
    }
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    out.host.assign(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    } else if (!scheme) {
      return false;
    }
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      if (!scheme) return false;  // a bare HOST:PORT needs its port
      out.host.assign(rest);
    } else {
      out.host.assign(rest.substr(0, colon));
      port = rest.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (out.host.empty() || out.host.find_first_of(" /@") != std::string::npos) return false;
  if (!port.empty()) {
    long number = 0;
    if (!parse_number(port, 65535, number) || number == 0) return false;
    out.port = static_cast<uint16_t>(number);
  }
  error.clear();
  return true;
}

bool resolve_redis_host(RedisAddress& address, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int status = ::getaddrinfo(address.host.c_str(), nullptr, &hints, &found);
  if (status != 0 || found == nullptr) {
    error = "--redis: cannot resolve '" + address.host + "': " + ::gai_strerror(status);
    return false;
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = found->ai_family == AF_INET6
                        ? static_cast<const void*>(
                              &reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
                        : static_cast<const void*>(
                              &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
  ::inet_ntop(found->ai_family, raw, text, sizeof text);
  ::freeaddrinfo(found);
  address.host = text;
  return true;
}

}  // namespace sse
