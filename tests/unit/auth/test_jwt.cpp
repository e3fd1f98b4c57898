// test_jwt.cpp — HS256 token verification and topic patterns (src/auth/jwt.cpp).
//
// Tokens are never made by the code under test: they are either copied
// from outside (RFC 7515 Appendix A.1, and tokens printed by Node's
// `crypto.createHmac`) or signed here with OpenSSL's HMAC() and encoded
// with OpenSSL's EVP_EncodeBlock(), turned into base64url by hand.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sse/auth/jwt.h"
#include "token_signing.h"

using sse::TokenError;
using sse::TokenResult;
using sse::verify_token;
using test_tokens::b64url;

namespace {

constexpr std::string_view kSecret = "s3cret";
constexpr int64_t kNow = 1700000000;  // 2023-11-14
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::string hmac_sha256(std::string_view input, std::string_view key) {
  std::string mac = test_tokens::hmac(EVP_sha256(), input, key);
  REQUIRE(!mac.empty());
  return mac;
}

// Signs segment texts exactly as given (they need not be valid base64url).
std::string sign_segments(std::string_view header_segment, std::string_view payload_segment,
                          std::string_view key = kSecret) {
  std::string input = std::string(header_segment) + "." + std::string(payload_segment);
  return input + "." + b64url(hmac_sha256(input, key));
}

std::string sign(std::string_view header_json, std::string_view payload_json,
                 std::string_view key = kSecret) {
  return sign_segments(b64url(header_json), b64url(payload_json), key);
}

std::string token_with(std::string_view payload_json) {
  return sign(kHeader, payload_json);
}

TokenError error_of(std::string_view token, int64_t now = kNow) {
  return verify_token(token, kSecret, now).error;
}

std::string exp_payload(int64_t exp) {
  return "{\"exp\":" + std::to_string(exp) + "}";
}
std::string nbf_payload(int64_t nbf) {
  return "{\"nbf\":" + std::to_string(nbf) + "}";
}

using Patterns = std::vector<std::string>;

}  // namespace

