// test_out_queue.cpp — the per-connection write queue (src/loop/out_queue.cpp).
//
// Real sockets, no mocks: an AF_UNIX stream socketpair, non-blocking. A
// small SO_SNDBUF on the writing end makes the kernel push back after a few
// KiB, which is how partial writes and EAGAIN are produced; reading the
// other end makes room again. Every test checks the bytes that came out
// against the bytes that went in.
#include <doctest/doctest.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sse/loop/frame.h"
#include "sse/loop/out_queue.h"
#include "sse/loop/unique_fd.h"

using sse::FrameRef;
using sse::OutQueue;
using sse::UniqueFd;
using Flush = sse::OutQueue::FlushResult;

namespace {

struct SocketPair {
  UniqueFd writer, reader;

  explicit SocketPair(int send_buffer = 0) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    writer.reset(fds[0]);
    reader.reset(fds[1]);
    if (send_buffer > 0) {
      REQUIRE(::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) ==
              0);
    }
  }

  // Everything readable now (until EAGAIN), at most `limit` bytes.
  std::string read_available(size_t limit = SIZE_MAX) {
    std::string out;
    char buffer[4096];
    while (out.size() < limit) {
      size_t want = std::min(sizeof buffer, limit - out.size());
      ssize_t n = ::read(reader.get(), buffer, want);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
};

// A frame of `size` bytes that says where it is: frame k byte i is
// distinct enough that a reordering or a repeated range shows.
std::string pattern(size_t k, size_t size) {
  std::string s;
  while (s.size() < size) s += "<" + std::to_string(k) + ":" + std::to_string(s.size()) + ">";
  s.resize(size);
  return s;
}

// Ignores SIGPIPE for the life of the object. The server does this once at
// start-up (Signals::open); writev() has no MSG_NOSIGNAL flag, so without it
// a write to a closed peer would kill the test runner instead of failing
// with EPIPE.
struct IgnoreSigpipe {
  struct sigaction old {};
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &old, nullptr); }
};

}  // namespace

TEST_CASE("a new queue is empty") {
  OutQueue queue;
  CHECK(queue.empty());
  CHECK(queue.backlog_bytes() == 0);
  CHECK(queue.frame_count() == 0);
}

TEST_CASE("empty frames and null references are not queued") {
  OutQueue queue;
  queue.push(FrameRef());
  queue.push(FrameRef::copy_of(""));
  CHECK(queue.empty());
  CHECK(queue.frame_count() == 0);
}

TEST_CASE("flush writes every queued frame, in order, and adds to the written count") {
  SocketPair sockets;
  OutQueue queue;
  queue.push(FrameRef::copy_of("HTTP/1.1 200 OK\r\n\r\n"));
  queue.push(FrameRef::copy_of("id: 1\ndata: a\n\n"));
  queue.push(FrameRef::copy_of("id: 2\ndata: b\n\n"));
  CHECK(queue.frame_count() == 3);
  CHECK(queue.backlog_bytes() == 19 + 15 + 15);

  size_t written = 7;  // flush adds to what the caller has counted so far
  CHECK(queue.flush(sockets.writer.get(), written) == Flush::kDrained);
  CHECK(written == 7 + 49);
  CHECK(queue.empty());
  CHECK(queue.frame_count() == 0);
  CHECK(sockets.read_available() == "HTTP/1.1 200 OK\r\n\r\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n");
}

TEST_CASE("flushing an empty queue writes nothing and is drained") {
  SocketPair sockets;
  OutQueue queue;
  size_t written = 0;
  CHECK(queue.flush(sockets.writer.get(), written) == Flush::kDrained);
  CHECK(written == 0);
  CHECK(sockets.read_available().empty());
}

TEST_CASE("more frames than one writev() takes are all written, in order") {
  SocketPair sockets;
  OutQueue queue;
  std::string expected;
  for (size_t k = 0; k < 500; ++k) {
    std::string bytes = pattern(k, 10 + k % 7);
    expected += bytes;
    queue.push(FrameRef::copy_of(bytes));
  }
  size_t written = 0;
  CHECK(queue.flush(sockets.writer.get(), written) == Flush::kDrained);
  CHECK(written == expected.size());
  CHECK(sockets.read_available() == expected);
}

TEST_CASE("a full socket gives kBlocked, and a half-written frame keeps its offset") {
  SocketPair sockets(4096);
  OutQueue queue;
  const std::string big = pattern(1, 256 * 1024);
  queue.push(FrameRef::copy_of("head:"));
  queue.push(FrameRef::copy_of(big));
  queue.push(FrameRef::copy_of(":tail"));
  const std::string expected = "head:" + big + ":tail";

  size_t written = 0;
  REQUIRE(queue.flush(sockets.writer.get(), written) == Flush::kBlocked);
  CHECK(written > 0);
  CHECK(written < expected.size());
  CHECK(queue.backlog_bytes() == expected.size() - written);
  CHECK(queue.frame_count() == 2);  // "head:" is gone; the big frame is part-way

  std::string received;
  int rounds = 0;
  Flush result = Flush::kBlocked;
  while (result == Flush::kBlocked && rounds++ < 100000) {
    received += sockets.read_available();
    result = queue.flush(sockets.writer.get(), written);
    CHECK(queue.backlog_bytes() == expected.size() - written);
  }
  CHECK(result == Flush::kDrained);
  received += sockets.read_available();
  CHECK(written == expected.size());
  CHECK(received.size() == expected.size());
  CHECK(received == expected);
  CHECK(queue.empty());
}

