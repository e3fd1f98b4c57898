// redis_link.cpp — see redis_link.h.
#include "sse/redis/redis_link.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <random>

#include "sse/base/clock.h"
#include "sse/base/log.h"

namespace sse {

namespace {

constexpr int64_t kFirstBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 2000;
// Reads per readiness event: 64 x 16 KiB = 1 MiB of replies at most in one
// go, so a flood from Redis cannot hold the loop.
constexpr int kMaxReadsPerEvent = 64;

RedisLink* link_of(const redisAsyncContext* context) {
  return static_cast<RedisLink*>(context->data);
}

}  // namespace

// One command's callback. Deleted after its one reply (or null reply).
struct RedisLink::Call {
  OnReply on_reply;
};

const char* to_string(RedisLink::State state) {
  switch (state) {
    case RedisLink::State::kDown:
      return "down";
    case RedisLink::State::kConnecting:
      return "connecting";
    case RedisLink::State::kUp:
      return "connected";
  }
  return "down";
}

RedisLink::RedisLink(Reactor& reactor, const RedisAddress& address, int64_t timeout_ms,
                     std::string name, Owner& owner)
    : reactor_(reactor),
      address_(address),
      timeout_ms_(timeout_ms),
      name_(std::move(name)),
      owner_(owner),
      watchdog_(reactor, [this] { on_watchdog(); }),
      retry_(reactor, [this] { connect(); }) {}

RedisLink::~RedisLink() {
  // The callbacks of what is still outstanding run now, with null replies;
  // the owner is being destroyed too and must not send anything more.
  state_ = State::kDown;
  closing_ = true;
  if (context_ != nullptr) redisAsyncFree(context_);
}

void RedisLink::start() {
  // The watchdog looks at deadlines a few times per timeout: a command is
  // declared lost at most 25% after its deadline.
  watchdog_.start(std::clamp<int64_t>(timeout_ms_ / 4, 10, 250));
  connect();
}

void RedisLink::connect() {
  if (context_ != nullptr) return;
  state_ = State::kConnecting;
  connect_started_ms_ = mono_ms();
  redisAsyncContext* context = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (context == nullptr || context->err) {
    last_error_ = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisAsyncFree(context);  // never attached: no callbacks
    went_down(last_error_);
    return;
  }
  context_ = context;
  fd_ = context->c.fd;
  context->data = this;
  // The adapter first: hiredis asks for write interest as soon as the
  // connect callback is set (the non-blocking connect completes on EPOLLOUT).
  context->ev.data = this;
  context->ev.addRead = hook_add_read;
  context->ev.delRead = hook_del_read;
  context->ev.addWrite = hook_add_write;
  context->ev.delWrite = hook_del_write;
  context->ev.cleanup = hook_cleanup;
  redisAsyncSetConnectCallback(context, on_hiredis_connect);
  redisAsyncSetDisconnectCallback(context, on_hiredis_disconnect);
}

void RedisLink::on_hiredis_connect(const redisAsyncContext* context, int status) {
  RedisLink* link = link_of(context);
  // A failed connect: hiredis frees the context after this returns, and
  // hook_cleanup() takes it from there. Nothing may be freed here.
  if (status != REDIS_OK) {
    link->last_error_ = context->errstr;
    return;
  }
  link->handshake();
}

void RedisLink::handshake() {
  // AUTH and SELECT when the URL asks for them, then PING: the link is up
  // once Redis answered, so "connected" means "answers commands".
  auto must_be_ok = [this](const char* what) {
    return [this, what](const redisReply* reply) {
      if (reply == nullptr) return;
      if (reply->type == REDIS_REPLY_ERROR) {
        log_line("redis %s: %s failed: %s", name_.c_str(), what, reply->str);
        reset(what);
      }
    };
  };
  if (!address_.password.empty()) send({"AUTH", address_.password}, new Call{must_be_ok("AUTH")});
  std::string db = std::to_string(address_.db);
  if (address_.db != 0) send({"SELECT", db}, new Call{must_be_ok("SELECT")});
  send({"PING"}, new Call{[this](const redisReply* reply) {
         if (reply == nullptr || reply->type == REDIS_REPLY_ERROR || state_ != State::kConnecting) {
           return;
         }
         if (ever_up_) ++reconnects_;
         ever_up_ = true;
         attempts_ = 0;
         state_ = State::kUp;
         told_up_ = true;
         last_error_.clear();
         log_line("redis %s: connected to %s:%u", name_.c_str(), address_.host.c_str(),
                  static_cast<unsigned>(address_.port));
         owner_.on_link_up(*this);
       }});
}

bool RedisLink::send(const std::vector<std::string_view>& args, Call* call) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  int status = redisAsyncCommandArgv(context_, on_hiredis_reply, call, static_cast<int>(argv.size()),
                                     argv.data(), lengths.data());
  if (status != REDIS_OK) {
    delete call;  // hiredis kept nothing: the context is going away
    return false;
  }
  sent_ms_.push_back(mono_ms());
  return true;
}

bool RedisLink::command(const std::vector<std::string_view>& args, OnReply on_reply) {
  if (state_ != State::kUp) return false;
  return send(args, new Call{std::move(on_reply)});
}

