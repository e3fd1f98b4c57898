// publish_handler.cpp — see publish_handler.h.
//
// JSON is parsed with simdjson's DOM API rather than On-Demand: a batch
// must be validated completely before its first event is published, and
// duplicate or unknown keys can only be caught by visiting every field, so
// On-Demand's lazy, single-pass reading would buy nothing here. Bodies are
// bounded by --max-body, and the parser's buffers are reused across
// requests (one parser for the process: there is one thread).
#include "sse/server/publish_handler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>

#include "sse/auth/jwt.h"
#include "sse/base/clock.h"
#include "sse/base/json.h"
#include "sse/base/trace.h"
#include "sse/http/ascii.h"
#include "sse/http/http_response.h"
#include "sse/server/stats.h"
#include "sse/server/stream_handler.h"
#include "sse/server/topic_access.h"

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
std::string parse_event(simdjson::dom::element element, NewEvent& out) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return "an event must be a JSON object";
  bool has_topic = false, has_event = false, has_data = false;
  for (simdjson::dom::key_value_pair field : object) {
    std::string_view key = field.key;
    bool* seen = key == "topic"   ? &has_topic
                 : key == "event" ? &has_event
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
      // "gap" is the server's own notice; browsers give "error" and "open"
      // a meaning of their own (an EventSource's onerror and onopen).
      if (event == "gap" || event == "error" || event == "open") {
        return "'event' must not be gap, error or open: those names are reserved";
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

PublishReply check_publish_head(const Request& request, const Config& config, bool peer_loopback,
                                PublishGrant* grant, int64_t now_s) {
  std::string_view bearer = bearer_token(request);
  bool master = !bearer.empty() && !config.publish_token.empty() &&
                tokens_equal(bearer, config.publish_token);
  if (master) {
    // --publish-token: every topic.
  } else if (!bearer.empty() && !config.jwt_secret.empty()) {
    TokenResult verified = verify_token(bearer, config.jwt_secret, now_s);
    if (!verified.ok()) return reject(401, "invalid token: " + std::string(verified.message));
    if (verified.claims.publish.empty()) {
      return reject(403, "the token allows publishing to no topic");
    }
    if (grant != nullptr) {
      grant->limited = true;
      grant->topics = std::move(verified.claims.publish);
    }
  } else if (!config.publish_token.empty()) {
    return reject(401, "publishing needs 'Authorization: Bearer <token>'");
  } else {
    std::string refusal = tokenless_refusal(request, config, peer_loopback);
    if (!refusal.empty()) return reject(403, refusal);
  }
  if (!is_json_media_type(media_type(request.header("content-type")))) {
    return reject(415, "the body must be JSON (Content-Type: application/json)");
  }
  PublishReply ok;
  ok.status = 0;
  return ok;
}

bool is_loopback_host(std::string_view host) {
  // Host is "name", "name:port", "v4:port" or "[v6]:port" (RFC 9110 §7.2).
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = host.substr(close + 1);
    return host.substr(0, close + 1) == "[::1]" && (rest.empty() || rest.front() == ':');
  }
  std::string_view name = host.substr(0, host.find(':'));
  if (equals_ignore_case(name, "localhost")) return true;
  // *.localhost resolves to loopback (RFC 6761 §6.3), and browsers do so.
  constexpr std::string_view kLocalhost = ".localhost";
  if (name.size() > kLocalhost.size() &&
      equals_ignore_case(name.substr(name.size() - kLocalhost.size()), kLocalhost)) {
    return true;
  }
  std::string text(name);
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

bool origin_matches_host(std::string_view origin, std::string_view host) {
  // Origin is "scheme://host[:port]" (RFC 6454 §7); same-origin when its
  // authority is the Host this request was sent to. A default port may be
  // spelled or not on either side.
  size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = origin.substr(0, scheme_end);
  std::string_view authority = origin.substr(scheme_end + 3);
  if (equals_ignore_case(authority, host)) return true;
  std::string_view default_port = equals_ignore_case(scheme, "https") ? ":443" : ":80";
  auto without_default = [&](std::string_view a) {
    if (a.size() > default_port.size() &&
        a.substr(a.size() - default_port.size()) == default_port) {
      a.remove_suffix(default_port.size());
    }
    return a;
  };
  return equals_ignore_case(without_default(authority), without_default(host));
}

std::string tokenless_refusal(const Request& request, const Config& config, bool peer_loopback) {
  if (!peer_loopback) return "without --publish-token, only loopback peers may publish";
  if (!request.header("forwarded").empty() || !request.header("x-forwarded-for").empty()) {
    return "a request that came through a proxy (Forwarded, X-Forwarded-For) needs "
           "--publish-token";
  }
  std::string_view host = request.header("host");
  if (!host.empty() && !is_loopback_host(host)) {
    return "without --publish-token, Host must be a loopback name or address (DNS rebinding)";
  }
  std::string_view origin = request.header("origin");
  bool named_origin = !origin.empty() && config.cors != "*" && origin == config.cors;
  if (named_origin) return "";  // --cors names exactly this page's origin
  if (!origin.empty() && !origin_matches_host(origin, host)) {
    return "a page of another origin may not publish without --publish-token (--cors may "
           "name one origin that may)";
  }
  if (equals_ignore_case(request.header("sec-fetch-site"), "cross-site")) {
    return "a cross-site page may not publish without --publish-token";
  }
  return "";
}

PublishReply read_idempotency_key(const Request& request, std::string& key) {
  bool sent = false;
  key.clear();
  for (size_t i = 0; i < request.header_count && !sent; ++i) {
    if (!equals_ignore_case(request.headers[i].name, "idempotency-key")) continue;
    sent = true;  // present, even with an empty value (which is refused)
    key.assign(request.headers[i].value);
  }
  bool visible = true;
  for (char c : key) visible = visible && c > 0x20 && c < 0x7f;
  if (sent && (key.empty() || key.size() > 128 || !visible)) {
    return reject(400, "Idempotency-Key must be 1-128 visible ASCII characters");
  }
  PublishReply ok;
  ok.status = 0;
  return ok;
}

std::string_view publish_cors_origin(const Config& config) {
  // With a token (or JWTs), any page holding one may publish through CORS. Without
  // one, only the origin --cors names may: "*" would let every page read
  // the answers (and nothing cross-origin is accepted anyway).
  if (!config.publish_token.empty() || !config.jwt_secret.empty()) return config.cors;
  return config.cors == "*" ? std::string_view() : std::string_view(config.cors);
}

PublishReply parse_publish_body(std::string_view body, std::vector<NewEvent>& events,
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
    if (batch.size() > kMaxBatchEvents) {
      return reject(400, "more than " + std::to_string(kMaxBatchEvents) + " events in one batch");
    }
    size_t index = 0;
    for (simdjson::dom::element element : batch) {
      NewEvent event;
      std::string problem = parse_event(element, event);
      if (!problem.empty()) return reject(400, "event " + std::to_string(index) + ": " + problem);
      events.push_back(std::move(event));
      ++index;
    }
  } else {
    NewEvent event;
    std::string problem = parse_event(root, event);
    if (!problem.empty()) return reject(400, problem);
    events.push_back(std::move(event));
  }
  PublishReply ok;
  ok.status = 0;
  return ok;
}

std::string ids_json(const std::vector<uint64_t>& ids, bool is_batch) {
  std::string json = is_batch ? "{\"ids\":[" : "{\"id\":";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) json += ',';
    json += std::to_string(ids[i]);
  }
  json += is_batch ? "]}" : "}";
  return json;
}

