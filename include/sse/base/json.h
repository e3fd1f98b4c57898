// json.h — writing JSON strings by hand.
//
// The server emits only small, fixed-shape JSON documents; where they
// carry text that came from a client (the publish handler's error bodies
// naming a bad field, the gap notice echoing a Last-Event-ID) this helper
// makes the one hard part, quoting that text, correct in one place.
// /stats writes only numbers and topic names, which are quoted-safe by
// the topic rule.
#pragma once

#include <string>
#include <string_view>

namespace sse {

// How the bytes of client text are to be read. JSON bodies are UTF-8;
// HTTP header values are Latin-1 (RFC 9110 §5.5), so each byte is its own
// code point.
enum class TextEncoding { kUtf8, kLatin1 };

// Appends `text`, escaped, as the inside of a JSON string (no quotes).
// Quote, backslash and control characters are always escaped; in Latin-1
// every byte >= 0x7f is too, so the output is valid JSON whatever was sent.
void append_json_escaped(std::string& out, std::string_view text, TextEncoding encoding);

// The longest prefix of UTF-8 `text` of at most `max_bytes` bytes that does
// not end inside a multi-byte character.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace sse
