// sse_frame.h — the text/event-stream wire format (WHATWG HTML §9.2.6).
//
// The broadcaster calls encode_event() once per published event; the Frame
// it returns is what every subscriber's socket receives, byte for byte. The
// stream handler uses encode_stream_open() for the first bytes of a stream.
// Invariant: no field value can break out of its line. Data is split at
// every line break (CRLF, LF or CR: all three end a line for the browser)
// into one "data:" line each, and event names and comments never contain
// CR or LF (callers validate; the encoder strips them as a last defence).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sse/loop/frame.h"

namespace sse {

// Ids come from the clock (microseconds), so 0 is never a real one: it
// marks a notice outside the id sequence (the gap event), sent without id.
inline constexpr uint64_t kNoId = 0;

// ["id: <id>\n"] ["event: <event>\n"] "data: <line>\n"... "\n"
FrameRef encode_event(uint64_t id, std::string_view event, std::string_view data);

// ":<text>\n\n" — ignored by EventSource; keeps proxies and NATs awake.
FrameRef encode_comment(std::string_view text);

// The data of a gap notice (SPEC "The event stream"):
// {"lastEventId":"<escaped, at most 64 bytes>","oldestId":"<id>"}.
// Sent when a stream starts (stream_handler) and, with a shared log, when
// the log itself lost events (redis_event_log).
std::string gap_data(std::string_view last_event_id, uint64_t oldest_id);

// "retry: <ms>\n: stream open\n\n": the reconnection delay, then a comment
// so that the client (and any proxy) sees a complete event block at once.
std::string encode_stream_open(int64_t retry_ms);

}  // namespace sse