std::unique_ptr<Handler> make_publish_handler(ServerContext& context, Exchange& exchange) {
  return std::make_unique<PublishHandler>(context, exchange);
}

PublishHandler::~PublishHandler() {
  if (appending_) context_.events.cancel(this);
}

Handler::Next PublishHandler::on_head(const Request& request) {
  keep_alive_ = request.keep_alive;
  if (request.method == Method::kOptions) {
    answer_preflight(request);
    return Next::kDone;
  }
  if (request.framing == BodyFraming::kNone) {
    exchange_.respond(
        error_response(411, "POST /publish needs Content-Length or chunked Transfer-Encoding",
                       false, false),
        {}, false);
    return Next::kDone;
  }
  PublishReply refused = check_publish_head(request, context_.config, exchange_.peer_is_loopback(),
                                            &grant_, real_us() / 1000000);
  if (refused.status == 0) refused = read_idempotency_key(request, idempotency_key_);
  if (refused.status != 0) {
    ++context_.counters.publish_requests;
    // Refused before "100 Continue": the connection will close after this
    // answer (connection.cpp says why), and the answer says so.
    if (request.expect_continue) keep_alive_ = false;
    reply(refused);
    return Next::kDone;
  }
  if (request.expect_continue && request.minor_version >= 1) {  // RFC 9110 §10.1.1
    exchange_.send_interim(FrameRef::copy_of("HTTP/1.1 100 Continue\r\n\r\n"));
  }
  return Next::kReadBody;
}

