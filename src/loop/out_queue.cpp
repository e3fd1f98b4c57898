// out_queue.cpp — see out_queue.h. The only place that writes to a socket.
#include "sse/loop/out_queue.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <utility>

namespace sse {

namespace {
// iovecs per sendmsg(): enough to empty a deep backlog in a few calls while
// keeping the array on the stack. The kernel's limit (IOV_MAX) is 1024.
constexpr size_t kMaxIov = 64;
}  // namespace

void OutQueue::push_behind(FrameRef frame) {
  // From now on (until it drains) the whole queue is in entries_.
  if (single_.frame) entries_.push_back(std::exchange(single_, Entry{}));
  backlog_bytes_ += frame->size();
  entries_.push_back(Entry{std::move(frame), 0});
}

OutQueue::FlushResult OutQueue::flush(int fd, size_t& written) {
  while (!empty()) {
    // One buffer (the usual case: a subscriber's frame for this pass) goes
    // through send(), the shortest way into TCP, straight from its entry;
    // several through sendmsg(), which first copies and checks the iovec
    // array (perf: ~4% of the fan-out's CPU when it carried the
    // single-buffer case too). Neither is writev(), which passes through
    // the VFS first, and MSG_NOSIGNAL makes a peer that is gone an EPIPE,
    // never a SIGPIPE.
    const Entry* only = nullptr;  // the entry, when there is just one
    if (single_.frame) {
      only = &single_;
    } else if (frame_count() == 1) {
      only = &entries_[head_];
    }
    ssize_t n;
    if (only != nullptr) {
      n = ::send(fd, only->frame->data() + only->offset, only->frame->size() - only->offset,
                 MSG_NOSIGNAL);
    } else {
      iovec iov[kMaxIov];
      size_t count = 0;
      for (size_t i = head_; i < entries_.size() && count < kMaxIov; ++i, ++count) {
        const Entry& entry = entries_[i];
        iov[count].iov_base = const_cast<char*>(entry.frame->data() + entry.offset);
        iov[count].iov_len = entry.frame->size() - entry.offset;
      }
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = count;
      n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return FlushResult::kBlocked;
      return FlushResult::kError;
    }
    written += static_cast<size_t>(n);
    bytes_written_ += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) == backlog_bytes_) {
      // All of it went out: the usual case, a subscriber that keeps up.
      // Every entry goes at once, not one by one as in consume().
      frames_written_ += frame_count();
      backlog_bytes_ = 0;
      if (single_.frame) {
        single_ = Entry{};
      } else {
        reset();
      }
      return FlushResult::kDrained;
    }
    consume(static_cast<size_t>(n));  // some of it: the rest stays queued
  }
  return FlushResult::kDrained;
}

// Less than the whole backlog was written (flush() handles all of it):
// drops the entries written in full, and advances into the first of the rest.
void OutQueue::consume(size_t bytes) {
  backlog_bytes_ -= bytes;
  if (single_.frame) {
    single_.offset += bytes;
    return;
  }
  while (bytes > 0) {
    Entry& entry = entries_[head_];
    size_t left = entry.frame->size() - entry.offset;
    if (bytes < left) {
      entry.offset += bytes;
      return;
    }
    bytes -= left;
    entry.frame = FrameRef();  // drop our reference now, not at the next reset
    ++head_;
    ++frames_written_;
  }
  if (head_ >= 64 && head_ * 2 >= entries_.size()) {
    // A subscriber that is always a little behind never drains; without this
    // the written prefix would grow by one entry per event, forever.
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void OutQueue::give_back_memory() {
  std::vector<Entry>().swap(entries_);
}

void OutQueue::clear() {
  single_ = Entry{};
  std::vector<Entry>().swap(entries_);
  head_ = 0;
  backlog_bytes_ = 0;
}

}  // namespace sse
