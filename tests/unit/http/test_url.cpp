// test_url.cpp — percent-decoding and query iteration (src/http/url.cpp).
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "sse/http/url.h"

using sse::percent_decode;

namespace {

std::string decoded(std::string_view in) {
  std::string out;
  REQUIRE(percent_decode(in, out));
  return out;
}

bool decodes(std::string_view in) {
  std::string out;
  return percent_decode(in, out);
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs query_pairs(std::string_view query) {
  Pairs pairs;
  sse::for_each_query_param(query, [&](std::string_view name, std::string_view value) {
    pairs.emplace_back(std::string(name), std::string(value));
  });
  return pairs;
}

}  // namespace

TEST_CASE("percent_decode decodes %XX in either case") {
  CHECK(decoded("") == "");
  CHECK(decoded("plain") == "plain");
  CHECK(decoded("%41%62%2f%2F") == "Ab//");
  CHECK(decoded("a%20b") == "a b");
  CHECK(decoded("%e2%9c%93") == "\xe2\x9c\x93");
  CHECK(decoded("100%25") == "100%");
  CHECK(decoded("%2525") == "%25");  // decoded once, not twice
}

TEST_CASE("percent_decode leaves '+' alone: it is a space only in form bodies") {
  CHECK(decoded("a+b") == "a+b");
}

TEST_CASE("percent_decode refuses a malformed escape") {
  for (const char* in : {"%", "%4", "a%", "a%4", "%zz", "%4g", "%g4", "%%41", "% 41"}) {
    INFO("input " << in);
    CHECK_FALSE(decodes(in));
  }
}

TEST_CASE("percent_decode refuses a NUL, encoded or raw") {
  CHECK_FALSE(decodes("%00"));
  CHECK_FALSE(decodes("a%00b"));
  CHECK_FALSE(decodes(std::string_view("a\0b", 3)));
}

TEST_CASE("for_each_query_param visits name=value pairs in order, still encoded") {
  CHECK(query_pairs("a=1&b=%20&c=x=y") == Pairs{{"a", "1"}, {"b", "%20"}, {"c", "x=y"}});
}

TEST_CASE("for_each_query_param skips empty pairs and gives a bare name an empty value") {
  CHECK(query_pairs("") == Pairs{});
  CHECK(query_pairs("&&flag&&=v&k=&") == Pairs{{"flag", ""}, {"", "v"}, {"k", ""}});
}
