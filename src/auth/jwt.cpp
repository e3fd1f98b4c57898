// jwt.cpp — see jwt.h.
//
// Strict on purpose: a token is minted by the application that shares the
// secret, with a JWT library or a few lines of openssl, and such tools
// never emit padding, line breaks, duplicate claims or a second "alg".
// Anything a correct minter would not produce is refused rather than
// repaired, so there is one reading of every accepted token.
//
// The JSON is read with simdjson's DOM API and error codes, not On-Demand:
// duplicate keys can only be caught by visiting every field. A parser is
// made per call (no state survives a call); tokens are verified when a
// stream opens or a publish arrives, never per event, so its few kilobytes
// of buffers cost nothing measurable.
#include "sse/auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <climits>
#include <cmath>
#include <limits>

namespace sse {

namespace {

// Header and payload nest one or two levels; deeper is never a real token,
// and the bound keeps the parser's stack small.
constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kSha256Bytes = 32;

TokenResult fail(TokenError error, std::string_view message) {
  TokenResult result;
  result.error = error;
  result.message = message;
  return result;
}

// The value of a base64url digit (RFC 4648 §5), or -1.
int base64url_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Decodes unpadded base64url (RFC 7515 §2: JWS omits the '='). Refused:
// any byte outside the alphabet ('=', '+', '/', whitespace, NUL), a length
// that leaves a single digit over (it cannot carry a whole byte), and
// non-zero unused bits in the last digit (RFC 4648 §3.5), which would give
// one value several spellings.
bool base64url_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (unsigned char c : in) {
    int value = base64url_value(c);
    if (value < 0) return false;
    bits = ((bits << 6) | static_cast<uint32_t>(value)) & 0xfff;  // at most 12 bits pending
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  // 2 or 4 bits are left over after 3 or 2 digits; they must be zero.
  return (bits & ((1u << bit_count) - 1)) == 0;
}

int64_t saturating_add(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) {
    return std::numeric_limits<int64_t>::max();
  }
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) {
    return std::numeric_limits<int64_t>::min();
  }
  return a + b;
}

// A NumericDate (RFC 7519 §2): seconds, possibly fractional. Values beyond
// int64 are clamped (a far future or far past is still that). A fraction
// is rounded towards the stricter side: `exp` down, `nbf` up.
enum class Rounding { kDown, kUp };

bool read_numeric_date(simdjson::dom::element element, Rounding rounding, int64_t& out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  switch (element.type()) {
    case simdjson::dom::element_type::INT64:
      return element.get(out) == simdjson::SUCCESS;
    case simdjson::dom::element_type::UINT64:
      out = kMax;  // simdjson uses UINT64 only above INT64_MAX
      return true;
    case simdjson::dom::element_type::DOUBLE: {
      double seconds = 0;
      if (element.get(seconds) != simdjson::SUCCESS) return false;
      seconds = rounding == Rounding::kDown ? std::floor(seconds) : std::ceil(seconds);
      // 2^63 is exactly representable; anything at or past it is out of range.
      if (seconds >= 9223372036854775808.0) {
        out = kMax;
      } else if (seconds < -9223372036854775808.0) {
        out = kMin;
      } else {
        out = static_cast<int64_t>(seconds);
      }
      return true;
    }
    default:
      return false;
  }
}

// Appends a JSON array of strings to `out`; false for anything else.
bool read_patterns(simdjson::dom::element element, std::vector<std::string>& out) {
  simdjson::dom::array array;
  if (element.get(array) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element entry : array) {
    std::string_view pattern;
    if (entry.get(pattern) != simdjson::SUCCESS) return false;
    out.emplace_back(pattern);
  }
  return true;
}

// {"subscribe": [...], "publish": [...]}, both optional; other keys (such
// as Mercure's "payload") are ignored. Returns an error message or "".
std::string_view read_grants(simdjson::dom::element element, TokenClaims& claims) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return "the sse/mercure claim must be an object";
  bool has_subscribe = false, has_publish = false;
  for (simdjson::dom::key_value_pair field : object) {
    std::string_view key = field.key;
    bool* seen = key == "subscribe" ? &has_subscribe : key == "publish" ? &has_publish : nullptr;
    if (seen == nullptr) continue;
    if (*seen) return "a duplicate subscribe or publish list";
    *seen = true;
    if (!read_patterns(field.value, key == "subscribe" ? claims.subscribe : claims.publish)) {
      return "subscribe and publish must be arrays of strings";
    }
  }
  return "";
}

// The JOSE header (RFC 7515 §4). Only "alg" and "crit" matter: "typ" is
// advisory (RFC 7519 §5.1) and "kid" names a key, and there is one.
TokenResult check_header(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::object header;
  if (parser.parse(json.data(), json.size()).get(header) != simdjson::SUCCESS) {
    return fail(TokenError::kMalformed, "the token's header is not a JSON object");
  }
  std::string_view alg;
  bool has_alg = false;
  for (simdjson::dom::key_value_pair field : header) {
    if (field.key == "alg") {
      if (has_alg) return fail(TokenError::kMalformed, "the token's header repeats alg");
      has_alg = true;
      if (field.value.get(alg) != simdjson::SUCCESS) {
        return fail(TokenError::kWrongAlg, "the token's alg must be HS256");
      }
    } else if (field.key == "crit") {
      // Extensions the recipient must understand (RFC 7515 §4.1.11); we
      // understand none, so the token must be refused.
      return fail(TokenError::kWrongAlg, "the token's header has crit, which is not supported");
    }
  }
  if (!has_alg) return fail(TokenError::kWrongAlg, "the token's header has no alg");
  // Case-sensitive (RFC 7515 §4.1.1). Anything else, "none" first of all
  // (RFC 8725 §2.1), is refused: the secret is an HMAC key and nothing else.
  if (alg != "HS256") return fail(TokenError::kWrongAlg, "the token's alg must be HS256");
  return TokenResult{};
}

