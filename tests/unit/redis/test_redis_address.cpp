// test_redis_address.cpp — --redis URLs (src/redis/redis_address.cpp).
#include <doctest/doctest.h>

#include "sse/redis/redis_address.h"

using sse::parse_redis_url;
using sse::RedisAddress;

TEST_CASE("HOST:PORT and redis://HOST:PORT name the same server") {
  for (const char* url : {"127.0.0.1:6380", "redis://127.0.0.1:6380"}) {
    RedisAddress address;
    std::string error;
    REQUIRE(parse_redis_url(url, address, error));
    CHECK(address.host == "127.0.0.1");
    CHECK(address.port == 6380);
    CHECK(address.password.empty());
    CHECK(address.db == 0);
  }
}

TEST_CASE("a redis:// URL carries a password, a database and an IPv6 host") {
  RedisAddress address;
  std::string error;
  REQUIRE(parse_redis_url("redis://:s3cr@t@[::1]:7000/3", address, error));
  CHECK(address.host == "::1");
  CHECK(address.port == 7000);
  CHECK(address.password == "s3cr@t");
  CHECK(address.db == 3);
  REQUIRE(parse_redis_url("redis://user:pw@cache.internal", address, error));
  CHECK(address.host == "cache.internal");
  CHECK(address.port == 6379);
  CHECK(address.password == "pw");
}

TEST_CASE("a malformed --redis URL is refused with a message naming the option") {
  for (const char* url : {"", "localhost", "redis://", "redis://:6379", "host:", "host:0",
                          "host:65536", "host:12ab", "redis://h:1/x", "redis://user@h:1",
                          "redis://[::1", "[::1]", "http://h:1", "redis://a b:1"}) {
    RedisAddress address;
    std::string error;
    CHECK_MESSAGE(!parse_redis_url(url, address, error), url);
    CHECK(error.rfind("--redis", 0) == 0);
  }
}

TEST_CASE("resolving a Redis host gives a numeric address, and an unknown name fails") {
  RedisAddress address;
  std::string error;
  REQUIRE(parse_redis_url("localhost:6379", address, error));
  REQUIRE(sse::resolve_redis_host(address, error));
  CHECK((address.host == "127.0.0.1" || address.host == "::1"));
  REQUIRE(parse_redis_url("no-such-host.invalid:6379", address, error));
  CHECK_FALSE(sse::resolve_redis_host(address, error));
  CHECK(error.find("--redis") == 0);
}
