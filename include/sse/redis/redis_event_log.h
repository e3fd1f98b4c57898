// redis_event_log.h — the event log shared by every instance on one Redis.
//
// The EventLog (event_log.h) of a server started with --redis. Redis holds
// the one id sequence and the durable history; each instance keeps the
// recent tail in memory (a History, fed by the broadcaster as in the
// in-memory log) and fans out to its own subscribers.
//
// Two links (redis_link.h): `commands_` runs the publish script
// (publish_script.h), reads the log (XRANGE) and pings; `subscription_`
// is SUBSCRIBEd to <prefix>events, where the script announces every event.
//
// Publishing: append() sends one EVALSHA and answers `done` when Redis
// answered: the ids, or "unavailable" (the link is down, the script
// failed, or no answer came in time: then the outcome is unknown and the
// client's Idempotency-Key makes its retry safe). Nothing is delivered on
// the strength of the reply.
//
// Delivering: only what arrives on the subscription, our own publishes
// included: one path, so one order. last_ is the newest id handed to the
// broadcaster; an announcement carries its id and p, the id before it in
// the log:
//   id <= last_   already delivered (a repair read it first): dropped;
//   p links last_ nothing lies between: delivered, last_ = id;
//   otherwise     something was missed (pub/sub is at-most-once; Redis
//                 drops a subscriber whose buffer overflows): the message is
//                 held and the log is read from last_ (XRANGE (last_ +), a
//                 "repair". Entries that link up are delivered; when the
//                 log's first entry after last_ still has p > last_, the
//                 log itself lost them (trimmed, Redis restarted without
//                 persistence or from an older snapshot): every stream gets
//                 a gap notice, then the events go on.
// The same read runs after every (re)subscription, so events published
// while this instance was cut off arrive in order once it is back. The very
// first subscription reads the log's newest id instead: an instance starts
// live from there, and older events are reached by resuming.
//
// Files: this one's .cpp holds the links, publishing and delivery;
// redis_resume.cpp the resume half; log_entry.h the log's wire format.
//
// Resuming: from the memory tail when it covers the id (plan_resume, as in
// the in-memory log); otherwise fetch_resume() reads the log after the id
// and answers in a later pass. The rule for "complete" is the same link
// check, on every entry: the first after X must link to X, each next one to
// the one before it; a break further on gets a gap notice at that point.
//
// "Links": p <= the reader's position, except p = 0 ("the log began
// here"), which links only a reader that has seen nothing (links() in the
// .cpp says why).
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "sse/base/latency_histogram.h"
#include "sse/events/broadcaster.h"
#include "sse/events/event_log.h"
#include "sse/events/history.h"
#include "sse/loop/reactor.h"
#include "sse/loop/timer.h"
#include "sse/redis/log_entry.h"
#include "sse/redis/redis_address.h"
#include "sse/redis/redis_link.h"

namespace sse {

struct RedisOptions {
  RedisAddress address;
  std::string prefix = "sse:";
  size_t history = 1024;  // log length in Redis (approximate) and in memory
  size_t history_bytes = 64u << 20;
  int64_t timeout_ms = 2000;
};

struct RedisCounters {
  uint64_t events_received = 0;  // delivered from Redis (announced or read in a repair)
  uint64_t repairs = 0;          // log reads after a missed announcement or a reconnect
  uint64_t gaps = 0;             // losses in the log itself, told to every stream
  uint64_t publish_failures = 0;  // appends answered "unavailable"
  LatencyHistogram publish_rtt_us;  // EVALSHA sent -> answer, per publish
};

class RedisEventLog final : public EventLog, private RedisLink::Owner {
 public:
  RedisEventLog(Reactor& reactor, Broadcaster& broadcaster, const RedisOptions& options);
  ~RedisEventLog() override;
  RedisEventLog(const RedisEventLog&) = delete;
  RedisEventLog& operator=(const RedisEventLog&) = delete;

  // Starts connecting; the server runs whether Redis is there or not.
  void start();

  void append(const std::vector<NewEvent>& events, std::string_view idempotency_key,
              AppendDone* done) override;
  void cancel(AppendDone* done) override;

  ResumePlan plan_resume(std::string_view last_event_id) const override;
  Replay replay(uint64_t after_id, const std::vector<std::string>& topics,
                size_t max_bytes) const override;
  bool resumes_locally(std::string_view last_event_id) const override;
  void fetch_resume(uint64_t after_id, const std::vector<std::string>& topics, size_t max_bytes,
                    ResumeDone* done) override;
  void cancel_resume(ResumeDone* done) override;

  size_t retained() const override { return history_.size(); }
  uint64_t last_id() const override { return last_; }

  // For /stats and /metrics.
  const char* state() const;  // "connected", "connecting" or "down"
  bool connected() const;
  uint64_t reconnects() const { return commands_.reconnects() + subscription_.reconnects(); }
  const RedisCounters& counters() const { return counters_; }


 private:
  struct Append {
    AppendDone* done;  // null once cancelled
    int64_t sent_ns;
    std::vector<std::string> args;  // kept for the NOSCRIPT retry
  };
  struct Fetch {
    ResumeDone* done;  // null once cancelled
    uint64_t after;
    std::vector<std::string> topics;
    size_t max_bytes;
    bool sent = false;
    uint64_t top = 0;  // the log's newest id when the read began
    std::vector<LogEntry> entries;
  };

  void on_link_up(RedisLink& link) noexcept override;
  void on_link_down(RedisLink& link) noexcept override;

  void send_append(uint64_t number);
  void on_append_reply(uint64_t number, const redisReply* reply);
  void on_message(const redisReply* reply);
  void on_announcement(LogEntry entry);
  void catch_up();
  void read_log_after(uint64_t after);
  void on_log_page(const redisReply* reply, uint64_t after);
  void accept(LogEntry& entry);
  void drain_held();
  void deliver(const LogEntry& entry);
  void send_fetches();
  void send_fetch(std::list<Fetch>::iterator fetch);
  void read_fetch_page(std::list<Fetch>::iterator fetch, uint64_t after);
  void finish_fetch(std::list<Fetch>::iterator fetch);
  void on_ping_timer();
  uint64_t delivered_through() const;
  bool commands_ready() const { return commands_.up() && script_loaded_; }

  Broadcaster& broadcaster_;
  RedisOptions options_;
  std::string log_key_, channel_, ping_channel_, idempotency_prefix_;
  History history_;
  uint64_t last_ = 0;          // newest id handed to the broadcaster
  uint64_t max_assigned_ = 0;  // newest id our own publishes were given
  bool synced_ = false;        // last_ is a position in the log
  bool subscribed_ = false;    // the channel subscription is confirmed
  bool reading_ = false;       // a catch-up or repair read is under way
  bool read_again_ = false;    // held messages were dropped: read once more after
  std::deque<LogEntry> held_;  // announcements waiting for a read to finish
  size_t held_bytes_ = 0;
  std::string script_sha_;
  bool script_loaded_ = false;
  uint64_t next_append_ = 1;
  std::unordered_map<uint64_t, Append> appends_;  // by number, until answered
  std::list<Fetch> fetches_;
  bool ping_outstanding_ = false;
  int64_t ping_sent_ms_ = 0;
  bool stopping_ = false;
  RedisCounters counters_;
  Timer ping_timer_;
  // Last: destroyed first, while everything their callbacks touch exists.
  RedisLink commands_;
  RedisLink subscription_;
};

}  // namespace sse
