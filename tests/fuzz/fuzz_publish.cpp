// fuzz_publish.cpp — libFuzzer target for the POST /publish validator.
//
// Oracle: no crash, and whatever is accepted obeys the rules the stream
// relies on: a valid topic, an event name without CR, LF or NUL, and data
// present. A rejected body yields no events.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sse/server/publish_handler.h"
#include "sse/server/stream_handler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<sse::NewEvent> events;
  bool is_batch = false;
  sse::PublishReply reply = sse::parse_publish_body(body, events, is_batch);
  if (reply.status != 0) {
    // Rejected: the publish handler publishes nothing in that case.
    if (reply.status != 400) std::abort();
    return 0;
  }
  if (events.empty()) std::abort();
  for (const sse::NewEvent& event : events) {
    if (!sse::is_valid_topic(event.topic)) std::abort();
    if (event.event.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
