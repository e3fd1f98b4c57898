// topic_access.h — who may read a private topic (SPEC "Private topics").
//
// The stream handler asks check_stream_access() before it sends a single
// byte of a stream: when any requested topic matches a --private pattern,
// the request must carry a token (token.h in auth/: an HS256 JWT signed
// with --jwt-secret) whose `subscribe` claim covers every such topic.
// Public topics in the same request need nothing. The publish handler uses
// request_token()'s header branch only (publishing takes the token from
// Authorization, never from a cookie: a cookie is sent by any page of any
// site, which would make every logged-in browser a publisher).
//
// A token may come three ways, taken in this order:
//   1. the cookie `sse_token`: what a browser's EventSource can send
//      (withCredentials, for another origin), and what never shows in a URL;
//   2. `Authorization: Bearer`: what non-browser clients send;
//   3. `?access_token=`: the fallback for an EventSource without cookies.
//      It ends up in proxy and server logs and browser history; prefer a
//      short-lived token there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sse/http/http_parser.h"
#include "sse/server/config.h"

namespace sse {

// The value of the cookie `name` in the request's Cookie headers (RFC 6265
// §5.4: "a=b; c=d"), or empty.
std::string_view find_cookie(const Request& request, std::string_view name);

// The bearer token of an Authorization header, or empty.
std::string_view bearer_token(const Request& request);

// The token a stream request carries: cookie, header, then query.
std::string_view request_token(const Request& request, std::string_view query_token);

struct StreamAccess {
  int status = 0;      // 0: allowed; 401: no usable token; 403: a topic outside it
  std::string error;   // for the JSON body
  int64_t expires_s = 0;  // with a token that has exp: when the stream must end (Unix s)
};

// Whether the stream may read `topics`. `now_s`: the wall clock (Unix s).
StreamAccess check_stream_access(const Request& request, const std::vector<std::string>& topics,
                                 std::string_view query_token, const Config& config,
                                 int64_t now_s);

}  // namespace sse
