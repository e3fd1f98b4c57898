// out_queue.h — the bytes a connection still owes its peer.
//
// A queue of (FrameRef, offset) pairs: frames are shared with every other
// subscriber, so queueing an event costs one reference, never a copy. The
// connection pushes responses and the broadcaster pushes events; flush()
// hands as many as fit to the kernel, one frame with send(), several with
// one gather write (sendmsg), and keeps the rest (and the offset into a
// half-written frame) for the next EPOLLOUT.
// cost_bytes() (unsent bytes plus entries) is what the slow-consumer limit
// is measured against.
#pragma once

#include <cstddef>
#include <vector>

#include "sse/loop/frame.h"

namespace sse {

class OutQueue {
 public:
  enum class FlushResult {
    kDrained,  // everything was written
    kBlocked,  // the socket buffer is full (EAGAIN): wait for EPOLLOUT
    kError,    // the peer is gone (EPIPE, ECONNRESET, ...): close
  };

  // Inline, and the usual case first: a fan-out pushes once per subscriber,
  // most often onto an empty queue.
  void push(FrameRef frame) {
    if (!frame || frame->size() == 0) return;
    if (!empty()) {
      push_behind(std::move(frame));
      return;
    }
    backlog_bytes_ = frame->size();
    single_ = Entry{std::move(frame), 0};
  }
  bool empty() const { return backlog_bytes_ == 0; }
  size_t backlog_bytes() const { return backlog_bytes_; }
  // What the queue costs in memory beyond the shared frames: the unsent
  // bytes plus its entries (a subscriber queued thousands of tiny frames
  // holds more in entries than in bytes). What the slow-consumer limit is
  // measured against.
  size_t cost_bytes() const { return backlog_bytes_ + frame_count() * kEntryBytes; }
  size_t frame_count() const { return (single_.frame ? 1 : 0) + entries_.size() - head_; }
  // Bytes handed to the kernel since the queue was made: with
  // backlog_bytes() it tells how much of what was pushed so far is sent.
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t frames_written() const { return frames_written_; }  // fully written, ever

  // Writes queued bytes to `fd` until done or the kernel pushes back; adds
  // the number of bytes written to `written`.
  FlushResult flush(int fd, size_t& written);

  // Drops everything and gives the memory back: the connection is closing.
  void clear();

 private:
  struct Entry {
    FrameRef frame;
    size_t offset;  // bytes of `frame` already written
  };
  // Entries a drained queue keeps room for (1 KiB); beyond, it frees them.
  static constexpr size_t kKeptEntries = 64;
  void push_behind(FrameRef frame);  // push() onto a queue that is not empty
  void consume(size_t bytes);
  // Every entry is written: empty the vector. A small one keeps its
  // capacity, so the next event needs no allocation; one that a large
  // backlog grew gives its memory back, or every connection that once fell
  // behind would keep its peak forever.
  void reset() {
    entries_.clear();
    head_ = 0;
    if (entries_.capacity() > kKeptEntries) give_back_memory();
  }
  void give_back_memory();

  // A queue of one frame (the usual case: a subscriber that keeps up is
  // handed one frame per pass and writes it at once) is held in single_,
  // inside this object: queueing and writing it touch no other memory,
  // where the vector's heap block would cost one more cache miss per
  // delivery in a large fan-out. A frame pushed behind it moves it to
  // entries_, which then holds the whole queue until it drains. So
  // single_ is set only while entries_ is empty.
  Entry single_{};
  size_t backlog_bytes_ = 0;
  // entries_[head_..] are pending; the vector is reset when it drains, so a
  // subscriber that keeps up never makes it grow.
  std::vector<Entry> entries_;
  size_t head_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t frames_written_ = 0;

 public:
  static constexpr size_t kEntryBytes = sizeof(Entry);
};

}  // namespace sse
