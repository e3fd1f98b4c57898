// config.h — the command line, parsed into one Config.
//
// main() calls parse_config() once. The server keeps its own copy and fills
// in the one value that depends on the machine (--max-clients 0: derived
// from the fd limit, in Server::open) before the loop starts; from then on
// the server and every handler read it by const reference and nothing
// changes it. Parsing never exits or prints: it returns
// what to do (run, print help, print version, fail with a message naming
// the option), so it can be unit-tested and main() decides the exit status.
// The one file it names, --publish-token-file, is read by main() with
// load_token_file().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sse/redis/redis_address.h"

namespace sse {

inline constexpr const char* kServerVersion = "0.1.0";

struct Config {
  std::string host = "0.0.0.0";
  uint16_t port = 3000;
  std::string www = "./www";  // "none": no static files
  bool www_given = false;      // --www on the command line (else a missing ./www is fine)
  int64_t tick_ms = 2000;  // 0: ticker off
  int64_t heartbeat_ms = 15000;
  int64_t retry_ms = 3000;
  size_t history = 1024;
  size_t max_clients = 0;  // 0: derived from the fd limit at start-up
  size_t max_backlog = 1 << 20;
  size_t max_body = 1 << 20;
  int64_t header_timeout_ms = 10000;
  std::string publish_token;         // empty: loopback peers only
  std::string publish_token_file;    // --publish-token-file: main() reads it into publish_token
  size_t history_bytes = 64u << 20;  // encoded bytes the history may hold
  size_t max_topics = 65536;         // topics that may exist at once
  std::string cors = "*";
  bool quiet = false;
  std::string access_log;  // --access-log FILE, "-" = stdout; empty: off
  bool trace = false;      // --trace: one line per reactor step on stderr
  // --redis (or SSE_REDIS_URL): empty means the in-memory event log. The
  // address is parsed here and resolved once by main() (redis_address.h).
  std::string redis_url;
  RedisAddress redis;
  std::string redis_prefix = "sse:";  // of every key and channel
  int64_t redis_timeout_ms = 2000;    // connect and command deadline
  // --workers: processes sharing the port (supervisor.h); 0 is "auto",
  // one per core, resolved by main().
  size_t workers = 1;
  // --fanout-slice: subscribers written per fan-out slice at most (0: the
  // slice is bounded by time only). A knob for tests that force tiny slices.
  size_t fanout_slice = 0;
  // Private topics (SPEC "Private topics"): the HS256 key of subscriber and
  // publisher tokens (--jwt-secret, SSE_JWT_SECRET, or read by main() from
  // --jwt-secret-file), and the --private patterns (NAME, NAME*, *).
  std::string jwt_secret;
  std::string jwt_secret_file;
  std::vector<std::string> private_topics;
};

struct ParsedArgs {
  enum class Action { kRun, kHelp, kVersion, kError };
  Action action = Action::kRun;
  Config config;
  std::string error;  // for kError: one line naming the option
};

// `env_token` is the value of SSE_PUBLISH_TOKEN and `env_redis` that of
// SSE_REDIS_URL (nullptr when unset); the options win over them.
// SSE_JWT_SECRET is `env_jwt`.
ParsedArgs parse_config(const std::vector<std::string>& args, const char* env_token,
                        const char* env_redis = nullptr, const char* env_jwt = nullptr);

std::string usage_text();

// Reads the --publish-token-file token: the whole file, less one trailing
// LF or CRLF. False, with a one-line `error` naming the option, when the
// file cannot be read, is not a regular file, is empty, or the token holds
// whitespace or a control byte. main() calls it once, before the server
// starts (parse_config() does no I/O).
// --jwt-secret-file is read the same way (`option` names it in errors).
bool load_token_file(const std::string& path, std::string& token, std::string& error,
                     const char* option = "--publish-token-file");

}  // namespace sse