bool RedisLink::subscribe(const std::vector<std::string>& channels, OnReply on_message) {
  if (state_ != State::kUp) return false;
  on_message_ = std::move(on_message);
  std::vector<const char*> argv{"SUBSCRIBE"};
  std::vector<size_t> lengths{9};
  for (const std::string& channel : channels) {
    argv.push_back(channel.c_str());
    lengths.push_back(channel.size());
  }
  // privdata null marks the subscription: its callback lives as long as
  // the connection, and its messages have no deadline.
  return redisAsyncCommandArgv(context_, on_hiredis_reply, nullptr, static_cast<int>(argv.size()),
                               argv.data(), lengths.data()) == REDIS_OK;
}

void RedisLink::on_hiredis_reply(redisAsyncContext* context, void* reply, void* privdata) {
  RedisLink* link = link_of(context);
  const redisReply* answer = static_cast<const redisReply*>(reply);
  if (answer == nullptr && link->state_ == State::kUp) {
    // The context is being freed: nothing sent from here on could go out.
    link->state_ = State::kDown;
  }
  if (privdata == nullptr) {
    if (link->on_message_) link->on_message_(answer);
    return;
  }
  if (!link->sent_ms_.empty()) link->sent_ms_.pop_front();
  Call* call = static_cast<Call*>(privdata);
  call->on_reply(answer);
  delete call;
}

void RedisLink::on_hiredis_disconnect(const redisAsyncContext* context, int status) {
  RedisLink* link = link_of(context);
  if (status != REDIS_OK && context->errstr != nullptr) link->last_error_ = context->errstr;
}

void RedisLink::hook_cleanup(void* self) {
  // hiredis is freeing the context (we asked, or the peer closed, or the
  // connect failed). Its fd is about to be closed: out of epoll first.
  RedisLink* link = static_cast<RedisLink*>(self);
  if (link->registered_) link->reactor_.remove(link->fd_);
  link->registered_ = false;
  link->interest_ = 0;
  link->context_ = nullptr;
  link->fd_ = -1;
  link->sent_ms_.clear();
  link->went_down(link->last_error_.empty() ? "connection closed" : link->last_error_);
}

void RedisLink::went_down(const std::string& why) {
  state_ = State::kDown;
  if (closing_) return;  // the server is stopping: no reconnect, no log line
  // 100 ms, 200, 400, ... 2 s, each between half and all of it: jitter.
  static std::minstd_rand random(std::random_device{}());
  int64_t ceiling = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(attempts_, 5));
  int64_t delay =
      ceiling / 2 + static_cast<int64_t>(random() % static_cast<uint64_t>(ceiling / 2 + 1));
  // One line when the link is lost and one for the first failed attempt:
  // a Redis that stays away does not fill the log.
  if (told_up_ || attempts_ == 0) {
    log_line("redis %s: %s; reconnecting (first try in %lld ms)", name_.c_str(), why.c_str(),
             static_cast<long long>(delay));
  }
  ++attempts_;
  retry_.start_once(delay);
  if (told_up_) {
    told_up_ = false;
    owner_.on_link_down(*this);
  }
}

void RedisLink::reset(const char* why) {
  if (context_ == nullptr) return;
  last_error_ = why;
  if (in_hiredis_ > 0) {
    reset_pending_ = true;  // freed once hiredis has returned (on_events)
    return;
  }
  drop_now();
}

void RedisLink::drop_now() {
  reset_pending_ = false;
  if (context_ == nullptr) return;
  if (state_ == State::kUp) state_ = State::kConnecting;  // refuse new commands from the callbacks
  // Outstanding callbacks run with null replies, then hook_cleanup().
  redisAsyncFree(context_);
}

void RedisLink::on_watchdog() {
  if (context_ == nullptr) return;
  int64_t now = mono_ms();
  if (state_ == State::kConnecting && now - connect_started_ms_ > timeout_ms_) {
    reset("connect timed out");
  } else if (!sent_ms_.empty() && now - sent_ms_.front() > timeout_ms_) {
    reset("no reply within --redis-timeout-ms");
  }
}

void RedisLink::set_interest(uint32_t interest) {
  if (fd_ < 0 || interest == interest_) return;
  interest_ = interest;
  if (!registered_) {
    registered_ = reactor_.add(fd_, interest_, this);
  } else {
    reactor_.modify(fd_, interest_, this);
  }
}

void RedisLink::hook_add_read(void* self) {
  auto* link = static_cast<RedisLink*>(self);
  link->set_interest(link->interest_ | EPOLLIN);
}
void RedisLink::hook_del_read(void* self) {
  auto* link = static_cast<RedisLink*>(self);
  link->set_interest(link->interest_ & ~static_cast<uint32_t>(EPOLLIN));
}
void RedisLink::hook_add_write(void* self) {
  auto* link = static_cast<RedisLink*>(self);
  link->set_interest(link->interest_ | EPOLLOUT);
}
void RedisLink::hook_del_write(void* self) {
  auto* link = static_cast<RedisLink*>(self);
  link->set_interest(link->interest_ & ~static_cast<uint32_t>(EPOLLOUT));
}

void RedisLink::on_events(uint32_t events) noexcept {
  // A stale event for a context freed earlier in this epoll batch.
  if (context_ == nullptr) return;
  ++in_hiredis_;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    redisAsyncHandleRead(context_);
    for (int reads = 1; reads < kMaxReadsPerEvent && context_ != nullptr && !reset_pending_;
         ++reads) {
      int available = 0;
      if (::ioctl(fd_, FIONREAD, &available) != 0 || available <= 0) break;
      redisAsyncHandleRead(context_);
    }
  }
  if ((events & EPOLLOUT) && context_ != nullptr && !reset_pending_) {
    redisAsyncHandleWrite(context_);
  }
  --in_hiredis_;
  if (reset_pending_) drop_now();
}

}  // namespace sse
