// test_config.cpp — the command line (src/server/config.cpp).
//
// parse_config() never prints or exits, so every option, both spellings
// (--opt value and --opt=value), the defaults and every kind of mistake can
// be checked here; main() only maps the action to an exit status (2 for a
// bad option, per the SPEC).
#include <doctest/doctest.h>

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
