// test_topic_access.cpp — where a stream's token comes from and whether it
// may read its topics (src/server/topic_access.cpp, SPEC "Private topics").
//
// Requests are made by the real RequestParser from request text, as in
// test_stream_handler.cpp, so the functions see the same string_views a
// connection hands over; the query token comes from parse_stream_request.
// Tokens are signed here with OpenSSL's HMAC (the helper of
// tests/unit/auth/test_jwt.cpp), never by the code under test. Every test
// case name contains "token", so `-tc='*token*'` runs them.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sse/auth/jwt.h"
#include "sse/http/http_parser.h"
#include "sse/server/config.h"
#include "sse/server/stream_handler.h"
#include "sse/server/topic_access.h"
#include "../auth/token_signing.h"

using sse::ParseResult;
using sse::Request;
using sse::StreamAccess;
using test_tokens::b64url;

namespace {

constexpr std::string_view kSecret = "s3cret";
constexpr int64_t kNow = 1700000000;  // 2023-11-14
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::string hmac(const EVP_MD* md, std::string_view input, std::string_view key) {
  std::string mac = test_tokens::hmac(md, input, key);
  REQUIRE(!mac.empty());
  return mac;
}

std::string sign(std::string_view header_json, std::string_view payload_json,
                 std::string_view key = kSecret, const EVP_MD* md = EVP_sha256()) {
  std::string input = b64url(header_json) + "." + b64url(payload_json);
  return input + "." + b64url(hmac(md, input, key));
}

std::string subscribe_token(std::string_view list_json, std::string_view extra = "",
                            std::string_view key = kSecret) {
  return sign(kHeader,
              "{\"sse\":{\"subscribe\":" + std::string(list_json) + "}" + std::string(extra) + "}",
              key);
}

// A parsed request and the text its views point into (kept in place: the
// object is never moved).
struct ParsedRequest {
  std::string text;
  Request request;
  sse::StreamRequest stream;  // topics and ?access_token=, as the handler reads them
};

std::unique_ptr<ParsedRequest> parse(const std::string& target, const std::string& header_lines) {
  auto parsed = std::make_unique<ParsedRequest>();
  parsed->text = "GET " + target + " HTTP/1.1\r\nHost: h\r\n" + header_lines + "\r\n";
  sse::RequestParser parser;
  ParseResult result = parser.parse(parsed->text.data(), parsed->text.size(), parsed->request);
  REQUIRE(result.kind == ParseResult::Kind::kComplete);
  parsed->stream = sse::parse_stream_request(parsed->request);
  REQUIRE(parsed->stream.status == 200);
  return parsed;
}

std::string cookie_of(const std::string& header_lines, std::string_view name = "sse_token") {
  auto parsed = parse("/sse", header_lines);
  return std::string(sse::find_cookie(parsed->request, name));
}

std::string bearer_of(const std::string& header_lines) {
  auto parsed = parse("/sse", header_lines);
  return std::string(sse::bearer_token(parsed->request));
}

std::string token_of(const std::string& target, const std::string& header_lines) {
  auto parsed = parse(target, header_lines);
  return std::string(sse::request_token(parsed->request, parsed->stream.access_token));
}

sse::Config private_config(std::vector<std::string> patterns) {
  sse::Config config;
  config.jwt_secret = std::string(kSecret);
  config.private_topics = std::move(patterns);
  return config;
}

StreamAccess access_of(const std::string& target, const std::string& header_lines,
                       const sse::Config& config, int64_t now = kNow) {
  auto parsed = parse(target, header_lines);
  return sse::check_stream_access(parsed->request, parsed->stream.topics,
                                  parsed->stream.access_token, config, now);
}

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

}  // namespace

// ------------------------------------------------------------- find_cookie

TEST_CASE("token cookie: find_cookie reads sse_token alone or among other cookies") {
  CHECK(cookie_of("Cookie: sse_token=abc\r\n") == "abc");
  CHECK(cookie_of("Cookie: a=1; sse_token=abc; b=2\r\n") == "abc");
  CHECK(cookie_of("Cookie: a=1;sse_token=abc\r\n") == "abc");
  CHECK(cookie_of("Cookie: a=1;\tsse_token=abc\r\n") == "abc");
  CHECK(cookie_of("Cookie: a=1; sse_token=abc  \r\n") == "abc");
  CHECK(cookie_of("Cookie: sse_token=a.b.c; z=9\r\n") == "a.b.c");
  // A value may itself contain '=' (base64 padding); only the first splits.
  CHECK(cookie_of("Cookie: sse_token=ab==\r\n") == "ab==");
  // RFC 6265 §4.1.1 allows a value in double quotes.
  CHECK(cookie_of("Cookie: sse_token=\"abc\"\r\n") == "abc");
}

