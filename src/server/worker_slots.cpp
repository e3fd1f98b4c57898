// worker_slots.cpp — see worker_slots.h.
#include "sse/server/worker_slots.h"

#include <sys/mman.h>

#include <cstring>
#include <new>
#include <type_traits>

namespace sse {

static_assert(std::is_trivially_copyable_v<StatsFigures>,
              "StatsFigures is copied between processes byte for byte");
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "a lock-free atomic needs no lock shared between processes");

// Layout of the mapping: the WorkerSlots header, then the slots.
WorkerSlots::Slot* WorkerSlots::slot(size_t index) const {
  auto* base = reinterpret_cast<unsigned char*>(const_cast<WorkerSlots*>(this));
  size_t header = (sizeof(WorkerSlots) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
  return reinterpret_cast<Slot*>(base + header) + index;
}

WorkerSlots* WorkerSlots::create(size_t count) {
  size_t header = (sizeof(WorkerSlots) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
  size_t bytes = header + count * sizeof(Slot);
  // Shared and anonymous: inherited by every child forked after this, and
  // gone when the last of them exits. Never unmapped: it lives as long as
  // the process.
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  auto* slots = new (memory) WorkerSlots(count);
  for (size_t i = 0; i < count; ++i) {
    Slot* s = new (slots->slot(i)) Slot();
    s->version.store(0, std::memory_order_relaxed);
  }
  return slots;
}

void WorkerSlots::publish(size_t index, const StatsFigures& figures) {
  Slot* s = slot(index);
  uint64_t version = s->version.load(std::memory_order_relaxed);
  s->version.store(version + 1, std::memory_order_relaxed);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(static_cast<void*>(&s->figures), &figures, sizeof figures);
  s->version.store(version + 2, std::memory_order_release);
}

bool WorkerSlots::read(size_t index, StatsFigures& out) const {
  const Slot* s = slot(index);
  // A writer holds a slot for a memcpy of a few KiB: a handful of retries.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    uint64_t before = s->version.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    std::memcpy(static_cast<void*>(&out), &s->figures, sizeof out);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s->version.load(std::memory_order_relaxed) == before) return out.present;
  }
  out = StatsFigures();
  return false;
}

void WorkerSlots::clear(size_t index) {
  publish(index, StatsFigures());
}

}  // namespace sse
