// unique_fd.h — the one owner of a file descriptor.
//
// Every fd the server opens (listening socket, client sockets, epoll,
// timerfd, signalfd, the www directory) lives in a UniqueFd. It is move-only
// and closes in its destructor, so an fd is closed exactly once, by its owner,
// and a failure path can simply return. This header holds the only close() in
// the server. Whoever registered an fd with the reactor must unregister it
// before the UniqueFd is destroyed (epoll forgets closed fds by itself, but
// only once every duplicate is closed; being explicit keeps that obvious).
#pragma once

#include <unistd.h>

#include <utility>

namespace sse {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes ownership of `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace sse
