// supervisor.h — --workers N: one small process that keeps N servers running.
//
// main() calls run_supervisor() instead of running a Server when --workers
// asks for more than one. The supervisor
//   1. reserves the port: a socket bound (not listening) with SO_REUSEPORT,
//      which also turns --port 0 into a real port every worker can share;
//   2. maps the shared figures page (worker_slots.h) and forks N workers.
//      Each is an ordinary single-threaded Server (its own reactor,
//      listening socket on the same port with SO_REUSEPORT, Redis link,
//      history tail and subscribers) that writes one byte to a pipe once it
//      listens; when all have, the supervisor prints the one start-up line;
//   3. waits for signals (sigtimedwait: no reactor needed for this little):
//      a worker that dies is restarted after a backoff that doubles from
//      100 ms to 5 s (back to 100 ms once a worker lived 10 s), logged on
//      stderr; SIGTERM, SIGINT or SIGQUIT is forwarded to every worker,
//      which close their streams and exit; the supervisor exits 0 when all
//      are gone (SIGKILL for any still there after 5 s); SIGHUP is
//      forwarded.
// Workers ask the kernel for SIGTERM if the supervisor dies
// (PR_SET_PDEATHSIG), so none is ever left behind.
//
// Processes share events only through Redis, never memory: the shared page
// holds figures for /stats, nothing the fan-out reads.
#pragma once

#include "sse/server/config.h"

namespace sse {

// Runs the workers until a stop signal; returns the exit status (0 after a
// graceful stop, 1 when the workers could not start).
int run_supervisor(const Config& config);

}  // namespace sse
