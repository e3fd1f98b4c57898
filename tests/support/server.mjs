// server.mjs — starts the real sse-server for the Node test scripts
// (tests/client, tests/browser) and waits, with a deadline, for its
// start-up line "sse-server listening on ADDR:PORT".
import { spawn } from 'node:child_process';

export const SERVER = process.env.SSE_SERVER || './sse-server';

export function startServer(args, { timeoutMs = 10000 } = {}) {
  const child = spawn(SERVER, ['--host', '127.0.0.1', '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start-up line within ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${seen}`));
    });
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on .*:(\d+)\s*$/m.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({ child, port, url: `http://127.0.0.1:${port}`, stop: () => stopServer(child) });
    });
  });
}

// SIGTERM, then wait for the exit (SIGKILL after 5 s); resolves to the code.
export function stopServer(child) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

// Polls `condition` every 20 ms until it returns a truthy value or the
// deadline passes (then throws with `what`).
export async function waitFor(condition, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function publish(url, body, headers = {}) {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}
