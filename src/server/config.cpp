// config.cpp — see config.h. Every option takes its value as the next
// argument or after '=' (--port 8080, --port=8080), like GNU getopt_long.
#include "sse/server/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "sse/events/topic.h"
#include "sse/loop/unique_fd.h"

namespace sse {

namespace {

// Parses a whole decimal string into [min, max]; no sign, no suffix.
bool parse_number(const std::string& text, uint64_t min, uint64_t max, uint64_t& out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (value < min || value > max) return false;
  out = value;
  return true;
}

struct NumericOption {
  const char* name;
  uint64_t min, max;
  void (*apply)(Config&, uint64_t);
};

constexpr uint64_t kDayMs = 86'400'000;  // the longest period we accept
constexpr uint64_t kMaxWorkers = 256;

const NumericOption kNumericOptions[] = {
    {"--port", 0, 65535, [](Config& c, uint64_t v) { c.port = static_cast<uint16_t>(v); }},
    {"--tick-ms", 0, kDayMs, [](Config& c, uint64_t v) { c.tick_ms = static_cast<int64_t>(v); }},
    {"--heartbeat-ms", 1, kDayMs,
     [](Config& c, uint64_t v) { c.heartbeat_ms = static_cast<int64_t>(v); }},
    {"--retry-ms", 0, kDayMs, [](Config& c, uint64_t v) { c.retry_ms = static_cast<int64_t>(v); }},
    {"--history", 0, 10'000'000, [](Config& c, uint64_t v) { c.history = v; }},
    {"--max-clients", 1, 10'000'000, [](Config& c, uint64_t v) { c.max_clients = v; }},
    {"--max-backlog", 1024, uint64_t{1} << 40, [](Config& c, uint64_t v) { c.max_backlog = v; }},
    {"--max-body", 1, uint64_t{1} << 32, [](Config& c, uint64_t v) { c.max_body = v; }},
    {"--header-timeout-ms", 1, kDayMs,
     [](Config& c, uint64_t v) { c.header_timeout_ms = static_cast<int64_t>(v); }},
    // 4 KiB: room for at least one event of any reasonable size; 1 TiB:
    // beyond any machine this runs on, so a typo is caught.
    {"--history-bytes", 4096, uint64_t{1} << 40,
     [](Config& c, uint64_t v) { c.history_bytes = v; }},
    {"--max-topics", 1, 10'000'000, [](Config& c, uint64_t v) { c.max_topics = v; }},
    {"--fanout-slice", 0, 10'000'000, [](Config& c, uint64_t v) { c.fanout_slice = v; }},
    {"--redis-timeout-ms", 10, 600'000,
     [](Config& c, uint64_t v) { c.redis_timeout_ms = static_cast<int64_t>(v); }},
};

// The longest token file we read: a bearer token is tens of bytes, so
// anything this big is the wrong file (a log, a key store), not a token.
constexpr size_t kMaxTokenFileBytes = 4096;

}  // namespace

ParsedArgs parse_config(const std::vector<std::string>& args, const char* env_token,
                        const char* env_redis, const char* env_jwt) {
  ParsedArgs result;
  Config& config = result.config;
  if (env_token != nullptr) config.publish_token = env_token;
  if (env_redis != nullptr) config.redis_url = env_redis;
  if (env_jwt != nullptr) config.jwt_secret = env_jwt;
  bool jwt_option = false;
  // Both options name the one token: given together, which was meant is a
  // guess, so it is an error rather than "the later one wins".
  bool token_option = false;

  auto fail = [&](const std::string& message) {
    result.action = ParsedArgs::Action::kError;
    result.error = message;
    return result;
  };

  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_inline_value = false;
    if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_inline_value = true;
    }

    if (name == "--help" || name == "-h") {
      result.action = ParsedArgs::Action::kHelp;
      return result;
    }
    if (name == "--version") {
      result.action = ParsedArgs::Action::kVersion;
      return result;
    }
    if (name == "--quiet") {
      if (has_inline_value) return fail("--quiet takes no value");
      config.quiet = true;
      continue;
    }
    if (name == "--trace") {
      if (has_inline_value) return fail("--trace takes no value");
      config.trace = true;
      continue;
    }

