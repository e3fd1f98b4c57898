// worker_slots.h — the shared page where workers leave their figures.
//
// With --workers N, /stats and /metrics on any worker must describe the
// whole server. The supervisor (supervisor.h) maps one anonymous shared
// region before it forks, with one slot per worker; every worker inherits
// the mapping. Each slot is written by its own worker only (publish(),
// every 250 ms and before it renders /stats) and read by all (read()), so
// no lock is needed: a version counter makes the copy consistent (a
// seqlock: odd while the writer is inside; a reader that saw it change
// copies again). A figure read from another worker is therefore at most
// ~250 ms old; a worker's own figures are always fresh.
//
// When a worker dies its slot keeps its last figures until the supervisor
// clears it (clear()); its replacement starts from zero, so the summed
// counters step back then, which Prometheus reads as a counter reset.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "sse/server/stats.h"

namespace sse {

class WorkerSlots {
 public:
  // Maps `count` slots; null (with errno) when mmap fails.
  static WorkerSlots* create(size_t count);
  WorkerSlots(const WorkerSlots&) = delete;
  WorkerSlots& operator=(const WorkerSlots&) = delete;

  size_t size() const { return count_; }
  void publish(size_t index, const StatsFigures& figures);
  // False when the slot was never written or is being rewritten
  // continuously (then `out` is left as "not present").
  bool read(size_t index, StatsFigures& out) const;
  void clear(size_t index);

 private:
  struct Slot {
    std::atomic<uint64_t> version;  // odd: being written
    StatsFigures figures;
  };
  explicit WorkerSlots(size_t count) : count_(count) {}
  Slot* slot(size_t index) const;

  size_t count_;
};

}  // namespace sse
