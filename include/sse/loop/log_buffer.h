// log_buffer.h — log lines written to a file or pipe without ever blocking
// the loop.
//
// The access log (server/access_log.h) appends whole lines here; the server
// calls flush() once per loop pass and from its housekeeping timer. Lines
// wait in one buffer of at most `capacity` bytes; flush() hands them to the
// kernel with non-blocking writes and keeps what did not fit for the next
// call. What a full disk, a broken pipe or a reader that stopped reading
// cannot take is dropped and counted, never waited for: a log must not
// stall a hundred thousand streams. What it costs: one write(2) per loop
// pass that logged something, and a memcpy of each line.
//
// Every write(2) is whole lines and at most PIPE_BUF (4096) bytes, so that
// workers sharing one pipe or file never split each other's lines (POSIX
// makes pipe writes up to PIPE_BUF atomic; O_APPEND file writes on Linux
// are whole).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sse/loop/unique_fd.h"

namespace sse {

class LogBuffer {
 public:
  static constexpr size_t kDefaultCapacity = 1 << 20;

  explicit LogBuffer(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // Opens `path` for appending (created 0644 if absent); "-" is standard
  // output, reopened so that our non-blocking flag does not leak to the
  // shell or the other processes sharing it. False with `error` set.
  bool open(const std::string& path, std::string& error);
  bool is_open() const { return fd_.get() >= 0; }
  // Opens the same path again and switches to it; on failure the old
  // descriptor is kept. Lines still buffered go to the new file.
  bool reopen(std::string& error);

  // One line, '\n' included. Dropped (and counted) when the buffer is full.
  void append(std::string_view line);
  // Writes what the kernel takes now, without waiting.
  void flush();
  bool empty() const { return buffer_.size() == head_; }

  // Bytes the buffer holds, written ones not yet compacted away included:
  // at most twice the capacity (for tests).
  size_t held_bytes() const { return buffer_.size(); }

  uint64_t lines_written() const { return lines_written_; }
  uint64_t lines_dropped() const { return lines_dropped_; }

 private:
  void drop_buffered();

  std::string path_;
  UniqueFd fd_;
  bool is_socket_ = false;  // standard output is a socket (journald): send() it
  size_t capacity_;
  std::string buffer_;  // lines from head_ on are unwritten
  size_t head_ = 0;
  uint64_t lines_written_ = 0;
  uint64_t lines_dropped_ = 0;
};

}  // namespace sse
