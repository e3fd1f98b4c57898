// redis_event_log.cpp — see redis_event_log.h.
#include "sse/redis/redis_event_log.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "sse/base/clock.h"
#include "sse/base/log.h"
#include "sse/events/sse_frame.h"
#include "sse/redis/publish_script.h"

namespace sse {

namespace {

// Log entries read per XRANGE: a repair or resume of more pages runs as
// several commands, so one reply stays a few MiB at most.
constexpr size_t kPage = 500;
// Announcements held while a read is under way, at most: past this they
// are dropped and the read runs once more (the log has them all).
constexpr size_t kMaxHeldBytes = 64u << 20;
constexpr int64_t kPingPeriodMs = 1000;

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
bool stream_id(std::string_view text, uint64_t& id) {
  size_t dash = text.find('-');
  return dash != std::string_view::npos && to_number(text.substr(0, dash), id);
}

// An XRANGE entry: ["<id>-0", ["t", topic, "e", event, "d", data, "p", prev]].
bool parse_entry(const redisReply* reply, RedisEventLog::LogEntry& entry) {
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

// An announcement: "<id>\n<p>\n<topic>\n<event>\n<data>" (topics and event
// names hold no line breaks; the data may).
bool parse_announcement(std::string_view text, RedisEventLog::LogEntry& entry) {
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

// Whether an entry whose predecessor in the log is `prev` follows directly
// on `position` (the last id a reader has): nothing the log knows of lies
// between them. p = 0 means "the log began here" (a first publish into an
// empty log by an instance that had seen nothing): only a reader that had
// seen nothing either is sure to have missed nothing, so an older position
// (a log that lost everything, and ids from its previous life) is a gap.
bool links(uint64_t prev, uint64_t position) {
  return prev <= position && (prev != 0 || position == 0);
}

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
  std::string count = std::to_string(kPage);
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
  if (entries == kPage) {
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

// ------------------------------------------------------------------ resume

ResumePlan RedisEventLog::plan_resume(std::string_view last_event_id) const {
  return plan_resume_from(history_, last_, last_event_id);
}

Replay RedisEventLog::replay(uint64_t after_id, const std::vector<std::string>& topics,
                             size_t max_bytes) const {
  return history_.replay(after_id, topics, max_bytes);
}

bool RedisEventLog::resumes_locally(std::string_view last_event_id) const {
  uint64_t id = 0;
  // Not an id at all: a gap, whoever answers.
  if (!parse_event_id(last_event_id, id)) return true;
  return synced_ && id >= history_.complete_after() && id <= last_;
}

void RedisEventLog::fetch_resume(uint64_t after_id, const std::vector<std::string>& topics,
                                 size_t max_bytes, ResumeDone* done) {
  Fetch fetch;
  fetch.done = done;
  fetch.after = after_id;
  fetch.topics = topics;
  fetch.max_bytes = max_bytes;
  fetches_.push_back(std::move(fetch));
  send_fetches();
}

void RedisEventLog::cancel_resume(ResumeDone* done) {
  for (Fetch& fetch : fetches_) {
    if (fetch.done == done) fetch.done = nullptr;
  }
}

void RedisEventLog::send_fetches() {
  // A resume is merged with what this instance delivers, so it waits until
  // the instance has a position in the log (synced_) and can read it.
  if (!commands_ready() || !synced_) return;
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    auto next = std::next(it);
    if (it->done == nullptr && !it->sent) {
      fetches_.erase(it);
    } else if (!it->sent) {
      send_fetch(it);
    }
    it = next;
  }
}

void RedisEventLog::send_fetch(std::list<Fetch>::iterator fetch) {
  fetch->sent = true;
  fetch->entries.clear();
  // The newest id first, then the entries after X: in this order on one
  // connection, so `top` is never newer than what the XRANGE saw.
  bool sent = commands_.command(
      {"XREVRANGE", log_key_, "+", "-", "COUNT", "1"}, [this, fetch](const redisReply* reply) {
        if (stopping_) return;
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
          fetch->sent = false;  // sent again once the link is back
          return;
        }
        LogEntry newest;
        if (reply->elements > 0) parse_entry(reply->element[0], newest);
        fetch->top = newest.id;
      });
  if (!sent) {
    fetch->sent = false;
    return;
  }
  read_fetch_page(fetch, fetch->after);
}

void RedisEventLog::read_fetch_page(std::list<Fetch>::iterator fetch, uint64_t after) {
  std::string from = "(" + std::to_string(after) + "-0";
  std::string count = std::to_string(kPage);
  bool sent = commands_.command(
      {"XRANGE", log_key_, from, "+", "COUNT", count}, [this, fetch](const redisReply* reply) {
        if (stopping_) return;
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
          fetch->sent = false;
          return;
        }
        for (size_t i = 0; i < reply->elements; ++i) {
          LogEntry entry;
          if (parse_entry(reply->element[i], entry)) fetch->entries.push_back(std::move(entry));
        }
        // Enough once the pages reach what this instance has delivered:
        // the memory tail has the rest.
        bool more = reply->elements == kPage && !fetch->entries.empty() &&
                    fetch->entries.back().id < delivered_through();
        if (more) {
          read_fetch_page(fetch, fetch->entries.back().id);
        } else {
          finish_fetch(fetch);
        }
      });
  if (!sent) fetch->sent = false;
}

void RedisEventLog::finish_fetch(std::list<Fetch>::iterator fetch) {
  ResumeDone* done = fetch->done;
  if (done == nullptr) {
    fetches_.erase(fetch);
    return;
  }
  uint64_t x = fetch->after;
  uint64_t through = delivered_through();  // later ones reach the stream live
  ResumePlan plan;
  Replay replay;
  const std::vector<LogEntry>& entries = fetch->entries;
  if (x > fetch->top && x > through) {
    // Newer than anything the log or this instance has: from the future
    // (or from a log that was rolled back). Live events only follow.
    plan.gap = true;
    plan.gap_id = through;
    plan.oldest_id = entries.empty() ? fetch->top + 1 : entries.front().id;
  } else {
    plan.oldest_id = entries.empty() ? fetch->top + 1 : entries.front().id;
    // From the log up to what this instance delivered, then from memory,
    // checking every link on the way: a break at the first entry is the
    // stream's opening gap notice; a break further on (events lost in a
    // rollback between two that survived) is a notice at that point, as a
    // live stream would have been sent.
    std::vector<std::pair<uint64_t, FrameRef>> frames;
    auto notice_at = [&](uint64_t before, uint64_t next_id) {
      if (frames.empty() && before == x) {
        plan.gap = true;
        plan.gap_id = next_id - 1;
        return;
      }
      frames.emplace_back(next_id - 1, encode_event(next_id - 1, "gap",
                                                    gap_data(std::to_string(before), next_id)));
    };
    uint64_t read_through = std::max(x, fetch->top);
    uint64_t previous = x;
    for (const LogEntry& entry : entries) {
      if (entry.id > through) break;
      if (!links(entry.prev, previous)) notice_at(previous, entry.id);
      previous = entry.id;
      read_through = entry.id;
      if (std::find(fetch->topics.begin(), fetch->topics.end(), entry.topic) ==
          fetch->topics.end()) {
        continue;
      }
      frames.emplace_back(entry.id, encode_event(entry.id, entry.event, entry.data));
    }
    if (read_through < through) {
      // The memory tail holds every event delivered after complete_after(),
      // each checked when it arrived; it must reach back to the log read.
      if (read_through < history_.complete_after()) {
        notice_at(previous, history_.complete_after() + 1);
      }
      for (FrameRef& frame : history_.replay(read_through, fetch->topics).frames) {
        frames.emplace_back(0, std::move(frame));
      }
    }
    // At most max_bytes: the newest that fit, as a replay from memory.
    size_t bytes = 0;
    size_t first = frames.size();
    while (first > 0 && bytes + frames[first - 1].second->size() <= fetch->max_bytes) {
      bytes += frames[--first].second->size();
    }
    if (first > 0) {
      uint64_t skipped = frames[first - 1].first;
      replay.skipped_through = skipped != 0 ? skipped : through;
    }
    for (size_t i = first; i < frames.size(); ++i) replay.frames.push_back(frames[i].second);
  }
  plan.replay = true;
  plan.replay_after = x;
  fetches_.erase(fetch);
  done->on_resumed(plan, std::move(replay));
}

}  // namespace sse
