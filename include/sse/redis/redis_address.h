// redis_address.h — where the shared Redis is, from --redis.
//
// main() parses the URL with parse_redis_url() (pure: text in, address or
// a one-line error out) and then resolves the host once with
// resolve_redis_host(), before the server opens anything: hiredis's own
// lookup would block the loop on DNS, so the link (redis_link.h) only ever
// connects to the numeric address found here. Either failing is exit 2,
// like any bad option.
#pragma once

#include <cstdint>
#include <string>

namespace sse {

struct RedisAddress {
  std::string host;      // as given; numeric after resolve_redis_host()
  uint16_t port = 6379;  // redis://host without a port: the usual one
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT when not 0
};

// Accepts `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` and `HOST:PORT`
// (an IPv6 host in brackets: `redis://[::1]:6379`). False, with `error`
// naming --redis, for anything else.
bool parse_redis_url(const std::string& url, RedisAddress& out, std::string& error);

// Replaces `address.host` by a numeric address (the first one
// getaddrinfo() gives). False, with `error`, when it does not resolve.
bool resolve_redis_host(RedisAddress& address, std::string& error);

}  // namespace sse
