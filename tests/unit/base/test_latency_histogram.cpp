// test_latency_histogram.cpp — the log-scale histogram behind the fan-out
// percentiles (src/base/latency_histogram.cpp).
//
// The promise is "exact to within 12.5%": a percentile is the upper bound
// of the bucket holding it, clipped to the largest value seen. The bucket
// layout is checked exhaustively: buckets are contiguous, cover every
// value, and no bucket is wider than 1/8 of its lower bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sse/base/latency_histogram.h"

using sse::LatencyHistogram;

TEST_CASE("values below 16 us each have their own bucket") {
  for (int64_t v = 0; v < 16; ++v) {
    CHECK(LatencyHistogram::bucket_of(v) == static_cast<size_t>(v));
    CHECK(LatencyHistogram::bucket_upper(static_cast<size_t>(v)) == v);
  }
}

TEST_CASE("negative values (a clock that stepped) count as zero") {
  CHECK(LatencyHistogram::bucket_of(-1) == 0);
  CHECK(LatencyHistogram::bucket_of(INT64_MIN) == 0);
}

TEST_CASE("buckets are contiguous and each is at most 12.5% wide") {
  const size_t last = LatencyHistogram::bucket_of(INT64_MAX);
  for (size_t b = 16; b < last; ++b) {
    int64_t upper = LatencyHistogram::bucket_upper(b);
    int64_t lower = LatencyHistogram::bucket_upper(b - 1) + 1;
    INFO("bucket " << b << " [" << lower << ", " << upper << "]");
    CHECK(LatencyHistogram::bucket_of(lower) == b);
    CHECK(LatencyHistogram::bucket_of(upper) == b);
    CHECK(LatencyHistogram::bucket_of(upper + 1) == b + 1);
    CHECK((upper - lower + 1) * 8 <= lower);
  }
}

TEST_CASE("values past the last bucket land in it") {
  const size_t last = LatencyHistogram::bucket_of(INT64_MAX);
  CHECK(LatencyHistogram::bucket_of(int64_t{1} << 50) == last);
  CHECK(LatencyHistogram::bucket_upper(last) >= (int64_t{1} << 43));  // ~100 days in us
}

TEST_CASE("an empty histogram reports zero") {
  LatencyHistogram histogram;
  CHECK(histogram.count() == 0);
  CHECK(histogram.max() == 0);
  CHECK(histogram.percentile(0.5) == 0);
  CHECK(histogram.percentile(1.0) == 0);
}

TEST_CASE("one sample is every percentile, exactly") {
  LatencyHistogram histogram;
  histogram.record(1234);
  CHECK(histogram.count() == 1);
  CHECK(histogram.max() == 1234);
  for (double q : {0.001, 0.5, 0.99, 1.0}) CHECK(histogram.percentile(q) == 1234);
}

TEST_CASE("percentiles are within 12.5% above the true value and never above the max") {
  LatencyHistogram histogram;
  std::vector<int64_t> samples;
  for (int64_t v = 1; v <= 10000; ++v) {
    int64_t sample = (v * 7919) % 100000 + 1;  // spread, unordered
    samples.push_back(sample);
    histogram.record(sample);
  }
  std::sort(samples.begin(), samples.end());
  CHECK(histogram.count() == 10000);
  CHECK(histogram.max() == samples.back());
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    int64_t exact = samples[static_cast<size_t>(q * 10000 + 0.5) - 1];
    int64_t reported = histogram.percentile(q);
    INFO("q " << q << ": exact " << exact << ", reported " << reported);
    CHECK(reported >= exact);
    CHECK(reported <= exact + exact / 8 + 1);
    CHECK(reported <= histogram.max());
  }
}

TEST_CASE("percentiles grow with q") {
  LatencyHistogram histogram;
  for (int64_t v = 0; v < 1000; ++v) histogram.record(v * v);
  int64_t previous = 0;
  for (double q = 0.01; q <= 1.0; q += 0.01) {
    int64_t p = histogram.percentile(q);
    CHECK(p >= previous);
    previous = p;
  }
}

TEST_CASE("since() keeps only the samples recorded after an earlier copy") {
  LatencyHistogram h;
  h.record(5);
  h.record(100'000);
  LatencyHistogram earlier = h;
  h.record(300);
  h.record(310);
  LatencyHistogram delta = h.since(earlier);
  CHECK(delta.count() == 2);
  CHECK(delta.sum() == 610);
  CHECK(delta.percentile(0.5) >= 300);
  CHECK(delta.percentile(0.5) <= 340);
  CHECK(delta.max() >= 310);
  CHECK(delta.max() < 100'000);  // the old slow sample is not in it
  CHECK(h.since(h).count() == 0);
  CHECK(h.since(h).percentile(0.99) == 0);
}
