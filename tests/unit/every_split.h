// every_split.h — the "same result however the input is split" check,
// shared by the parser and body-decoder tests.
//
// `run(ends)` feeds the input in pieces that end at the given offsets and
// describes the outcome as a string. every_split() runs it split in two at
// every byte boundary and one byte at a time, and checks that each run
// describes the same outcome as `whole` (the input fed in one piece).
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

// The offsets of one byte at a time (an empty input is one empty piece).
inline std::vector<size_t> one_byte_at_a_time(size_t n) {
  std::vector<size_t> ends;
  for (size_t end = 1; end <= n; ++end) ends.push_back(end);
  if (n == 0) ends.push_back(0);
  return ends;
}

template <typename Run>
void every_split(size_t n, const std::string& whole, Run run) {
  std::string first_mismatch;
  for (size_t cut = 1; cut < n && first_mismatch.empty(); ++cut) {
    std::string split = run(std::vector<size_t>{cut, n});
    if (split != whole) first_mismatch = "split at byte " + std::to_string(cut) + ": " + split;
  }
  CHECK_MESSAGE(first_mismatch.empty(), "whole: " << whole << "\n" << first_mismatch);

  std::string bytewise = run(one_byte_at_a_time(n));
  CHECK_MESSAGE(bytewise == whole, "whole: " << whole << "\none byte at a time: " << bytewise);
}
