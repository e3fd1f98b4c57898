// http_response.h — builds response heads and small complete responses.
//
// Handlers describe a response (status, headers, body); this file turns it
// into one Frame of bytes ready for the connection's OutQueue. Pure
// functions over strings: no fds, no connection state. The one outside
// input is the wall clock, for the Date header every response carries
// (RFC 9110 §6.6.1); its text is made at most once a second and shared by
// every response of that second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sse/loop/frame.h"

namespace sse {

const char* status_text(int status);

// The IMF-fixdate (RFC 9110 §5.6.7) of `seconds` since the Unix epoch:
// "Sun, 06 Nov 1994 08:49:37 GMT", always 29 bytes, always GMT.
std::string http_date(int64_t seconds);

class ResponseBuilder {
 public:
  // The status line, then Date (the current second) as the first header.
  explicit ResponseBuilder(int status);
  ResponseBuilder& header(std::string_view name, std::string_view value);

  // Adds Content-Length (and "Connection: close" unless keep_alive) and the
  // body. A HEAD response gets the same head without the body (RFC 9110 §9.3.2).
  FrameRef finish(std::string_view body, bool keep_alive, bool head_only = false);
  // The head alone, for a response whose body follows without a length:
  // the event stream, which ends when the connection does.
  std::string finish_head();

 private:
  int status_;
  std::string text_;
};

// The plain-text body of every error: "<status> <reason>: <detail>\n"
// (without ": <detail>" when there is none).
std::string error_body(int status, std::string_view detail);

// A complete error response with that body.
FrameRef error_response(int status, std::string_view detail, bool keep_alive, bool head_only);

// CORS response headers for `origin` (the --cors value). A named origin may
// receive credentials; "*" may not (the Fetch standard forbids the pair),
// and a named origin varies by request Origin for caches.
void add_cors_headers(ResponseBuilder& response, std::string_view origin);

// A CORS preflight's 204: `allow` as both Allow and
// Access-Control-Allow-Methods, the CORS headers for `origin` (none when
// empty), the request headers a page may send, and how long the browser
// may reuse the answer.
FrameRef preflight_response(std::string_view allow, std::string_view origin,
                            std::string_view allow_headers, int max_age_s, bool keep_alive);

}  // namespace sse
