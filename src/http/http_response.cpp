// http_response.cpp — see http_response.h.
#include "sse/http/http_response.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace sse {

namespace {

// The Date value for now. It changes once a second, while a busy server
// sends thousands of responses a second: the text is made again only when
// the second has changed (one time() call per response, a vDSO call that
// does not enter the kernel). One thread, so a plain static is the cache.
std::string_view date_now() {
  static int64_t cached_second = -1;
  static std::string cached;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (now != cached_second) {
    cached = http_date(now);
    cached_second = now;
  }
  return cached;
}

}  // namespace

std::string http_date(int64_t seconds) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  // Names in English whatever the locale, so no strftime (RFC 9110 §5.6.7
  // spells them out).
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

const char* status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

ResponseBuilder::ResponseBuilder(int status) : status_(status) {
  text_.reserve(256);
  text_ += "HTTP/1.1 ";
  text_ += std::to_string(status);
  text_ += ' ';
  text_ += status_text(status);
  text_ += "\r\n";
  // RFC 9110 §6.6.1: an origin server with a clock must send Date.
  header("Date", date_now());
}

ResponseBuilder& ResponseBuilder::header(std::string_view name, std::string_view value) {
  text_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

FrameRef ResponseBuilder::finish(std::string_view body, bool keep_alive, bool head_only) {
  // RFC 9110 §8.6: no Content-Length on a 204 (it has no body, ever).
  if (status_ != 204) header("Content-Length", std::to_string(body.size()));
  if (!keep_alive) header("Connection", "close");
  text_ += "\r\n";
  size_t body_size = head_only ? 0 : body.size();
  FrameRef frame = FrameRef::allocate(text_.size() + body_size);
  std::memcpy(frame.writable(), text_.data(), text_.size());
  if (body_size > 0) std::memcpy(frame.writable() + text_.size(), body.data(), body_size);
  return frame;
}

std::string ResponseBuilder::finish_head() {
  text_ += "\r\n";
  return std::move(text_);
}

std::string error_body(int status, std::string_view detail) {
  std::string body = std::to_string(status) + " " + status_text(status);
  if (!detail.empty()) body.append(": ").append(detail);
  body += '\n';
  return body;
}

FrameRef error_response(int status, std::string_view detail, bool keep_alive, bool head_only) {
  std::string body = error_body(status, detail);
  ResponseBuilder response(status);
  response.header("Content-Type", "text/plain; charset=utf-8");
  // A 503 is temporary (too many connections, out of descriptors): say so.
  if (status == 503) response.header("Retry-After", "1");
  return response.finish(body, keep_alive, head_only);
}

FrameRef preflight_response(std::string_view allow, std::string_view origin,
                            std::string_view allow_headers, int max_age_s, bool keep_alive) {
  ResponseBuilder response(204);
  response.header("Allow", allow);
  if (!origin.empty()) add_cors_headers(response, origin);
  response.header("Access-Control-Allow-Methods", allow)
      .header("Access-Control-Allow-Headers", allow_headers)
      .header("Access-Control-Max-Age", std::to_string(max_age_s));
  return response.finish("", keep_alive, true);
}

void add_cors_headers(ResponseBuilder& response, std::string_view origin) {
  response.header("Access-Control-Allow-Origin", origin);
  if (origin != "*") {
    response.header("Access-Control-Allow-Credentials", "true");
    response.header("Vary", "Origin");
  }
}

}  // namespace sse
