// plain_routes.h — the endpoints whose answer is one function of the request.
//
// GET /health, /stats and /metrics, the CORS preflight, static files and
// the 405: each answer is computed from the request and the server's state
// in one call, with no body to read and nothing to wait for. PlainHandler
// wraps such a function as a Handler (handler.h), so the routing table
// treats them like every other endpoint; the functions themselves are
// tested without sockets. The answer is bytes for the connection's queue.
#pragma once

#include <memory>

#include "sse/http/http_parser.h"
#include "sse/http/router.h"
#include "sse/loop/frame.h"
#include "sse/server/handler.h"
#include "sse/server/server_context.h"

namespace sse {

struct PlainAnswer {
  FrameRef head;  // status line and headers, and the body unless it is a file
  FrameRef body;  // a static file's bytes, shared with the file cache; else empty
};

// Every answer keeps the connection open when `request.keep_alive`; HEAD
// gets the head only.
PlainAnswer answer_health(const Request& request, ServerContext& context);
PlainAnswer answer_stats(const Request& request, ServerContext& context);
PlainAnswer answer_metrics(const Request& request, ServerContext& context);
PlainAnswer answer_static(const Request& request, ServerContext& context);
// OPTIONS, and a 405, for the methods in `allow`.
PlainAnswer answer_preflight(const Request& request, const char* allow, ServerContext& context);
PlainAnswer answer_not_allowed(const Request& request, const char* allow);

using PlainAnswerFn = PlainAnswer (*)(const Request& request, ServerContext& context);

class PlainHandler final : public Handler {
 public:
  PlainHandler(ServerContext& context, Exchange& exchange, PlainAnswerFn answer)
      : context_(context), exchange_(exchange), answer_(answer) {}
  Next on_head(const Request& request) override;

 private:
  ServerContext& context_;
  Exchange& exchange_;
  PlainAnswerFn answer_;
};

// A factory for the routing table: make_plain<answer_health>.
template <PlainAnswerFn Answer>
std::unique_ptr<Handler> make_plain(ServerContext& context, Exchange& exchange) {
  return std::make_unique<PlainHandler>(context, exchange, Answer);
}

}  // namespace sse
