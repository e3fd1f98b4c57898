// test_core.cpp — the plain HTTP side of the server: /health, static files
// and their MIME types, path confinement, /stats, /metrics, CORS preflight,
// keep-alive, pipelining, HEAD, HTTP/1.0 and chunked request bodies
// (RFC 9112). Each test starts its own server on a free port.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

#include "harness.h"

namespace {

const std::string kGetHealth = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

// A PNG signature plus a few bytes with NUL and high bit set: a static file
// server that treats files as C strings or text would mangle it.
const char kPngRaw[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe";
const std::string kPngBytes(kPngRaw, sizeof kPngRaw - 1);  // keep the NULs

}  // namespace

TEST_CASE("GET /health answers 200 with body ok as text/plain") {
  ServerProcess server;
  HttpResponse response = http_get(server.port(), "/health");
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  CHECK(response.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(response.header("content-length") == "2");
}

TEST_CASE("GET / serves index.html from the www directory") {
  TempDir www;
  www.write("index.html", "<!doctype html><title>demo</title>");
  ServerProcess server({"--www", www.path()});
  HttpResponse response = http_get(server.port(), "/");
  CHECK(response.status == 200);
  CHECK(response.body == "<!doctype html><title>demo</title>");
  CHECK(response.header("content-type").rfind("text/html", 0) == 0);
}

TEST_CASE("GET / with the default --www serves ./www/index.html") {
  // Run from the repository root, as `make integration-test` does.
  std::ifstream file("www/index.html", std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "run the tests from the repository root");
  std::string expected((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ServerProcess server;
  HttpResponse response = http_get(server.port(), "/");
  CHECK(response.status == 200);
  CHECK(response.body == expected);
  CHECK(response.header("content-type").rfind("text/html", 0) == 0);
}

TEST_CASE("static files are served byte for byte with their MIME types") {
  TempDir www;
  www.write("index.html", "<p>hi</p>");
  www.write("style.css", "body { color: red; }");
  www.write("app.js", "console.log('hi');");
  www.write("logo.png", kPngBytes);
  www.write("data.json", "{\"a\":1}");
  www.write("sub/dir/page.html", "<p>nested</p>");
  ServerProcess server({"--www", www.path()});

  struct Expected {
    const char* path;
    std::string body;
    const char* type;
  };
  const Expected cases[] = {
      {"/index.html", "<p>hi</p>", "text/html"},
      {"/style.css", "body { color: red; }", "text/css"},
      {"/logo.png", kPngBytes, "image/png"},
      {"/data.json", "{\"a\":1}", "application/json"},
      {"/sub/dir/page.html", "<p>nested</p>", "text/html"},
  };
  for (const Expected& expected : cases) {
    CAPTURE(expected.path);
    HttpResponse response = http_get(server.port(), expected.path);
    CHECK(response.status == 200);
    CHECK(response.body == expected.body);
    CHECK(response.header("content-type").rfind(expected.type, 0) == 0);
  }
  // Both names are in use for JavaScript (RFC 9239 prefers text/javascript).
  HttpResponse script = http_get(server.port(), "/app.js");
  CHECK(script.status == 200);
  CHECK(script.body == "console.log('hi');");
  std::string type = script.header("content-type");
  CHECK((type.rfind("application/javascript", 0) == 0 || type.rfind("text/javascript", 0) == 0));
}

TEST_CASE("a missing static file gets 404") {
  TempDir www;
  www.write("index.html", "x");
  ServerProcess server({"--www", www.path()});
  CHECK(http_get(server.port(), "/nope.html").status == 404);
  CHECK(http_get(server.port(), "/sub/nope.css").status == 404);
}

TEST_CASE("nothing outside the www directory is ever served") {
  // root/secret.txt sits next to root/www; every request below tries to
  // reach it through a dot segment, an encoding of one, or a symlink.
  TempDir root;
  root.write("secret.txt", "TOP-SECRET-CONTENT");
  root.write("www/index.html", "<p>public</p>");
  std::string www = root.path() + "/www";
  REQUIRE(symlink("../secret.txt", (www + "/link.txt").c_str()) == 0);
  REQUIRE(symlink(root.path().c_str(), (www + "/escape").c_str()) == 0);
  ServerProcess server({"--www", www});

  const char* attempts[] = {
      "/../secret.txt",         "/a/../../secret.txt",       "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",     "/.%2e/secret.txt",          "/%2e%2e%2fsecret.txt",
      "/..%2fsecret.txt",       "/..%5csecret.txt",          "/link.txt",
      "/escape/secret.txt",     "/escape/www/../secret.txt", "//../secret.txt",
      "/%252e%252e/secret.txt",
  };
  for (const char* path : attempts) {
    CAPTURE(path);
    HttpResponse response = http_get(server.port(), path);
    CHECK((response.status == 404 || response.status == 400));
    CHECK(response.body.find("TOP-SECRET") == std::string::npos);
  }
  // The directory itself still works, so the 404s above are not an outage.
  CHECK(http_get(server.port(), "/index.html").body == "<p>public</p>");
}

TEST_CASE("GET /stats returns a JSON object with every counter") {
  ServerProcess server({"--tick-ms", "50"});
  HttpResponse response = http_get(server.port(), "/stats");
  CHECK(response.status == 200);
  CHECK(response.header("content-type").rfind("application/json", 0) == 0);
  REQUIRE(!response.body.empty());
  CHECK(response.body.front() == '{');
  CHECK(response.body.find_last_not_of(" \r\n") == response.body.rfind('}'));
  const char* keys[] = {"uptime_s",
                        "connections",
                        "subscribers",
                        "ticks",
                        "frames_sent",
                        "bytes_written",
                        "slow_consumers_dropped",
                        "events_published"};
  for (const char* key : keys) {
    CAPTURE(key);
    double value = json_number(response.body, key);
    CHECK(std::isfinite(value));
    CHECK(value >= 0);
  }
}

TEST_CASE("/stats counts subscribers, ticks and frames") {
  ServerProcess server({"--tick-ms", "50"});
  SseStream stream(server.port());
  REQUIRE(stream.head.status == 200);
  REQUIRE(stream.receives_new_event(after_ms(5000)));
  REQUIRE(stream.receives_new_event(after_ms(5000)));
  std::string body = stats(server.port());
  CHECK(json_number(body, "subscribers") == 1);
  CHECK(json_number(body, "connections") >= 1);  // the stream, plus this request
  CHECK(json_number(body, "ticks") >= 2);
  CHECK(json_number(body, "frames_sent") >= 2);
  CHECK(json_number(body, "bytes_written") > 100);
  CHECK(json_number(body, "events_published") >= 2);
}

TEST_CASE("GET /metrics exposes Prometheus text with sse_ names and the standard process_ ones") {
  ServerProcess server;
  HttpResponse response = http_get(server.port(), "/metrics");
  CHECK(response.status == 200);
  CHECK(response.header("content-type").rfind("text/plain", 0) == 0);
  REQUIRE(!response.body.empty());
  int samples = 0;
  std::size_t pos = 0;
  while (pos < response.body.size()) {
    std::size_t eol = response.body.find('\n', pos);
    if (eol == std::string::npos) eol = response.body.size();
    std::string line = response.body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(line);
    CHECK((line.rfind("sse_", 0) == 0 || line.rfind("process_", 0) == 0));
    ++samples;
  }
  CHECK(samples >= 5);
}

TEST_CASE("OPTIONS on /sse answers the CORS preflight; on /publish only where the POST may go") {
  auto preflight = [](int port, const char* path) {
    return http_raw(port, std::string("OPTIONS ") + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://example.com\r\n"
                              "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  };
  ServerProcess server;
  HttpResponse stream = preflight(server.port(), "/sse");
  CHECK((stream.status == 204 || stream.status == 200));
  CHECK(stream.header("access-control-allow-origin") == "*");
  CHECK(stream.has("access-control-allow-methods"));
  // Without a token a page of another origin may not publish, so it gets
  // no preflight either (and learns nothing: no CORS headers).
  HttpResponse refused = preflight(server.port(), "/publish");
  CHECK(refused.status == 403);
  CHECK_FALSE(refused.has("access-control-allow-origin"));

  ServerProcess with_token({"--publish-token", "s3cret"});
  HttpResponse granted = preflight(with_token.port(), "/publish");
  CHECK(granted.status == 204);
  CHECK(granted.header("access-control-allow-origin") == "*");
  CHECK(granted.has("access-control-allow-methods"));
}

TEST_CASE("keep-alive serves several requests one after another on one connection") {
  ServerProcess server;
  Client client(server.port());
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    REQUIRE(client.send(kGetHealth));
    HttpResponse response = client.read_response(after_ms(5000));
    CHECK(response.status == 200);
    CHECK(response.body == "ok");
  }
  CHECK(!client.peer_closed());
}

TEST_CASE("three pipelined GETs in one write get three responses in order") {
  ServerProcess server;
  Client client(server.port());
  REQUIRE(client.send(kGetHealth + "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n" + kGetHealth));
  HttpResponse first = client.read_response(after_ms(5000));
  HttpResponse second = client.read_response(after_ms(5000));
  HttpResponse third = client.read_response(after_ms(5000));
  CHECK(first.status == 200);
  CHECK(first.body == "ok");
  CHECK(second.status == 200);
  CHECK(second.body.find("\"uptime_s\"") != std::string::npos);
  CHECK(third.status == 200);
  CHECK(third.body == "ok");
  CHECK(client.buffer().empty());  // nothing extra
}

TEST_CASE("pipelined requests held back by the backlog limit are answered once it drains") {
  // 200 requests in one write whose answers (8 KiB files and short /health
  // replies, alternating) come to 800 KiB, with a client receive buffer of
  // 4 KiB that fills long before: the server stops parsing when 256 KiB of
  // answers are unsent and must resume, in order, as the client reads.
  TempDir www;
  www.write("page.html", std::string(8192, 'p'));
  ServerProcess server({"--www", www.path()});
  Client client(server.port(), 4096);
  std::string requests;
  for (int i = 0; i < 100; ++i) {
    requests += "GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n" + kGetHealth;
  }
  REQUIRE(client.send(requests));
  int in_order = 0;
  for (int i = 0; i < 200; ++i) {
    HttpResponse response = client.read_response(after_ms(10000));
    bool expected = i % 2 == 0 ? response.status == 200 && response.body.size() == 8192
                               : response.status == 200 && response.body == "ok";
    if (!expected) break;
    ++in_order;
  }
  CHECK(in_order == 200);
  CHECK(client.buffer().empty());
}

namespace {

// HEAD `path` on a keep-alive connection, then a GET /health on the same
// connection: had the HEAD response carried a body, the GET's status line
// would not be the very next bytes. Returns the HEAD response.
HttpResponse head_then_get(int port, const std::string& path) {
  Client client(port);
  REQUIRE(client.send("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpResponse head = client.read_response(after_ms(5000), true);
  REQUIRE(client.send(kGetHealth));
  CHECK(client.read_until("\r\n\r\n", after_ms(5000)));
  CHECK(client.buffer().rfind("HTTP/1.1 200", 0) == 0);
  return head;
}

}  // namespace

TEST_CASE("HEAD /health sends the headers with Content-Length 2 and no body") {
  ServerProcess server;
  HttpResponse head = head_then_get(server.port(), "/health");
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "2");
  CHECK(head.header("content-type").rfind("text/plain", 0) == 0);
}

TEST_CASE("HEAD works on a static file and on /stats") {
  TempDir www;
  www.write("index.html", "0123456789");
  ServerProcess server({"--www", www.path()});
  HttpResponse file = head_then_get(server.port(), "/index.html");
  CHECK(file.status == 200);
  CHECK(file.header("content-length") == "10");
  CHECK(file.header("content-type").rfind("text/html", 0) == 0);
  HttpResponse stats_head = head_then_get(server.port(), "/stats");
  CHECK(stats_head.status == 200);
  CHECK(stats_head.header("content-type").rfind("application/json", 0) == 0);
}

TEST_CASE("an HTTP/1.0 request is answered and then the connection closes") {
  ServerProcess server;
  Client client(server.port());
  REQUIRE(client.send("GET /health HTTP/1.0\r\n\r\n"));
  HttpResponse response = client.read_response(after_ms(5000));
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  CHECK(client.wait_closed(after_ms(5000)));
}

TEST_CASE("Connection: close is honoured after the response") {
  ServerProcess server;
  Client client(server.port());
  REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  HttpResponse response = client.read_response(after_ms(5000));
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  CHECK(client.wait_closed(after_ms(5000)));
}

TEST_CASE("a chunked body on a GET is read and discarded before the next request") {
  ServerProcess server;
  Client client(server.port());
  REQUIRE(
      client.send("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n" +
                  kGetHealth));
  HttpResponse first = client.read_response(after_ms(5000));
  HttpResponse second = client.read_response(after_ms(5000));
  CHECK(first.status == 200);
  CHECK(first.body == "ok");
  CHECK(second.status == 200);
  CHECK(second.body == "ok");
}

TEST_CASE("a Content-Length body on a GET is skipped before the next request") {
  ServerProcess server;
  Client client(server.port());
  // The body looks like a request: were it parsed as one, a 404 would appear.
  std::string body = "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body + kGetHealth));
  HttpResponse first = client.read_response(after_ms(5000));
  HttpResponse second = client.read_response(after_ms(5000));
  CHECK(first.status == 200);
  CHECK(second.status == 200);
  CHECK(second.body == "ok");
}

TEST_CASE("a request that arrives one byte at a time is answered") {
  ServerProcess server;
  Client client(server.port());
  for (char c : kGetHealth) REQUIRE(client.send(std::string(1, c)));
  HttpResponse response = client.read_response(after_ms(5000));
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
}
