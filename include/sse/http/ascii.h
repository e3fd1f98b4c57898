// ascii.h — the byte-level text rules of HTTP/1.1 that every parser shares.
//
// The request parser, the chunked body reader, the router and the handlers
// all compare header names, split comma lists and read hex digits; these
// are the one copy of each. ASCII only, on purpose: HTTP's syntax is
// defined on bytes (RFC 9110 §5.6), and a locale must never change how a
// header is read. Pure functions, no allocation.
#pragma once

#include <string_view>

namespace sse {

// tchar and token (RFC 9110 §5.6.2): method names, header names, chunk
// extension names.
bool is_tchar(unsigned char c);
bool is_token(std::string_view s);

// ASCII case-insensitive equality (header names, "chunked", "close", ...).
bool equals_ignore_case(std::string_view a, std::string_view b);

// Strips optional whitespace (SP and HTAB, RFC 9110 §5.6.3) at both ends.
std::string_view trim_ows(std::string_view s);

// Returns `s` up to the first `c` and removes that much (and `c`) from `s`;
// all of `s` when there is no `c`.
std::string_view take_until(std::string_view& s, char c);

// True if the comma-separated header value contains `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token);

// The value of hex digit `c`, or -1 (chunk sizes, %XX escapes).
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace sse
