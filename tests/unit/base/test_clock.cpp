// test_clock.cpp — the clocks and the ISO timestamp (include/sse/base/clock.h).
#include <doctest/doctest.h>

#include <string>

#include "sse/base/clock.h"

TEST_CASE("iso_time writes UTC with milliseconds") {
  CHECK(sse::iso_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(sse::iso_time(1'700'000'000'123'456) == "2023-11-14T22:13:20.123Z");
  CHECK(sse::iso_time(951'782'400'999'999) == "2000-02-29T00:00:00.999Z");  // a leap day
}

TEST_CASE("the monotonic clock never goes back and ms agrees with ns") {
  int64_t a = sse::mono_ns();
  int64_t b = sse::mono_ns();
  CHECK(b >= a);
  int64_t ms = sse::mono_ms();
  CHECK(ms >= a / 1'000'000);
}

TEST_CASE("event ids seeded from the realtime clock stay below 2^53") {
  // JavaScript reads ids exactly only below 2^53 (SPEC: "The event stream").
  int64_t now = sse::real_us();
  CHECK(now > 1'600'000'000'000'000);  // after 2020
  CHECK(now < (int64_t{1} << 53));
}
