// publish_handler.h — POST /publish: who may publish, and what.
//
// The connection calls check_publish_head() as soon as the request head is
// parsed, so an unauthorized or non-JSON request is refused before its body
// is read, and handle_publish() once the body is complete. The body is one
// event object or an array of them (a batch); everything is validated
// before anything is published, so a rejected batch publishes nothing.
// Events go to the broadcaster, which assigns their ids; the response
// carries them so an application can render "state as of id N" and join
// the stream with ?lastEventId=N without a gap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sse/server/config.h"
#include "sse/http/http_parser.h"

namespace sse {

class Broadcaster;

struct PublishReply {
  int status = 202;
  std::string body;  // JSON: {"id": N}, {"ids": [...]}, or {"error": "..."}
};

// Authorization and Content-Type. status 0 means: go on, read the body.
PublishReply check_publish_head(const Request& request, const Config& config,
                                bool peer_loopback);

struct PublishEvent {
  std::string topic;
  std::string event;
  std::string data;  // text as sent, or compact JSON
};

// Parses and validates a body; on success fills `events` (and `is_batch`:
// the body was an array) and returns status 0, else the 400 naming the problem.
PublishReply parse_publish_body(std::string_view body, std::vector<PublishEvent>& events,
                                bool& is_batch);

PublishReply handle_publish(std::string_view body, Broadcaster& broadcaster);

// Constant-time comparison, so response timing does not reveal how much of
// a guessed token was right.
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace sse
