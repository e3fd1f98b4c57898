// fuzz_http_body.cpp — libFuzzer target for the chunked body decoder.
//
// Oracle: feeding the bytes whole or in pieces (the connection erases what
// was consumed and feeds the rest plus new bytes) gives the same outcome
// and the same decoded body, and the body never exceeds the limit.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sse/http/http_body.h"

using sse::BodyReader;
using sse::ParseResult;

namespace {

struct Outcome {
  ParseResult::Kind kind;
  int status;
  size_t consumed;  // of the whole input, when complete
  std::string body;
};

Outcome run(const char* input, size_t length, size_t step, size_t max_body) {
  sse::Request request;
  request.framing = sse::BodyFraming::kChunked;
  BodyReader reader;
  reader.start(request, max_body);
  Outcome outcome{ParseResult::Kind::kIncomplete, 0, 0, {}};
  std::string buffer;
  size_t fed = 0, consumed_total = 0;
  while (fed < length) {
    size_t n = step < length - fed ? step : length - fed;
    buffer.append(input + fed, n);
    fed += n;
    ParseResult result = reader.feed(buffer.data(), buffer.size(), &outcome.body);
    outcome.kind = result.kind;
    outcome.status = result.status;
    if (result.kind == ParseResult::Kind::kError) return outcome;
    size_t used = result.kind == ParseResult::Kind::kComplete ? result.consumed : buffer.size();
    consumed_total += used;
    buffer.erase(0, used);
    if (result.kind == ParseResult::Kind::kComplete) {
      outcome.consumed = consumed_total;
      return outcome;
    }
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = 1 + data[0] % 7;
  const char* input = reinterpret_cast<const char*>(data + 1);
  size_t length = size - 1;
  constexpr size_t kMaxBody = 1024;
  Outcome whole = run(input, length, length ? length : 1, kMaxBody);
  Outcome split = run(input, length, step, kMaxBody);
  if (whole.kind != split.kind || whole.status != split.status) std::abort();
  if (whole.kind == ParseResult::Kind::kComplete &&
      (whole.consumed != split.consumed || whole.body != split.body)) {
    std::abort();
  }
  if (whole.body.size() > kMaxBody) std::abort();
  return 0;
}
