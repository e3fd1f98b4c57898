// log_entry.cpp — see log_entry.h.
#include "sse/redis/log_entry.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace sse {

std::string_view text_of(const redisReply* reply) {
  if (reply == nullptr) return {};
  if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) return {};
  return std::string_view(reply->str, reply->len);
}

bool to_number(std::string_view text, uint64_t& value) {
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && stop == end;
}

// "<N>-0" -> N.
static bool stream_id(std::string_view text, uint64_t& id) {
  size_t dash = text.find('-');
  return dash != std::string_view::npos && to_number(text.substr(0, dash), id);
}

bool parse_entry(const redisReply* reply, LogEntry& entry) {
  entry = LogEntry();
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return false;
  if (!stream_id(text_of(reply->element[0]), entry.id)) return false;
  const redisReply* fields = reply->element[1];
  if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) return false;
  bool has_prev = false;
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    std::string_view name = text_of(fields->element[i]);
    std::string_view value = text_of(fields->element[i + 1]);
    if (name == "t") entry.topic.assign(value);
    if (name == "e") entry.event.assign(value);
    if (name == "d") entry.data.assign(value);
    if (name == "p") has_prev = to_number(value, entry.prev);
  }
  return has_prev && !entry.topic.empty();
}

bool parse_announcement(std::string_view text, LogEntry& entry) {
  std::string_view parts[4];
  for (std::string_view& part : parts) {
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return false;
    part = text.substr(0, newline);
    text.remove_prefix(newline + 1);
  }
  if (!to_number(parts[0], entry.id) || !to_number(parts[1], entry.prev)) return false;
  entry.topic.assign(parts[2]);
  entry.event.assign(parts[3]);
  entry.data.assign(text);
  return !entry.topic.empty();
}

bool links(uint64_t prev, uint64_t position) {
  return prev <= position && (prev != 0 || position == 0);
}

}  // namespace sse
