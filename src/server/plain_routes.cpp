// plain_routes.cpp — see plain_routes.h.
#include "sse/server/plain_routes.h"

#include <string>
#include <string_view>

#include "sse/base/clock.h"
#include "sse/server/config.h"
#include "sse/events/history.h"
#include "sse/http/http_response.h"
#include "sse/http/static_files.h"
#include "sse/server/stats.h"

namespace sse {

namespace {

const char* file_error(int status) {
  switch (status) {
    case 404:
      return "no such file";
    case 503:
      return "out of file descriptors";
    default:
      return "cannot serve file";
  }
}

// The head and, unless `head_only`, the body of a small file.
PlainAnswer static_file(const Request& request, StaticFiles& files) {
  bool head_only = request.method == Method::kHead;
  StaticFile file = files.load(request.path, !head_only);
  if (file.status != 200) {
    return {error_response(file.status, file_error(file.status), request.keep_alive, head_only),
            {}};
  }
  // The body frame is the cached file itself; the head is a frame of its own.
  std::string head = ResponseBuilder(200)
                         .header("Content-Type", file.mime)
                         .header("Cache-Control", "no-cache")
                         .header("Content-Length", std::to_string(file.size))
                         .header("Connection", request.keep_alive ? "keep-alive" : "close")
                         .finish_head();
  return {FrameRef::copy_of(head), head_only ? FrameRef() : std::move(file.body)};
}

}  // namespace

PlainAnswer answer_plain(const Request& request, const RouteMatch& match, ServerContext& context) {
  const std::string& cors = context.config.cors;
  bool head_only = request.method == Method::kHead;
  bool keep_alive = request.keep_alive;
  auto reply = [&](std::string_view type, std::string_view body) {
    ResponseBuilder response(200);
    response.header("Content-Type", type);
    add_cors_headers(response, cors);
    // Counters change from one request to the next: never cache them.
    if (match.route != Route::kHealth) response.header("Cache-Control", "no-store");
    return PlainAnswer{response.finish(body, keep_alive, head_only), {}};
  };

  switch (match.route) {
    case Route::kHealth:
      return reply("text/plain; charset=utf-8", "ok");
    case Route::kStats:
    case Route::kMetrics: {
      StatsView view{context.counters, context.broadcaster, context.history.size(), mono_ms()};
      if (match.route == Route::kStats) return reply("application/json", stats_json(view));
      return reply("text/plain; version=0.0.4; charset=utf-8", stats_prometheus(view));
    }
    case Route::kPreflight: {
      ResponseBuilder response(204);
      response.header("Allow", match.allow);
      add_cors_headers(response, cors);
      response.header("Access-Control-Allow-Methods", match.allow)
          .header("Access-Control-Allow-Headers",
                  "Authorization, Content-Type, Last-Event-ID, Cache-Control")
          .header("Access-Control-Max-Age", "86400");
      return {response.finish("", keep_alive, true), {}};
    }
    case Route::kStatic:
      return static_file(request, context.files);
    case Route::kError: {
      ResponseBuilder response(match.status);
      response.header("Allow", match.allow).header("Content-Type", "text/plain; charset=utf-8");
      return {response.finish(error_body(match.status, ""), keep_alive, head_only), {}};
    }
    case Route::kStream:   // Connection::open_stream()
    case Route::kPublish:  // Connection::on_head(), then the publish handler
      break;
  }
  return {error_response(500, "route not answered here", false, head_only), {}};
}

}  // namespace sse
