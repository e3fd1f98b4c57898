// fuzz_http_parser.cpp — libFuzzer target for RequestParser.
//
// The oracle is the parser's own promise: the result is the same however
// the input is split. The first byte picks a split step; the input is fed
// whole and then in growing prefixes (as the connection does), and kind,
// status, consumed and the parsed fields must agree. Any crash, sanitizer
// report or disagreement is a finding.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sse/http/http_parser.h"

using sse::ParseResult;
using sse::Request;
using sse::RequestParser;

namespace {

std::string summary(const ParseResult& result, const Request& request) {
  std::string s = std::to_string(static_cast<int>(result.kind)) + "/" +
                  std::to_string(result.status) + "/" + std::to_string(result.consumed);
  if (result.kind == ParseResult::Kind::kComplete) {
    s += "/" + std::string(request.method_name) + " " + std::string(request.path) + "?" +
         std::string(request.query) + " " + std::to_string(request.header_count) + " " +
         std::to_string(static_cast<int>(request.framing)) + " " +
         std::to_string(request.content_length) + (request.keep_alive ? " ka" : " close");
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = 1 + data[0] % 16;
  const char* input = reinterpret_cast<const char*>(data + 1);
  size_t length = size - 1;

  Request whole_request;
  RequestParser whole;
  ParseResult whole_result = whole.parse(input, length, whole_request);
  std::string expected = summary(whole_result, whole_request);

  Request split_request;
  RequestParser split;
  ParseResult split_result;
  for (size_t end = step < length ? step : length;;
       end = end + step < length ? end + step : length) {
    split_result = split.parse(input, end, split_request);
    if (split_result.kind != ParseResult::Kind::kIncomplete || end == length) break;
  }
  if (summary(split_result, split_request) != expected) std::abort();
  return 0;
}
