// redis_event_log.cpp — see redis_event_log.h: the links, publishing and
// delivery. The resume half is redis_resume.cpp; the log's wire format
// (entries, announcements, the link rule) is log_entry.cpp.
#include "sse/redis/redis_event_log.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "sse/base/clock.h"
#include "sse/base/log.h"
#include "sse/events/sse_frame.h"
#include "sse/redis/log_entry.h"
#include "sse/redis/publish_script.h"

namespace sse {

namespace {

// Announcements held while a read is under way, at most: past this they
// are dropped and the read runs once more (the log has them all).
constexpr size_t kMaxHeldBytes = 64u << 20;
constexpr int64_t kPingPeriodMs = 1000;

std::string random_hex() {
  std::random_device random;
  char text[32];
  std::snprintf(text, sizeof text, "%08x%08x", random(), random());
  return text;
}

}  // namespace

RedisEventLog::RedisEventLog(Reactor& reactor, Broadcaster& broadcaster,
                             const RedisOptions& options)
    : broadcaster_(broadcaster),
      options_(options),
      log_key_(options.prefix + "log"),
      channel_(options.prefix + "events"),
      // Our own channel for the liveness ping (see on_ping_timer).
      ping_channel_(options.prefix + "ping:" + std::to_string(::getpid()) + ":" + random_hex()),
      idempotency_prefix_(options.prefix + "idem:"),
      // Nothing is complete until the first read of the log sets the start.
      history_(options.history, 0, options.history_bytes),
      ping_timer_(reactor, [this] { on_ping_timer(); }),
      commands_(reactor, options.address, options.timeout_ms, "commands", *this),
      subscription_(reactor, options.address, options.timeout_ms, "subscription", *this) {
  // The log in Redis keeps at least one entry: its newest id is where the
  // next publish links to (p), so an empty log would break every link.
  options_.history = std::max<size_t>(options_.history, 1);
  broadcaster_.attach_history(&history_);
}

RedisEventLog::~RedisEventLog() {
  // The links are destroyed after this body and call back with null
  // replies: nothing may act on them any more.
  stopping_ = true;
  broadcaster_.attach_history(nullptr);
}

void RedisEventLog::start() {
  ping_timer_.start(kPingPeriodMs);
  commands_.start();
  subscription_.start();
}

const char* RedisEventLog::state() const {
  if (connected()) return "connected";
  if (commands_.state() == RedisLink::State::kDown &&
      subscription_.state() == RedisLink::State::kDown) {
    return "down";
  }
  return "connecting";
}

bool RedisEventLog::connected() const {
  return commands_ready() && subscribed_ && synced_;
}

// ------------------------------------------------------------------ links

void RedisEventLog::on_link_up(RedisLink& link) noexcept {
  if (stopping_) return;
  if (&link == &subscription_) {
    subscription_.subscribe({channel_, ping_channel_},
                            [this](const redisReply* reply) { on_message(reply); });
    return;
  }
  // The script is loaded on every new connection: Redis may have restarted
  // (scripts are not persisted). Publishes wait for it.
  commands_.command({"SCRIPT", "LOAD", kPublishScript}, [this](const redisReply* reply) {
    if (stopping_ || reply == nullptr) return;
    if (reply->type != REDIS_REPLY_STRING) {
      log_line("redis: SCRIPT LOAD failed: %s",
               reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
      commands_.reset("SCRIPT LOAD failed");
      return;
    }
    script_sha_.assign(reply->str, reply->len);
    script_loaded_ = true;
    catch_up();
    send_fetches();
  });
}

void RedisEventLog::on_link_down(RedisLink& link) noexcept {
  if (stopping_) return;
  if (&link == &commands_) {
    script_loaded_ = false;
    reading_ = false;  // a read in flight got its null reply
    // The same Redis: if commands stopped being answered, the subscription
    // is most likely dead as well, and a dead subscription says nothing.
    subscription_.reset("the command link was lost");
  } else {
    subscribed_ = false;
    ping_outstanding_ = false;
    // Announcements held for a read are in the log: the next read gets them.
    held_.clear();
    held_bytes_ = 0;
  }
}

void RedisEventLog::on_ping_timer() {
  // A subscription can die without its socket closing (a NAT that forgot
  // it, a proxy): the ping goes out on the command link and must come back
  // on the subscription. PING itself is mishandled on a subscribed
  // connection by hiredis 0.14, hence our own channel.
  if (!commands_ready() || !subscribed_) return;
  int64_t now = mono_ms();
  if (ping_outstanding_) {
    if (now - ping_sent_ms_ > options_.timeout_ms) {
      subscription_.reset("our ping did not come back on the subscription");
    }
    return;
  }
  if (commands_.command({"PUBLISH", ping_channel_, "ping"}, [](const redisReply*) {})) {
    ping_outstanding_ = true;
    ping_sent_ms_ = now;
  }
}

// ------------------------------------------------------------------ publish

void RedisEventLog::append(const std::vector<NewEvent>& events, std::string_view idempotency_key,
                           AppendDone* done) {
  // A 202 needs Redis to answer, and this instance to have a position in
  // the log (synced_): from then on whatever it stores reaches its own
  // streams too, live or by the read after a resubscription.
  if (!commands_ready() || !synced_) {
    if (done == nullptr) return;  // a tick while Redis is away: skipped
    ++counters_.publish_failures;
    AppendResult failed;
    failed.ok = false;
    failed.error = !commands_ready() && !commands_.last_error().empty()
                       ? "redis unavailable: " + commands_.last_error()
                       : std::string("redis unavailable: not connected yet");
    done->on_appended(failed);
    return;
  }
  Append request;
  request.done = done;
  request.sent_ns = mono_ns();
  std::vector<std::string>& args = request.args;
  args.reserve(9 + events.size() * 3);
  args.insert(args.end(), {"EVALSHA", script_sha_, "3", log_key_, channel_,
                           idempotency_key.empty()
                               ? std::string()
                               : idempotency_prefix_ + std::string(idempotency_key),
                           std::to_string(options_.history),
                           std::to_string(std::max(last_, max_assigned_)),
                           std::to_string(kIdempotencyWindowMs)});
  for (const NewEvent& event : events) {
    args.push_back(event.topic);
    args.push_back(event.event);
    args.push_back(event.data);
  }
  uint64_t number = next_append_++;
  appends_.emplace(number, std::move(request));
  send_append(number);
}

void RedisEventLog::send_append(uint64_t number) {
  auto it = appends_.find(number);
  std::vector<std::string_view> argv(it->second.args.begin(), it->second.args.end());
  bool sent = commands_.command(
      argv, [this, number](const redisReply* reply) { on_append_reply(number, reply); });
  if (!sent) on_append_reply(number, nullptr);
}

void RedisEventLog::on_append_reply(uint64_t number, const redisReply* reply) {
  auto it = appends_.find(number);
  if (it == appends_.end()) return;
  Append& request = it->second;
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
      std::string_view(reply->str, reply->len).substr(0, 8) == "NOSCRIPT" &&
      request.args[0] == "EVALSHA" && !stopping_) {
    // Redis lost its scripts (restarted, SCRIPT FLUSH) since we loaded it.
    // Nothing ran: send the script itself this once.
    request.args[0] = "EVAL";
    request.args[1] = kPublishScript;
    send_append(number);
    return;
  }
  AppendResult result;
  if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < reply->elements; ++i) {
      uint64_t id = 0;
      if (!to_number(text_of(reply->element[i]), id)) {
        result.ids.clear();
        break;
      }
      result.ids.push_back(id);
    }
    result.ok = !result.ids.empty();
  } else {
    result.ok = false;
  }
  if (result.ok) {
    max_assigned_ = std::max(max_assigned_, result.ids.back());
    counters_.publish_rtt_us.record((mono_ns() - request.sent_ns) / 1000);
  } else {
    ++counters_.publish_failures;
    result.error = reply == nullptr ? "redis did not answer in time (the outcome is unknown: retry "
                                      "with the same Idempotency-Key)"
                   : reply->type == REDIS_REPLY_ERROR
                       ? "redis refused: " + std::string(reply->str, reply->len)
                       : "redis: unexpected reply";
  }
  AppendDone* done = request.done;
  appends_.erase(it);
  if (done != nullptr && !stopping_) done->on_appended(result);
}