TEST_CASE("a consumer that is always a little behind gets every byte in order") {
  // Frames keep arriving while the socket is full: the queue's written prefix
  // is compacted now and then instead of growing forever.
  SocketPair sockets(4096);
  OutQueue queue;
  std::string expected, received;
  size_t written = 0;
  size_t pushed = 0;
  for (size_t k = 0; k < 3000; ++k) {
    std::string bytes = pattern(k, 40 + k % 50);
    expected += bytes;
    pushed += bytes.size();
    queue.push(FrameRef::copy_of(bytes));
    if (k % 10 == 9) {
      queue.flush(sockets.writer.get(), written);
      CHECK(queue.backlog_bytes() == pushed - written);
      received += sockets.read_available(300);  // read less than was written
    }
  }
  size_t rounds = 0;
  while (!queue.empty() && rounds++ < 100000) {
    Flush result = queue.flush(sockets.writer.get(), written);
    CHECK(result != Flush::kError);
    received += sockets.read_available();
  }
  received += sockets.read_available();
  CHECK(queue.empty());
  CHECK(written == expected.size());
  CHECK(received.size() == expected.size());
  CHECK(received == expected);
}

TEST_CASE("queued frames are shared: a reference each, never a copy") {
  SocketPair a_sockets, b_sockets;
  OutQueue a, b;
  FrameRef frame = FrameRef::copy_of("id: 1\ndata: shared\n\n");
  const sse::Frame* address = frame.get();
  a.push(frame);
  b.push(frame);
  CHECK(frame.use_count() == 3);
  CHECK(frame.get() == address);

  size_t written = 0;
  CHECK(a.flush(a_sockets.writer.get(), written) == Flush::kDrained);
  CHECK(frame.use_count() == 2);  // a dropped its reference as soon as it was written
  b.clear();
  CHECK(frame.use_count() == 1);
  CHECK(a_sockets.read_available() == "id: 1\ndata: shared\n\n");
}

TEST_CASE("clear() drops every frame and the backlog") {
  OutQueue queue;
  FrameRef frame = FrameRef::copy_of("abc");
  queue.push(frame);
  queue.push(frame);
  CHECK(queue.backlog_bytes() == 6);
  queue.clear();
  CHECK(queue.empty());
  CHECK(queue.frame_count() == 0);
  CHECK(frame.use_count() == 1);
}

TEST_CASE("flush gives kError once the peer has closed") {
  IgnoreSigpipe ignore;
  SocketPair sockets;
  sockets.reader.reset();
  OutQueue queue;
  queue.push(FrameRef::copy_of("id: 1\ndata: lost\n\n"));
  size_t written = 0;
  CHECK(queue.flush(sockets.writer.get(), written) == Flush::kError);
  CHECK(written == 0);
  CHECK_FALSE(queue.empty());  // the caller closes the connection; nothing was lost silently
}

TEST_CASE("flush gives kError on a descriptor that is not a socket") {
  OutQueue queue;
  queue.push(FrameRef::copy_of("x"));
  size_t written = 0;
  CHECK(queue.flush(-1, written) == Flush::kError);
}

TEST_CASE("a lone frame written in part keeps its offset when more are pushed behind it") {
  // A queue of one frame lives inside the OutQueue (single_); a frame
  // pushed behind a half-written one moves it, offset and all, to the
  // vector. What the peer reads must not show the move.
  SocketPair pair(4096);
  OutQueue queue;
  const std::string big = pattern(1, 256 * 1024);
  FrameRef big_frame = FrameRef::copy_of(big);
  queue.push(big_frame);
  CHECK(queue.frame_count() == 1);
  CHECK(queue.cost_bytes() == big.size() + OutQueue::kEntryBytes);
  CHECK(big_frame.use_count() == 2);

  size_t written = 0;
  REQUIRE(queue.flush(pair.writer.get(), written) == Flush::kBlocked);
  CHECK(written > 0);
  CHECK(written < big.size());
  CHECK(queue.frame_count() == 1);
  CHECK(queue.frames_written() == 0);
  CHECK(queue.backlog_bytes() == big.size() - written);

  queue.push(FrameRef::copy_of(":a"));
  queue.push(FrameRef::copy_of(":b"));
  CHECK(queue.frame_count() == 3);
  CHECK(queue.backlog_bytes() == big.size() + 4 - written);

  std::string received;
  Flush result = Flush::kBlocked;
  for (int rounds = 0; result == Flush::kBlocked && rounds < 100000; ++rounds) {
    received += pair.read_available();
    result = queue.flush(pair.writer.get(), written);
  }
  CHECK(result == Flush::kDrained);
  received += pair.read_available();
  CHECK(received == big + ":a:b");
  CHECK(queue.empty());
  CHECK(queue.frame_count() == 0);
  CHECK(queue.frames_written() == 3);
  CHECK(queue.bytes_written() == big.size() + 4);
  CHECK(big_frame.use_count() == 1);

  // Drained, the next frame is a lone one again, and goes out whole.
  queue.push(FrameRef::copy_of("next"));
  CHECK(queue.frame_count() == 1);
  CHECK(queue.flush(pair.writer.get(), written) == Flush::kDrained);
  CHECK(pair.read_available() == "next");
  CHECK(queue.frames_written() == 4);
}

TEST_CASE("clear() drops a lone frame too") {
  OutQueue queue;
  FrameRef frame = FrameRef::copy_of("abc");
  queue.push(frame);
  CHECK(frame.use_count() == 2);
  queue.clear();
  CHECK(queue.empty());
  CHECK(queue.frame_count() == 0);
  CHECK(frame.use_count() == 1);
}
