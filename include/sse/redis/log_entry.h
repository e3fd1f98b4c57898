// log_entry.h — the shared log's wire format: what an entry of
// <prefix>log and an announcement on <prefix>events look like, and the one
// rule that says whether an entry follows on what a reader has.
//
// The publish script (publish_script.h) writes both; RedisEventLog reads
// them (delivery in redis_event_log.cpp, resume in redis_resume.cpp). Pure
// functions over hiredis replies and strings: no I/O, unit-tested alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct redisReply;

namespace sse {

// One event as the log holds it (an XRANGE entry or an announcement).
struct LogEntry {
  uint64_t id = 0;
  uint64_t prev = 0;  // p: the id before it in the log (0: the log began here)
  std::string topic, event, data;
};

// Log entries read per XRANGE: a repair or resume of more pages runs as
// several commands, so one reply stays a few MiB at most.
inline constexpr size_t kLogPage = 500;

// The text of a string or status reply; empty for anything else.
std::string_view text_of(const redisReply* reply);
// A whole decimal number, nothing else.
bool to_number(std::string_view text, uint64_t& value);

// An XRANGE entry: ["<id>-0", ["t", topic, "e", event, "d", data, "p", prev]].
bool parse_entry(const redisReply* reply, LogEntry& entry);

// An announcement: "<id>\n<p>\n<topic>\n<event>\n<data>" (topics and event
// names hold no line breaks; the data may).
bool parse_announcement(std::string_view text, LogEntry& entry);

// Whether an entry whose predecessor in the log is `prev` follows directly
// on `position` (the last id a reader has): nothing the log knows of lies
// between them. p = 0 means "the log began here" (a first publish into an
// empty log by an instance that had seen nothing): only a reader that had
// seen nothing either is sure to have missed nothing, so an older position
// (a log that lost everything, and ids from its previous life) is a gap.
bool links(uint64_t prev, uint64_t position);

}  // namespace sse
