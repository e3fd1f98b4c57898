// publish_handler.cpp — see publish_handler.h.
//
// JSON is parsed with simdjson's DOM API rather than On-Demand: a batch
// must be validated completely before its first event is published, and
// duplicate or unknown keys can only be caught by visiting every field, so
// On-Demand's lazy, single-pass reading would buy nothing here. Bodies are
// bounded by --max-body, and the parser's buffers are reused across
// requests (one parser for the process: there is one thread).
#include "sse/server/publish_handler.h"

#include <simdjson.h>

#include "sse/events/broadcaster.h"
#include "sse/base/json.h"
#include "sse/server/stream_handler.h"
#include "sse/http/ascii.h"

namespace sse {

namespace {

// Nesting deeper than this in "data" is refused: it is never a real event,
// and it bounds the parser's stack.
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxEventName = 256;

PublishReply reject(int status, std::string message) {
  PublishReply reply;
  reply.status = status;
  reply.body = "{\"error\":\"";
  append_json_escaped(reply.body, message, TextEncoding::kUtf8);
  reply.body += "\"}";
  return reply;
}

std::string_view media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return type;
}

bool is_json_media_type(std::string_view type) {
  if (type.empty()) return true;  // no Content-Type: the body speaks for itself
  if (equals_ignore_case(type, "application/json")) return true;
  // curl -d sends this by default; the body is still parsed as strict JSON,
  // so the one-line `curl -d '{...}' .../publish` works (see README).
  if (equals_ignore_case(type, "application/x-www-form-urlencoded")) return true;
  // application/<something>+json (RFC 6839).
  return type.size() > 5 && equals_ignore_case(type.substr(0, 12), "application/") &&
         equals_ignore_case(type.substr(type.size() - 5), "+json");
}

// Validates one event object into `out`; returns an error message or "".
std::string parse_event(simdjson::dom::element element, PublishEvent& out) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return "an event must be a JSON object";
  bool has_topic = false, has_event = false, has_data = false;
  for (simdjson::dom::key_value_pair field : object) {
    std::string_view key = field.key;
    bool* seen = key == "topic" ? &has_topic : key == "event" ? &has_event
                                             : key == "data"  ? &has_data
                                                              : nullptr;
    if (key == "id") return "'id' is assigned by the server; do not send one";
    if (seen == nullptr) return "unknown field '" + std::string(utf8_prefix(key, 64)) + "'";
    // simdjson keeps repeated keys; JSON (RFC 8259 §4) leaves their meaning
    // open, so we refuse to guess which one was meant.
    if (*seen) return "duplicate field '" + std::string(utf8_prefix(key, 64)) + "'";
    *seen = true;

    if (key == "topic") {
      std::string_view topic;
      if (field.value.get(topic) != simdjson::SUCCESS) return "'topic' must be a string";
      if (!is_valid_topic(topic)) return "invalid topic name (1-64 of A-Z a-z 0-9 _ . : -)";
      out.topic.assign(topic);
    } else if (key == "event") {
      std::string_view event;
      if (field.value.get(event) != simdjson::SUCCESS) return "'event' must be a string";
      if (event.size() > kMaxEventName) return "'event' is longer than 256 bytes";
      if (event.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        return "'event' must not contain CR, LF or NUL";
      }
      out.event.assign(event);
    } else {
      std::string_view text;
      if (field.value.get(text) == simdjson::SUCCESS) {
        out.data.assign(text);  // a string is sent as its text
      } else {
        out.data = simdjson::minify(field.value);  // anything else as compact JSON
      }
    }
  }
  if (!has_data) return "missing field 'data'";
  if (!has_topic) out.topic = "main";
  return "";
}

}  // namespace

bool tokens_equal(std::string_view a, std::string_view b) {
  // Always walks the whole expected token: the time taken does not depend on
  // where the first difference is.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

PublishReply check_publish_head(const Request& request, const Config& config,
                                bool peer_loopback) {
  if (!config.publish_token.empty()) {
    std::string_view authorization = request.header("authorization");
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.size() <= kScheme.size() ||
        !equals_ignore_case(authorization.substr(0, kScheme.size()), kScheme) ||
        !tokens_equal(authorization.substr(kScheme.size()), config.publish_token)) {
      return reject(401, "publishing needs 'Authorization: Bearer <token>'");
    }
  } else if (!peer_loopback) {
    return reject(403, "without --publish-token, only loopback peers may publish");
  }
  if (!is_json_media_type(media_type(request.header("content-type")))) {
    return reject(415, "the body must be JSON (Content-Type: application/json)");
  }
  PublishReply ok;
  ok.status = 0;
  return ok;
}

PublishReply parse_publish_body(std::string_view body, std::vector<PublishEvent>& events,
                                bool& is_batch) {
  static simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // If this fails, parse() allocates on first use (with the default depth).
    simdjson::error_code ignored = p.allocate(4096, kMaxDepth);
    (void)ignored;
    return p;
  }();
  simdjson::dom::element root;
  simdjson::error_code error = parser.parse(body.data(), body.size()).get(root);
  if (error == simdjson::DEPTH_ERROR) return reject(400, "bad JSON: nested deeper than 64 levels");
  if (error != simdjson::SUCCESS) {
    return reject(400, std::string("bad JSON: ") + simdjson::error_message(error));
  }

  simdjson::dom::array batch;
  is_batch = root.get(batch) == simdjson::SUCCESS;
  if (is_batch) {
    if (batch.size() == 0) return reject(400, "empty batch");
    size_t index = 0;
    for (simdjson::dom::element element : batch) {
      PublishEvent event;
      std::string problem = parse_event(element, event);
      if (!problem.empty()) return reject(400, "event " + std::to_string(index) + ": " + problem);
      events.push_back(std::move(event));
      ++index;
    }
  } else {
    PublishEvent event;
    std::string problem = parse_event(root, event);
    if (!problem.empty()) return reject(400, problem);
    events.push_back(std::move(event));
  }
  PublishReply ok;
  ok.status = 0;
  return ok;
}

PublishReply handle_publish(std::string_view body, Broadcaster& broadcaster) {
  std::vector<PublishEvent> events;
  bool batch = false;
  PublishReply reply = parse_publish_body(body, events, batch);
  if (reply.status != 0) return reply;
  // Everything is valid: only now is anything published.
  reply.status = 202;
  reply.body = batch ? "{\"ids\":[" : "{\"id\":";
  for (size_t i = 0; i < events.size(); ++i) {
    uint64_t id = broadcaster.publish(events[i].topic, events[i].event, events[i].data);
    if (i > 0) reply.body += ',';
    reply.body += std::to_string(id);
  }
  reply.body += batch ? "]}" : "}";
  return reply;
}

}  // namespace sse
