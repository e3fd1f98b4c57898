// http_body.h — reads a request body framed by Content-Length or chunked.
//
// After the parser has returned a complete head, the connection feeds the
// bytes that follow to a BodyReader until it says complete. The reader
// consumes what belongs to the body (leaving a pipelined next request in the
// buffer), appends the decoded payload to `out` (or drops it when the
// handler does not need a body), and enforces --max-body as the bytes
// arrive. The chunked decoder (RFC 9112 §7.1) is a byte-at-a-time state
// machine, so any split of the input gives the same result.
//
// Chunked framing is read strictly, because it is where request smuggling
// lives: when a proxy in front of us and we disagree on where a body ends,
// the rest of the body becomes a second request only one of us sees.
// - Every framing line (chunk size, the CRLF after chunk data, trailers and
//   the final empty line) ends in CRLF. A bare LF is a 400, although the
//   request head accepts one (RFC 9112 §2.2 allows that there, §7.1 does
//   not here): "1;x\nZ\r\n0\r\n..." is one chunk to a reader that waits for
//   CRLF and two to one that takes LF, and we answer neither way.
// - Chunk extensions follow RFC 9112 §7.1.1 exactly:
//   *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ), and
//   are then ignored (we know none). Anything else after the size is a 400.
// - Trailer fields (RFC 9112 §7.1.2) must be well-formed header lines,
//   `token ":" value` without control bytes, and are then ignored, every
//   one: none is ever merged into the request, so a trailer named
//   Content-Length, Transfer-Encoding or Host cannot change how this
//   request was framed or routed (RFC 9110 §6.5.2 lets a recipient discard
//   trailers; §6.5.1 forbids merging those). We validate instead of
//   skipping to the line end so that a malformed section is a 400 rather
//   than something another reader might take for a request.
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
    kLength,         // Content-Length: `remaining_` bytes to go
    kChunkSize,      // hex digits of a chunk size
    kExtSpace,       // BWS after the size or an extension: only ";" may follow
    kExtNameStart,   // after ";" (and BWS): the first byte of a name
    kExtName,        // inside an extension name (a token)
    kExtNameSpace,   // BWS after a name: "=" or ";" follows
    kExtValueStart,  // after "=" (and BWS): a token or a quoted-string
    kExtToken,       // inside a token value
    kExtQuoted,      // inside a quoted-string value
    kExtQuotedPair,  // after a backslash in a quoted-string
    kExtQuoteEnd,    // after the closing quote
    kChunkSizeLf,    // the LF after the size line's CR
    kChunkData,      // `remaining_` bytes of chunk data
    kChunkDataCr,    // the CRLF after chunk data
    kChunkDataLf,
    kTrailerStart,  // start of a trailer line, or the CR of the final empty line
    kTrailerName,   // a trailer field name, up to its ':'
    kTrailerValue,  // a trailer field value, up to its CR
    kTrailerLf,     // the LF ending a trailer line
    kFinalLf,       // the LF ending the final empty line
    kDone,
  };

  // One framing byte each (everything but payload). They return kIncomplete
  // to go on, or the error to answer with.
  ParseResult on_size_byte(char c);
  ParseResult on_extension_byte(char c);
  ParseResult on_line_end_byte(char c);
  ParseResult on_trailer_byte(char c);
  // After the size digits or a whole extension: ";", BWS or the CR.
  ParseResult after_size_or_extension(char c);

  State state_ = State::kDone;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t max_body_ = 0;
  size_t size_digits_ = 0;
  size_t overhead_bytes_ = 0;  // chunk-size lines, extensions and trailers
};

}  // namespace sse