TEST_CASE("the HS256 example of RFC 7515 A.1 verifies with its key until its exp") {
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  // The JWK "k" of the example, decoded (64 bytes).
  const unsigned char key_bytes[] = {
      0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77,
      0x7b, 0xa6, 0x8f, 0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f,
      0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf, 0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47,
      0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22, 0x3d, 0x2e, 0x21, 0x72,
      0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
  std::string_view key(reinterpret_cast<const char*>(key_bytes), sizeof key_bytes);
  constexpr int64_t kExp = 1300819380;

  TokenResult result = verify_token(token, key, kExp - 100);
  REQUIRE(result.ok());
  CHECK(result.claims.exp == kExp);
  CHECK(result.claims.nbf == 0);
  CHECK(result.claims.subscribe.empty());
  CHECK(result.claims.publish.empty());

  CHECK(verify_token(token, key, kExp + sse::kTokenLeewaySeconds).error == TokenError::kExpired);
  CHECK(verify_token(token, "another key", kExp - 100).error == TokenError::kBadSignature);
}

TEST_CASE("a token minted with Node's crypto verifies and yields its sse claims in order") {
  // node: header {"alg":"HS256","typ":"JWT"}, payload {"sub":"42","sse":{"subscribe":
  // ["user.42","broadcast"],"publish":["user.42"]},"exp":2000000000}, HMAC key "s3cret".
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
      ".eyJzdWIiOiI0MiIsInNzZSI6eyJzdWJzY3JpYmUiOlsidXNlci40MiIsImJyb2FkY2FzdCJdLCJwdWJsaXNoIjpbInV"
      "zZXIuNDIiXX0sImV4cCI6MjAwMDAwMDAwMH0"
      ".OzlXxrGobGepxvkSlhSPnON4Q4fg6MaQcPtfSaeatUs";
  TokenResult result = verify_token(token, kSecret, kNow);
  REQUIRE(result.ok());
  CHECK(result.claims.subscribe == Patterns{"user.42", "broadcast"});
  CHECK(result.claims.publish == Patterns{"user.42"});
  CHECK(result.claims.exp == 2000000000);
  CHECK(result.claims.nbf == 0);
}

TEST_CASE("a Mercure token minted with Node's crypto verifies; its payload field is ignored") {
  // node: payload {"mercure":{"subscribe":["user.42"],"publish":["*"],"payload":{"user":42}}}.
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
      ".eyJtZXJjdXJlIjp7InN1YnNjcmliZSI6WyJ1c2VyLjQyIl0sInB1Ymxpc2giOlsiKiJdLCJwYXlsb2FkIjp7InVzZX"
      "IiOjQyfX19"
      ".m2IuRrRBToIrjBTS_rzcNJP6JzbNKV0in65iAcx2bFw";
  TokenResult result = verify_token(token, kSecret, kNow);
  REQUIRE(result.ok());
  CHECK(result.claims.subscribe == Patterns{"user.42"});
  CHECK(result.claims.publish == Patterns{"*"});
  CHECK(result.claims.exp == 0);
}

TEST_CASE("a token signed here with OpenSSL's HMAC yields its lists, exp and nbf") {
  std::string payload = R"({"iss":"app","sse":{"subscribe":["a","b*","*"],"publish":[]},"exp":)" +
                        std::to_string(kNow + 60) + ",\"nbf\":" + std::to_string(kNow - 60) +
                        ",\"iat\":" + std::to_string(kNow - 60) + "}";
  TokenResult result = verify_token(token_with(payload), kSecret, kNow);
  REQUIRE(result.ok());
  CHECK(result.message.empty());
  CHECK(result.claims.subscribe == Patterns{"a", "b*", "*"});
  CHECK(result.claims.publish.empty());
  CHECK(result.claims.exp == kNow + 60);
  CHECK(result.claims.nbf == kNow - 60);
}

TEST_CASE("a token with neither sse nor mercure claims verifies and grants nothing") {
  for (const char* payload : {"{}", R"({"sub":"42"})", R"({"sse":{}})", R"({"mercure":{}})"}) {
    INFO("payload " << payload);
    TokenResult result = verify_token(token_with(payload), kSecret, kNow);
    REQUIRE(result.ok());
    CHECK(result.claims.subscribe.empty());
    CHECK(result.claims.publish.empty());
  }
}

TEST_CASE("sse and mercure claims in one token are merged") {
  TokenResult result = verify_token(
      token_with(R"({"sse":{"subscribe":["a"]},"mercure":{"subscribe":["b"],"publish":["c"]}})"),
      kSecret, kNow);
  REQUIRE(result.ok());
  CHECK(result.claims.subscribe == Patterns{"a", "b"});
  CHECK(result.claims.publish == Patterns{"c"});
}

TEST_CASE("typ is optional and its value is not checked; kid is ignored") {
  for (const char* header : {R"({"alg":"HS256"})", R"({"typ":"at+jwt","alg":"HS256"})",
                             R"({"alg":"HS256","kid":"k1","typ":"JWT"})"}) {
    INFO("header " << header);
    CHECK(verify_token(sign(header, "{}"), kSecret, kNow).ok());
  }
}

TEST_CASE("a forged signature is refused") {
  std::string token = token_with(R"({"sse":{"subscribe":["*"]}})");
  SUBCASE("one character of the signature changed") {
    char& c = token[token.size() - 5];
    c = c == 'A' ? 'B' : 'A';
  }
  SUBCASE("another token's signature") {
    std::string other = token_with(R"({"sse":{"subscribe":["user.1"]}})");
    token = token.substr(0, token.rfind('.')) + other.substr(other.rfind('.'));
  }
  SUBCASE("the payload swapped for one granting more") {
    std::string victim = token_with(R"({"sse":{"subscribe":["user.1"]}})");
    size_t dot = victim.find('.');
    token = victim.substr(0, dot + 1) + b64url(R"({"sse":{"subscribe":["*"]}})") +
            victim.substr(victim.rfind('.'));
  }
  SUBCASE("a signature of the right length made of zeros") {
    token = token.substr(0, token.rfind('.') + 1) + b64url(std::string(32, '\0'));
  }
  TokenResult result = verify_token(token, kSecret, kNow);
  CHECK(result.error == TokenError::kBadSignature);
  CHECK(result.claims.subscribe.empty());
}

TEST_CASE("a signature of the wrong length is refused") {
  std::string token = token_with("{}");
  std::string body = token.substr(0, token.rfind('.') + 1);
  CHECK(error_of(body + b64url(std::string(31, 'x'))) == TokenError::kBadSignature);
  CHECK(error_of(body + b64url(std::string(33, 'x'))) == TokenError::kBadSignature);
  CHECK(error_of(body + b64url(std::string(64, 'x'))) == TokenError::kBadSignature);
}

TEST_CASE("a token signed with another key is refused") {
  CHECK(error_of(sign(kHeader, "{}", "s3cret2")) == TokenError::kBadSignature);
  CHECK(error_of(sign(kHeader, "{}", "S3cret")) == TokenError::kBadSignature);
  CHECK(verify_token(token_with("{}"), "s3cre", kNow).error == TokenError::kBadSignature);
}

TEST_CASE("an empty secret verifies nothing, not even a token signed with the empty key") {
  CHECK(verify_token(sign(kHeader, "{}", ""), "", kNow).error == TokenError::kBadSignature);
  CHECK(verify_token(token_with("{}"), "", kNow).error == TokenError::kBadSignature);
}

TEST_CASE("a secret with a NUL byte is used whole") {
  std::string secret("ab\0cd", 5);
  std::string token = sign(kHeader, "{}", secret);
  CHECK(verify_token(token, secret, kNow).ok());
  CHECK(verify_token(token, "ab", kNow).error == TokenError::kBadSignature);
}

TEST_CASE("alg none is refused, with or without a signature") {
  std::string header = b64url(R"({"alg":"none","typ":"JWT"})");
  std::string payload = b64url(R"({"sse":{"subscribe":["*"]}})");
  // The unsecured form (RFC 7519 §6.1) has an empty third segment.
  CHECK(error_of(header + "." + payload + ".") == TokenError::kMalformed);
  CHECK(error_of(header + "." + payload) == TokenError::kMalformed);
  // With an HMAC-SHA256 signature under the right key, alg still decides.
  CHECK(error_of(sign_segments(header, payload)) == TokenError::kWrongAlg);
  CHECK(error_of(sign(R"({"alg":"None"})", "{}")) == TokenError::kWrongAlg);
}

TEST_CASE("any alg but HS256 is refused, even over a valid HMAC-SHA256 signature") {
  for (const char* header :
       {R"({"alg":"HS512"})", R"({"alg":"HS384"})", R"({"alg":"RS256"})", R"({"alg":"ES256"})",
        R"({"alg":"hs256"})", R"({"alg":"HS256 "})", R"({"alg":""})", R"({"alg":"HS256\u0000"})",
        R"({"alg":256})", R"({"alg":null})", R"({"alg":["HS256"]})", R"({"alg":{"HS256":1}})"}) {
    INFO("header " << header);
    TokenResult result = verify_token(sign(header, "{}"), kSecret, kNow);
    CHECK(result.error == TokenError::kWrongAlg);
    CHECK_FALSE(result.message.empty());
  }
}

TEST_CASE("an HS512 token really signed with HMAC-SHA512 is refused") {
  std::string input = b64url(R"({"alg":"HS512"})") + "." + b64url("{}");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(HMAC(EVP_sha512(), kSecret.data(), static_cast<int>(kSecret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
               &length) != nullptr);
  std::string token = input + "." + b64url(std::string(reinterpret_cast<char*>(mac), length));
  CHECK(error_of(token) == TokenError::kWrongAlg);
}

TEST_CASE("a header without alg is refused") {
  TokenResult result = verify_token(sign("{}", "{}"), kSecret, kNow);
  CHECK(result.error == TokenError::kWrongAlg);
  CHECK(result.message == "the token's header has no alg");
  CHECK(error_of(sign(R"({"typ":"JWT"})", "{}")) == TokenError::kWrongAlg);
  CHECK(error_of(sign(R"({"ALG":"HS256"})", "{}")) == TokenError::kWrongAlg);
}

TEST_CASE("a header with crit is refused: no extension is understood") {
  CHECK(error_of(sign(R"({"alg":"HS256","crit":["b64"],"b64":false})", "{}")) ==
        TokenError::kWrongAlg);
  CHECK(error_of(sign(R"({"alg":"HS256","crit":[]})", "{}")) == TokenError::kWrongAlg);
}

TEST_CASE("a header that repeats alg is malformed, whatever the values") {
  CHECK(error_of(sign(R"({"alg":"HS256","alg":"none"})", "{}")) == TokenError::kMalformed);
  CHECK(error_of(sign(R"({"alg":"none","alg":"HS256"})", "{}")) == TokenError::kMalformed);
  CHECK(error_of(sign(R"({"alg":"HS256","alg":"HS256"})", "{}")) == TokenError::kMalformed);
}

TEST_CASE("an expired token is refused, with 30 s of leeway") {
  REQUIRE(sse::kTokenLeewaySeconds == 30);
  CHECK(error_of(token_with(exp_payload(kNow + 3600))) == TokenError::kNone);
  CHECK(error_of(token_with(exp_payload(kNow))) == TokenError::kNone);
  CHECK(error_of(token_with(exp_payload(kNow - 29))) == TokenError::kNone);
  CHECK(error_of(token_with(exp_payload(kNow - 30))) == TokenError::kExpired);
  CHECK(error_of(token_with(exp_payload(kNow - 3600))) == TokenError::kExpired);
  TokenResult result = verify_token(token_with(exp_payload(kNow - 30)), kSecret, kNow);
  CHECK(result.message == "the token has expired");
  CHECK(result.claims.subscribe.empty());
}

TEST_CASE("a token not yet valid is refused, with 30 s of leeway") {
  CHECK(error_of(token_with(nbf_payload(kNow - 3600))) == TokenError::kNone);
  CHECK(error_of(token_with(nbf_payload(kNow))) == TokenError::kNone);
  CHECK(error_of(token_with(nbf_payload(kNow + 30))) == TokenError::kNone);
  CHECK(error_of(token_with(nbf_payload(kNow + 31))) == TokenError::kNotYetValid);
  CHECK(error_of(token_with(nbf_payload(kNow + 3600))) == TokenError::kNotYetValid);
}

TEST_CASE("the same token is valid only inside its window") {
  std::string token = token_with("{\"nbf\":" + std::to_string(kNow) +
                                 ",\"exp\":" + std::to_string(kNow + 100) + "}");
  CHECK(error_of(token, kNow - 31) == TokenError::kNotYetValid);
  CHECK(error_of(token, kNow - 30) == TokenError::kNone);
  CHECK(error_of(token, kNow + 129) == TokenError::kNone);
  CHECK(error_of(token, kNow + 130) == TokenError::kExpired);
}

TEST_CASE("an exp of 0 is a date in 1970, not the absence of exp") {
  CHECK(error_of(token_with(R"({"exp":0})")) == TokenError::kExpired);
  CHECK(error_of(token_with(R"({"exp":-1})")) == TokenError::kExpired);
}

TEST_CASE("fractional NumericDates are rounded to the strict side") {
  // exp rounds down, nbf up.
  CHECK(error_of(token_with("{\"exp\":" + std::to_string(kNow - 30) + ".5}")) ==
        TokenError::kExpired);
  CHECK(error_of(token_with("{\"exp\":" + std::to_string(kNow - 29) + ".5}")) == TokenError::kNone);
  CHECK(error_of(token_with("{\"nbf\":" + std::to_string(kNow + 30) + ".5}")) ==
        TokenError::kNotYetValid);
  CHECK(error_of(token_with("{\"nbf\":" + std::to_string(kNow + 29) + ".5}")) == TokenError::kNone);
  TokenResult result = verify_token(token_with(R"({"exp":2e9})"), kSecret, kNow);
  REQUIRE(result.ok());
  CHECK(result.claims.exp == 2000000000);
}

TEST_CASE("NumericDates beyond 64 bits are clamped, not wrapped") {
  TokenResult far = verify_token(token_with(R"({"exp":18446744073709551615})"), kSecret, kNow);
  REQUIRE(far.ok());
  CHECK(far.claims.exp == INT64_MAX);
  CHECK(error_of(token_with(R"({"exp":9223372036854775807})")) == TokenError::kNone);
  CHECK(error_of(token_with(R"({"exp":1e300})")) == TokenError::kNone);
  CHECK(error_of(token_with(R"({"exp":-1e300})")) == TokenError::kExpired);
  CHECK(error_of(token_with(R"({"exp":-9223372036854775808})")) == TokenError::kExpired);
  CHECK(error_of(token_with(R"({"nbf":1e300})")) == TokenError::kNotYetValid);
  CHECK(error_of(token_with(R"({"nbf":-1e300})")) == TokenError::kNone);
  CHECK(error_of(token_with(R"({"nbf":9223372036854775807})")) == TokenError::kNotYetValid);
  // A clock at the end of time does not overflow either.
  CHECK(error_of(token_with(R"({"nbf":9223372036854775807})"), INT64_MAX) == TokenError::kNone);
  CHECK(error_of(token_with(R"({"exp":9223372036854775807})"), INT64_MAX) == TokenError::kExpired);
  CHECK(error_of(token_with(R"({"exp":-9223372036854775808})"), INT64_MIN) == TokenError::kNone);
}

TEST_CASE("a token without exactly three segments is malformed") {
  std::string h = b64url(kHeader), p = b64url("{}");
  std::string valid = token_with("{}");
  std::string s = valid.substr(valid.rfind('.') + 1);
  for (const std::string& token :
       {std::string(""), std::string("abc"), h, h + "." + p, h + "." + p + "." + s + "." + s,
        h + "." + p + "." + s + ".", h + "." + p + "." + s + "." + p + "." + s,
        "." + h + "." + p + "." + s}) {
    INFO("token " << token);
    TokenResult result = verify_token(token, kSecret, kNow);
    CHECK(result.error == TokenError::kMalformed);
    CHECK_FALSE(result.message.empty());
  }
}

TEST_CASE("a token with an empty segment is malformed") {
  std::string valid = token_with("{}");
  size_t first = valid.find('.'), second = valid.rfind('.');
  std::string h = valid.substr(0, first);
  std::string p = valid.substr(first + 1, second - first - 1);
  std::string s = valid.substr(second + 1);
  for (const std::string& token : {"." + p + "." + s, h + ".." + s, h + "." + p + ".",
                                   std::string(".."), std::string("."), sign_segments("", "")}) {
    INFO("token " << token);
    CHECK(error_of(token) == TokenError::kMalformed);
  }
}

TEST_CASE("base64url with padding, the standard alphabet or stray bytes is malformed") {
  // Each of these is correctly signed over its segments as written, so only
  // the encoding can be at fault.
  std::string h = b64url(kHeader);  // 36 characters: no padding would be needed
  std::string p = b64url(R"({"a":1})");
  REQUIRE(p.size() % 4 != 0);  // padding would be needed
  for (const std::string& token :
       {sign_segments(h, p + "="), sign_segments(h, p + "=="), sign_segments(h + "=", p),
        sign_segments(h, "e30="), sign_segments(h, p + " "), sign_segments(" " + h, p),
        sign_segments(h, p + "\n"), sign_segments(h, "e3\r\n0"), sign_segments(h, "e3%30"),
        sign_segments(h, "e3+0"), sign_segments(h, "e3/0"),
        sign_segments(h,
                      "e3\x80"
                      "0"),
        sign_segments(h, std::string("e3\0"
                                     "0",
                                     4)),
        sign_segments(h, "e31"), sign_segments(h, "e30AAAAAA")}) {
    INFO("token " << token);
    CHECK(error_of(token) == TokenError::kMalformed);
  }
  CHECK(error_of(sign_segments(h, "e30")) == TokenError::kNone);  // "{}", for contrast
}

TEST_CASE(
    "a padded or re-spelled signature is malformed even though it decodes to the right bytes") {
  std::string token = token_with("{}");
  CHECK(error_of(token) == TokenError::kNone);
  CHECK(error_of(token + "=") == TokenError::kMalformed);
  // 45 digits: the last one alone cannot make a byte.
  CHECK(error_of(token + "AA") == TokenError::kMalformed);
  // 32 bytes take 43 digits; the last one carries 2 unused bits, which must be 0.
  REQUIRE(token.size() - token.rfind('.') - 1 == 43);
  std::string respelled = token;
  char& last = respelled.back();
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t value = alphabet.find(last);
  REQUIRE(value % 4 == 0);
  last = alphabet[value + 1];
  CHECK(error_of(respelled) == TokenError::kMalformed);
  // Standard base64 in place of base64url, where the signature has + or /.
  std::string standard = token;
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != token) CHECK(error_of(standard) == TokenError::kMalformed);
}

TEST_CASE("an embedded NUL anywhere is malformed") {
  std::string valid = token_with("{}");
  for (size_t at : {size_t{0}, size_t{5}, valid.find('.'), valid.find('.') + 2, valid.size() - 1,
                    valid.size()}) {
    std::string token = valid;
    token.insert(at, 1, '\0');
    INFO("NUL at " << at);
    CHECK(error_of(token) == TokenError::kMalformed);
  }
  // A raw NUL inside the JSON of a correctly signed token.
  CHECK(error_of(sign(std::string(R"({"alg":"HS256"})") + std::string(1, '\0'), "{}")) ==
        TokenError::kMalformed);
  CHECK(error_of(token_with(std::string("{\"sub\":\"a\0b\"}", 13))) == TokenError::kMalformed);
}

TEST_CASE("a header that is not a JSON object is malformed") {
  for (const char* header : {"not json", "", "[]", R"(["alg","HS256"])", R"("HS256")", "null", "42",
                             "{", R"({"alg":"HS256"} {})", R"({"alg":"HS256",})",
                             R"({'alg':'HS256'})", "\xef\xbb\xbf{\"alg\":\"HS256\"}"}) {
    INFO("header " << header);
    CHECK(error_of(sign(header, "{}")) == TokenError::kMalformed);
  }
}

TEST_CASE("a payload that is not a JSON object is malformed") {
  for (const char* payload : {"not json", "[]", R"([{"sse":{"subscribe":["*"]}}])", R"("*")",
                              "true", "{", R"({"sse":{}} x)", "{\"sub\":\"\xff\"}"}) {
    INFO("payload " << payload);
    CHECK(error_of(token_with(payload)) == TokenError::kMalformed);
  }
}

TEST_CASE("claims of the wrong type are malformed") {
  for (const char* payload :
       {R"({"sse":["*"]})", R"({"sse":"*"})", R"({"sse":null})", R"({"mercure":1})",
        R"({"sse":{"subscribe":"*"}})", R"({"sse":{"subscribe":[1]}})",
        R"({"sse":{"subscribe":["a",null]}})", R"({"sse":{"publish":[["a"]]}})",
        R"({"sse":{"publish":{"a":1}}})", R"({"mercure":{"publish":[true]}})",
        R"({"exp":"2000000000"})", R"({"exp":null})", R"({"exp":true})", R"({"nbf":[1]})",
        R"({"nbf":{}})"}) {
    INFO("payload " << payload);
    TokenResult result = verify_token(token_with(payload), kSecret, kNow);
    CHECK(result.error == TokenError::kMalformed);
    CHECK(result.claims.subscribe.empty());
  }
}

TEST_CASE("a repeated claim is malformed") {
  for (const char* payload :
       {R"({"sse":{},"sse":{"subscribe":["*"]}})", R"({"exp":1,"exp":2000000000})",
        R"({"nbf":1,"nbf":1})", R"({"mercure":{},"mercure":{}})",
        R"({"sse":{"subscribe":["a"],"subscribe":["*"]}})",
        R"({"mercure":{"publish":[],"publish":[]}})"}) {
    INFO("payload " << payload);
    CHECK(error_of(token_with(payload)) == TokenError::kMalformed);
  }
}

TEST_CASE("claims nested deeper than any real token are malformed") {
  std::string deep = R"({"other":)" + std::string(100, '[') + std::string(100, ']') + "}";
  CHECK(error_of(token_with(deep)) == TokenError::kMalformed);
  CHECK(error_of(token_with(R"({"other":[[[[1]]]]})")) == TokenError::kNone);
}

TEST_CASE("a token of 8 KiB is read and one a byte longer is oversized") {
  REQUIRE(sse::kMaxTokenBytes == 8192);
  auto padded = [](size_t pad) {
    return token_with(R"({"sse":{"subscribe":["*"]},"pad":")" + std::string(pad, 'x') + "\"}");
  };
  std::string at_limit, over_limit;
  for (size_t pad = 5900; pad < 6200 && (at_limit.empty() || over_limit.empty()); ++pad) {
    std::string token = padded(pad);
    if (token.size() == sse::kMaxTokenBytes) at_limit = token;
    if (token.size() == sse::kMaxTokenBytes + 1) over_limit = token;
  }
  // Base64url lengths skip one value in four; if 8193 is skipped, a byte
  // more in the header does (the size is checked before anything else).
  if (over_limit.empty()) over_limit = at_limit.substr(0, 37) + "A" + at_limit.substr(37);
  REQUIRE(at_limit.size() == sse::kMaxTokenBytes);
  REQUIRE(over_limit.size() == sse::kMaxTokenBytes + 1);
  CHECK(error_of(at_limit) == TokenError::kNone);
  TokenResult result = verify_token(over_limit, kSecret, kNow);
  CHECK(result.error == TokenError::kOversized);
  CHECK(result.message == "the token is longer than 8 KiB");
  CHECK(error_of(std::string(1 << 20, 'A')) == TokenError::kOversized);
  CHECK(error_of(padded(100000)) == TokenError::kOversized);
}

