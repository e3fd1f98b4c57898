// redis_link.h — one connection to Redis, driven by our own reactor.
//
// hiredis (0.14, Debian 12) does the protocol; this class is its event-loop
// adapter and its keeper. hiredis asks for read and write interest through
// the `ev` hooks of its async context (addRead, delWrite, ...); we turn
// those into epoll interest on the context's fd, and when epoll reports the
// fd ready, on_events() calls redisAsyncHandleRead/Write. No thread, no
// second loop: Redis traffic is one more fd in the reactor.
//
// The keeper's side: the link connects (to a numeric address: see
// redis_address.h), says PING (after AUTH and SELECT when the URL asks),
// and only then counts as up. Every command sent has a deadline
// (--redis-timeout-ms), checked by a watchdog timer: a Redis that stops
// answering (kill -STOP, a network partition) is indistinguishable from a
// slow one, so past the deadline the connection is dropped. Dropping it
// makes hiredis call every outstanding callback with a null reply, which
// the caller must read as "unknown outcome" (a publish may or may not have
// been stored). A link that is down reconnects by itself, after a backoff
// that doubles from 100 ms to 2 s with jitter, so that many instances do
// not knock on a restarted Redis in the same millisecond.
//
// Rules hiredis imposes, and where they are kept:
//   - never free the context from inside one of its callbacks: reset()
//     called there is deferred until hiredis has returned (in_hiredis_);
//   - the context may be freed by hiredis itself while we dispatch (the
//     peer closed): its `cleanup` hook tells us, and on_events() checks
//     before touching it again; a stale epoll event for the old fd finds no
//     context and is ignored;
//   - reconnecting happens from the backoff timer, never inside a callback;
//   - hiredis reads at most 16 KiB per call: on_events() reads again while
//     the socket has bytes (FIONREAD), a bounded number of times, so a burst
//     of announcements is one loop pass, not dozens.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sse/loop/reactor.h"
#include "sse/loop/timer.h"
#include "sse/redis/redis_address.h"

struct redisAsyncContext;
struct redisReply;

namespace sse {

class RedisLink final : public EventHandler {
 public:
  enum class State { kDown, kConnecting, kUp };

  // Told when the link becomes usable and when it stops being so.
  class Owner {
   public:
    virtual void on_link_up(RedisLink& link) noexcept = 0;
    virtual void on_link_down(RedisLink& link) noexcept = 0;

   protected:
    ~Owner() = default;
  };

  // A reply, or nullptr: no answer will come (the connection dropped or
  // timed out); for a command that writes, the outcome is unknown.
  using OnReply = std::function<void(const redisReply* reply)>;

  RedisLink(Reactor& reactor, const RedisAddress& address, int64_t timeout_ms, std::string name,
            Owner& owner);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Starts connecting; from then on the link keeps itself connected.
  void start();

  State state() const { return state_; }
  bool up() const { return state_ == State::kUp; }
  const std::string& name() const { return name_; }
  uint64_t reconnects() const { return reconnects_; }  // connections made after the first
  const std::string& last_error() const { return last_error_; }

  // Sends one command; `on_reply` is called exactly once, in a later loop
  // pass. False when the link is not up (then `on_reply` is never called).
  bool command(const std::vector<std::string_view>& args, OnReply on_reply);

  // SUBSCRIBE: `on_message` is called for the confirmation of each channel
  // and for every message, until the connection drops (then once more with
  // nullptr per channel). A subscribed connection can send nothing else.
  bool subscribe(const std::vector<std::string>& channels, OnReply on_message);

  // Drops the connection now (or as soon as hiredis has returned) and
  // reconnects after the backoff.
  void reset(const char* why);

  void on_events(uint32_t events) noexcept override;

 private:
  struct Call;  // one command's callback, hiredis's privdata
  static void on_hiredis_reply(redisAsyncContext* context, void* reply, void* privdata);
  static void on_hiredis_connect(const redisAsyncContext* context, int status);
  static void on_hiredis_disconnect(const redisAsyncContext* context, int status);
  static void hook_add_read(void* self);
  static void hook_del_read(void* self);
  static void hook_add_write(void* self);
  static void hook_del_write(void* self);
  static void hook_cleanup(void* self);

  void connect();
  void handshake();
  void set_interest(uint32_t interest);
  void went_down(const std::string& why);
  void drop_now();
  void on_watchdog();
  bool send(const std::vector<std::string_view>& args, Call* call);

  Reactor& reactor_;
  RedisAddress address_;
  int64_t timeout_ms_;
  std::string name_;  // "commands" or "subscription", for log lines
  Owner& owner_;

  redisAsyncContext* context_ = nullptr;  // null while down
  int fd_ = -1;
  uint32_t interest_ = 0;
  bool registered_ = false;
  State state_ = State::kDown;
  int64_t connect_started_ms_ = 0;
  int in_hiredis_ = 0;         // depth of redisAsyncHandle* calls on the stack
  bool reset_pending_ = false;  // reset() was called inside a callback
  std::string reset_why_;
  std::deque<int64_t> sent_ms_;  // send time of each command awaiting its reply, oldest first
  OnReply on_message_;           // the subscription's callback
  bool closing_ = false;  // being destroyed
  bool ever_up_ = false;
  bool told_up_ = false;  // the owner heard on_link_up and not yet on_link_down
  uint64_t reconnects_ = 0;
  int attempts_ = 0;  // failed connects since the last success: the backoff grows
  std::string last_error_;
  Timer watchdog_;
  Timer retry_;
};

const char* to_string(RedisLink::State state);

}  // namespace sse
