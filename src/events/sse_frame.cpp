// sse_frame.cpp — see sse_frame.h.
#include "sse/events/sse_frame.h"

#include "sse/base/json.h"

#include <cstring>

namespace sse {

namespace {

// Visits each line of `text`, where a line ends at CRLF, LF or CR.
template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    visit(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  visit(text.substr(start));
}

// Appends `value` without CR, LF or NUL. A no-op copy for valid input.
void append_single_line(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
}

}  // namespace

FrameRef encode_event(uint64_t id, std::string_view event, std::string_view data) {
  // The head (id and event lines) is built in a small string (no heap
  // allocation while it fits std::string's inline buffer); the data lines
  // are measured first, then everything is written straight into the
  // frame: one frame allocation, whatever the size of the data.
  std::string head;
  if (id != kNoId) head = "id: " + std::to_string(id) + "\n";
  if (!event.empty()) {
    head += "event: ";
    append_single_line(head, event);
    head += '\n';
  }
  size_t size = head.size() + 1;  // + the blank line that ends the event
  for_each_line(data, [&](std::string_view line) { size += 7 + line.size(); });

  FrameRef frame = FrameRef::allocate(size);
  char* out = frame.writable();
  std::memcpy(out, head.data(), head.size());
  out += head.size();
  for_each_line(data, [&](std::string_view line) {
    std::memcpy(out, "data: ", 6);
    if (!line.empty()) std::memcpy(out + 6, line.data(), line.size());
    out[6 + line.size()] = '\n';
    out += 7 + line.size();
  });
  *out = '\n';
  return frame;
}

FrameRef encode_comment(std::string_view comment) {
  std::string text = ":";
  append_single_line(text, comment);
  text += "\n\n";
  return FrameRef::copy_of(text);
}

std::string encode_stream_open(int64_t retry_ms) {
  return "retry: " + std::to_string(retry_ms) + "\n: stream open\n\n";
}

std::string gap_data(std::string_view last_event_id, uint64_t oldest_id) {
  std::string json = "{\"lastEventId\":\"";
  // Header bytes are read as Latin-1 (RFC 9110 §5.5), so every byte maps to
  // one code point and the result is valid JSON whatever was sent.
  append_json_escaped(json, last_event_id.substr(0, 64), TextEncoding::kLatin1);
  json += "\",\"oldestId\":\"" + std::to_string(oldest_id) + "\"}";
  return json;
}

}  // namespace sse