void RedisEventLog::cancel(AppendDone* done) {
  // O(publishes in flight): a handful, each waiting a millisecond or so.
  for (auto& [number, request] : appends_) {
    if (request.done == done) request.done = nullptr;
  }
}

// ------------------------------------------------------------------ delivery

void RedisEventLog::on_message(const redisReply* reply) {
  if (stopping_ || reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) {
    return;
  }
  std::string_view kind = text_of(reply->element[0]);
  std::string_view channel = text_of(reply->element[1]);
  if (kind == "subscribe") {
    if (channel == channel_) {
      subscribed_ = true;
      catch_up();
    }
    return;
  }
  if (kind != "message") return;
  if (channel == ping_channel_) {
    ping_outstanding_ = false;
    return;
  }
  LogEntry entry;
  if (channel != channel_ || !parse_announcement(text_of(reply->element[2]), entry)) return;
  on_announcement(std::move(entry));
}

void RedisEventLog::on_announcement(LogEntry entry) {
  if (reading_ || !synced_) {
    // A read is under way: its answer decides what this links to.
    if (held_bytes_ + entry.data.size() > kMaxHeldBytes) {
      read_again_ = true;  // dropped here, read from the log afterwards
      return;
    }
    held_bytes_ += entry.data.size();
    held_.push_back(std::move(entry));
    return;
  }
  if (entry.id <= last_) return;  // a read delivered it already
  if (!links(entry.prev, last_)) {
    // Something between last_ and this one never reached us.
    held_.push_front(std::move(entry));
    ++counters_.repairs;
    read_log_after(last_);
    return;
  }
  deliver(entry);
}