    // Every other option takes a value.
    const NumericOption* number = nullptr;
    for (const NumericOption& option : kNumericOptions) {
      if (name == option.name) number = &option;
    }
    if (name == "--workers") {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) return fail("--workers: missing value");
        value = args[++i];
      }
      uint64_t count = 0;
      if (value == "auto") {
        config.workers = 0;
      } else if (parse_number(value, 1, kMaxWorkers, count)) {
        config.workers = count;
      } else {
        return fail("--workers: expected auto or a whole number from 1 to " +
                    std::to_string(kMaxWorkers) + ", got '" + value + "'");
      }
      continue;
    }
    bool is_string = name == "--host" || name == "--www" || name == "--publish-token" ||
                     name == "--publish-token-file" || name == "--cors" || name == "--redis" ||
                     name == "--redis-prefix" || name == "--jwt-secret" ||
                     name == "--jwt-secret-file" || name == "--private" ||
                     name == "--access-log";
    if (number == nullptr && !is_string) return fail("unknown option: " + args[i]);
    if (!has_inline_value) {
      if (i + 1 >= args.size()) return fail(name + ": missing value");
      value = args[++i];
    }

    if (is_string) {
      if (value.empty()) return fail(name + ": empty value");
      if (name == "--host") config.host = value;
      if (name == "--www") {
        config.www = value;
        config.www_given = true;
      }
      if (name == "--publish-token") {
        config.publish_token = value;
        token_option = true;
      }
      if (name == "--publish-token-file") config.publish_token_file = value;
      if (name == "--redis") config.redis_url = value;
      if (name == "--jwt-secret") {
        config.jwt_secret = value;
        jwt_option = true;
      }
      if (name == "--jwt-secret-file") config.jwt_secret_file = value;
      if (name == "--access-log") config.access_log = value;
      if (name == "--private") {
        // NAME, NAME* or *: a topic name, with an optional trailing '*'.
        std::string_view name_part = value;
        if (!name_part.empty() && name_part.back() == '*') name_part.remove_suffix(1);
        bool ok = name_part.empty() ? value == "*" : is_valid_topic(name_part);
        if (!ok) return fail("--private: expected NAME, NAME* or *, got '" + value + "'");
        config.private_topics.push_back(value);
      }
      if (name == "--redis-prefix") {
        // Part of every key and channel name: printable, no spaces.
        for (unsigned char c : value) {
          if (c <= 0x20 || c >= 0x7f) return fail("--redis-prefix: space or control character");
        }
        config.redis_prefix = value;
      }
      if (name == "--cors") {
        // The value becomes a response header: no line breaks or controls.
        for (unsigned char c : value) {
          if (c < 0x20 || c == 0x7f) return fail("--cors: control character in origin");
        }
        config.cors = value;
      }
      continue;
    }

    uint64_t parsed = 0;
    if (!parse_number(value, number->min, number->max, parsed)) {
      return fail(name + ": expected a whole number from " + std::to_string(number->min) + " to " +
                  std::to_string(number->max) + ", got '" + value + "'");
    }
    number->apply(config, parsed);
  }
  if (!config.publish_token_file.empty()) {
    if (token_option) return fail("--publish-token-file: cannot be combined with --publish-token");
    // The file wins over SSE_PUBLISH_TOKEN, as --publish-token does; main()
    // fills the token in from the file.
    config.publish_token.clear();
  }
  if (!config.redis_url.empty()) {
    std::string error;
    if (!parse_redis_url(config.redis_url, config.redis, error)) return fail(error);
  }
  if (!config.jwt_secret_file.empty()) {
    if (jwt_option) return fail("--jwt-secret-file: cannot be combined with --jwt-secret");
    config.jwt_secret.clear();  // main() reads it from the file
  }
  if (!config.private_topics.empty() && config.jwt_secret.empty() &&
      config.jwt_secret_file.empty()) {
    return fail("--private needs --jwt-secret (or SSE_JWT_SECRET, --jwt-secret-file): "
                "private topics are read with tokens signed by it");
  }
  if (config.workers > 1 && config.redis_url.empty()) {
    return fail("--workers " + std::to_string(config.workers) +
                " needs --redis: workers share events, ids and history through Redis");
  }
  return result;
}

