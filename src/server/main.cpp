// main.cpp — the entry point: parse the command line, run the server.
//
// Exit status: 0 after --help, --version or a graceful shutdown; 2 for a
// bad command line (with one line naming the option); 1 when the server
// cannot start (port taken, --www missing).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sse/server/config.h"
#include "sse/base/log.h"
#include "sse/server/server.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sse::ParsedArgs parsed = sse::parse_config(args, std::getenv("SSE_PUBLISH_TOKEN"));
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
  sse::set_log_quiet(parsed.config.quiet);
  sse::Server server(parsed.config);
  std::string error;
  if (!server.open(error)) {
    std::fprintf(stderr, "sse-server: %s\n", error.c_str());
    return 1;
  }
  return server.run();
}
