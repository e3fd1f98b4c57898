// fuzz_jwt.cpp — libFuzzer target for the token verifier (src/auth/jwt.cpp).
//
// The first byte chooses what the rest is ('0', '1', '2' in the seeds):
//   0: a token as a client would send it, verified as is;
//   1: a payload, signed here under the fuzz secret with {"alg":"HS256"};
//   2: a header and a payload split at the first '\n', signed here.
// A fuzzer cannot forge HMAC-SHA256, so modes 1 and 2 are what carry its
// inputs past the signature into the payload parser.
//
// Oracle: no crash; every refusal has a message and no claims; a token
// that verifies is at most kMaxTokenBytes; a token signed with the secret
// and the HS256 header is never refused for its alg or its signature;
// covers() lets each accepted pattern cover the topic it names.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sse/auth/jwt.h"
#include "../unit/auth/token_signing.h"

namespace {

using test_tokens::b64url;

constexpr std::string_view kSecret = "fuzz-secret";
constexpr int64_t kNow = 1700000000;

std::string sign(std::string_view header_json, std::string_view payload_json) {
  std::string input = b64url(header_json) + "." + b64url(payload_json);
  std::string mac = test_tokens::hmac(EVP_sha256(), input, kSecret);
  if (mac.empty()) std::abort();
  return input + "." + b64url(mac);
}

void check_patterns(const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    std::string_view name = pattern;
    if (!name.empty() && name.back() == '*') name.remove_suffix(1);
    if (!sse::covers({pattern}, name)) std::abort();
    if (!sse::covers({pattern}, std::string(name) + (pattern == name ? "" : "x"))) std::abort();
  }
}

sse::TokenResult check(std::string_view token) {
  sse::TokenResult result = sse::verify_token(token, kSecret, kNow);
  if (result.ok()) {
    if (token.size() > sse::kMaxTokenBytes || !result.message.empty()) std::abort();
    check_patterns(result.claims.subscribe);
    check_patterns(result.claims.publish);
  } else {
    if (result.message.empty() || sse::token_error_name(result.error) == "unknown") std::abort();
    if (!result.claims.subscribe.empty() || !result.claims.publish.empty()) std::abort();
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    check(rest);
  } else if (mode == 1) {
    std::string token = sign(R"({"alg":"HS256"})", rest);
    sse::TokenError error = check(token).error;
    if (error == sse::TokenError::kWrongAlg || error == sse::TokenError::kBadSignature) {
      std::abort();
    }
    if (token.size() <= sse::kMaxTokenBytes && error == sse::TokenError::kOversized) std::abort();
  } else {
    size_t newline = rest.find('\n');
    std::string_view header = rest.substr(0, newline);
    std::string_view payload =
        newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    check(sign(header, payload));
  }
  return 0;
}