bool load_token_file(const std::string& path, std::string& token, std::string& error,
                     const char* option) {
  auto fail = [&](const std::string& why) {
    error = std::string(option) + ": " + why + ": " + path;
    return false;
  };
  // O_NONBLOCK: a FIFO named by mistake must not hang the start-up; the
  // type check below then refuses it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return fail(std::string("cannot open (") + std::strerror(errno) + ")");
  struct stat info {};
  std::string text;
  bool regular = ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode);
  bool too_big = false;
  if (regular) {
    char buffer[kMaxTokenFileBytes + 1];
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > kMaxTokenFileBytes) {
        too_big = true;
        break;
      }
    }
  }
  if (!regular) return fail("not a regular file");
  if (too_big) return fail("over " + std::to_string(kMaxTokenFileBytes) + " bytes");
  // One line end, as `echo TOKEN > FILE` or an editor leaves it.
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  if (text.empty()) return fail("empty");
  // The token is compared to an Authorization header value: spaces, tabs,
  // line breaks and other controls could never match one, and usually mean
  // the file holds something else (two lines, a comment).
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return fail("token contains whitespace or a control byte");
  }
  token = std::move(text);
  return true;
}

std::string usage_text() {
  return R"(Usage: sse-server [options]

A small, fast Server-Sent Events broadcaster.

  --host ADDR              listen address: IPv4 or IPv6 literal, or a name (default 0.0.0.0)
  --port N                 listen port; 0 picks a free one (default 3000)
  --www DIR                static files served under / (default ./www, else the installed
                           PREFIX/share/sse-server/www; none: no static files; without
                           --www, neither existing only turns them off)
  --tick-ms N              built-in ticker period; 0 turns it off (default 2000)
  --heartbeat-ms N         comment sent to a stream idle this long (default 15000)
  --retry-ms N             'retry:' hint sent when a stream opens (default 3000)
  --history N              events kept for Last-Event-ID replay (default 1024)
  --max-clients N          connections beyond this get 503 (default: fd limit - 64)
  --max-backlog BYTES      unsent bytes before a slow subscriber is dropped (default 1048576)
  --max-body BYTES         largest request body, 413 beyond (default 1048576)
  --header-timeout-ms N    time to send a complete request, head and body; 408 beyond
                           (default 10000)
  --publish-token TOKEN    require 'Authorization: Bearer TOKEN' on POST /publish
                           (default: env SSE_PUBLISH_TOKEN; unset: loopback peers only)
  --publish-token-file FILE  the same token read from FILE, so it stays out of ps
  --max-topics N           topics that may exist at once (default 65536)
  --history-bytes BYTES    memory the history may hold, oldest out first (default 67108864)
  --cors ORIGIN            Access-Control-Allow-Origin value (default *)
  --redis URL              redis://[:PASSWORD@]HOST:PORT[/DB] or HOST:PORT: share events,
                           ids and history with every instance on that Redis
                           (default: env SSE_REDIS_URL; unset: in memory, this process only)
  --redis-prefix P         prefix of every Redis key and channel (default sse:)
  --redis-timeout-ms N     Redis connect and command deadline; publishes get 503
                           beyond it (default 2000)
  --fanout-slice N         write at most N subscribers per fan-out slice (default 0: slices
                           of about 2 ms); for tests
  --jwt-secret SECRET      HS256 key of subscriber and publisher tokens (JWT)
                           (default: env SSE_JWT_SECRET)
  --jwt-secret-file FILE   the same key read from FILE, so it stays out of ps
  --private PATTERN        topics that need a subscriber token: NAME, NAME* or *
                           (repeatable; needs --jwt-secret)
  --workers N|auto         N worker processes share the port (SO_REUSEPORT), restarted
                           if they die; auto: one per core; N > 1 needs --redis (default 1)
  --access-log FILE        one line per finished request or stream, appended to FILE
                           ("-" = stdout); never blocks the server: lines that cannot
                           be written are dropped and counted
  --trace                  teaching mode: one line per reactor step on stderr (slow)
  --quiet                  no per-connection log lines
  --help, --version        print and exit

Endpoints: GET /sse, POST /publish, GET /stats, GET /metrics, GET /health, GET /<file>
)";
}

}  // namespace sse
