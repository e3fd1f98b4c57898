// latency_histogram.h — fixed-size log-scale histogram of microseconds.
//
// The broadcaster records the fan-out latency of every event (publish to
// the last subscriber's write) here; /stats and /metrics read percentiles
// from it. Buckets are powers of two split in 8, so a percentile is exact
// to within 12.5% and recording is a few instructions with no allocation,
// whatever the number of samples (an HdrHistogram with 3 significant bits).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sse {

class LatencyHistogram {
 public:
  void record(int64_t micros);
  // The upper bound of the bucket holding the q-th quantile (0 < q <= 1);
  // 0 when empty.
  int64_t percentile(double q) const;
  int64_t max() const { return max_; }
  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }  // of every sample, in microseconds
  // Samples of at most `micros` (exact where `micros` is a bucket's upper
  // bound, such as 2^k - 1): the cumulative count of a Prometheus bucket.
  uint64_t count_at_most(int64_t micros) const;
  // Adds another histogram's samples (the workers' figures summed): the
  // buckets are the same for every histogram, so the sum is exact.
  void merge(const LatencyHistogram& other);
  // The samples recorded since `earlier`, an older copy of this histogram
  // (the ticker's "fan-out latency since the last tick"). Exact per bucket;
  // the max is the upper bound of the highest bucket that grew.
  LatencyHistogram since(const LatencyHistogram& earlier) const;

  // Bucket of a value, and the largest value a bucket holds (for tests).
  static size_t bucket_of(int64_t micros);
  static int64_t bucket_upper(size_t bucket);

 private:
  static constexpr size_t kBuckets = 16 + 8 * 40;  // up to 2^44 us: ~200 days
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  int64_t max_ = 0;
};

}  // namespace sse