void PublishHandler::on_body(std::string body) {
  ++context_.counters.publish_requests;
  std::vector<NewEvent> events;
  PublishReply invalid = parse_publish_body(body, events, is_batch_);
  if (invalid.status != 0) {
    reply(invalid);
    return;
  }
  if (grant_.limited) {
    // A JWT publishes only where its claim reaches: all of the batch, or
    // nothing of it.
    for (const NewEvent& event : events) {
      if (!covers(grant_.topics, event.topic)) {
        reply(reject(403, "the token does not allow publishing to topic '" + event.topic + "'"));
        return;
      }
    }
  }
  // Everything is valid: only now is anything published. The answer comes
  // through on_appended(), now or in a later loop pass.
  appending_ = true;
  if (tracing()) {
    trace_line("publish_handler", "fd %d: body valid, %zu event%s: append to the event log",
               exchange_.fd(), events.size(), events.size() == 1 ? "" : "s");
  }
  context_.events.append(events, idempotency_key_, this);
}

void PublishHandler::on_appended(const AppendResult& result) noexcept {
  appending_ = false;
  PublishReply answer;
  if (result.ok) {
    answer.status = 202;
    answer.body = ids_json(result.ids, is_batch_);
  } else {
    answer = reject(503, result.error);
    retry_after_s_ = result.retry_after_s;
  }
  reply(answer);
}

void PublishHandler::answer_preflight(const Request& request) {
  // Granted only where the POST itself would be: a browser that is refused
  // here never sends it, and a page learns nothing from the refusal. With
  // a token (or JWTs) any origin may try: the POST itself is checked.
  if (context_.config.publish_token.empty() && context_.config.jwt_secret.empty()) {
    std::string refusal = tokenless_refusal(request, context_.config, exchange_.peer_is_loopback());
    if (!refusal.empty()) {
      reply(reject(403, refusal));  // counted in publish_rejected
      return;
    }
  }
  exchange_.respond(
      preflight_response("POST, OPTIONS", publish_cors_origin(context_.config),
                         "Authorization, Content-Type, Idempotency-Key", 600, keep_alive_),
      {}, keep_alive_);
}

void PublishHandler::on_close() {
  if (appending_) context_.events.cancel(this);
  appending_ = false;
}

void PublishHandler::reply(const PublishReply& answer) {
  if (answer.status != 202) ++context_.counters.publish_rejected;
  if (tracing()) {
    trace_line("publish_handler", "fd %d: answer %d %s", exchange_.fd(), answer.status,
               answer.body.c_str());
  }
  ResponseBuilder response(answer.status);
  response.header("Content-Type", "application/json");
  if (answer.status == 401) response.header("WWW-Authenticate", "Bearer");
  if (answer.status == 503) response.header("Retry-After", std::to_string(retry_after_s_));
  std::string_view cors = publish_cors_origin(context_.config);
  if (!cors.empty()) add_cors_headers(response, cors);
  exchange_.respond(response.finish(answer.body, keep_alive_), {}, keep_alive_);
}

}  // namespace sse
