// event_log.cpp — see event_log.h: what every event log shares.
#include "sse/events/event_log.h"

#include <charconv>

namespace sse {

bool parse_event_id(std::string_view text, uint64_t& id) {
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, id);
  return !text.empty() && ec == std::errc() && stop == end;
}

}  // namespace sse