bool signature_matches(std::string_view signing_input, std::string_view secret,
                       const std::string& signature) {
  if (secret.empty() || secret.size() > static_cast<size_t>(INT_MAX)) return false;
  if (signature.size() != kSha256Bytes) return false;  // the length is no secret
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
           &mac_length) == nullptr ||
      mac_length != kSha256Bytes) {
    return false;
  }
  // Constant time: how long the comparison takes says nothing about how
  // many leading bytes of a forgery were right.
  return CRYPTO_memcmp(mac, signature.data(), kSha256Bytes) == 0;
}

TokenResult read_payload(simdjson::dom::parser& parser, const std::string& json, int64_t now_s) {
  simdjson::dom::object payload;
  if (parser.parse(json.data(), json.size()).get(payload) != simdjson::SUCCESS) {
    return fail(TokenError::kMalformed, "the token's payload is not a JSON object");
  }
  TokenResult result;
  bool has_sse = false, has_mercure = false, has_exp = false, has_nbf = false;
  for (simdjson::dom::key_value_pair field : payload) {
    std::string_view key = field.key;
    bool* seen = key == "sse"       ? &has_sse
                 : key == "mercure" ? &has_mercure
                 : key == "exp"     ? &has_exp
                 : key == "nbf"     ? &has_nbf
                                    : nullptr;
    if (seen == nullptr) continue;
    // simdjson keeps repeated keys; which one a JWT library would honour is
    // anyone's guess (RFC 7519 §4 says reject or take the last), so refuse.
    if (*seen) return fail(TokenError::kMalformed, "the token repeats a claim");
    *seen = true;
    if (key == "exp" || key == "nbf") {
      bool is_exp = key == "exp";
      if (!read_numeric_date(field.value, is_exp ? Rounding::kDown : Rounding::kUp,
                             is_exp ? result.claims.exp : result.claims.nbf)) {
        return fail(TokenError::kMalformed, "exp and nbf must be numbers");
      }
    } else {
      std::string_view error = read_grants(field.value, result.claims);
      if (!error.empty()) return fail(TokenError::kMalformed, error);
    }
  }
  // RFC 7519 §4.1.4: the token may not be accepted "on or after" exp.
  if (has_exp && now_s >= saturating_add(result.claims.exp, kTokenLeewaySeconds)) {
    return fail(TokenError::kExpired, "the token has expired");
  }
  // RFC 7519 §4.1.5: nor before nbf.
  if (has_nbf && saturating_add(now_s, kTokenLeewaySeconds) < result.claims.nbf) {
    return fail(TokenError::kNotYetValid, "the token is not valid yet");
  }
  return result;
}

}  // namespace

std::string_view token_error_name(TokenError error) {
  switch (error) {
    case TokenError::kNone:
      return "none";
    case TokenError::kOversized:
      return "oversized";
    case TokenError::kMalformed:
      return "malformed";
    case TokenError::kWrongAlg:
      return "wrong_alg";
    case TokenError::kBadSignature:
      return "bad_signature";
    case TokenError::kExpired:
      return "expired";
    case TokenError::kNotYetValid:
      return "not_yet_valid";
  }
  return "unknown";
}

TokenResult verify_token(std::string_view token, std::string_view secret, int64_t now_s) {
  if (token.size() > kMaxTokenBytes) {
    return fail(TokenError::kOversized, "the token is longer than 8 KiB");
  }
  // Compact serialization (RFC 7515 §7.1): exactly two dots. A JWE (five
  // segments) or an unsecured JWT without its trailing dot ends here.
  size_t first_dot = token.find('.');
  size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return fail(TokenError::kMalformed, "a token is three base64url segments joined by dots");
  }
  std::string_view header_text = token.substr(0, first_dot);
  std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature_text = token.substr(second_dot + 1);
  if (header_text.empty() || payload_text.empty() || signature_text.empty()) {
    return fail(TokenError::kMalformed, "a token's segments may not be empty");
  }
  // Every segment is decoded first, so a token of the wrong shape is called
  // malformed whatever its signature.
  std::string header_json, payload_json, signature;
  if (!base64url_decode(header_text, header_json) ||
      !base64url_decode(payload_text, payload_json) ||
      !base64url_decode(signature_text, signature)) {
    return fail(TokenError::kMalformed, "a token's segments must be unpadded base64url");
  }

  simdjson::dom::parser parser;
  size_t capacity =
      header_json.size() > payload_json.size() ? header_json.size() : payload_json.size();
  if (parser.allocate(capacity, kMaxJsonDepth) != simdjson::SUCCESS) {
    return fail(TokenError::kMalformed, "the token could not be parsed");
  }
  TokenResult header = check_header(parser, header_json);
  if (!header.ok()) return header;

  // The signing input is the first two segments as sent (RFC 7515 §5.2).
  if (!signature_matches(token.substr(0, second_dot), secret, signature)) {
    return fail(TokenError::kBadSignature, "the token's signature does not match");
  }
  return read_payload(parser, payload_json, now_s);
}

bool covers(const std::vector<std::string>& patterns, std::string_view topic) {
  for (const std::string& pattern : patterns) {
    std::string_view p = pattern;
    if (!p.empty() && p.back() == '*') {
      p.remove_suffix(1);  // "*" leaves "", a prefix of everything
      if (topic.substr(0, p.size()) == p) return true;
    } else if (p == topic) {
      return true;
    }
  }
  return false;
}

}  // namespace sse