void RedisEventLog::catch_up() {
  if (!commands_ready() || !subscribed_ || reading_) return;
  reading_ = true;
  if (synced_) {
    // Back after a reconnect (or a first sync that failed half-way): read
    // whatever was published while we could not hear it.
    ++counters_.repairs;
    read_log_after(last_);
    return;
  }
  // The first time: start live from the log's newest entry.
  bool sent = commands_.command(
      {"XREVRANGE", log_key_, "+", "-", "COUNT", "1"}, [this](const redisReply* reply) {
        if (stopping_) return;
        reading_ = false;
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;  // retried when back
        LogEntry newest;
        if (reply->elements > 0) parse_entry(reply->element[0], newest);
        last_ = std::max(last_, newest.id);
        history_.mark_lost_through(last_);
        synced_ = true;
        drain_held();
        send_fetches();
      });
  if (!sent) reading_ = false;
}

void RedisEventLog::read_log_after(uint64_t after) {
  reading_ = true;
  std::string from = "(" + std::to_string(after) + "-0";
  std::string count = std::to_string(kLogPage);
  bool sent = commands_.command({"XRANGE", log_key_, from, "+", "COUNT", count},
                                [this, after](const redisReply* reply) { on_log_page(reply, after); });
  if (!sent) reading_ = false;  // the link is down: catch_up() runs when it is back
}

void RedisEventLog::on_log_page(const redisReply* reply, uint64_t after) {
  if (stopping_) return;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
    reading_ = false;  // the link went down: the next catch_up() reads again
    return;
  }
  size_t entries = reply->elements;
  uint64_t page_end = after;
  for (size_t i = 0; i < entries; ++i) {
    LogEntry entry;
    if (!parse_entry(reply->element[i], entry)) continue;
    page_end = entry.id;
    accept(entry);
  }
  if (entries == kLogPage) {
    read_log_after(page_end);  // more to read
    return;
  }
  reading_ = false;
  if (read_again_) {
    read_again_ = false;
    ++counters_.repairs;
    read_log_after(last_);
    return;
  }
  drain_held();
}

void RedisEventLog::accept(LogEntry& entry) {
  if (entry.id <= last_) return;
  if (!links(entry.prev, last_)) {
    // The log itself no longer links last_ to this entry: the events in
    // between are gone (trimmed before we read them, or lost by Redis).
    // Every stream is told, because nobody knows their topics any more.
    // The notice's id is where the streams go on from: a browser that
    // reconnects with it is not told of the same gap again.
    ++counters_.gaps;
    uint64_t gap_id = entry.id - 1;
    log_line("redis: events after %llu are lost from the log; gap notice to every stream",
             static_cast<unsigned long long>(last_));
    broadcaster_.broadcast_notice(
        encode_event(gap_id, "gap", gap_data(std::to_string(last_), entry.id)), mono_ms());
    history_.mark_lost_through(gap_id);
  }
  deliver(entry);
}

void RedisEventLog::drain_held() {
  while (!reading_ && !held_.empty()) {
    LogEntry entry = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= std::min(held_bytes_, entry.data.size());
    on_announcement(std::move(entry));
  }
}

void RedisEventLog::deliver(const LogEntry& entry) {
  broadcaster_.enqueue(entry.id, entry.topic, entry.event, entry.data);
  last_ = entry.id;
  ++counters_.events_received;
}

uint64_t RedisEventLog::delivered_through() const {
  uint64_t pending = broadcaster_.oldest_pending_id();
  return pending != 0 ? pending - 1 : last_;
}

}  // namespace sse