TEST_CASE("every error has a name and a message") {
  CHECK(sse::token_error_name(TokenError::kNone) == "none");
  CHECK(sse::token_error_name(TokenError::kOversized) == "oversized");
  CHECK(sse::token_error_name(TokenError::kMalformed) == "malformed");
  CHECK(sse::token_error_name(TokenError::kWrongAlg) == "wrong_alg");
  CHECK(sse::token_error_name(TokenError::kBadSignature) == "bad_signature");
  CHECK(sse::token_error_name(TokenError::kExpired) == "expired");
  CHECK(sse::token_error_name(TokenError::kNotYetValid) == "not_yet_valid");
  for (const std::string& token :
       {std::string(9000, 'a'), std::string("a.b"), sign(R"({"alg":"none"})", "{}"),
        sign(kHeader, "{}", "other"), token_with(exp_payload(1)),
        token_with(nbf_payload(INT64_MAX))}) {
    TokenResult result = verify_token(token, kSecret, kNow);
    CHECK_FALSE(result.ok());
    CHECK_FALSE(result.message.empty());
  }
}

TEST_CASE("covers matches a name exactly") {
  Patterns patterns{"user.42", "broadcast"};
  CHECK(sse::covers(patterns, "user.42"));
  CHECK(sse::covers(patterns, "broadcast"));
  CHECK_FALSE(sse::covers(patterns, "user.4"));
  CHECK_FALSE(sse::covers(patterns, "user.420"));
  CHECK_FALSE(sse::covers(patterns, "User.42"));
  CHECK_FALSE(sse::covers(patterns, "broadcasts"));
  CHECK_FALSE(sse::covers(patterns, ""));
}

