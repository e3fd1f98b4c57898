// Unit tests for json.cpp: escaping client text into JSON strings.
#include <doctest/doctest.h>

#include "sse/base/json.h"

using sse::TextEncoding;

namespace {
std::string escaped(std::string_view text, TextEncoding encoding) {
  std::string out;
  sse::append_json_escaped(out, text, encoding);
  return out;
}
}  // namespace

TEST_CASE("quotes, backslashes and control characters are escaped") {
  CHECK(escaped("plain", TextEncoding::kUtf8) == "plain");
  CHECK(escaped("a\"b\\c", TextEncoding::kUtf8) == "a\\\"b\\\\c");
  CHECK(escaped(std::string_view("\n\r\t\0\x1f\x7f", 6), TextEncoding::kUtf8) ==
        "\\u000a\\u000d\\u0009\\u0000\\u001f\\u007f");
}

TEST_CASE("UTF-8 text passes through; Latin-1 bytes become code points") {
  CHECK(escaped("caf\xc3\xa9", TextEncoding::kUtf8) == "caf\xc3\xa9");
  CHECK(escaped("caf\xe9", TextEncoding::kLatin1) == "caf\\u00e9");
  CHECK(escaped("\xff", TextEncoding::kLatin1) == "\\u00ff");
}

TEST_CASE("utf8_prefix never cuts a character in two") {
  CHECK(sse::utf8_prefix("short", 64) == "short");
  CHECK(sse::utf8_prefix("abcdef", 3) == "abc");
  CHECK(sse::utf8_prefix("ab\xc3\xa9", 3) == "ab");          // 2-byte char straddles
  CHECK(sse::utf8_prefix("ab\xc3\xa9", 4) == "ab\xc3\xa9");  // fits exactly
  CHECK(sse::utf8_prefix("a\xe2\x82\xac", 2) == "a");        // 3-byte euro sign
  CHECK(sse::utf8_prefix("a\xf0\x9f\x98\x80z", 4) == "a");   // 4-byte emoji
  CHECK(sse::utf8_prefix("a\xf0\x9f\x98\x80z", 5) == "a\xf0\x9f\x98\x80");
}
