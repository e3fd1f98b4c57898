// http_parser.cpp — see http_parser.h. Grammar references are RFC 9110 (HTTP
// semantics) and RFC 9112 (HTTP/1.1 message syntax).
#include "sse/http/http_parser.h"

#include <charconv>
#include <cstring>

#include "sse/http/ascii.h"

namespace sse {

namespace {

// The parser's verdicts are mostly errors: a short name for them.
constexpr auto error = &ParseResult::error;

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
// / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
Method classify(std::string_view name) {
  if (name == "GET") return Method::kGet;
  if (name == "HEAD") return Method::kHead;
  if (name == "POST") return Method::kPost;
  if (name == "OPTIONS") return Method::kOptions;
  // The other methods of RFC 9110 §9 and RFC 5789: real, but not ours (405).
  for (const char* known : {"PUT", "DELETE", "CONNECT", "TRACE", "PATCH"}) {
    if (name == known) return Method::kOther;
  }
  return Method::kUnknown;  // 501
}

// The first byte of a request line is the first byte of a method, a token
// (RFC 9112 §3); CR and LF start the empty lines a client may send before
// it (§2.2). Anything else — 0x16, the first byte of a TLS handshake, or
// any binary — cannot become a request, so there is no reason to wait for
// a line end (which may never come) or the header timeout.
bool can_begin_request_line(char c) {
  return c == '\r' || c == '\n' || is_tchar(static_cast<unsigned char>(c));
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3).
ParseResult parse_request_line(std::string_view line, Request& request) {
  std::string_view rest = line;
  request.method_name = take_until(rest, ' ');
  request.target = take_until(rest, ' ');
  std::string_view version = rest;
  if (!is_token(request.method_name)) return error(400, "malformed method");
  if (request.target.empty()) return error(400, "malformed request line");
  for (unsigned char c : request.target) {
    if (c <= 0x20 || c == 0x7f) return error(400, "malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return error(505, "only HTTP/1.x is supported");
  request.minor_version = version[7] - '0';
  request.method = classify(request.method_name);

  // Origin form "/path?query"; absolute form "http://host/path" must be
  // accepted too (RFC 9112 §3.2.2); "*" only with OPTIONS.
  std::string_view target = request.target;
  if (target.front() != '/') {
    size_t scheme_end = target.find("://");
    if (target == "*" && request.method == Method::kOptions) {
      request.path = target;
      return ParseResult{ParseResult::Kind::kComplete};
    }
    if (scheme_end == std::string_view::npos) return error(400, "malformed request target");
    target.remove_prefix(scheme_end + 3);
    size_t slash = target.find('/');
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  request.path = take_until(target, '?');
  request.query = target;
  return ParseResult{ParseResult::Kind::kComplete};
}

// Content-Length = 1*DIGIT; a list of equal values ("5, 5") is allowed by
// RFC 9112 §6.3, different ones are a smuggling attempt.
bool parse_content_length(std::string_view value, uint64_t& out) {
  bool any = false;
  while (true) {
    std::string_view item = trim_ows(take_until(value, ','));
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        item.front() == '+' || item.front() == '-') {
      return false;
    }
    if (any && n != out) return false;
    out = n;
    any = true;
    if (value.empty()) return true;
  }
}

// Header fields, framing and connection semantics (RFC 9112 §5, §6, §9.3).
ParseResult parse_headers(std::string_view block, Request& request) {
  bool has_length = false, has_chunked = false, saw_transfer_encoding = false;
  size_t hosts = 0;
  bool close = false;
  while (!block.empty()) {
    std::string_view line = take_until(block, '\n');
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the blank line that ends the head
    if (line.front() == ' ' || line.front() == '\t') {
      return error(400, "obsolete line folding in headers");  // RFC 9112 §5.2
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error(400, "header line without ':'");
    std::string_view name = line.substr(0, colon);
    // No whitespace between name and colon (RFC 9112 §5.1): is_token rejects it.
    if (!is_token(name)) return error(400, "malformed header name");
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return error(400, "control character in header");
    }
    request.headers[request.header_count++] = Header{name, value};

    if (equals_ignore_case(name, "content-length")) {
      uint64_t length = 0;
      if (!parse_content_length(value, length)) return error(400, "bad Content-Length");
      if (has_length && length != request.content_length) {
        return error(400, "conflicting Content-Length headers");
      }
      has_length = true;
      request.content_length = length;
    } else if (equals_ignore_case(name, "transfer-encoding")) {
      if (saw_transfer_encoding) return error(400, "repeated Transfer-Encoding");
      saw_transfer_encoding = true;
      if (!equals_ignore_case(value, "chunked")) {
        return error(501, "unsupported transfer coding (only 'chunked')");
      }
      has_chunked = true;
    } else if (equals_ignore_case(name, "host")) {
      ++hosts;
    } else if (equals_ignore_case(name, "connection")) {
      close = close || has_token(value, "close");
    } else if (equals_ignore_case(name, "expect")) {
      if (!equals_ignore_case(value, "100-continue")) return error(417, "unsupported Expect");
      request.expect_continue = true;
    }
  }

  // Both framings at once is the classic request-smuggling shape: reject it
  // instead of picking one (RFC 9112 §6.3 allows either).
  if (has_length && has_chunked) return error(400, "both Content-Length and Transfer-Encoding");
  if (has_chunked && request.minor_version == 0) {
    return error(400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  // RFC 9112 §3.2: a 1.1 request without Host, or any request with two, is
  // a 400 (HTTP/1.0 predates Host and may omit it).
  if (hosts > 1) return error(400, "more than one Host header");
  if (hosts == 0 && request.minor_version >= 1) return error(400, "missing Host header");
  request.framing = has_chunked  ? BodyFraming::kChunked
                    : has_length ? BodyFraming::kLength
                                 : BodyFraming::kNone;
  // HTTP/1.0 is answered and closed, even with "Connection: keep-alive": the
  // old keep-alive extension is rarely worth its corner cases.
  request.keep_alive = request.minor_version >= 1 && !close;
  return ParseResult{ParseResult::Kind::kComplete};
}

}  // namespace

ParseResult RequestParser::parse(const char* data, size_t length, Request& request) {
  while (scanned_ < length) {
    if (headers_start_ == 0 && !can_begin_request_line(data[line_start_])) {
      return error(400, "not an HTTP request");
    }
    const void* found = std::memchr(data + scanned_, '\n', length - scanned_);
    if (found == nullptr) {
      scanned_ = length;
      break;
    }
    size_t newline = static_cast<size_t>(static_cast<const char*>(found) - data);
    size_t line_length = newline - line_start_;
    if (line_length > 0 && data[newline - 1] == '\r') --line_length;
    scanned_ = newline + 1;

    if (headers_start_ == 0) {
      // Still in the request line.
      if (line_length > kMaxRequestLine) return error(414, "request line over 8 KiB");
      if (line_length == 0) {
        // RFC 9112 §2.2: ignore empty lines before the request line.
        line_start_ = request_start_ = scanned_;
        if (request_start_ > kMaxRequestLine) return error(400, "too many empty lines");
        continue;
      }
      // Checked as soon as it ends, so that a client speaking another
      // protocol hears so now, not when its headers would have ended.
      ParseResult checked =
          parse_request_line(std::string_view(data + line_start_, line_length), request);
      if (checked.kind == ParseResult::Kind::kError) return checked;
      headers_start_ = scanned_;
      line_start_ = scanned_;
      continue;
    }

    if (scanned_ - headers_start_ > kMaxHeaderBytes) return error(431, "headers over 16 KiB");
    if (line_length == 0) {
      // End of the head: parse it whole, now that it is all here. The
      // request line is read a second time: the views taken when it ended
      // may point into a buffer that has grown (and moved) since, and the
      // parser keeps no pointers between calls.
      request = Request();
      std::string_view line(data + request_start_, headers_start_ - 1 - request_start_);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ParseResult result = parse_request_line(line, request);
      if (result.kind == ParseResult::Kind::kError) return result;
      result = parse_headers(std::string_view(data + headers_start_, scanned_ - headers_start_),
                             request);
      if (result.kind == ParseResult::Kind::kError) return result;
      result.consumed = scanned_;
      return result;
    }
    if (++header_lines_ > kMaxHeaders) return error(431, "more than 100 header lines");
    line_start_ = scanned_;
  }

  // Incomplete: enforce the limits on what has arrived so far, so that a
  // client cannot make us buffer an endless line.
  if (headers_start_ == 0 && length - line_start_ > kMaxRequestLine + 1) {
    return error(414, "request line over 8 KiB");
  }
  if (headers_start_ != 0 && length - headers_start_ > kMaxHeaderBytes) {
    return error(431, "headers over 16 KiB");
  }
  return ParseResult{};
}

std::string_view Request::header(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i) {
    if (equals_ignore_case(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

}  // namespace sse