TEST_CASE("covers matches NAME* as a prefix, NAME included") {
  Patterns patterns{"user.42.*", "room*"};
  CHECK(sse::covers(patterns, "user.42.inbox"));
  CHECK(sse::covers(patterns, "user.42."));
  CHECK_FALSE(sse::covers(patterns, "user.42"));
  CHECK_FALSE(sse::covers(patterns, "user.420.inbox"));
  CHECK(sse::covers(patterns, "room"));
  CHECK(sse::covers(patterns, "rooms"));
  CHECK(sse::covers(patterns, "room.1"));
  CHECK_FALSE(sse::covers(patterns, "roo"));
  CHECK_FALSE(sse::covers(patterns, "broom"));
}

TEST_CASE("covers lets * alone cover every topic") {
  CHECK(sse::covers({"*"}, "main"));
  CHECK(sse::covers({"*"}, "user.42"));
  CHECK(sse::covers({"nothing", "*"}, "a"));
}

TEST_CASE("covers treats a * before the end as an ordinary character") {
  CHECK_FALSE(sse::covers({"user.*.inbox"}, "user.42.inbox"));
  CHECK(sse::covers({"user.*.inbox"}, "user.*.inbox"));
  CHECK_FALSE(sse::covers({"**"}, "main"));
}

TEST_CASE("covers with an empty list or empty patterns covers nothing") {
  CHECK_FALSE(sse::covers({}, "main"));
  CHECK_FALSE(sse::covers({}, ""));
  CHECK_FALSE(sse::covers({""}, "main"));
}
