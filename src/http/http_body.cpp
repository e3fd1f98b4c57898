// http_body.cpp — see http_body.h.
#include "sse/http/http_body.h"

#include <algorithm>

#include "sse/http/ascii.h"

namespace sse {

namespace {

// Chunk-size lines, extensions and trailers are not payload, but a client
// could send endless amounts of them: they may add up to the payload's own
// size plus the header-section budget. A fixed budget would refuse a long
// body sent in ordinary chunks; with this one, chunks of 8 bytes or more
// always fit (a chunk's framing is its size digits plus 4 bytes of CRLF),
// and only a body made mostly of framing is refused.
constexpr size_t kMaxChunkOverhead = kMaxHeaderBytes;

// The one message for every bare LF: the client should learn what to fix.
constexpr const char* kBareLf = "bare LF in chunked framing (CRLF required)";

// A step that found nothing wrong (kIncomplete: "go on"), and a 400.
constexpr ParseResult go_on() {
  return ParseResult{};
}
ParseResult bad(const char* reason) {
  return ParseResult::error(400, reason);
}

// SP or HTAB: the bytes of BWS and OWS (RFC 9110 §5.6.3).
bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// qdtext and the byte after a backslash (RFC 9110 §5.6.4): visible ASCII
// and obs-text; SP and HTAB too. Never a control byte, so never CR or LF.
bool is_quoted_text(unsigned char c) {
  return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

// field-value bytes (RFC 9110 §5.5): like quoted text, and '"' and '\' are
// nothing special.
bool is_field_byte(unsigned char c) {
  return is_quoted_text(c);
}

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

  // Payload is copied in runs; framing is looked at one byte at a time, but
  // every byte once, so the work per call is bounded by `length`.
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
    ParseResult step;
    switch (state_) {
      case State::kChunkSize:
        step = on_size_byte(c);
        break;
      case State::kExtSpace:
      case State::kExtNameStart:
      case State::kExtName:
      case State::kExtNameSpace:
      case State::kExtValueStart:
      case State::kExtToken:
      case State::kExtQuoted:
      case State::kExtQuotedPair:
      case State::kExtQuoteEnd:
        step = on_extension_byte(c);
        break;
      case State::kChunkSizeLf:
      case State::kChunkDataCr:
      case State::kChunkDataLf:
      case State::kTrailerLf:
      case State::kFinalLf:
        step = on_line_end_byte(c);
        break;
      case State::kTrailerStart:
      case State::kTrailerName:
      case State::kTrailerValue:
        step = on_trailer_byte(c);
        break;
      case State::kLength:
      case State::kChunkData:
      case State::kDone:
        break;  // handled above the switch
    }
    if (step.kind == ParseResult::Kind::kError) return step;
  }

