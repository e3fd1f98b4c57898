// jwt.h — private topics' tokens: token text in, claims or an error out.
//
// The stream and publish handlers take a token from a cookie, a header or
// the query (SPEC "Private topics"), call verify_token() with --jwt-secret
// and the wall clock, and then ask covers() whether the token's subscribe
// or publish list reaches each topic of the request. This layer knows no
// HTTP, no sockets and no clock: pure functions, so every refusal can be
// tested with a fixed `now`. It calls OpenSSL for HMAC-SHA256 and simdjson
// for the two JSON segments, nothing else.
//
// Only JWS compact serialization signed with HS256 (RFC 7519, RFC 7515
// §7.1, RFC 7518 §3.2) is accepted. The invariant: claims are returned only
// for a token whose header says "alg":"HS256", whose signature is the
// HMAC-SHA256 of its first two segments under the secret, and whose time
// window contains `now`, give or take kTokenLeewaySeconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sse {

// A longer token is refused before it is looked at. 8 KiB is the SPEC's
// request-line limit, so a token in the query could not be longer anyway;
// real tokens with a few dozen topics are well under 1 KiB.
inline constexpr size_t kMaxTokenBytes = 8 * 1024;

// Clock skew tolerated on `exp` and `nbf` (RFC 7519 §4.1.4 allows "a small
// leeway, usually no more than a few minutes"). The token's minter and this
// server may be different machines; 30 s covers NTP-synchronised clocks and
// keeps an expired token useful for at most half a minute.
inline constexpr int64_t kTokenLeewaySeconds = 30;

enum class TokenError {
  kNone,
  kOversized,     // longer than kMaxTokenBytes
  kMalformed,     // not three base64url segments of JSON objects of the right shape
  kWrongAlg,      // header's alg missing or not "HS256" ("none" included), or a "crit"
  kBadSignature,  // HMAC-SHA256 does not match (forged, or another secret)
  kExpired,       // now >= exp + leeway
  kNotYetValid,   // now + leeway < nbf
};

// A short stable name ("malformed", "bad_signature", ...) for logs and
// JSON error bodies.
std::string_view token_error_name(TokenError error);

struct TokenClaims {
  // Topic patterns, as the token lists them (see covers()).
  std::vector<std::string> subscribe;
  std::vector<std::string> publish;
  int64_t exp = 0;  // seconds since the epoch; 0: the token does not expire
  int64_t nbf = 0;  // seconds since the epoch; 0: valid from the start
};

struct TokenResult {
  TokenError error = TokenError::kNone;
  // Why, in a few words, for the 401's JSON body. Always a string literal:
  // no byte of the token is echoed (tokens end up in logs).
  std::string_view message;
  TokenClaims claims;  // filled only when ok()
  bool ok() const { return error == TokenError::kNone; }
};

// Verifies `token` (the compact form "header.payload.signature") against
// `secret` at time `now_s` (seconds since the epoch). Checks, in order:
// size; three non-empty segments of unpadded base64url; the header (a JSON
// object, "alg" exactly "HS256", no "crit"; "typ" and "kid" are ignored);
// the signature, compared in constant time; then the payload (a JSON
// object) and its time window. The payload is parsed only once the
// signature holds, so unauthenticated bytes reach no more than the header
// parser. An empty secret verifies nothing (kBadSignature).
//
// Claims read from the payload, all optional, other keys ignored (iss,
// aud, sub, iat, ...: the application that holds the secret is the only
// issuer):
//   "sse":     {"subscribe": [patterns], "publish": [patterns]}
//   "mercure": {"subscribe": [patterns], "publish": [patterns]}
//   "exp", "nbf": NumericDate (RFC 7519 §2), integer or not.
// Each list must be an array of strings. When both "sse" and "mercure" are
// present their lists are merged: both were signed by the same secret, so
// the union grants nothing its issuer did not write. Mercure's subscribe
// entries are URI templates there; here every entry is a topic pattern.
TokenResult verify_token(std::string_view token, std::string_view secret, int64_t now_s);

// True if one of `patterns` covers `topic`: "*" covers every topic, "NAME*"
// every topic starting with NAME (NAME itself included), any other entry
// only the topic spelled exactly so. A '*' anywhere but at the end is an
// ordinary character, which no valid topic contains. An empty list covers
// nothing.
bool covers(const std::vector<std::string>& patterns, std::string_view topic);

}  // namespace sse
