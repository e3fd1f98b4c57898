// latency_histogram.cpp — see latency_histogram.h.
#include "sse/base/latency_histogram.h"

namespace sse {

size_t LatencyHistogram::bucket_of(int64_t micros) {
  if (micros < 16) return micros < 0 ? 0 : static_cast<size_t>(micros);
  uint64_t v = static_cast<uint64_t>(micros);
  int exponent = 63 - __builtin_clzll(v);  // v in [2^e, 2^(e+1)), e >= 4
  size_t sub = static_cast<size_t>((v >> (exponent - 3)) & 7);
  size_t bucket = 16 + static_cast<size_t>(exponent - 4) * 8 + sub;
  return bucket < kBuckets ? bucket : kBuckets - 1;
}

int64_t LatencyHistogram::bucket_upper(size_t bucket) {
  if (bucket < 16) return static_cast<int64_t>(bucket);
  int exponent = static_cast<int>((bucket - 16) / 8) + 4;
  int64_t sub = static_cast<int64_t>((bucket - 16) % 8);
  return ((8 + sub + 1) << (exponent - 3)) - 1;
}

void LatencyHistogram::record(int64_t micros) {
  ++buckets_[bucket_of(micros)];
  ++count_;
  sum_ += micros > 0 ? static_cast<uint64_t>(micros) : 0;
  if (micros > max_) max_ = micros;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.max_ > max_) max_ = other.max_;
}

LatencyHistogram LatencyHistogram::since(const LatencyHistogram& earlier) const {
  LatencyHistogram delta;
  for (size_t i = 0; i < kBuckets; ++i) {
    delta.buckets_[i] = buckets_[i] - earlier.buckets_[i];
    if (delta.buckets_[i] != 0) delta.max_ = bucket_upper(i) < max_ ? bucket_upper(i) : max_;
  }
  delta.count_ = count_ - earlier.count_;
  delta.sum_ = sum_ - earlier.sum_;
  return delta;
}

uint64_t LatencyHistogram::count_at_most(int64_t micros) const {
  uint64_t total = 0;
  for (size_t i = 0; i < kBuckets && bucket_upper(i) <= micros; ++i) total += buckets_[i];
  return total;
}

int64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return bucket_upper(i) < max_ ? bucket_upper(i) : max_;
  }
  return max_;
}

}  // namespace sse
