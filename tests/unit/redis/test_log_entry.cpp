// test_log_entry.cpp — the shared log's wire format (src/redis/log_entry.cpp).
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "sse/redis/log_entry.h"

using sse::LogEntry;

namespace {

// A hiredis reply built by hand, as the library would hand it over.
redisReply text(std::string& storage) {
  redisReply reply{};
  reply.type = REDIS_REPLY_STRING;
  reply.str = storage.data();
  reply.len = storage.size();
  return reply;
}

}  // namespace

TEST_CASE("an announcement carries id, p, topic, event and data with its line breaks") {
  LogEntry entry;
  REQUIRE(sse::parse_announcement("1796561319711126\n1796561319711120\nnews\nquote\na\nb", entry));
  CHECK(entry.id == 1796561319711126u);
  CHECK(entry.prev == 1796561319711120u);
  CHECK(entry.topic == "news");
  CHECK(entry.event == "quote");
  CHECK(entry.data == "a\nb");
  CHECK(sse::parse_announcement("5\n0\nmain\n\n", entry));  // no event name, empty data
  for (const char* bad : {"", "5\n0\nmain", "x\n0\nmain\n\nd", "5\n-1\nmain\n\nd", "5\n0\n\n\nd"}) {
    CHECK_MESSAGE(!sse::parse_announcement(bad, entry), bad);
  }
}

TEST_CASE("an XRANGE entry is read whatever the order of its fields, and needs p and a topic") {
  std::vector<std::string> strings = {"42-0", "p", "41", "d", "x\ny", "t", "news", "e", "tick"};
  std::vector<redisReply> items;
  for (std::string& s : strings) items.push_back(text(s));
  std::vector<redisReply*> field_ptrs;
  for (size_t i = 1; i < items.size(); ++i) field_ptrs.push_back(&items[i]);
  redisReply fields{};
  fields.type = REDIS_REPLY_ARRAY;
  fields.elements = field_ptrs.size();
  fields.element = field_ptrs.data();
  redisReply* pair[] = {&items[0], &fields};
  redisReply entry_reply{};
  entry_reply.type = REDIS_REPLY_ARRAY;
  entry_reply.elements = 2;
  entry_reply.element = pair;
  LogEntry entry;
  REQUIRE(sse::parse_entry(&entry_reply, entry));
  CHECK(entry.id == 42);
  CHECK(entry.prev == 41);
  CHECK(entry.topic == "news");
  CHECK(entry.event == "tick");
  CHECK(entry.data == "x\ny");
  fields.elements = 4;  // only p and d: no topic
  CHECK_FALSE(sse::parse_entry(&entry_reply, entry));
  CHECK_FALSE(sse::parse_entry(nullptr, entry));
}

TEST_CASE("an entry links a reader's position when nothing the log knows lies between") {
  CHECK(sse::links(10, 10));   // the entry right after what the reader has
  CHECK(sse::links(7, 10));    // the reader saw ids the log lost: nothing exists between
  CHECK_FALSE(sse::links(11, 10));  // the log had 11, the reader never got it
  CHECK(sse::links(0, 0));     // the log's first entry, a reader that saw nothing
  CHECK_FALSE(sse::links(0, 10));  // the log began anew: what came after 10 is unknown
}
