// log_buffer.cpp — see log_buffer.h.
#include "sse/loop/log_buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sse {

namespace {

uint64_t count_lines(const char* data, size_t size) {
  return static_cast<uint64_t>(std::count(data, data + size, '\n'));
}

}  // namespace

bool LogBuffer::reopen(std::string& error) {
  if (path_ == "-") return true;  // standard output is not rotated
  UniqueFd old = std::move(fd_);
  if (open(path_, error)) return true;
  fd_ = std::move(old);
  return false;
}

bool LogBuffer::open(const std::string& path, std::string& error) {
  path_ = path;
  int flags = O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC;
  if (path == "-") {
    // A new open file description of whatever standard output is (pipe,
    // terminal, file): its O_NONBLOCK is ours alone.
    fd_.reset(::open("/proc/self/fd/1", flags));
    if (fd_.get() < 0) {
      // A socket cannot be reopened this way (systemd's journal stream):
      // use a duplicate and ask for non-blocking per call (MSG_DONTWAIT).
      struct stat info {};
      if (::fstat(STDOUT_FILENO, &info) == 0 && S_ISSOCK(info.st_mode)) {
        fd_.reset(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
        is_socket_ = true;
      }
    }
  } else {
    fd_.reset(::open(path.c_str(), flags | O_CREAT, 0644));
  }
  if (fd_.get() < 0) {
    error = "--access-log: cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

void LogBuffer::append(std::string_view line) {
  if (!is_open()) return;
  if (buffer_.size() - head_ + line.size() > capacity_) {
    ++lines_dropped_;
    return;
  }
  buffer_.append(line);
}

void LogBuffer::flush() {
  while (!empty()) {
    // Whole lines, at most PIPE_BUF bytes (a single line longer than that
    // goes alone: it cannot be kept whole anyway).
    const char* start = buffer_.data() + head_;
    size_t size = std::min<size_t>(buffer_.size() - head_, PIPE_BUF);
    if (head_ + size < buffer_.size()) {
      const char* last_newline = static_cast<const char*>(::memrchr(start, '\n', size));
      if (last_newline != nullptr) {
        size = static_cast<size_t>(last_newline - start) + 1;
      } else {
        const char* end = static_cast<const char*>(
            std::memchr(start, '\n', buffer_.size() - head_));
        size = end != nullptr ? static_cast<size_t>(end - start) + 1 : buffer_.size() - head_;
      }
    }
    ssize_t n = is_socket_ ? ::send(fd_.get(), start, size, MSG_DONTWAIT | MSG_NOSIGNAL)
                           : ::write(fd_.get(), start, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // later
    if (n <= 0) {
      // ENOSPC, EPIPE, EIO...: what is buffered cannot be written now, and
      // keeping it would only fill the buffer for the next failure.
      drop_buffered();
      break;
    }
    lines_written_ += count_lines(start, static_cast<size_t>(n));
    head_ += static_cast<size_t>(n);
  }
  // Drop what is written once it is half the buffer: a reader that keeps
  // taking a little, never all, must not make the string grow forever.
  // The move is at most `capacity` bytes, and happens at most once per
  // half-buffer written.
  if (head_ >= buffer_.size() / 2) {
    buffer_.erase(0, head_);
    head_ = 0;
  }
}

void LogBuffer::drop_buffered() {
  // A line cut by a partial write counts as dropped (the reader sees its
  // first part only).
  lines_dropped_ += count_lines(buffer_.data() + head_, buffer_.size() - head_);
  buffer_.clear();
  head_ = 0;
}

}  // namespace sse
