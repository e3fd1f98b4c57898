// test_strict_http.cpp — the strict edges of the HTTP layer and the signal
// handling, from the wire: a chunked body that would smuggle a second
// request, a TLS handshake sent to the plain port, the Date header, and
// SIGHUP/SIGQUIT sent to the real process.
//
// The unit tests (tests/unit/http/test_http_body.cpp, test_http_parser.cpp,
// test_http_response.cpp, tests/unit/loop/test_signals.cpp) cover every
// shape byte by byte; these check that the connection turns each verdict
// into what a client sees: one response, the connection closed, no wait
// for a timeout, a server that survives SIGHUP.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

namespace {

const std::vector<std::string> kNoTicks = {"--tick-ms", "0"};

const std::string kChunkedPublish =
    "POST /publish HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

// Sends `raw` on `client` and reads one response; what follows it (and
// whether the server then closes) stays for the caller to check.
HttpResponse send_and_read(Client& client, const std::string& raw) {
  REQUIRE(client.send(raw));
  return client.read_response(after_ms(5000));
}

// True if `text` is "Www, DD Mon YYYY HH:MM:SS GMT" (RFC 9110 §5.6.7).
bool looks_like_imf_fixdate(const std::string& text) {
  if (text.size() != 29) return false;
  const std::string shape = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    char want = shape[i], got = text[i];
    if (want == 'A' || want == 'a') {
      if (!((got >= 'A' && got <= 'Z') || (got >= 'a' && got <= 'z'))) return false;
    } else if (want == '0') {
      if (got < '0' || got > '9') return false;
    } else if (got != want) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("the bare-LF smuggling body gets one 400 and a closed connection, never two answers") {
  // "1;x\n" ends the chunk size line for a lenient reader, which then sees
  // chunk "Z", the last chunk, a trailer "4e", the end of the body and
  // GET /smuggled behind it. We must answer once, 400, and close.
  ServerProcess server(kNoTicks);
  Client client(server.port());
  HttpResponse response = send_and_read(client, kChunkedPublish +
                                                    "1;x\nZ\r\n0\r\n4e\r\n\r\n"
                                                    "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(response.status == 400);
  CHECK(response.header("connection") == "close");
  CHECK(client.wait_closed(after_ms(5000)));
  CHECK_MESSAGE(client.buffer().empty(), "more after the 400: ", client.buffer());
  CHECK(json_number(stats(server.port()), "events_published") == 0);
}

TEST_CASE("chunk extensions and ordinary trailers by the RFC are accepted on the wire") {
  ServerProcess server(kNoTicks);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  Client client(server.port());
  HttpResponse response = send_and_read(client, kChunkedPublish +
                                                    "5 ; a=b;c=\"d e\"\r\n{\"dat\r\n"
                                                    "8\r\na\":\"hi\"}\r\n0\r\n"
                                                    "X-Checksum: 1\r\n\r\n");
  CHECK(response.status == 202);
  SseEvent event;
  REQUIRE(stream.next_event(event, after_ms(5000)));
  CHECK(event.data == "hi");
}

TEST_CASE("a Content-Length trailer changes nothing: the body ends at its last chunk") {
  // Trailers are validated and ignored, never merged into the head: the
  // 40 bytes it announces are the next request, and that is answered.
  ServerProcess server(kNoTicks);
  Client client(server.port());
  HttpResponse published = send_and_read(
      client, kChunkedPublish + "a\r\n{\"data\":1}\r\n0\r\nContent-Length: 40\r\n\r\n" +
                  "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(published.status == 202);
  HttpResponse next = client.read_response(after_ms(5000));
  CHECK(next.status == 200);
  CHECK(next.body == "ok");
  CHECK(client.wait_closed(after_ms(5000)));
}

TEST_CASE("the start of a TLS ClientHello gets 400 long before the header timeout") {
  // A browser pointed at https:// on our plain port: no line end will ever
  // come, so waiting for one would hold the connection for the whole
  // --header-timeout-ms.
  ServerProcess server({"--tick-ms", "0", "--header-timeout-ms", "30000"});
  Client client(server.port());
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  auto start = std::chrono::steady_clock::now();
  HttpResponse response = send_and_read(client, hello);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CAPTURE(took.count());
  CHECK(response.status == 400);
  CHECK(client.wait_closed(after_ms(5000)));
  // The server is fine and answers the next client.
  CHECK(http_get(server.port(), "/health").status == 200);
}

TEST_CASE("every response carries Date: a plain answer, an error and the stream head") {
  ServerProcess server(kNoTicks);
  HttpResponse health = http_get(server.port(), "/health");
  HttpResponse missing = http_get(server.port(), "/no-such-file");
  HttpResponse bad = http_raw(server.port(), "GET / HTTP/1.1\r\n\r\n");  // no Host
  SseStream stream(server.port());
  REQUIRE(health.status == 200);
  REQUIRE(missing.status == 404);
  REQUIRE(bad.status == 400);
  REQUIRE(stream.head.status == 200);
  for (const HttpResponse* response : {&health, &missing, &bad, &stream.head}) {
    CAPTURE(response->raw_head);
    CHECK(looks_like_imf_fixdate(response->header("date")));
  }
}

TEST_CASE("SIGHUP leaves the server serving; SIGQUIT then shuts it down with status 0") {
  ServerProcess server(kNoTicks);
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);

  REQUIRE(::kill(server.pid(), SIGHUP) == 0);
  // Two round trips: by the second the signal has long been delivered (an
  // unblocked SIGHUP would have ended the process at once).
  CHECK(http_get(server.port(), "/health").status == 200);
  CHECK(http_get(server.port(), "/health").status == 200);
  CHECK(server.running());

  ExitStatus status = server.signal_and_wait(SIGQUIT, 2000);
  CHECK_FALSE(status.timed_out);
  CHECK(status.exited);
  CHECK(status.code == 0);
  CHECK(stream.client.wait_closed(after_ms(1000)));
}
