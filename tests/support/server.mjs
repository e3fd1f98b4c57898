// server.mjs — starts the real sse-server for the Node test scripts
// (tests/client, tests/browser) and waits, with a deadline, for its
// start-up line "sse-server listening on ADDR:PORT"; stops it by its PID,
// with a deadline (process.mjs); asks it things over HTTP.
import { spawn } from 'node:child_process';
import { sleep, stopProcess } from './process.mjs';

export const SERVER = process.env.SSE_SERVER || './sse-server';

// Starts sse-server on 127.0.0.1 (--quiet; its stderr shows) with `args`
// and resolves, once it says where it listens, to { child, port, url,
// stop() }; fails after timeoutMs. A start on a given port (a restart) may
// find the old socket still held for a moment: with retryForMs, a failed
// start is tried again every 100 ms for that long.
export async function startServer(args, { timeoutMs = 10000, retryForMs = 0 } = {}) {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await startOnce(args, timeoutMs);
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(100);
    }
  }
}

function startOnce(args, timeoutMs) {
  const child = spawn(SERVER, ['--host', '127.0.0.1', '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let done = false;
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why} (stdout: ${JSON.stringify(out.slice(-200))})`));
    };
    const timer = setTimeout(() => fail(`no start-up line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (e) => fail(`cannot start ${SERVER}: ${e.message}`));
    child.once('exit', (code, signal) => fail(`server exited (${code ?? signal}) before listening`));
    child.stdout.on('data', (chunk) => {
      if (done) return; // still read: the pipe must not fill up
      out += chunk;
      const match = /listening on .*:(\d+)\r?\n/.exec(out); // the whole line
      if (!match) return;
      done = true;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({ child, port, url: `http://127.0.0.1:${port}`, stop: () => stopServer(child) });
    });
  });
}

// Stops sse-server by its PID (process.mjs): resolves to its exit code, 0
// after a clean SIGTERM, or the signal that ended it.
export const stopServer = (child) => stopProcess(child);

// Polls `condition` every pollMs until it returns a truthy value or the
// deadline passes (then throws with `what`).
export async function waitFor(condition, what, timeoutMs = 10000, pollMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

export async function publish(url, body, headers = {}, { timeoutMs } = {}) {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
  });
  return { status: response.status, json: await response.json() };
}

// GET URL/stats, parsed; throws unless it answers 200 with JSON within
// timeoutMs.
export async function stats(url, { timeoutMs = 10000 } = {}) {
  const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`GET ${url}/stats answered ${response.status}`);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`GET ${url}/stats is not JSON (${err.message}): ...${text.slice(-100)}`);
  }
}
