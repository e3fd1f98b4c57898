// plain_routes.cpp — see plain_routes.h.
#include "sse/server/plain_routes.h"

#include <string>
#include <string_view>
#include <vector>

#include "sse/base/clock.h"
#include "sse/events/broadcaster.h"
#include "sse/events/event_log.h"
#include "sse/http/http_response.h"
#include "sse/http/static_files.h"
#include "sse/server/config.h"
#include "sse/server/stats.h"
#include "sse/server/worker_slots.h"

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

}  // namespace

PlainAnswer answer_static(const Request& request, ServerContext& context) {
  StaticFiles& files = context.files;
  bool head_only = request.method == Method::kHead;
  FileConditions conditions{request.header("If-None-Match"), request.header("If-Modified-Since")};
  StaticFile file = files.load(request.path, !head_only, conditions);
  const char* connection = request.keep_alive ? "keep-alive" : "close";
  // nosniff on every answer, errors included: a browser must take the
  // Content-Type as given and never guess a script or a page from the bytes.
  if (file.status != 200 && file.status != 304) {
    ResponseBuilder response(file.status);
    response.header("Content-Type", "text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff");
    if (file.status == 503) response.header("Retry-After", "1");
    return {response.finish(error_body(file.status, file_error(file.status)), request.keep_alive,
                            head_only),
            {}};
  }
  // no-cache: a browser keeps the file but revalidates it on every use, and
  // the validators make that a bodiless 304 while the file is unchanged.
  ResponseBuilder response(file.status);
  response.header("ETag", file.etag)
      .header("Last-Modified", http_date(file.last_modified))
      .header("Cache-Control", "no-cache")
      .header("X-Content-Type-Options", "nosniff");
  if (file.status == 304) {
    // No body and no Content-Length (RFC 9110 §15.4.5, §8.6): the client
    // reuses the copy it holds.
    response.header("Connection", connection);
    return {FrameRef::copy_of(response.finish_head()), {}};
  }
  // The body frame is the cached file itself; the head is a frame of its own.
  std::string head = response.header("Content-Type", file.mime)
                         .header("Content-Length", std::to_string(file.size))
                         .header("Connection", connection)
                         .finish_head();
  return {FrameRef::copy_of(head), head_only ? FrameRef() : std::move(file.body)};
}

namespace {

// A 200 with a small body computed now.
// /health carries the CORS headers (a status page elsewhere may poll it);
// /stats and /metrics do not: topic names such as user.alice.inbox are no
// business of other sites' pages (SPEC "HTTP endpoints").
PlainAnswer small_answer(const Request& request, ServerContext& context, std::string_view type,
                         std::string_view body, bool for_other_sites) {
  ResponseBuilder response(200);
  response.header("Content-Type", type);
  if (for_other_sites) {
    add_cors_headers(response, context.config.cors);
  } else {
    response.header("Cache-Control", "no-store");  // counters change from one request to the next
  }
  return PlainAnswer{response.finish(body, request.keep_alive, request.method == Method::kHead),
                     {}};
}

StatsView stats_view(ServerContext& context) {
  return StatsView{context.counters,       context.broadcaster, context.events.retained(),
                   context.events.last_id(), mono_ms(),         context.redis,
                   context.loop};
}

// The text of /stats or /metrics. With --workers: every worker's figures,
// this one's taken now and written to its slot, the others' from theirs.
std::string render_stats(ServerContext& context, std::string (*render)(const StatsView&)) {
  StatsView view = stats_view(context);
  if (context.worker_slots == nullptr) return render(view);
  std::vector<StatsFigures> workers(context.worker_slots->size());
  StatsFigures own = collect_stats(view);
  context.worker_slots->publish(context.worker_index, own);
  for (size_t i = 0; i < workers.size(); ++i) {
    if (i == context.worker_index) {
      workers[i] = own;
    } else {
      context.worker_slots->read(i, workers[i]);
    }
  }
  view.workers = &workers;
  return render(view);
}

}  // namespace

PlainAnswer answer_health(const Request& request, ServerContext& context) {
  return small_answer(request, context, "text/plain; charset=utf-8", "ok", true);
}

PlainAnswer answer_stats(const Request& request, ServerContext& context) {
  return small_answer(request, context, "application/json", render_stats(context, stats_json),
                      false);
}

PlainAnswer answer_metrics(const Request& request, ServerContext& context) {
  return small_answer(request, context, "text/plain; version=0.0.4; charset=utf-8",
                      render_stats(context, stats_prometheus), false);
}

PlainAnswer answer_preflight(const Request& request, const char* allow, ServerContext& context) {
  return {preflight_response(allow, context.config.cors,
                             "Authorization, Content-Type, Last-Event-ID, Cache-Control", 86400,
                             request.keep_alive),
          {}};
}

PlainAnswer answer_not_allowed(const Request& request, const char* allow) {
  ResponseBuilder response(405);
  response.header("Allow", allow).header("Content-Type", "text/plain; charset=utf-8");
  return {response.finish(error_body(405, ""), request.keep_alive, request.method == Method::kHead),
          {}};
}

Handler::Next PlainHandler::on_head(const Request& request) {
  PlainAnswer answer = answer_(request, context_);
  exchange_.respond(std::move(answer.head), std::move(answer.body), request.keep_alive);
  return Next::kDone;
}

}  // namespace sse