  ParseResult result;
  if (state_ == State::kDone) {
    result.kind = ParseResult::Kind::kComplete;
    result.consumed = i;
  }
  return result;
}

// chunk-size = 1*HEXDIG, then the extensions or the CRLF.
ParseResult BodyReader::on_size_byte(char c) {
  int digit = hex_value(c);
  if (digit >= 0) {
    // Past 2^56 bytes is far beyond any limit; stopping there means no
    // overflow, and leading zeros cost nothing.
    if (remaining_ >> 56) return ParseResult::error(413, "chunk size too large");
    remaining_ = remaining_ * 16 + static_cast<uint64_t>(digit);
    ++size_digits_;
    return go_on();
  }
  if (size_digits_ == 0) return bad("malformed chunk size");
  // The size alone decides: a chunk over the limit is refused before any
  // of its data has to be buffered.
  if (body_bytes_ + remaining_ > max_body_) return ParseResult::error(413, "body over --max-body");
  body_bytes_ += remaining_;
  return after_size_or_extension(c);
}

ParseResult BodyReader::after_size_or_extension(char c) {
  if (c == ';') {
    state_ = State::kExtNameStart;
  } else if (is_space(c)) {
    state_ = State::kExtSpace;
  } else if (c == '\r') {
    state_ = State::kChunkSizeLf;
  } else if (c == '\n') {
    return bad(kBareLf);
  } else {
    return bad("malformed chunk size line");
  }
  return go_on();
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112
// §7.1.1). The names and values are checked, then dropped: no extension
// means anything to us.
ParseResult BodyReader::on_extension_byte(char c) {
  unsigned char byte = static_cast<unsigned char>(c);
  switch (state_) {
    case State::kExtSpace:
      // Whitespace is only allowed before a ';', never before the CRLF.
      if (is_space(c)) return go_on();
      if (c != ';') return bad("malformed chunk extension");
      state_ = State::kExtNameStart;
      return go_on();
    case State::kExtNameStart:
      if (is_space(c)) return go_on();
      if (!is_tchar(byte)) return bad("malformed chunk extension name");
      state_ = State::kExtName;
      return go_on();
    case State::kExtName:
      if (is_tchar(byte)) return go_on();
      if (c == '=') {
        state_ = State::kExtValueStart;
        return go_on();
      }
      if (is_space(c)) {
        state_ = State::kExtNameSpace;
        return go_on();
      }
      return after_size_or_extension(c);
    case State::kExtNameSpace:
      if (is_space(c)) return go_on();
      if (c == '=') {
        state_ = State::kExtValueStart;
      } else if (c == ';') {
        state_ = State::kExtNameStart;
      } else {
        return bad("malformed chunk extension");
      }
      return go_on();
    case State::kExtValueStart:
      if (is_space(c)) return go_on();
      if (c == '"') {
        state_ = State::kExtQuoted;
      } else if (is_tchar(byte)) {
        state_ = State::kExtToken;
      } else {
        return bad("malformed chunk extension value");
      }
      return go_on();
    case State::kExtToken:
      if (is_tchar(byte)) return go_on();
      return after_size_or_extension(c);
    case State::kExtQuoted:
      if (c == '"') {
        state_ = State::kExtQuoteEnd;
      } else if (c == '\\') {
        state_ = State::kExtQuotedPair;
      } else if (!is_quoted_text(byte)) {
        return bad("control character in chunk extension");
      }
      return go_on();
    case State::kExtQuotedPair:
      if (!is_quoted_text(byte)) return bad("control character in chunk extension");
      state_ = State::kExtQuoted;
      return go_on();
    case State::kExtQuoteEnd:
      return after_size_or_extension(c);
    default:
      return go_on();  // not an extension state: feed() never sends one here
  }
}

// The byte that must come after a CR (or the CR after chunk data). Every
// framing line ends in CRLF; a bare LF anywhere here is refused.
ParseResult BodyReader::on_line_end_byte(char c) {
  switch (state_) {
    case State::kChunkDataCr:
      if (c == '\n') return bad(kBareLf);
      if (c != '\r') return bad("chunk data not followed by CRLF");
      state_ = State::kChunkDataLf;
      return go_on();
    case State::kChunkDataLf:
      if (c != '\n') return bad("chunk data not followed by CRLF");
      state_ = State::kChunkSize;
      size_digits_ = 0;
      return go_on();
    case State::kChunkSizeLf:
      if (c != '\n') return bad("chunk size line with CR but no LF");
      // The last chunk (size 0) is followed by the trailer section.
      state_ = remaining_ == 0 ? State::kTrailerStart : State::kChunkData;
      return go_on();
    case State::kTrailerLf:
      if (c != '\n') return bad("chunked trailer line with CR but no LF");
      state_ = State::kTrailerStart;
      return go_on();
    case State::kFinalLf:
      if (c != '\n') return bad("malformed chunked trailer");
      state_ = State::kDone;
      return go_on();
    default:
      return go_on();  // not a line-end state: feed() never sends one here
  }
}

// trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2);
// field-line = field-name ":" OWS field-value OWS (§5). Validated, then
// ignored, whatever the name (see http_body.h).
ParseResult BodyReader::on_trailer_byte(char c) {
  unsigned char byte = static_cast<unsigned char>(c);
  switch (state_) {
    case State::kTrailerStart:
      if (c == '\r') {
        state_ = State::kFinalLf;
      } else if (c == '\n') {
        return bad(kBareLf);
      } else if (is_tchar(byte)) {
        // A leading space would be obs-fold, refused as in the head.
        state_ = State::kTrailerName;
      } else {
        return bad("malformed chunked trailer field name");
      }
      return go_on();
    case State::kTrailerName:
      if (c == ':') {
        state_ = State::kTrailerValue;
        return go_on();
      }
      // No whitespace before the colon (RFC 9112 §5.1), as in the head.
      if (!is_tchar(byte)) return bad("malformed chunked trailer field name");
      return go_on();
    case State::kTrailerValue:
      if (c == '\r') {
        state_ = State::kTrailerLf;
      } else if (c == '\n') {
        return bad(kBareLf);
      } else if (!is_field_byte(byte)) {
        return bad("control character in chunked trailer");
      }
      return go_on();
    default:
      return go_on();  // not a trailer state: feed() never sends one here
  }
}

}  // namespace sse