TEST_CASE("token cookie: find_cookie looks in every Cookie header and matches names exactly") {
  CHECK(cookie_of("Cookie: a=1\r\ncookie: sse_token=second\r\n") == "second");
  CHECK(cookie_of("Cookie: xsse_token=no; sse_token_old=no\r\n").empty());
  CHECK(cookie_of("Cookie: SSE_TOKEN=no\r\n").empty());  // cookie names are case-sensitive
  CHECK(cookie_of("Cookie: sse_token\r\n").empty());      // no '='
  CHECK(cookie_of("Cookie: sse_token=\r\n").empty());
  CHECK(cookie_of("Cookie: ;;; ; =\r\n").empty());
  CHECK(cookie_of("X-Cookie: sse_token=no\r\n").empty());
  CHECK(cookie_of("").empty());
  CHECK(cookie_of("Cookie: lang=en; theme=dark\r\n", "theme") == "dark");
}

// ------------------------------------------------------------ bearer_token

TEST_CASE("token bearer: bearer_token reads an Authorization Bearer header") {
  CHECK(bearer_of("Authorization: Bearer a.b.c\r\n") == "a.b.c");
  CHECK(bearer_of("authorization: bearer a.b.c\r\n") == "a.b.c");  // the scheme is case-insensitive
  CHECK(bearer_of("Authorization: BEARER a.b.c\r\n") == "a.b.c");
  CHECK(bearer_of("Authorization: Bearer a.b.c  \r\n") == "a.b.c");
}

TEST_CASE("token bearer: bearer_token ignores other schemes and empty credentials") {
  CHECK(bearer_of("").empty());
  CHECK(bearer_of("Authorization: Basic YTpi\r\n").empty());
  CHECK(bearer_of("Authorization: Bearer\r\n").empty());
  CHECK(bearer_of("Authorization: Bearer \r\n").empty());
  CHECK(bearer_of("Authorization: Bearerabc\r\n").empty());
  CHECK(bearer_of("Authorization: a.b.c\r\n").empty());
  CHECK(bearer_of("Proxy-Authorization: Bearer a.b.c\r\n").empty());
}

TEST_CASE("token bearer: more than one space after Bearer is allowed (RFC 6750 2.1: 1*SP)") {
  // credentials = "Bearer" 1*SP b64token: the spaces are not part of the token.
  // Brackets show a leading space in the failure message.
  CHECK("[" + bearer_of("Authorization: Bearer  a.b.c\r\n") + "]" == "[a.b.c]");
}

// ----------------------------------------------------------- request_token

TEST_CASE("token source: request_token prefers the cookie then the header then the query") {
  const std::string all = "Cookie: sse_token=from-cookie\r\n" + bearer("from-header");
  CHECK(token_of("/sse?access_token=from-query", all) == "from-cookie");
  CHECK(token_of("/sse?access_token=from-query", bearer("from-header")) == "from-header");
  CHECK(token_of("/sse?access_token=from-query", "") == "from-query");
  CHECK(token_of("/sse?access_token=from-query", "Cookie: other=1\r\n") == "from-query");
  CHECK(token_of("/sse", "").empty());
  // An empty cookie or header falls through to the next place.
  CHECK(token_of("/sse?access_token=q", "Cookie: sse_token=\r\nAuthorization: Bearer\r\n") == "q");
  // The query token arrives percent-decoded.
  CHECK(token_of("/sse?access_token=a%2Eb.c", "") == "a.b.c");
}

// ----------------------------------------------------- check_stream_access

TEST_CASE("token access: without --private or for public topics no token is needed") {
  sse::Config open;
  open.jwt_secret = std::string(kSecret);
  CHECK(access_of("/sse?topic=user.1", "", open).status == 0);
  sse::Config config = private_config({"user.*", "admin"});
  CHECK(access_of("/sse", "", config).status == 0);
  CHECK(access_of("/sse?topic=news&topic=admins&topic=usr.1", "", config).status == 0);
  // Not even a bad token on a public topic is looked at.
  StreamAccess garbage = access_of("/sse?topic=news", bearer("garbage"), config);
  CHECK(garbage.status == 0);
  CHECK(garbage.expires_s == 0);
}

TEST_CASE("token access: a private topic without a token is 401") {
  sse::Config config = private_config({"user.*", "admin"});
  for (const char* target : {"/sse?topic=user.1", "/sse?topic=admin", "/sse?topic=user.",
                             "/sse?topic=news&topic=user.1"}) {
    CAPTURE(target);
    StreamAccess access = access_of(target, "", config);
    CHECK(access.status == 401);
    CHECK_FALSE(access.error.empty());
  }
}

TEST_CASE("token access: a valid token from each place opens its private topics") {
  sse::Config config = private_config({"user.*"});
  std::string token = subscribe_token(R"(["user.1"])");
  CHECK(access_of("/sse?topic=user.1", "Cookie: sse_token=" + token + "\r\n", config).status == 0);
  CHECK(access_of("/sse?topic=user.1", bearer(token), config).status == 0);
  CHECK(access_of("/sse?topic=user.1&access_token=" + token, "", config).status == 0);
  // Public topics beside the private one need nothing more.
  CHECK(access_of("/sse?topic=news&topic=user.1", bearer(token), config).status == 0);
}

