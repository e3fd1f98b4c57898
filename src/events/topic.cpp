// topic.cpp — see topic.h.
#include "sse/events/topic.h"

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

}  // namespace sse
