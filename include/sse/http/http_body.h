// http_body.h — reads a request body framed by Content-Length or chunked.
//
// After the parser has returned a complete head, the connection feeds the
// bytes that follow to a BodyReader until it says complete. The reader
// consumes what belongs to the body (leaving a pipelined next request in the
// buffer), appends the decoded payload to `out` (or drops it when the
// handler does not need a body), and enforces --max-body as the bytes
// arrive. The chunked decoder (RFC 9112 §7.1) is a byte-at-a-time state
// machine, so any split of the input gives the same result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "sse/http/http_parser.h"

namespace sse {

class BodyReader {
 public:
  // Prepares for the body of `request`; `max_body` is the --max-body limit.
  void start(const Request& request, size_t max_body);

  // Consumes body bytes from `data`. `out` may be null to discard the body.
  // kComplete: the body ended after `consumed` bytes; kIncomplete: all of
  // `data` was consumed, more is needed; kError: answer with `status`.
  ParseResult feed(const char* data, size_t length, std::string* out);

 private:
  enum class State {
    kLength,       // Content-Length: `remaining_` bytes to go
    kChunkSize,    // hex digits of a chunk size
    kChunkExt,     // ";name=value" after the size, up to the line end
    kChunkSizeLf,  // the LF after the size line's CR
    kChunkData,    // `remaining_` bytes of chunk data
    kChunkDataCr,  // the CRLF after chunk data
    kChunkDataLf,
    kTrailerStart,  // start of a trailer line (or the final empty line)
    kTrailerLine,   // inside a trailer field, which we ignore
    kTrailerLf,     // the LF ending the final empty line
    kDone,
  };

  State state_ = State::kDone;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t max_body_ = 0;
  size_t size_digits_ = 0;
  size_t overhead_bytes_ = 0;  // chunk-size lines, extensions and trailers
};

}  // namespace sse