TEST_CASE("token access: bad tokens are 401 with the reason and never echo the token") {
  sse::Config config = private_config({"user.*"});
  const std::string payload = R"({"sse":{"subscribe":["user.1"]}})";
  std::string good = subscribe_token(R"(["user.1"])");
  std::string forged = good.substr(0, good.find('.') + 1) + b64url(R"({"sse":{"subscribe":["*"]}})") +
                       good.substr(good.rfind('.'));
  struct Case {
    const char* name;
    std::string token;
  } cases[] = {
      {"forged payload", forged},
      {"wrong key", subscribe_token(R"(["user.1"])", "", "other")},
      {"alg none", b64url(R"({"alg":"none"})") + "." + b64url(payload) + "."},
      {"alg none with an HS256 signature", sign(R"({"alg":"none"})", payload)},
      {"alg HS512", sign(R"({"alg":"HS512"})", payload, kSecret, EVP_sha512())},
      {"expired", subscribe_token(R"(["user.1"])", ",\"exp\":" + std::to_string(kNow - 31))},
      {"not yet valid", subscribe_token(R"(["user.1"])", ",\"nbf\":" + std::to_string(kNow + 31))},
      {"garbage", "zzzzzzzzzzzz.yyyyyyyyyyy.xxxxxxxxxxxxx"},
      {"oversized", std::string(sse::kMaxTokenBytes + 1, 'A')},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    StreamAccess access = access_of("/sse?topic=user.1", bearer(c.token), config);
    CHECK(access.status == 401);
    CHECK(access.error.find("invalid token") == 0);
    CHECK(access.error.find(c.token.substr(0, 10)) == std::string::npos);
  }
  // An empty secret (the configuration refuses it; defence in depth) verifies nothing.
  sse::Config no_secret = private_config({"user.*"});
  no_secret.jwt_secret.clear();
  CHECK(access_of("/sse?topic=user.1", bearer(good), no_secret).status == 401);
}

TEST_CASE("token access: the 30 s leeway applies to exp and nbf at the given now") {
  sse::Config config = private_config({"user.*"});
  std::string expiring = subscribe_token(R"(["user.1"])", ",\"exp\":" + std::to_string(kNow));
  CHECK(access_of("/sse?topic=user.1", bearer(expiring), config, kNow + 29).status == 0);
  CHECK(access_of("/sse?topic=user.1", bearer(expiring), config, kNow + 30).status == 401);
  std::string later = subscribe_token(R"(["user.1"])", ",\"nbf\":" + std::to_string(kNow));
  CHECK(access_of("/sse?topic=user.1", bearer(later), config, kNow - 30).status == 0);
  CHECK(access_of("/sse?topic=user.1", bearer(later), config, kNow - 31).status == 401);
}

TEST_CASE("token access: expires_s is exp plus the leeway, 0 without exp") {
  sse::Config config = private_config({"user.*"});
  std::string with_exp =
      subscribe_token(R"(["user.1"])", ",\"exp\":" + std::to_string(kNow + 100));
  StreamAccess access = access_of("/sse?topic=user.1", bearer(with_exp), config);
  CHECK(access.status == 0);
  CHECK(access.expires_s == kNow + 100 + sse::kTokenLeewaySeconds);
  StreamAccess forever =
      access_of("/sse?topic=user.1", bearer(subscribe_token(R"(["user.1"])")), config);
  CHECK(forever.status == 0);
  CHECK(forever.expires_s == 0);
}

TEST_CASE("token access: a topic outside the subscribe claim is 403 naming it") {
  sse::Config config = private_config({"user.*", "team.*"});
  std::string token = subscribe_token(R"(["user.1","team.a*"])");
  StreamAccess outside = access_of("/sse?topic=user.2", bearer(token), config);
  CHECK(outside.status == 403);
  CHECK(outside.error.find("'user.2'") != std::string::npos);
  CHECK(outside.expires_s == 0);
  // One uncovered topic among covered ones refuses the whole stream.
  StreamAccess mixed =
      access_of("/sse?topic=user.1&topic=team.ab&topic=team.b&topic=news", bearer(token), config);
  CHECK(mixed.status == 403);
  CHECK(mixed.error.find("'team.b'") != std::string::npos);
  CHECK(access_of("/sse?topic=user.1&topic=team.ab&topic=news", bearer(token), config).status ==
        0);
  // A token with no subscribe claim reads no private topic.
  CHECK(access_of("/sse?topic=user.1", bearer(sign(kHeader, "{}")), config).status == 403);
  // A publish claim does not grant reading.
  CHECK(access_of("/sse?topic=user.1",
                  bearer(sign(kHeader, R"({"sse":{"publish":["user.1"]}})")), config)
            .status == 403);
}

TEST_CASE("token access: Mercure's claim shape and * are accepted") {
  sse::Config config = private_config({"*"});
  CHECK(access_of("/sse", "", config).status == 401);  // main is private too
  std::string mercure = sign(kHeader, R"({"mercure":{"subscribe":["user.1"]}})");
  CHECK(access_of("/sse?topic=user.1", bearer(mercure), config).status == 0);
  CHECK(access_of("/sse?topic=user.2", bearer(mercure), config).status == 403);
  std::string everything = subscribe_token(R"(["*"])");
  CHECK(access_of("/sse?topic=a&topic=b&topic=main", bearer(everything), config).status == 0);
}
