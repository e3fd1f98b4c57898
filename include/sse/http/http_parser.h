// http_parser.h — an incremental HTTP/1.1 request-head parser (RFC 9112).
//
// The connection appends whatever read() returned to its input buffer and
// calls RequestParser::parse() with the whole unconsumed buffer. The parser
// remembers how far it has scanned, so each byte is looked at once however
// the input is split; it enforces the size limits on the bytes as they
// arrive (414 before a long request line ever ends, 431 for the header
// section). Garbage is refused as soon as it can be recognised: a first
// byte that cannot begin a method (0x16, the first byte of a TLS
// ClientHello, or binary) is a 400 the moment it arrives, and the request
// line is checked as soon as its line ends, not when the head is complete.
// When the blank line that ends the head arrives it parses the head in one
// pass into a Request of string_views pointing into the buffer.
// It never allocates. The views are valid until the buffer changes.
//
// Contract (picohttpparser's): parse() returns complete (with the number of
// bytes the head used), incomplete, or an error with its HTTP status. After
// complete or error, call reset() before parsing the next request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sse {

inline constexpr size_t kMaxRequestLine = 8 * 1024;   // 414 beyond
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;  // 431 beyond
inline constexpr size_t kMaxHeaders = 100;            // 431 beyond

enum class Method { kGet, kHead, kPost, kOptions, kOther /* known, not served */, kUnknown };

enum class BodyFraming { kNone, kLength, kChunked };

struct Header {
  std::string_view name;
  std::string_view value;
};

struct Request {
  Method method = Method::kUnknown;
  std::string_view method_name;
  std::string_view target;  // as sent
  std::string_view path;    // target up to '?', still percent-encoded
  std::string_view query;   // after '?', without it
  int minor_version = 1;    // HTTP/1.<minor>

  Header headers[kMaxHeaders];
  size_t header_count = 0;

  // Derived while parsing, so that no handler re-reads the headers.
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;

  // First header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

struct ParseResult {
  enum class Kind { kComplete, kIncomplete, kError };
  Kind kind = Kind::kIncomplete;
  size_t consumed = 0;           // kComplete: bytes of the head, CRLFs included
  int status = 0;                // kError: the HTTP status to answer with
  const char* reason = nullptr;  // kError: what was wrong, for the response body

  static ParseResult error(int status, const char* reason) {
    ParseResult result;
    result.kind = Kind::kError;
    result.status = status;
    result.reason = reason;
    return result;
  }
};

class RequestParser {
 public:
  ParseResult parse(const char* data, size_t length, Request& request);
  void reset() { *this = RequestParser(); }

 private:
  // How far parse() has looked, and where the line it is in started.
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  size_t request_start_ = 0;  // after any blank lines before the request line
  size_t headers_start_ = 0;  // 0 until the request line has ended
  size_t header_lines_ = 0;
};

}  // namespace sse
