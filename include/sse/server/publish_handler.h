// publish_handler.h — POST /publish: who may publish, and what.
//
// PublishHandler is the Handler (handler.h) for POST /publish. Its
// on_head() runs check_publish_head() as soon as the head is parsed, so an
// unauthorized or non-JSON request is refused before its body is read; its
// on_body() validates the body with parse_publish_body(). The body is one
// event object or an array of them (a batch); everything is validated
// before anything is published, so a rejected batch publishes nothing.
// The events then go to the event log (event_log.h), which assigns their
// ids; the 202 carries them, so an application can render "state as of id
// N" and join the stream with ?lastEventId=N without a gap. The log may
// answer in a later loop pass (a shared log): the handler answers then, and
// cancels its wait if the connection closes first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sse/events/event_log.h"
#include "sse/http/http_parser.h"
#include "sse/server/config.h"
#include "sse/server/handler.h"
#include "sse/server/server_context.h"

namespace sse {

struct PublishReply {
  int status = 202;
  std::string body;  // JSON: {"id": N}, {"ids": [...]}, or {"error": "..."}
};

// Events in one batch at most: a request's cost stays bounded (parsing,
// ids, fan-out queue entries).
inline constexpr size_t kMaxBatchEvents = 1000;

// What a publisher was allowed: everything (the --publish-token, or a
// loopback program without one), or, with a JWT (--jwt-secret), only the
// topics its `publish` claim covers; the body is checked against them.
struct PublishGrant {
  bool limited = false;
  std::vector<std::string> topics;  // the claim's patterns, when limited
};

// Who may publish (SPEC "Who may publish"), then Content-Type. status 0
// means: go on, read the body. `grant` (may be null) hears what a JWT
// allowed. `now_s`: the wall clock, for a JWT's exp and nbf.
PublishReply check_publish_head(const Request& request, const Config& config, bool peer_loopback,
                                PublishGrant* grant = nullptr, int64_t now_s = 0);

// Without --publish-token, publishing is for programs on this machine, not
// for web pages it happens to display nor for whatever a proxy forwards:
// refused are non-loopback peers, requests that name a proxy (Forwarded,
// X-Forwarded-For), a Host that is not a loopback name or address (a DNS
// rebinding page), an Origin other than the request's own (unless --cors
// names exactly that origin) and Sec-Fetch-Site: cross-site. The reason,
// or "" when the request may go on.
std::string tokenless_refusal(const Request& request, const Config& config, bool peer_loopback);
bool is_loopback_host(std::string_view host);
bool origin_matches_host(std::string_view origin, std::string_view host);

// Idempotency-Key (SPEC: 1-128 visible ASCII characters) into `key`;
// empty when the request has none. A 400 for a malformed one.
PublishReply read_idempotency_key(const Request& request, std::string& key);

// The Access-Control-Allow-Origin of /publish answers and preflights; empty:
// none (no page of another origin may publish).
std::string_view publish_cors_origin(const Config& config);

// Parses and validates a body; on success fills `events` (and `is_batch`:
// the body was an array) and returns status 0, else the 400 naming the problem.
PublishReply parse_publish_body(std::string_view body, std::vector<NewEvent>& events,
                                bool& is_batch);

// The 202's body: {"id":N} for one event, {"ids":[...]} for a batch.
std::string ids_json(const std::vector<uint64_t>& ids, bool is_batch);

// Constant-time comparison, so response timing does not reveal how much of
// a guessed token was right.
bool tokens_equal(std::string_view a, std::string_view b);

class PublishHandler final : public Handler, public AppendDone {
 public:
  PublishHandler(ServerContext& context, Exchange& exchange)
      : context_(context), exchange_(exchange) {}
  ~PublishHandler() override;

  Next on_head(const Request& request) override;
  void on_body(std::string body) override;
  void on_close() override;
  void on_appended(const AppendResult& result) noexcept override;

 private:
  void reply(const PublishReply& reply);
  void answer_preflight(const Request& request);

  ServerContext& context_;
  Exchange& exchange_;
  bool keep_alive_ = true;
  bool is_batch_ = false;
  bool appending_ = false;  // the event log has not answered yet
  int retry_after_s_ = 1;
  std::string idempotency_key_;  // empty: none sent
  PublishGrant grant_;
};

std::unique_ptr<Handler> make_publish_handler(ServerContext& context, Exchange& exchange);

}  // namespace sse
