// plain_routes.h — the answers of the plain request/response routes.
//
// Connection::answer() hands GET /sse to the stream handler (the request
// becomes a subscription) and POST /publish has its body read first; every
// other route is a single answer computed from the request and the server's
// state, and lives here: /health, /stats, /metrics, the CORS preflight,
// static files, and the router's 405. No sockets and no connection state:
// the answer is bytes for the connection's OutQueue.
#pragma once

#include "sse/loop/frame.h"
#include "sse/http/http_parser.h"
#include "sse/http/router.h"
#include "sse/server/server_context.h"

namespace sse {

struct PlainAnswer {
  FrameRef head;  // status line and headers, and the body unless it is a file
  FrameRef body;  // a static file's bytes, shared with the file cache; else empty
};

// `match` is any route but kStream and kPublish. The response keeps the
// connection open when `request.keep_alive`; HEAD gets the head only.
PlainAnswer answer_plain(const Request& request, const RouteMatch& match, ServerContext& context);

}  // namespace sse
