// redis_helpers.h — what the --redis integration tests (test_redis.cpp,
// test_redis_faults.cpp) share on top of the harness: the options of an
// instance on a test's Redis, and the wait for every instance to subscribe.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

// The options of an instance on `redis`: the ticker off, so the only events
// are the test's own.
inline std::vector<std::string> on_redis(const RedisProcess& redis,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--redis", redis.address(), "--tick-ms", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Instances connect to Redis in the background after printing their start
// line; a test starts publishing once every one has subscribed.
inline void require_connected(const std::vector<const ServerProcess*>& servers) {
  for (const ServerProcess* server : servers) {
    CAPTURE(server->port());
    REQUIRE(wait_redis_connected(server->port(), after_ms(10000)));
  }
}
