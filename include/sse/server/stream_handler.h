// stream_handler.h — what a GET /sse request asks for, and how its stream
// begins.
//
// The connection passes the parsed request to parse_stream_request(): the
// topics (?topic=, at most 32, each 1-64 of A-Z a-z 0-9 _ . : -, default
// "main") and the resume point (Last-Event-ID header, else ?lastEventId=).
// plan_resume() then decides, against the History and the id sequence,
// whether the retained events after that id are a complete catch-up or
// whether the client must be told of a gap. start_stream() assembles the
// first bytes: response head, retry hint, comment, gap notice and replayed
// frames. The connection queues them, then subscribes to the broadcaster:
// single-threaded, so no event can slip in between the two.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sse/loop/frame.h"
#include "sse/events/history.h"
#include "sse/http/http_parser.h"

namespace sse {

inline constexpr size_t kMaxTopicsPerStream = 32;
inline constexpr size_t kMaxTopicName = 64;

struct StreamRequest {
  int status = 200;  // 400 when a topic is invalid
  std::string error;
  std::vector<std::string> topics;
  bool resume = false;
  std::string last_event_id;  // as sent, when `resume`
};

StreamRequest parse_stream_request(const Request& request);
bool is_valid_topic(std::string_view name);

struct ResumePlan {
  bool gap = false;      // send "event: gap" first
  bool replay = false;   // replay retained events with id > replay_after
  uint64_t replay_after = 0;
  uint64_t oldest_id = 0;  // for the gap notice: the oldest id still available
};

// `first_id` is the first id of this server run, `last_id` the latest one
// assigned (first_id - 1 before any).
ResumePlan plan_resume(const std::string& last_event_id, const History& history,
                       uint64_t first_id, uint64_t last_id);

// The response head of a stream (also the answer to HEAD /sse, which is
// the only case where `keep_alive` may be false: a stream itself ends only
// when the connection does).
std::string stream_head(std::string_view cors_origin, bool keep_alive);

// Everything a stream's client receives before live events, in order.
struct StreamStart {
  std::string head;     // the HTTP response head
  std::string opening;  // retry hint and opening comment
  std::vector<FrameRef> frames;  // gap notice and replayed events
};

StreamStart start_stream(const StreamRequest& request, const ResumePlan& plan,
                         const History& history, std::string_view cors_origin,
                         int64_t retry_ms);

// {"lastEventId":"<escaped, at most 64 bytes>","oldestId":"<id>"}
std::string gap_data(std::string_view last_event_id, uint64_t oldest_id);

}  // namespace sse
