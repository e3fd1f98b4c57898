// fixture.h — what the handler tests share: a real (idle) server's worth of
// objects, and an Exchange that records what a handler asked of it.
//
// Handlers (src/server/handler.h) see their connection only as an
// Exchange, so they are tested without sockets: RecordingExchange keeps the
// answer's bytes as a Connection would queue them. Everything else is real:
// the broadcaster, the local event log, the counters.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "sse/events/broadcaster.h"
#include "sse/events/local_event_log.h"
#include "sse/http/static_files.h"
#include "sse/loop/out_queue.h"
#include "sse/loop/reactor.h"
#include "sse/server/config.h"
#include "sse/server/handler.h"
#include "sse/server/server_context.h"
#include "sse/server/stats.h"

namespace test {

class RecordingExchange final : public sse::Exchange {
 public:
  void respond(sse::FrameRef head, sse::FrameRef body, bool keep_alive_after) override {
    ++responses;
    answer = std::string(head->view()) + (body ? std::string(body->view()) : "");
    keep_alive = keep_alive_after;
  }
  void send_interim(sse::FrameRef response) override { interim += response->view(); }
  bool peer_is_loopback() const override { return loopback; }
  int fd() const override { return -1; }
  sse::OutQueue& out_queue() override { return queue; }
  void begin_stream() override { streaming = true; }
  void flush() override {}
  void close(const char* reason) override {
    open = false;
    closed_because = reason;
  }
  bool is_open() const override { return open; }
  // Recorded like a final answer (its text in `answer`), plus why.
  void end_stream(sse::FrameRef last_words, const char* why) override {
    ++responses;
    answer = std::string(last_words->view());
    keep_alive = false;
    ended_because = why;
  }

  // The status code of the answer ("HTTP/1.1 202 Accepted" -> 202).
  int status() const {
    REQUIRE(answer.size() > 12);
    return std::atoi(answer.c_str() + 9);
  }
  // The answer without its head.
  std::string body() const {
    size_t end = answer.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    return answer.substr(end + 4);
  }

  int responses = 0;
  std::string answer;  // head and body of the final answer
  std::string interim;
  bool keep_alive = true;
  bool loopback = true;
  bool streaming = false;
  bool open = true;
  std::string closed_because;
  std::string ended_because;
  sse::OutQueue queue;
};

// A ServerContext around real, idle objects; event ids start at `first_id`.
struct ServerFixture {
  explicit ServerFixture(uint64_t first_id = 1000, size_t history = 16)
      : events(broadcaster, history, first_id) {}

  sse::Config config;
  sse::Reactor reactor;
  sse::Broadcaster broadcaster;
  sse::LocalEventLog events;
  sse::StaticFiles files;
  sse::ServerCounters counters;
  std::vector<sse::Connection*> closed;
  std::vector<sse::Connection*> ready;
  sse::ServerContext context{config, reactor, broadcaster, events, files, counters, closed, ready};
};

}  // namespace test
