// test_config.cpp — the command line (src/server/config.cpp).
//
// parse_config() never prints or exits, so every option, both spellings
// (--opt value and --opt=value), the defaults and every kind of mistake can
// be checked here; main() only maps the action to an exit status (2 for a
// bad option, per the SPEC).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sse/server/config.h"

using sse::Config;
using sse::parse_config;
using sse::ParsedArgs;
using Action = sse::ParsedArgs::Action;
using Args = std::vector<std::string>;

namespace {

Config parsed(const Args& args, const char* env_token = nullptr) {
  ParsedArgs result = parse_config(args, env_token);
  INFO("error: " << result.error);
  CHECK(result.action == Action::kRun);
  CHECK(result.error.empty());
  return result.config;
}

// The arguments must be refused with a one-line message that names `option`.
void expect_error(const Args& args, const std::string& option) {
  std::string joined;
  for (const std::string& arg : args) joined += arg + " ";
  INFO("args: " << joined);
  ParsedArgs result = parse_config(args, nullptr);
  CHECK(result.action == Action::kError);
  INFO("error: " << result.error);
  CHECK(result.error.find(option) != std::string::npos);
  CHECK(result.error.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("no arguments give the SPEC's defaults") {
  Config config = parsed({});
  CHECK(config.host == "0.0.0.0");
  CHECK(config.port == 3000);
  CHECK(config.www == "./www");
  CHECK(config.tick_ms == 2000);
  CHECK(config.heartbeat_ms == 15000);
  CHECK(config.retry_ms == 3000);
  CHECK(config.history == 1024);
  CHECK(config.max_clients == 0);  // derived from the fd limit at start-up
  CHECK(config.max_backlog == 1048576);
  CHECK(config.max_body == 1048576);
  CHECK(config.header_timeout_ms == 10000);
  CHECK(config.publish_token.empty());
  CHECK(config.cors == "*");
  CHECK_FALSE(config.quiet);
}

TEST_CASE("every option takes its value as the next argument") {
  Config config = parsed({"--host",
                          "::1",
                          "--port",
                          "8080",
                          "--www",
                          "/srv/www",
                          "--tick-ms",
                          "500",
                          "--heartbeat-ms",
                          "1000",
                          "--retry-ms",
                          "250",
                          "--history",
                          "10",
                          "--max-clients",
                          "99",
                          "--max-backlog",
                          "4096",
                          "--max-body",
                          "2048",
                          "--header-timeout-ms",
                          "1500",
                          "--publish-token",
                          "tok",
                          "--cors",
                          "https://app.example",
                          "--quiet"});
  CHECK(config.host == "::1");
  CHECK(config.port == 8080);
  CHECK(config.www == "/srv/www");
  CHECK(config.tick_ms == 500);
  CHECK(config.heartbeat_ms == 1000);
  CHECK(config.retry_ms == 250);
  CHECK(config.history == 10);
  CHECK(config.max_clients == 99);
  CHECK(config.max_backlog == 4096);
  CHECK(config.max_body == 2048);
  CHECK(config.header_timeout_ms == 1500);
  CHECK(config.publish_token == "tok");
  CHECK(config.cors == "https://app.example");
  CHECK(config.quiet);
}

TEST_CASE("every option also takes its value after '='") {
  Config config =
      parsed({"--host=127.0.0.1", "--port=0", "--www=./public", "--tick-ms=0", "--heartbeat-ms=1",
              "--retry-ms=0", "--history=0", "--max-clients=1", "--max-backlog=1024",
              "--max-body=1", "--header-timeout-ms=1", "--publish-token=a=b", "--cors=null"});
  CHECK(config.host == "127.0.0.1");
  CHECK(config.port == 0);
  CHECK(config.www == "./public");
  CHECK(config.tick_ms == 0);
  CHECK(config.heartbeat_ms == 1);
  CHECK(config.retry_ms == 0);
  CHECK(config.history == 0);
  CHECK(config.max_clients == 1);
  CHECK(config.max_backlog == 1024);
  CHECK(config.max_body == 1);
  CHECK(config.header_timeout_ms == 1);
  CHECK(config.publish_token == "a=b");  // split at the first '=' only
  CHECK(config.cors == "null");
}

TEST_CASE("numeric options accept their largest values") {
  Config config = parsed({"--port", "65535", "--tick-ms", "86400000", "--heartbeat-ms", "86400000",
                          "--history", "10000000", "--max-clients", "10000000", "--max-backlog",
                          "1099511627776", "--max-body", "4294967296"});
  CHECK(config.port == 65535);
  CHECK(config.tick_ms == 86400000);
  CHECK(config.heartbeat_ms == 86400000);
  CHECK(config.history == 10000000);
  CHECK(config.max_clients == 10000000);
  CHECK(config.max_backlog == (size_t{1} << 40));
  CHECK(config.max_body == (size_t{1} << 32));
}

TEST_CASE("a later option wins over an earlier one") {
  CHECK(parsed({"--port", "1", "--port=2"}).port == 2);
}

TEST_CASE("--help and -h ask for the usage text, which lists every option") {
  CHECK(parse_config({"--help"}, nullptr).action == Action::kHelp);
  CHECK(parse_config({"-h"}, nullptr).action == Action::kHelp);
  CHECK(parse_config({"--port", "1", "--help", "--bogus"}, nullptr).action == Action::kHelp);
  const std::string usage = sse::usage_text();
  for (const char* option :
       {"--host", "--port", "--www", "--tick-ms", "--heartbeat-ms", "--retry-ms", "--history",
        "--max-clients", "--max-backlog", "--max-body", "--header-timeout-ms", "--publish-token",
        "--cors", "--quiet", "--help", "--version", "SSE_PUBLISH_TOKEN"}) {
    CHECK_MESSAGE(usage.find(option) != std::string::npos, option);
  }
}

TEST_CASE("--version asks for the version") {
  CHECK(parse_config({"--version"}, nullptr).action == Action::kVersion);
  CHECK(std::string(sse::kServerVersion).size() > 0);
}

TEST_CASE("an unknown option is an error naming it") {
  expect_error({"--bogus"}, "--bogus");
  expect_error({"--bogus=1"}, "--bogus");
  expect_error({"-p", "80"}, "-p");
  expect_error({"stray"}, "stray");
  expect_error({"--PORT", "80"}, "--PORT");
}

TEST_CASE("an option without its value is an error naming it") {
  for (const char* option : {"--host", "--port", "--www", "--tick-ms", "--heartbeat-ms",
                             "--retry-ms", "--history", "--max-clients", "--max-backlog",
                             "--max-body", "--header-timeout-ms", "--publish-token", "--cors"}) {
    expect_error({option}, option);
  }
}

TEST_CASE("an empty value is an error naming the option") {
  for (const char* option : {"--host", "--www", "--publish-token", "--cors", "--port"}) {
    expect_error({std::string(option) + "="}, option);
    expect_error({option, ""}, option);
  }
}

TEST_CASE("a numeric value that is not a whole number in range is an error naming the option") {
  expect_error({"--port", "65536"}, "--port");
  expect_error({"--port", "-1"}, "--port");
  expect_error({"--port", "+80"}, "--port");
  expect_error({"--port", " 80"}, "--port");
  expect_error({"--port", "80 "}, "--port");
  expect_error({"--port", "80x"}, "--port");
  expect_error({"--port", "0x50"}, "--port");
  expect_error({"--port", "8e1"}, "--port");
  expect_error({"--port", "99999999999999999999999"}, "--port");
  expect_error({"--tick-ms", "86400001"}, "--tick-ms");
  expect_error({"--heartbeat-ms", "0"}, "--heartbeat-ms");
  expect_error({"--retry-ms", "1.5"}, "--retry-ms");
  expect_error({"--history", "10000001"}, "--history");
  expect_error({"--max-clients", "0"}, "--max-clients");
  expect_error({"--max-backlog", "1023"}, "--max-backlog");
  expect_error({"--max-body", "0"}, "--max-body");
  expect_error({"--max-body", "4294967297"}, "--max-body");
  expect_error({"--header-timeout-ms", "0"}, "--header-timeout-ms");
}

TEST_CASE("a bad value's message says what was expected and what was given") {
  ParsedArgs result = parse_config({"--port", "abc"}, nullptr);
  CHECK(result.action == Action::kError);
  CHECK(result.error.find("0") != std::string::npos);
  CHECK(result.error.find("65535") != std::string::npos);
  CHECK(result.error.find("abc") != std::string::npos);
}

TEST_CASE("--quiet takes no value") {
  expect_error({"--quiet=1"}, "--quiet");
  // The next argument is not swallowed as a value: it is parsed as an option.
  expect_error({"--quiet", "yes"}, "yes");
}

TEST_CASE("--cors refuses control characters, which would break the response head") {
  expect_error({"--cors", "https://a.example\r\nSet-Cookie: x=1"}, "--cors");
  expect_error({"--cors", std::string("a\0b", 3)}, "--cors");
  expect_error({"--cors", "a\x7f"}, "--cors");
}

TEST_CASE("SSE_PUBLISH_TOKEN from the environment sets the token") {
  CHECK(parsed({}, "from-env").publish_token == "from-env");
}

TEST_CASE("--publish-token wins over SSE_PUBLISH_TOKEN") {
  CHECK(parsed({"--publish-token", "from-option"}, "from-env").publish_token == "from-option");
  CHECK(parsed({"--publish-token=from-option"}, "from-env").publish_token == "from-option");
}

TEST_CASE("an empty SSE_PUBLISH_TOKEN means no token") {
  CHECK(parsed({}, "").publish_token.empty());
}

TEST_CASE("a value that looks like an option is taken as the value") {
  // As with GNU getopt_long: a required argument is the next word, whatever it is.
  CHECK(parsed({"--publish-token", "--quiet"}).publish_token == "--quiet");
  CHECK_FALSE(parsed({"--publish-token", "--quiet"}).quiet);
}

TEST_CASE("--history-bytes and --max-topics default to 64 MiB and 65536") {
  Config config = parsed({});
  CHECK(config.history_bytes == 67108864);
  CHECK(config.max_topics == 65536);
  CHECK(config.publish_token_file.empty());
}

TEST_CASE("--history-bytes and --max-topics take whole numbers, either spelling") {
  Config config = parsed({"--history-bytes", "4096", "--max-topics", "1"});
  CHECK(config.history_bytes == 4096);
  CHECK(config.max_topics == 1);
  config = parsed({"--history-bytes=1099511627776", "--max-topics=10000000"});
  CHECK(config.history_bytes == (size_t{1} << 40));
  CHECK(config.max_topics == 10000000);
}

TEST_CASE("--history-bytes below 4096 or --max-topics below 1 is an error naming the option") {
  expect_error({"--history-bytes", "4095"}, "--history-bytes");
  expect_error({"--history-bytes", "0"}, "--history-bytes");
  expect_error({"--history-bytes", "1099511627777"}, "--history-bytes");
  expect_error({"--history-bytes", "64M"}, "--history-bytes");
  expect_error({"--history-bytes"}, "--history-bytes");
  expect_error({"--max-topics", "0"}, "--max-topics");
  expect_error({"--max-topics", "10000001"}, "--max-topics");
  expect_error({"--max-topics", "-1"}, "--max-topics");
  expect_error({"--max-topics="}, "--max-topics");
}

TEST_CASE("the usage text has one line for each of the newer options") {
  const std::string usage = sse::usage_text();
  for (const char* option :
       {"--publish-token-file FILE", "--history-bytes BYTES", "--max-topics N"}) {
    INFO(std::string(option));
    size_t at = usage.find(option);
    REQUIRE(at != std::string::npos);
    CHECK(usage.find(option, at + 1) == std::string::npos);
  }
  CHECK(usage.find("67108864") != std::string::npos);
  CHECK(usage.find("65536") != std::string::npos);
}

TEST_CASE("--publish-token-file records the path and reads nothing") {
  // The file does not exist: parsing must not notice, main() reads it later.
  Config config = parsed({"--publish-token-file", "/nonexistent/sse-token"});
  CHECK(config.publish_token_file == "/nonexistent/sse-token");
  CHECK(config.publish_token.empty());
  CHECK(parsed({"--publish-token-file=/run/tok"}).publish_token_file == "/run/tok");
}

TEST_CASE("--publish-token-file wins over SSE_PUBLISH_TOKEN") {
  Config config = parsed({"--publish-token-file", "/run/tok"}, "from-env");
  CHECK(config.publish_token.empty());  // main() fills it in from the file
  CHECK(config.publish_token_file == "/run/tok");
}

TEST_CASE("--publish-token together with --publish-token-file is an error naming the option") {
  expect_error({"--publish-token", "a", "--publish-token-file", "/run/tok"},
               "--publish-token-file");
  expect_error({"--publish-token-file", "/run/tok", "--publish-token=a"}, "--publish-token-file");
  expect_error({"--publish-token-file"}, "--publish-token-file");
  expect_error({"--publish-token-file="}, "--publish-token-file");
}

namespace {

// A file under /tmp holding `content`, removed at the end of the test.
class TokenFile {
 public:
  explicit TokenFile(const std::string& content) {
    char pattern[] = "/tmp/sse-token-XXXXXX";
    int fd = ::mkstemp(pattern);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    path = pattern;
  }
  ~TokenFile() { ::unlink(path.c_str()); }
  std::string path;
};

// The token load_token_file() reads from a file holding `content`, or
// "ERROR: <message>" (the message must name the option, on one line).
std::string token_from(const std::string& content) {
  TokenFile file(content);
  std::string token = "untouched", error;
  if (sse::load_token_file(file.path, token, error)) return token;
  CHECK(token == "untouched");
  CHECK(error.find("--publish-token-file") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  return "ERROR: " + error;
}

bool is_error(const std::string& result) {
  return result.rfind("ERROR: ", 0) == 0;
}

}  // namespace

TEST_CASE("load_token_file reads the token and strips one LF or CRLF") {
  CHECK(token_from("s3cret") == "s3cret");
  CHECK(token_from("s3cret\n") == "s3cret");
  CHECK(token_from("s3cret\r\n") == "s3cret");
  CHECK(token_from("a.b-c_d~e+f/g=") == "a.b-c_d~e+f/g=");
}

TEST_CASE("load_token_file refuses an empty file or a token with whitespace or controls") {
  for (const char* content :
       {"", "\n", "\r\n", "s3cret\n\n", "s3cret\r\n\r\n", "s3cret\r", " s3cret", "s3cret ",
        "s3c ret", "s3c\tret", "two\nlines\n", "s3c\x7fret", "s3c\x01ret"}) {
    INFO("content: " << content);
    CHECK(is_error(token_from(content)));
  }
  CHECK(is_error(token_from(std::string("s3c\0ret", 7))));
}

TEST_CASE("load_token_file refuses a missing file, naming the option and the path") {
  std::string token, error;
  CHECK_FALSE(sse::load_token_file("/nonexistent/sse-token", token, error));
  CHECK(error.find("--publish-token-file") != std::string::npos);
  CHECK(error.find("/nonexistent/sse-token") != std::string::npos);
  CHECK(token.empty());
}

TEST_CASE("load_token_file refuses a directory, a FIFO and an oversized file without blocking") {
  std::string token, error;
  CHECK_FALSE(sse::load_token_file("/tmp", token, error));
  char pattern[] = "/tmp/sse-token-dir-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  std::string fifo = std::string(pattern) + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  error.clear();
  CHECK_FALSE(sse::load_token_file(fifo, token, error));  // returns: no writer is waited for
  CHECK(error.find("--publish-token-file") != std::string::npos);
  ::unlink(fifo.c_str());
  ::rmdir(pattern);
  CHECK(is_error(token_from(std::string(5000, 'x'))));
  CHECK(token_from(std::string(4096, 'x')) == std::string(4096, 'x'));
}

TEST_CASE("--redis, --redis-prefix and --redis-timeout-ms are parsed, SSE_REDIS_URL too") {
  sse::ParsedArgs parsed = sse::parse_config(
      {"--redis", "redis://:pw@10.0.0.5:6380/2", "--redis-prefix", "app1:", "--redis-timeout-ms",
       "750"},
      nullptr);
  REQUIRE(parsed.action == sse::ParsedArgs::Action::kRun);
  CHECK(parsed.config.redis.host == "10.0.0.5");
  CHECK(parsed.config.redis.port == 6380);
  CHECK(parsed.config.redis.password == "pw");
  CHECK(parsed.config.redis.db == 2);
  CHECK(parsed.config.redis_prefix == "app1:");
  CHECK(parsed.config.redis_timeout_ms == 750);

  sse::ParsedArgs from_env = sse::parse_config({}, nullptr, "127.0.0.1:7000");
  CHECK(from_env.config.redis.port == 7000);
  sse::ParsedArgs option_wins = sse::parse_config({"--redis", "h:1"}, nullptr, "127.0.0.1:7000");
  CHECK(option_wins.config.redis.host == "h");
  CHECK(sse::parse_config({}, nullptr).config.redis_url.empty());
}

TEST_CASE("a bad --redis value is exit 2 material, naming the option") {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--redis", "nonsense"},
           {"--redis-prefix", "a b"},
           {"--redis-timeout-ms", "0"},
           {"--redis", ""}}) {
    sse::ParsedArgs parsed = sse::parse_config(args, nullptr);
    CHECK(parsed.action == sse::ParsedArgs::Action::kError);
    CHECK(parsed.error.find("--redis") != std::string::npos);
  }
}

TEST_CASE("--workers takes a count or auto, and more than one needs --redis") {
  CHECK(sse::parse_config({}, nullptr).config.workers == 1);
  CHECK(sse::parse_config({"--workers", "3", "--redis", "h:1"}, nullptr).config.workers == 3);
  CHECK(sse::parse_config({"--workers=auto", "--redis", "h:1"}, nullptr).config.workers == 0);
  CHECK(sse::parse_config({"--workers", "1"}, nullptr).action == sse::ParsedArgs::Action::kRun);
  sse::ParsedArgs alone = sse::parse_config({"--workers", "2"}, nullptr);
  CHECK(alone.action == sse::ParsedArgs::Action::kError);
  CHECK(alone.error.find("--redis") != std::string::npos);
  for (const char* bad : {"0", "x", "257", "-1", ""}) {
    CHECK(sse::parse_config({"--workers", bad, "--redis", "h:1"}, nullptr).action ==
          sse::ParsedArgs::Action::kError);
  }
}
