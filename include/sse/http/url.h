// url.h — the pieces of a request target the handlers read.
//
// The router matches the path as sent; the stream handler reads topics and
// lastEventId from the query, and the static file handler decodes the
// path. Percent-decoding (RFC 3986 §2.1) and query iteration live here,
// once. Pure functions: no I/O, no state.
#pragma once

#include <string>
#include <string_view>

namespace sse {

// Decodes %XX escapes. False for a malformed escape or a decoded NUL byte.
// '+' stays '+': it means a space only in form bodies, not in paths.
bool percent_decode(std::string_view in, std::string& out);

// Calls `visit(name, value)` for each "name=value" pair of a query string,
// both still percent-encoded; a pair without '=' has an empty value.
template <typename Visit>
void for_each_query_param(std::string_view query, Visit visit) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      visit(pair, std::string_view());
    } else {
      visit(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
}

}  // namespace sse
