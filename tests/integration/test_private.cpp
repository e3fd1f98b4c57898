// test_private.cpp — private topics (SPEC "Private topics"): --jwt-secret and
// --private against the real binary. A private topic is read only with an
// HS256 token whose `subscribe` claim covers it, taken from the cookie
// `sse_token`, `Authorization: Bearer` or `?access_token=`; anything else is
// refused before a single stream byte (401 + WWW-Authenticate: Bearer, or
// 403), a stream ends with a comment and a FIN when its token expires, and
// a token's `publish` claim bounds what its holder may publish.
//
// Tokens are made here, never by the server's code: the HMAC comes from the
// `openssl` command (this binary does not link libcrypto), base64url is
// done by hand. Every test case name contains "private", so
// `-tc='*private*'` runs exactly these.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.h"

namespace {

const std::string kSecret = "s3cret-for-tests";

// Seconds since the epoch, as the server's wall clock sees them.
long long now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Base64url without padding (RFC 4648 §5).
std::string b64url(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool shell_safe(const std::string& text) {
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// HMAC of `input` under `key` by the openssl command; `digest` "sha256" or
// "sha512". Input and key are restricted to characters a shell leaves alone.
std::string openssl_hmac(const std::string& digest, const std::string& input,
                         const std::string& key) {
  REQUIRE(shell_safe(input));
  REQUIRE(shell_safe(key));
  std::string command = "printf '%s' '" + input + "' | openssl dgst -" + digest + " -hmac '" +
                        key + "' -binary";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string mac;
  char chunk[256];
  size_t n = 0;
  while ((n = fread(chunk, 1, sizeof chunk, pipe)) > 0) mac.append(chunk, n);
  int status = pclose(pipe);
  REQUIRE(status == 0);
  REQUIRE(mac.size() == (digest == "sha256" ? 32u : 64u));
  return mac;
}

std::string sign_with(const std::string& header_json, const std::string& payload_json,
                      const std::string& key = kSecret, const std::string& digest = "sha256") {
  std::string input = b64url(header_json) + "." + b64url(payload_json);
  return input + "." + b64url(openssl_hmac(digest, input, key));
}

const std::string kHs256 = R"({"alg":"HS256","typ":"JWT"})";

// A token with {"sse":{"subscribe":[...],"publish":[...]}} plus `extra`
// claims (",\"exp\":123" and the like).
std::string quoted_list(const std::vector<std::string>& items) {
  std::string list = "[";
  for (size_t i = 0; i < items.size(); ++i) list += (i ? ",\"" : "\"") + items[i] + "\"";
  return list + "]";
}

std::string token(const std::vector<std::string>& subscribe,
                  const std::vector<std::string>& publish = {}, const std::string& extra = "",
                  const std::string& key = kSecret) {
  std::string payload = R"({"sub":"42","sse":{"subscribe":)" + quoted_list(subscribe) +
                        R"(,"publish":)" + quoted_list(publish) + "}" + extra + "}";
  return sign_with(kHs256, payload, key);
}

std::string exp_claim(long long exp) { return ",\"exp\":" + std::to_string(exp); }
std::string nbf_claim(long long nbf) { return ",\"nbf\":" + std::to_string(nbf); }

std::string bearer(const std::string& jwt) { return "Authorization: Bearer " + jwt + "\r\n"; }
std::string cookie(const std::string& jwt) { return "Cookie: sse_token=" + jwt + "\r\n"; }

// A stream request answered with something other than a stream: the whole
// answer, read to the close.
HttpResponse get(int port, const std::string& target, const std::string& headers = "") {
  return http_raw(port, "GET " + target +
                            " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + headers +
                            "Connection: close\r\n\r\n");
}

// The refusal's shape: status, a JSON {"error": "..."} body, nothing of a
// stream, and WWW-Authenticate: Bearer on a 401.
void check_refused(const HttpResponse& response, int status) {
  CHECK(response.status == status);
  CHECK(response.header("content-type").find("application/json") == 0);
  CHECK(response.header("content-type").find("event-stream") == std::string::npos);
  CHECK(response.body.find("{\"error\":\"") == 0);
  CHECK(response.body.find("retry:") == std::string::npos);
  CHECK(response.body.find("data:") == std::string::npos);
  if (status == 401) {
    CHECK(response.header("www-authenticate") == "Bearer");
  }
}

// Publishes `json` on the loopback (no token: allowed without
// --publish-token) and expects a 202.
void publish_ok(int port, const std::string& json, const std::string& headers = "") {
  HttpResponse response = publish(port, json, headers);
  INFO("publish " << json << " -> " << response.status << " " << response.body);
  REQUIRE(response.status == 202);
}

bool gets_event(SseStream& stream, const std::string& data) {
  return stream.wait_for(
      [&data](const SseParser& p) {
        for (const SseEvent& e : p.events) {
          if (e.data == data) return true;
        }
        return false;
      },
      after_ms(5000));
}

std::vector<std::string> private_server(std::vector<std::string> patterns,
                                        std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--tick-ms", "0", "--jwt-secret", kSecret};
  for (const std::string& p : patterns) {
    args.push_back("--private");
    args.push_back(p);
  }
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace

TEST_CASE("private: a valid token as cookie sse_token or Bearer header or ?access_token= reads") {
  ServerProcess server(private_server({"user.*"}));
  std::string jwt = token({"user.42"}, {}, exp_claim(now_s() + 3600));
  SseStream by_cookie(server.port(), "/sse?topic=user.42", cookie(jwt));
  SseStream by_cookie_among_others(server.port(), "/sse?topic=user.42",
                                   "Cookie: theme=dark; sse_token=" + jwt + "; lang=en\r\n");
  SseStream by_header(server.port(), "/sse?topic=user.42", bearer(jwt));
  SseStream by_query(server.port(), "/sse?topic=user.42&access_token=" + jwt);
  std::vector<SseStream*> streams = {&by_cookie, &by_cookie_among_others, &by_header, &by_query};
  for (SseStream* stream : streams) {
    REQUIRE(stream->head.status == 200);
    CHECK(stream->head.header("content-type") == "text/event-stream");
  }
  REQUIRE(wait_stat_equal(server.port(), "subscribers", 4, after_ms(5000)));
  publish_ok(server.port(), R"({"topic":"user.42","data":"for 42"})");
  for (SseStream* stream : streams) CHECK(gets_event(*stream, "for 42"));
}

TEST_CASE("private: no token gets 401 with WWW-Authenticate Bearer and a JSON error") {
  ServerProcess server(private_server({"user.*"}));
  check_refused(get(server.port(), "/sse?topic=user.42"), 401);
  // Empty carriers are no token either.
  check_refused(get(server.port(), "/sse?topic=user.42", "Cookie: sse_token=\r\n"), 401);
  check_refused(get(server.port(), "/sse?topic=user.42&access_token="), 401);
  check_refused(get(server.port(), "/sse?topic=user.42", "Authorization: Bearer\r\n"), 401);
  // Another scheme, or the token under another cookie name, is not a bearer token.
  std::string jwt = token({"user.42"});
  check_refused(get(server.port(), "/sse?topic=user.42", "Authorization: Basic " + jwt + "\r\n"),
                401);
  check_refused(get(server.port(), "/sse?topic=user.42", "Cookie: token=" + jwt + "\r\n"), 401);
  // HEAD is refused the same way, without a body.
  HttpResponse head = http_raw(
      server.port(), "HEAD /sse?topic=user.42 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      true);
  CHECK(head.status == 401);
  CHECK(head.header("www-authenticate") == "Bearer");
  CHECK(json_number(stats(server.port()), "streams_refused") >= 7);
  CHECK(json_number(stats(server.port()), "subscribers") == 0);
}

TEST_CASE("private: forged or wrongly signed or badly timed tokens get 401 in every place") {
  ServerProcess server(private_server({"user.*"}));
  const std::string payload = R"({"sse":{"subscribe":["user.42"]}})";
  const std::string good = token({"user.42"});
  std::string forged_payload = good.substr(0, good.find('.') + 1) +
                               b64url(R"({"sse":{"subscribe":["*"]}})") +
                               good.substr(good.rfind('.'));
  std::string flipped = good;
  char& last = flipped[flipped.size() - 3];
  last = last == 'A' ? 'B' : 'A';
  std::string none_header = b64url(R"({"alg":"none","typ":"JWT"})");
  struct Case {
    const char* name;
    std::string jwt;
  } cases[] = {
      {"forged signature (one character changed)", flipped},
      {"forged payload under another token's signature", forged_payload},
      {"alg none, unsigned", none_header + "." + b64url(payload) + "."},
      {"alg none, no third segment", none_header + "." + b64url(payload)},
      {"alg none over a valid HS256 signature",
       sign_with(R"({"alg":"none","typ":"JWT"})", payload)},
      {"alg HS512 really signed with HMAC-SHA512",
       sign_with(R"({"alg":"HS512","typ":"JWT"})", payload, kSecret, "sha512")},
      {"alg HS512 over an HMAC-SHA256 signature",
       sign_with(R"({"alg":"HS512","typ":"JWT"})", payload)},
      {"wrong key", token({"user.42"}, {}, "", "another-secret")},
      {"key differing in case", token({"user.42"}, {}, "S3cret-for-tests")},
      {"expired an hour ago", token({"user.42"}, {}, exp_claim(now_s() - 3600))},
      {"expired beyond the 30 s leeway", token({"user.42"}, {}, exp_claim(now_s() - 45))},
      {"not yet valid for an hour", token({"user.42"}, {}, nbf_claim(now_s() + 3600))},
      {"not yet valid beyond the 30 s leeway", token({"user.42"}, {}, nbf_claim(now_s() + 45))},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    HttpResponse by_cookie = get(server.port(), "/sse?topic=user.42", cookie(c.jwt));
    check_refused(by_cookie, 401);
    check_refused(get(server.port(), "/sse?topic=user.42", bearer(c.jwt)), 401);
    check_refused(get(server.port(), "/sse?topic=user.42&access_token=" + c.jwt), 401);
    // The answer never echoes the token.
    CHECK(by_cookie.body.find(c.jwt.substr(c.jwt.find('.') + 1, 12)) == std::string::npos);
  }
  CHECK(json_number(stats(server.port()), "subscribers") == 0);
  // The same server still lets the good token in.
  SseStream stream(server.port(), "/sse?topic=user.42", bearer(good));
  CHECK(stream.head.status == 200);
}

TEST_CASE("private: exp and nbf are honoured with a leeway of 30 s") {
  ServerProcess server(private_server({"user.*"}));
  // Ten seconds past exp, ten seconds before nbf: inside the leeway.
  SseStream late(server.port(), "/sse?topic=user.42",
                 bearer(token({"user.42"}, {}, exp_claim(now_s() - 10))));
  SseStream early(server.port(), "/sse?topic=user.42",
                  bearer(token({"user.42"}, {}, nbf_claim(now_s() + 10))));
  SseStream window(server.port(), "/sse?topic=user.42",
                   bearer(token({"user.42"}, {}, nbf_claim(now_s() - 60) + exp_claim(now_s() + 60))));
  CHECK(late.head.status == 200);
  CHECK(early.head.status == 200);
  CHECK(window.head.status == 200);
}

TEST_CASE("private: a topic outside the subscribe claim gets 403 before any stream byte") {
  ServerProcess server(private_server({"user.*"}));
  std::string jwt = token({"user.42"}, {"user.7"});  // may publish to user.7, not read it
  HttpResponse response = get(server.port(), "/sse?topic=user.7", bearer(jwt));
  check_refused(response, 403);
  CHECK(response.body.find("user.7") != std::string::npos);  // names the topic
  check_refused(get(server.port(), "/sse?topic=user.420", cookie(jwt)), 403);
  check_refused(get(server.port(), "/sse?topic=user.4&access_token=" + jwt), 403);
  // A prefix claim covers its prefix, and only that.
  std::string prefix = token({"user.4*"});
  SseStream covered(server.port(), "/sse?topic=user.42", bearer(prefix));
  CHECK(covered.head.status == 200);
  check_refused(get(server.port(), "/sse?topic=user.5", bearer(prefix)), 403);
  // A token granting nothing.
  check_refused(get(server.port(), "/sse?topic=user.42", bearer(token({}))), 403);
}

TEST_CASE("private: a multi-topic stream with one topic not covered gets 403 and nothing streams") {
  ServerProcess server(private_server({"user.*", "team.*"}));
  std::string jwt = token({"user.42", "team.a"});
  Client client(server.port());
  // Keep-alive: the refused connection stays open, so a stray event on it
  // would be seen.
  REQUIRE(client.send("GET /sse?topic=user.42&topic=team.a&topic=team.b HTTP/1.1\r\nHost: x\r\n"
                      "Accept: text/event-stream\r\n" +
                      bearer(jwt) + "\r\n"));
  HttpResponse response = client.read_response(after_ms(5000));
  check_refused(response, 403);
  CHECK(response.body.find("team.b") != std::string::npos);
  CHECK(json_number(stats(server.port()), "subscribers") == 0);
  publish_ok(server.port(), R"([{"topic":"user.42","data":"u"},{"topic":"team.a","data":"a"},)"
                            R"({"topic":"team.b","data":"b"}])");
  client.read_some(300);
  CHECK(client.buffer().find("data:") == std::string::npos);
  CHECK(client.buffer().find("event-stream") == std::string::npos);
  // In another order, and with the uncovered topic first.
  check_refused(get(server.port(), "/sse?topic=team.b&topic=user.42", bearer(jwt)), 403);
  // The covered topics alone are fine.
  SseStream ok(server.port(), "/sse?topic=user.42&topic=team.a", bearer(jwt));
  CHECK(ok.head.status == 200);
}

TEST_CASE("private: public topics beside private ones need no token") {
  ServerProcess server(private_server({"user.*", "admin"}));
  SseStream main_stream(server.port(), "/sse");
  SseStream news(server.port(), "/sse?topic=news");
  SseStream admins(server.port(), "/sse?topic=admins");  // "admin" is exact: not a prefix
  SseStream usr(server.port(), "/sse?topic=usr.1");
  REQUIRE(main_stream.head.status == 200);
  REQUIRE(news.head.status == 200);
  REQUIRE(admins.head.status == 200);
  REQUIRE(usr.head.status == 200);
  check_refused(get(server.port(), "/sse?topic=admin"), 401);
  check_refused(get(server.port(), "/sse?topic=user."), 401);  // NAME* covers NAME itself
  // A bad token on a public topic changes nothing: public is as before.
  SseStream with_garbage(server.port(), "/sse?topic=news", bearer("garbage"));
  REQUIRE(with_garbage.head.status == 200);
  // A private topic and a public one: the token covers the private one.
  std::string jwt = token({"user.42"});
  SseStream mixed(server.port(), "/sse?topic=news&topic=user.42", bearer(jwt));
  REQUIRE(mixed.head.status == 200);
  // Without it, the mix is refused whole.
  check_refused(get(server.port(), "/sse?topic=news&topic=user.42"), 401);

  REQUIRE(wait_stat_equal(server.port(), "subscribers", 6, after_ms(5000)));
  publish_ok(server.port(), R"([{"topic":"news","data":"n"},{"topic":"user.42","data":"u"},)"
                            R"({"data":"m"},{"topic":"admins","data":"a"},)"
                            R"({"topic":"usr.1","data":"x"}])");
  CHECK(gets_event(main_stream, "m"));
  CHECK(gets_event(news, "n"));
  CHECK(gets_event(admins, "a"));
  CHECK(gets_event(usr, "x"));
  CHECK(gets_event(with_garbage, "n"));
  CHECK(gets_event(mixed, "n"));
  CHECK(gets_event(mixed, "u"));
}

TEST_CASE("private: --private '*' makes every topic private and main too") {
  ServerProcess server(private_server({"*"}));
  check_refused(get(server.port(), "/sse"), 401);
  check_refused(get(server.port(), "/sse?topic=anything"), 401);
  check_refused(get(server.port(), "/sse?topic=main", bearer(token({"other"}))), 403);
  SseStream all(server.port(), "/sse?topic=a&topic=main", bearer(token({"*"})));
  CHECK(all.head.status == 200);
}

TEST_CASE("private: the cookie is preferred to the header and the header to the query") {
  ServerProcess server(private_server({"t.*"}));
  std::string for_a = token({"t.a"});
  std::string for_b = token({"t.b"});
  std::string for_c = token({"t.c"});
  // Cookie grants t.a, header t.b, query t.c: only the cookie counts.
  std::string all_three = cookie(for_a) + bearer(for_b);
  SseStream a(server.port(), "/sse?topic=t.a&access_token=" + for_c, all_three);
  CHECK(a.head.status == 200);
  check_refused(get(server.port(), "/sse?topic=t.b&access_token=" + for_c, all_three), 403);
  check_refused(get(server.port(), "/sse?topic=t.c&access_token=" + for_c, all_three), 403);
  // Without the cookie, the header counts, not the query.
  SseStream b(server.port(), "/sse?topic=t.b&access_token=" + for_c, bearer(for_b));
  CHECK(b.head.status == 200);
  check_refused(get(server.port(), "/sse?topic=t.c&access_token=" + for_c, bearer(for_b)), 403);
  // A percent-encoded query token is decoded.
  std::string encoded = for_c;
  size_t dot = encoded.find('.');
  encoded.replace(dot, 1, "%2E");
  SseStream c(server.port(), "/sse?topic=t.c&access_token=" + encoded);
  CHECK(c.head.status == 200);
}

TEST_CASE("private: a token expiring mid-stream ends it with a final comment and a FIN") {
  ServerProcess server(private_server({"user.*"}));
  // exp + 30 s of leeway lands two to three seconds from now.
  long long start = now_s();
  long long end = start - 30 + 3;
  long long ends_at = end + 30;
  SseStream stream(server.port(), "/sse?topic=user.42",
                   bearer(token({"user.42"}, {}, exp_claim(end))));
  REQUIRE(stream.head.status == 200);
  SseStream lasting(server.port(), "/sse?topic=user.42",
                    bearer(token({"user.42"}, {}, exp_claim(start + 3600))));
  REQUIRE(lasting.head.status == 200);
  REQUIRE(wait_stat_equal(server.port(), "subscribers", 2, after_ms(5000)));
  publish_ok(server.port(), R"({"topic":"user.42","data":"before expiry"})");
  REQUIRE(gets_event(stream, "before expiry"));

  auto has_expiry_comment = [](const SseParser& p) {
    for (const SseLine& line : p.lines) {
      if (line.comment && line.value.find("token expired") != std::string::npos) return true;
    }
    return false;
  };
  // The 1 s sweep closes it within about a second of the end.
  REQUIRE(stream.wait_for(has_expiry_comment, after_ms(8000)));
  long long seen_at = now_s();
  CHECK(seen_at >= ends_at);       // not before the token (with leeway) ran out
  CHECK(seen_at <= ends_at + 3);   // and soon after
  CHECK(stream.client.wait_closed(after_ms(3000)));
  CHECK_FALSE(stream.client.peer_reset());
  // The comment is the last thing on the stream.
  REQUIRE_FALSE(stream.parser.lines.empty());
  const SseLine* last_non_blank = nullptr;
  for (const SseLine& line : stream.parser.lines) {
    if (!line.blank) last_non_blank = &line;
  }
  REQUIRE(last_non_blank != nullptr);
  CHECK(last_non_blank->comment);
  CHECK(last_non_blank->value.find("token expired") != std::string::npos);

  // The other stream, with a longer token, lives on.
  REQUIRE(wait_stat_equal(server.port(), "subscribers", 1, after_ms(5000)));
  publish_ok(server.port(), R"({"topic":"user.42","data":"after expiry"})");
  CHECK(gets_event(lasting, "after expiry"));
  CHECK_FALSE(has_expiry_comment(lasting.parser));
  // Reconnecting with the expired token is refused.
  check_refused(get(server.port(), "/sse?topic=user.42", bearer(token({"user.42"}, {},
                                                                      exp_claim(end)))),
                401);
}

TEST_CASE("private: a token with a far-future exp keeps its stream open") {
  ServerProcess server(private_server({"user.*"}));
  // Valid NumericDates, all far beyond any clock: exp + leeway, or that in
  // milliseconds, must not overflow into "already expired" (or, in this
  // UBSan build, into an abort of the server).
  const std::vector<std::string> exps = {"1e300", "9223372036854775807", "10000000000000000",
                                         "99999999999"};
  std::vector<std::unique_ptr<SseStream>> streams;
  for (const std::string& exp : exps) {
    CAPTURE(exp);
    streams.push_back(std::make_unique<SseStream>(
        server.port(), "/sse?topic=user.42",
        bearer(token({"user.42"}, {}, ",\"exp\":" + exp))));
    CHECK(streams.back()->head.status == 200);
  }
  // Past at least one housekeeping sweep (1 s), reading all along.
  std::vector<SseStream*> all;
  for (auto& stream : streams) all.push_back(stream.get());
  Deadline settle = after_ms(1500);
  while (ms_left(settle) > 0) pump_streams(all, ms_left(settle));
  REQUIRE(server.running());
  publish_ok(server.port(), R"({"topic":"user.42","data":"still here"})");
  for (size_t i = 0; i < streams.size(); ++i) {
    SseStream* stream = streams[i].get();
    INFO("exp " << exps[i]);
    CHECK(gets_event(*stream, "still here"));
    CHECK_FALSE(stream->client.peer_closed());
    for (const SseLine& line : stream->parser.lines) {
      CHECK(line.value.find("token expired") == std::string::npos);
    }
  }
}

TEST_CASE("private: publishing with a JWT reaches the topics of its publish claim only") {
  ServerProcess server(private_server({"user.*"}));
  std::string reader = token({"user.*"}, {}, exp_claim(now_s() + 3600));
  SseStream stream(server.port(), "/sse?topic=user.42&topic=user.7&topic=news", bearer(reader));
  REQUIRE(stream.head.status == 200);
  std::string publisher = token({}, {"user.42", "news*"}, exp_claim(now_s() + 3600));

  HttpResponse allowed =
      publish(server.port(), R"({"topic":"user.42","data":"mine"})", bearer(publisher));
  CHECK(allowed.status == 202);
  CHECK(gets_event(stream, "mine"));
  CHECK(publish(server.port(), R"([{"topic":"user.42","data":"b1"},{"topic":"news","data":"b2"}])",
                bearer(publisher))
            .status == 202);
  CHECK(gets_event(stream, "b2"));
  double published = json_number(stats(server.port()), "events_published");

  HttpResponse other = publish(server.port(), R"({"topic":"user.7","data":"not mine"})",
                               bearer(publisher));
  CHECK(other.status == 403);
  CHECK(other.body.find("user.7") != std::string::npos);
  // The main topic is not in the claim either.
  CHECK(publish(server.port(), R"({"data":"to main"})", bearer(publisher)).status == 403);
  // A batch with one uncovered topic publishes nothing.
  HttpResponse batch = publish(
      server.port(),
      R"([{"topic":"user.42","data":"batch 1"},{"topic":"user.7","data":"batch 2"},)"
      R"({"topic":"news","data":"batch 3"}])",
      bearer(publisher));
  CHECK(batch.status == 403);
  // A token with a subscribe claim only publishes nowhere.
  CHECK(publish(server.port(), R"({"topic":"user.42","data":"reader"})", bearer(reader)).status ==
        403);
  // Bad tokens are 401 with WWW-Authenticate.
  for (const std::string& bad :
       {token({}, {"user.42"}, exp_claim(now_s() - 3600)),
        token({}, {"user.42"}, "", "another-secret"),
        sign_with(R"({"alg":"HS512"})", R"({"sse":{"publish":["*"]}})", kSecret, "sha512"),
        std::string("not.a.token")}) {
    HttpResponse refused = publish(server.port(), R"({"topic":"user.42","data":"bad"})",
                                   bearer(bad));
    CHECK(refused.status == 401);
    CHECK(refused.header("www-authenticate") == "Bearer");
  }
  CHECK(json_number(stats(server.port()), "events_published") == published);

  publish_ok(server.port(), R"({"topic":"user.42","data":"marker"})", bearer(publisher));
  REQUIRE(gets_event(stream, "marker"));
  stream.collect(100);
  for (const SseEvent& e : stream.parser.events) {
    CHECK(e.data != "not mine");
    CHECK(e.data.find("batch") == std::string::npos);
    CHECK(e.data != "reader");
    CHECK(e.data != "bad");
  }
}

TEST_CASE("private: --publish-token still publishes to every topic beside JWTs") {
  ServerProcess server(private_server({"user.*"}, {"--publish-token", "master-token"}));
  std::string reader = token({"user.*"});
  SseStream stream(server.port(), "/sse?topic=user.7", bearer(reader));
  REQUIRE(stream.head.status == 200);
  CHECK(publish(server.port(), R"({"topic":"user.7","data":"by master"})",
                "Authorization: Bearer master-token\r\n")
            .status == 202);
  CHECK(gets_event(stream, "by master"));
  std::string publisher = token({}, {"user.7"});
  CHECK(publish(server.port(), R"({"topic":"user.7","data":"by jwt"})", bearer(publisher)).status ==
        202);
  CHECK(gets_event(stream, "by jwt"));
  // No token at all: 401 now that a master token exists.
  CHECK(publish(server.port(), R"({"topic":"user.7","data":"none"})").status == 401);
  // A cookie is never a publishing credential.
  HttpResponse by_cookie =
      publish(server.port(), R"({"topic":"user.7","data":"cookie"})", cookie(publisher));
  CHECK(by_cookie.status == 401);
}

TEST_CASE("private: garbage tokens of many shapes get 401 and the server stays fine") {
  ServerProcess server(private_server({"user.*"}));
  std::string sig = b64url(std::string(32, 'x'));
  std::string hs = b64url(kHs256);
  std::vector<std::string> shapes = {
      "x",
      ".",
      "..",
      "...",
      "a.b",
      "a.b.c.d",
      "a..c",
      "!!!.@@@.###",
      "eyJ.eyJ.eyJ",
      hs,
      hs + ".",
      hs + "." + sig,
      hs + ".." + sig,
      hs + "." + b64url("not json") + "." + sig,
      hs + "." + b64url("[1,2,3]") + "." + sig,
      b64url("not json") + "." + b64url("{}") + "." + sig,
      b64url("[\"alg\",\"HS256\"]") + "." + b64url("{}") + "." + sig,
      b64url(std::string(2000, '[')) + "." + b64url("{}") + "." + sig,
      b64url(R"({"alg":"HS256")") + "." + b64url("{}") + "." + sig,  // truncated JSON
      hs + "=." + b64url("{}") + "=." + sig + "=",                  // padding
      hs + "." + b64url("{}") + "." + std::string(5000, 'A'),
      std::string(12000, 'A') + "." + std::string(100, 'B') + "." + sig,  // oversized
      std::string(3000, '.'),
      "\xc3\xa9\xc3\xa8.\xff\xfe.\x80",
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string& shape = shapes[i];
    CAPTURE(i);
    CAPTURE(shape.substr(0, 60));
    HttpResponse by_header = get(server.port(), "/sse?topic=user.42", bearer(shape));
    CHECK(by_header.status == 401);
    CHECK(by_header.header("www-authenticate") == "Bearer");
    CHECK(by_header.body.find("{\"error\":\"") == 0);
    HttpResponse by_cookie = get(server.port(), "/sse?topic=user.42", cookie(shape));
    CHECK(by_cookie.status == 401);
    if (shape.size() < 6000) {
      // Query tokens go percent-encoded, every byte of them.
      std::string encoded;
      char hex[4];
      for (unsigned char c : shape) {
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
      if (encoded.size() < 7000) {
        CHECK(get(server.port(), "/sse?topic=user.42&access_token=" + encoded).status == 401);
      }
    }
  }
  // Bytes a header cannot carry, through the query: NUL, CR LF, a bare '%'.
  for (const char* query : {"%00", "a%00.b.c", "%0D%0A", "%", "%zz.%zz.%zz", "%E2%80%AE"}) {
    CAPTURE(query);
    CHECK(get(server.port(), std::string("/sse?topic=user.42&access_token=") + query).status ==
          401);
  }
  // A token carried as a quoted cookie value, or a cookie header of nothing but separators.
  CHECK(get(server.port(), "/sse?topic=user.42", "Cookie: sse_token=\"x.y.z\"\r\n").status == 401);
  CHECK(get(server.port(), "/sse?topic=user.42", "Cookie: ;;; ; =; sse_token\r\n").status == 401);
  CHECK(server.running());
  CHECK(http_get(server.port(), "/health").status == 200);
  SseStream fine(server.port(), "/sse?topic=user.42", bearer(token({"user.42"})));
  CHECK(fine.head.status == 200);
  double refused = json_number(stats(server.port()), "streams_refused");
  CHECK(refused >= static_cast<double>(2 * shapes.size()));
}

TEST_CASE("private: --private without a secret exits 2") {
  RunResult alone = run_to_exit({"--private", "user.*"}, 10000);
  CHECK(alone.status.exited);
  CHECK(alone.status.code == 2);
  CHECK(alone.err.find("--jwt-secret") != std::string::npos);
  RunResult bad = run_to_exit({"--jwt-secret", kSecret, "--private", "a b"}, 10000);
  CHECK(bad.status.exited);
  CHECK(bad.status.code == 2);
  CHECK(bad.err.find("--private") != std::string::npos);
}

TEST_CASE("private: the secret may come from SSE_JWT_SECRET or --jwt-secret-file") {
  SpawnOptions env;
  env.env.push_back("SSE_JWT_SECRET=" + kSecret);
  ServerProcess by_env({"--tick-ms", "0", "--private", "user.*"}, env);
  SseStream from_env(by_env.port(), "/sse?topic=user.42", bearer(token({"user.42"})));
  CHECK(from_env.head.status == 200);
  check_refused(get(by_env.port(), "/sse?topic=user.42",
                    bearer(token({"user.42"}, {}, "", "another-secret"))),
                401);

  TempDir dir;
  dir.write("secret", "file-secret\n");
  ServerProcess by_file({"--tick-ms", "0", "--private", "user.*", "--jwt-secret-file",
                         dir.path() + "/secret"});
  SseStream from_file(by_file.port(), "/sse?topic=user.42",
                      bearer(token({"user.42"}, {}, "", "file-secret")));
  CHECK(from_file.head.status == 200);
  check_refused(get(by_file.port(), "/sse?topic=user.42", bearer(token({"user.42"}))), 401);
}

TEST_CASE("private: with --cors naming an origin refusals and streams carry credentialed CORS") {
  const std::string origin = "http://app.example";
  ServerProcess server(private_server({"user.*"}, {"--cors", origin}));
  const std::string from_page = "Origin: " + origin + "\r\n";
  HttpResponse refused = get(server.port(), "/sse?topic=user.42", from_page);
  CHECK(refused.status == 401);
  CHECK(refused.header("access-control-allow-origin") == origin);
  CHECK(refused.header("access-control-allow-credentials") == "true");
  CHECK(refused.header("vary").find("Origin") != std::string::npos);
  SseStream stream(server.port(), "/sse?topic=user.42",
                   from_page + cookie(token({"user.42"})));
  REQUIRE(stream.head.status == 200);
  CHECK(stream.head.header("access-control-allow-origin") == origin);
  CHECK(stream.head.header("access-control-allow-credentials") == "true");
  CHECK(stream.head.header("vary").find("Origin") != std::string::npos);
}
