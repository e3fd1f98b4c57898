// http_response.cpp — see http_response.h.
#include "sse/http/http_response.h"

#include <cstring>

namespace sse {

const char* status_text(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

ResponseBuilder::ResponseBuilder(int status) : status_(status) {
  text_.reserve(256);
  text_ += "HTTP/1.1 ";
  text_ += std::to_string(status);
  text_ += ' ';
  text_ += status_text(status);
  text_ += "\r\n";
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

void add_cors_headers(ResponseBuilder& response, std::string_view origin) {
  response.header("Access-Control-Allow-Origin", origin);
  if (origin != "*") {
    response.header("Access-Control-Allow-Credentials", "true");
    response.header("Vary", "Origin");
  }
}

}  // namespace sse
