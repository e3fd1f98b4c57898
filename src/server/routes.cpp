// routes.cpp — see routes.h. The table is the list of endpoints in the
// README ("Endpoints"); keep the two in step.
#include "sse/server/routes.h"

#include "sse/base/trace.h"
#include "sse/http/http_response.h"
#include "sse/http/router.h"
#include "sse/server/config.h"
#include "sse/server/plain_routes.h"
#include "sse/server/publish_handler.h"
#include "sse/server/stream_handler.h"

namespace sse {

namespace {

constexpr RouteRow kRoutes[] = {
    {"/sse", "GET, HEAD, OPTIONS", make_stream_handler},
    {"/publish", "POST, OPTIONS", make_publish_handler, true},
    {"/stats", "GET, HEAD, OPTIONS", make_plain<answer_stats>},
    {"/metrics", "GET, HEAD, OPTIONS", make_plain<answer_metrics>},
    {"/health", "GET, HEAD, OPTIONS", make_plain<answer_health>},
};
constexpr size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

// The preflight and the 405 depend on the matched Allow list, not only on
// the request: their answer is computed here and handed over as it is.
class FixedAnswer final : public Handler {
 public:
  FixedAnswer(Exchange& exchange, PlainAnswer answer, bool keep_alive = true)
      : exchange_(exchange), answer_(std::move(answer)), keep_alive_(keep_alive) {}
  Next on_head(const Request& request) override {
    exchange_.respond(std::move(answer_.head), std::move(answer_.body),
                      keep_alive_ && request.keep_alive);
    return Next::kDone;
  }

 private:
  Exchange& exchange_;
  PlainAnswer answer_;
  bool keep_alive_;
};

// A preflight's index names a row only when the path is that row's.
bool path_matched(const RouteMatch& match, const Request& request) {
  return match.index < kRouteCount && kRoutes[match.index].path == request.path;
}

}  // namespace

std::unique_ptr<Handler> make_over_capacity_handler(const Request& request, ServerContext& context,
                                                    Exchange& exchange) {
  PlainAnswer answer;
  if (request.method == Method::kGet && request.path == "/sse") {
    answer.head = stream_full_answer(context.config);
  } else {
    answer.head =
        error_response(503, "too many connections", false, request.method == Method::kHead);
  }
  return std::make_unique<FixedAnswer>(exchange, std::move(answer), /*keep_alive=*/false);
}

const RouteRow* route_table(size_t& count) {
  count = kRouteCount;
  return kRoutes;
}

std::unique_ptr<Handler> make_handler(const Request& request, ServerContext& context,
                                      Exchange& exchange) {
  RouteMatch match = route(kRoutes, kRouteCount, request.method, request.path);
  if (tracing()) {
    const char* what = match.kind == RouteMatch::Kind::kEndpoint    ? "its endpoint's handler"
                       : match.kind == RouteMatch::Kind::kFallback  ? "a static file"
                       : match.kind == RouteMatch::Kind::kPreflight ? "a CORS preflight"
                                                                    : "405 Method Not Allowed";
    trace_line("routes", "fd %d: %.*s %.*s -> %s", exchange.fd(),
               static_cast<int>(request.method_name.size()), request.method_name.data(),
               static_cast<int>(request.path.size()), request.path.data(), what);
  }
  switch (match.kind) {
    case RouteMatch::Kind::kEndpoint:
      return kRoutes[match.index].make(context, exchange);
    case RouteMatch::Kind::kFallback:
      return make_plain<answer_static>(context, exchange);
    case RouteMatch::Kind::kPreflight:
      if (path_matched(match, request) && kRoutes[match.index].own_preflight) {
        return kRoutes[match.index].make(context, exchange);
      }
      return std::make_unique<FixedAnswer>(exchange,
                                           answer_preflight(request, match.allow, context));
    case RouteMatch::Kind::kNotAllowed:
      break;
  }
  return std::make_unique<FixedAnswer>(exchange, answer_not_allowed(request, match.allow));
}

}  // namespace sse
