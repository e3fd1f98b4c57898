// loop_monitor.cpp — see loop_monitor.h.
#include "sse/server/loop_monitor.h"

namespace sse {

void LoopMonitor::record(const PassRecord& pass) {
  passes_.record(pass.us);
  // Replace the fastest kept entry, or one that has left the window: a
  // linear look at five entries, cheaper than anything cleverer.
  PassRecord* weakest = &slowest_[0];
  for (PassRecord& kept : slowest_) {
    bool stale = pass.at_ms - kept.at_ms > kWindowMs;
    if (stale || kept.us == 0) {
      weakest = &kept;
      break;
    }
    if (kept.us < weakest->us) weakest = &kept;
  }
  bool weakest_stale = pass.at_ms - weakest->at_ms > kWindowMs || weakest->us == 0;
  if (weakest_stale || pass.us > weakest->us) *weakest = pass;
}

std::array<PassRecord, LoopMonitor::kSlowest> LoopMonitor::slowest(int64_t now_ms) const {
  std::array<PassRecord, kSlowest> out{};
  size_t n = 0;
  for (const PassRecord& kept : slowest_) {
    if (kept.us != 0 && now_ms - kept.at_ms <= kWindowMs) out[n++] = kept;
  }
  sort_slowest_first(out);
  return out;
}

}  // namespace sse
