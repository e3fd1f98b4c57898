// topic.h — what a topic name may be.
//
// One rule for every place a name comes in: ?topic= of a stream
// (stream_handler), "topic" of a publish (publish_handler) and the
// --private patterns (config). A name is 1-64 of A-Z a-z 0-9 _ . : -, so
// it needs no escaping in JSON, in a Prometheus label or in Redis.
#pragma once

#include <cstddef>
#include <string_view>

namespace sse {

inline constexpr size_t kMaxTopicName = 64;

bool is_valid_topic(std::string_view name);

}  // namespace sse
