// http_body.cpp — see http_body.h.
#include "sse/http/http_body.h"
#include "sse/http/ascii.h"

#include <algorithm>

namespace sse {

namespace {

// Chunk-size lines, extensions and trailers are not payload, but a client
// could send endless amounts of them: they may add up to the payload's own
// size plus the header-section budget. A fixed budget would refuse a long
// body sent in ordinary chunks; with this one, chunks of 8 bytes or more
// always fit (a chunk's framing is its size digits plus 4 bytes of CRLF),
// and only a body made mostly of framing is refused.
constexpr size_t kMaxChunkOverhead = kMaxHeaderBytes;

}  // namespace

void BodyReader::start(const Request& request, size_t max_body) {
  max_body_ = max_body;
  body_bytes_ = 0;
  size_digits_ = 0;
  overhead_bytes_ = 0;
  remaining_ = 0;
  switch (request.framing) {
    case BodyFraming::kNone:
      state_ = State::kDone;
      break;
    case BodyFraming::kLength:
      remaining_ = request.content_length;
      state_ = remaining_ == 0 ? State::kDone : State::kLength;
      break;
    case BodyFraming::kChunked:
      state_ = State::kChunkSize;
      break;
  }
}

ParseResult BodyReader::feed(const char* data, size_t length, std::string* out) {
  size_t i = 0;
  auto take_payload = [&](State next) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, length - i));
    if (out != nullptr) out->append(data + i, n);
    i += n;
    remaining_ -= n;
    if (remaining_ == 0) state_ = next;
  };

  while (i < length && state_ != State::kDone) {
    if (state_ == State::kLength) {
      take_payload(State::kDone);
      continue;
    }
    if (state_ == State::kChunkData) {
      take_payload(State::kChunkDataCr);
      continue;
    }
    char c = data[i++];
    if (++overhead_bytes_ > kMaxChunkOverhead + body_bytes_) {
      return ParseResult::error(400, "chunk framing larger than the body plus 16 KiB");
    }
    switch (state_) {
      case State::kChunkSize: {
        int digit = hex_value(c);
        if (digit >= 0) {
          // Past 2^56 bytes is far beyond any limit; stopping there means
          // no overflow, and leading zeros cost nothing.
          if (remaining_ >> 56) return ParseResult::error(413, "chunk size too large");
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(digit);
          ++size_digits_;
          break;
        }
        if (size_digits_ == 0) return ParseResult::error(400, "malformed chunk size");
        if (body_bytes_ + remaining_ > max_body_)
          return ParseResult::error(413, "body over --max-body");
        body_bytes_ += remaining_;
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kChunkExt;
        } else if (c == '\r') {
          state_ = State::kChunkSizeLf;
        } else if (c == '\n') {
          state_ = remaining_ == 0 ? State::kTrailerStart : State::kChunkData;
        } else {
          return ParseResult::error(400, "malformed chunk size");
        }
        break;
      }
      case State::kChunkExt:
        if (c == '\n') {
          state_ = remaining_ == 0 ? State::kTrailerStart : State::kChunkData;
        } else if (c != '\r' && (static_cast<unsigned char>(c) < 0x20 && c != '\t')) {
          return ParseResult::error(400, "control character in chunk extension");
        }
        break;
      case State::kChunkSizeLf:
        if (c != '\n') return ParseResult::error(400, "chunk size line without LF");
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kChunkData;
        break;
      case State::kChunkDataCr:
        if (c == '\n') {
          state_ = State::kChunkSize;
          size_digits_ = 0;
        } else if (c == '\r') {
          state_ = State::kChunkDataLf;
        } else {
          return ParseResult::error(400, "chunk data not followed by CRLF");
        }
        break;
      case State::kChunkDataLf:
        if (c != '\n') return ParseResult::error(400, "chunk data not followed by CRLF");
        state_ = State::kChunkSize;
        size_digits_ = 0;
        break;
      case State::kTrailerStart:
        if (c == '\n') {
          state_ = State::kDone;
        } else if (c == '\r') {
          state_ = State::kTrailerLf;
        } else {
          state_ = State::kTrailerLine;
        }
        break;
      case State::kTrailerLine:
        if (c == '\n') state_ = State::kTrailerStart;
        break;
      case State::kTrailerLf:
        if (c != '\n') return ParseResult::error(400, "malformed chunked trailer");
        state_ = State::kDone;
        break;
      case State::kLength:
      case State::kChunkData:
      case State::kDone:
        break;  // handled above the switch
    }
  }

  ParseResult result;
  if (state_ == State::kDone) {
    result.kind = ParseResult::Kind::kComplete;
    result.consumed = i;
  }
  return result;
}

}  // namespace sse
