// stream_handler.cpp — see stream_handler.h.
#include "sse/server/stream_handler.h"

#include <algorithm>
#include <charconv>

#include "sse/http/http_response.h"
#include "sse/base/json.h"
#include "sse/http/router.h"
#include "sse/events/sse_frame.h"
#include "sse/http/ascii.h"
#include "sse/http/url.h"

namespace sse {

bool is_valid_topic(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicName) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

StreamRequest parse_stream_request(const Request& request) {
  StreamRequest stream;
  std::string decoded;
  std::string query_last_id;
  bool query_has_last_id = false;
  for_each_query_param(request.query, [&](std::string_view name, std::string_view value) {
    if (stream.status != 200) return;
    if (name == "topic") {
      if (!percent_decode(value, decoded) || !is_valid_topic(decoded)) {
        stream.status = 400;
        stream.error = "invalid topic name (1-64 of A-Z a-z 0-9 _ . : -)";
        return;
      }
      if (std::find(stream.topics.begin(), stream.topics.end(), decoded) != stream.topics.end()) {
        return;  // a repeated topic is the same subscription
      }
      if (stream.topics.size() == kMaxTopicsPerStream) {
        stream.status = 400;
        stream.error = "more than 32 topics";
        return;
      }
      stream.topics.push_back(decoded);
    } else if (name == "lastEventId") {
      if (!percent_decode(value, query_last_id)) query_last_id.assign(value);
      query_has_last_id = true;
    }
  });
  if (stream.topics.empty()) stream.topics.push_back("main");

  // The header wins: a reconnecting browser sends a fresh Last-Event-ID,
  // while the URL still carries the value it was first opened with.
  for (size_t i = 0; i < request.header_count; ++i) {
    if (equals_ignore_case(request.headers[i].name, "last-event-id")) {
      stream.resume = true;
      stream.last_event_id.assign(request.headers[i].value);
      return stream;
    }
  }
  if (query_has_last_id) {
    stream.resume = true;
    stream.last_event_id = std::move(query_last_id);
  }
  return stream;
}

ResumePlan plan_resume(const std::string& last_event_id, const History& history,
                       uint64_t first_id, uint64_t last_id) {
  ResumePlan plan;
  plan.oldest_id = history.empty() ? last_id + 1 : history.oldest_id();
  uint64_t id = 0;
  const char* begin = last_event_id.data();
  const char* end = begin + last_event_id.size();
  auto [stop, ec] = std::from_chars(begin, end, id);
  if (last_event_id.empty() || ec != std::errc() || stop != end || id > last_id) {
    plan.gap = true;  // not an id we could have sent, or one from the future
    return plan;
  }
  plan.replay = true;
  plan.replay_after = id;
  // Ids of one run are consecutive, so the catch-up is complete exactly when
  // the event right after `id` is still retained (or there is none yet).
  bool caught_up = id == last_id;
  bool retained = !history.empty() && id + 1 >= history.oldest_id() && id + 1 >= first_id;
  plan.gap = !caught_up && !retained;
  return plan;
}

std::string gap_data(std::string_view last_event_id, uint64_t oldest_id) {
  std::string json = "{\"lastEventId\":\"";
  // Header bytes are read as Latin-1 (RFC 9110 §5.5), so every byte maps to
  // one code point and the result is valid JSON whatever was sent.
  append_json_escaped(json, last_event_id.substr(0, 64), TextEncoding::kLatin1);
  json += "\",\"oldestId\":\"" + std::to_string(oldest_id) + "\"}";
  return json;
}

std::string stream_head(std::string_view cors_origin, bool keep_alive) {
  ResponseBuilder head(200);
  head.header("Content-Type", "text/event-stream")
      .header("Cache-Control", "no-cache, no-transform")
      .header("Connection", keep_alive ? "keep-alive" : "close")
      .header("X-Accel-Buffering", "no");
  add_cors_headers(head, cors_origin);
  return head.finish_head();
}

StreamStart start_stream(const StreamRequest& request, const ResumePlan& plan,
                         const History& history, std::string_view cors_origin,
                         int64_t retry_ms) {
  StreamStart start;
  start.head = stream_head(cors_origin, true);
  start.opening = encode_stream_open(retry_ms);
  if (!request.resume) return start;
  if (plan.gap) {
    start.frames.push_back(
        encode_event(kNoId, "gap", gap_data(request.last_event_id, plan.oldest_id)));
  }
  if (plan.replay) {
    for (FrameRef& frame : history.after(plan.replay_after, request.topics)) {
      start.frames.push_back(std::move(frame));
    }
  }
  return start;
}

}  // namespace sse
