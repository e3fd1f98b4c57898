// redis_resume.cpp — the resume half of RedisEventLog (redis_event_log.h):
// from the memory tail when it covers the client's id, else by reading the
// Redis log after it (fetch_resume), merged with what this instance
// delivered meanwhile, every link checked on the way.
#include <hiredis/hiredis.h>

#include <algorithm>

#include "sse/events/sse_frame.h"
#include "sse/redis/log_entry.h"
#include "sse/redis/redis_event_log.h"

namespace sse {

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
  std::string count = std::to_string(kLogPage);
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
        bool more = reply->elements == kLogPage && !fetch->entries.empty() &&
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
