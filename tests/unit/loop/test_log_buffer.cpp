// test_log_buffer.cpp — lines to a file or pipe that never block the loop
// (src/loop/log_buffer.cpp). Real pipes and files: a "reader that stopped
// reading" is a pipe the test really filled.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "sse/loop/log_buffer.h"

using sse::LogBuffer;

namespace {

// A pipe whose write end the LogBuffer opens through /proc, as it opens
// any path: the test keeps the read end.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(write_end); }
  std::string drain() {
    std::string got;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(read_end, buffer, sizeof buffer)) > 0) got.append(buffer, size_t(n));
    return got;
  }
};

std::string numbered_line(int i) {
  char line[64];
  std::snprintf(line, sizeof line, "line %06d of the access log\n", i);
  return line;
}

}  // namespace

TEST_CASE("lines are written by flush(), not by append()") {
  Pipe pipe;
  LogBuffer log;
  std::string error;
  REQUIRE(log.open(pipe.path(), error));
  log.append("one\n");
  log.append("two\n");
  CHECK(pipe.drain().empty());
  log.flush();
  CHECK(pipe.drain() == "one\ntwo\n");
  CHECK(log.lines_written() == 2);
  CHECK(log.empty());
}

TEST_CASE("a pipe nobody reads: lines wait, then the overflow is dropped and counted") {
  Pipe pipe;
  LogBuffer log(8192);
  std::string error;
  REQUIRE(log.open(pipe.path(), error));
  // Fill the pipe (64 KiB by default) and the 8 KiB buffer behind it.
  int appended = 0;
  while (log.lines_dropped() == 0) {
    log.append(numbered_line(appended++));
    log.flush();  // never blocks: EAGAIN leaves the lines buffered
    REQUIRE(appended < 100000);
  }
  uint64_t dropped_at = log.lines_dropped();
  CHECK(!log.empty());
  // The reader comes back: everything kept is written, whole lines in order.
  std::string got = pipe.drain();
  while (!log.empty()) {
    log.flush();
    got += pipe.drain();
  }
  CHECK(log.lines_written() + dropped_at == static_cast<uint64_t>(appended));
  std::istringstream lines(got);
  std::string line;
  int expected = 0;
  while (std::getline(lines, line)) {
    CHECK(line + "\n" == numbered_line(expected));
    ++expected;
  }
  // The dropped one is the last appended: nothing in the middle is missing.
  CHECK(expected == appended - 1);
}

TEST_CASE("a backlog larger than PIPE_BUF goes out in full and in order in one flush") {
  // (That each write(2) ends at a line end cannot be seen from the read
  // side of a byte pipe; the PIPE_BUF cut is in LogBuffer::flush.)
  Pipe pipe;
  LogBuffer log;
  std::string error;
  REQUIRE(log.open(pipe.path(), error));
  std::string expected;
  for (int i = 0; i < 1000; ++i) {  // ~30 KB: fits the pipe, spans many writes
    log.append(numbered_line(i));
    expected += numbered_line(i);
  }
  log.flush();
  CHECK(log.empty());
  CHECK(pipe.drain() == expected);
  CHECK(log.lines_written() == 1000);
}

TEST_CASE("a reader that is gone (EPIPE): the buffered lines are dropped, the server goes on") {
  ::signal(SIGPIPE, SIG_IGN);  // as the server does (loop/signals.cpp)
  Pipe pipe;
  LogBuffer log;
  std::string error;
  REQUIRE(log.open(pipe.path(), error));
  ::close(pipe.read_end);
  pipe.read_end = -1;
  log.append("a\n");
  log.append("b\n");
  log.flush();
  CHECK(log.lines_dropped() == 2);
  CHECK(log.lines_written() == 0);
  CHECK(log.empty());
}

TEST_CASE("a file is appended to, and a path that cannot be opened is a clear error") {
  char path[] = "/tmp/sse-log-buffer-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "before\n", 7) == 7);
  ::close(fd);
  {
    LogBuffer log;
    std::string error;
    REQUIRE(log.open(path, error));
    log.append("after\n");
    log.flush();
  }
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == "before\nafter\n");
  ::unlink(path);

  LogBuffer log;
  std::string error;
  CHECK_FALSE(log.open("/nonexistent-dir/access.log", error));
  CHECK(error.find("/nonexistent-dir/access.log") != std::string::npos);
  CHECK(error.find("No such file") != std::string::npos);
}

TEST_CASE("a reader that takes a little at a time, never all: memory stays bounded") {
  Pipe pipe;
  LogBuffer log(8192);
  std::string error;
  REQUIRE(log.open(pipe.path(), error));
  // Fill the pipe, then keep the buffer part-full while the reader takes
  // about as much as is appended: the buffer is never empty.
  int appended = 0;
  while (log.lines_dropped() == 0) {
    log.append(numbered_line(appended++));
    log.flush();
  }
  char buffer[64];
  const size_t line_size = numbered_line(0).size();
  for (int round = 0; round < 20000; ++round) {
    log.append(numbered_line(appended++));
    REQUIRE(::read(pipe.read_end, buffer, line_size) > 0);
    log.flush();
    REQUIRE(!log.empty());
  }
  CHECK(log.held_bytes() <= 2 * 8192);
}
