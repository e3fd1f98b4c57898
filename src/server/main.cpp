// main.cpp — the entry point: parse the command line, run the server.
//
// Exit status: 0 after --help, --version or a graceful shutdown; 2 for a
// bad command line (with one line naming the option); 1 when the server
// cannot start (port taken, --www missing). What the command line names is
// checked here, before the server opens anything, so that its mistakes are
// exit 2 like any bad option: --host must resolve (once: the numeric
// result goes on to the server, which never asks DNS again), and the
// --publish-token-file must hold a token, and the --redis host resolves
// (once, for the same reason: hiredis's own lookup would block the loop).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sse/base/log.h"
#include "sse/base/trace.h"
#include "sse/loop/listener.h"
#include "sse/server/config.h"
#include "sse/server/install_paths.h"
#include "sse/server/server.h"
#include "sse/server/supervisor.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sse::ParsedArgs parsed =
      sse::parse_config(args, std::getenv("SSE_PUBLISH_TOKEN"), std::getenv("SSE_REDIS_URL"),
                        std::getenv("SSE_JWT_SECRET"));
  switch (parsed.action) {
    case sse::ParsedArgs::Action::kHelp:
      std::fputs(sse::usage_text().c_str(), stdout);
      return 0;
    case sse::ParsedArgs::Action::kVersion:
      std::printf("sse-server %s\n", sse::kServerVersion);
      return 0;
    case sse::ParsedArgs::Action::kError:
      std::fprintf(stderr, "sse-server: %s\nTry 'sse-server --help'.\n", parsed.error.c_str());
      return 2;
    case sse::ParsedArgs::Action::kRun:
      break;
  }
  std::string error;
  auto bad_option = [&] {
    std::fprintf(stderr, "sse-server: %s\n", error.c_str());
    return 2;
  };
  sse::ListenAddress address;
  if (!sse::resolve_listen_address(parsed.config.host, parsed.config.port, address, error)) {
    return bad_option();
  }
  if (std::string numeric = sse::numeric_host(address); !numeric.empty()) {
    parsed.config.host = numeric;
  }
  if (!parsed.config.redis_url.empty() && !sse::resolve_redis_host(parsed.config.redis, error)) {
    return bad_option();
  }
  if (!parsed.config.publish_token_file.empty() &&
      !sse::load_token_file(parsed.config.publish_token_file, parsed.config.publish_token, error)) {
    return bad_option();
  }
  if (!parsed.config.jwt_secret_file.empty() &&
      !sse::load_token_file(parsed.config.jwt_secret_file, parsed.config.jwt_secret, error,
                            "--jwt-secret-file")) {
    return bad_option();
  }
  if (parsed.config.workers == 0) {  // --workers auto: one per core
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    parsed.config.workers = cores > 0 ? static_cast<size_t>(cores) : 1;
    if (parsed.config.workers > 1 && parsed.config.redis_url.empty()) {
      error = "--workers auto: " + std::to_string(parsed.config.workers) +
              " cores, and more than one worker needs --redis";
      return bad_option();
    }
  }
  // Without --www: ./www, else the page `make install` put beside this
  // binary (PREFIX/share/sse-server/www), else none (Server::open says so).
  if (!parsed.config.www_given) parsed.config.www = sse::default_www_dir();
  sse::set_log_quiet(parsed.config.quiet);
  sse::set_tracing(parsed.config.trace);
  if (parsed.config.workers > 1) return sse::run_supervisor(parsed.config);
  sse::Server server(parsed.config);
  if (!server.open(error)) {
    std::fprintf(stderr, "sse-server: %s\n", error.c_str());
    return 1;
  }
  return server.run();
}
