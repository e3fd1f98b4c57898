// process.mjs — the children of the Node test scripts (tests/client,
// tests/browser): sse-server (server.mjs), redis-server (redis.mjs), nginx
// (nginx.mjs). Each listens on a free 127.0.0.1 port, is waited for with a
// deadline until it answers, and is stopped by its PID, with a deadline.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port that was free a moment ago: bind 127.0.0.1:0, read it, close.
// Whoever uses it retries on the rare race with another process.
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Runs `start(port, dir, deadline)` on a free port with a fresh temporary
// folder (os.tmpdir()/PREFIX-XXXXXX) until it resolves; after a failure the
// folder is removed and, unless the error is marked `fatal`, another port
// is tried until timeoutMs have passed.
export async function startOnFreePort(name, prefix, timeoutMs, start) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < deadline) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    try {
      return await start(port, dir, deadline);
    } catch (err) {
      lastError = err;
      fs.rmSync(dir, { recursive: true, force: true });
      if (err.fatal) break;
    }
  }
  throw new Error(`${name} did not start: ${lastError?.message ?? 'timed out'}`);
}

// Spawns `command` (redis-server, nginx: a server the tests run in the
// foreground on `port`) and resolves to its child once `answers()`, tried
// every 20 ms, resolves true. Its stdout and stderr are kept (the last 2,000
// characters; `detail(output)` says what of it goes into an error). Rejects,
// having sent the child `killSignal`, when it cannot be spawned (err.fatal),
// when it exits first (err.fatal unless `retryOnExit(message)`) or when
// `deadline` (a Date.now() value) passes.
export function spawnUntilAnswering(command, args, {
  name, port, answers, deadline, killSignal = 'SIGKILL', detail = (output) => output.trim(),
  retryOnExit = () => true,
}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => { output = (output + c).slice(-2000); });
  child.stderr.on('data', (c) => { output = (output + c).slice(-2000); });
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err, fatal) => {
      if (done) return;
      done = true;
      child.kill(killSignal);
      err.fatal = fatal;
      reject(err);
    };
    child.once('error', (e) => fail(new Error(`cannot start ${command}: ${e.message}`), true));
    child.once('exit', (code, signal) => {
      const message = `${name} exited (${code ?? signal}) before answering: ${detail(output)}`;
      fail(new Error(message), !retryOnExit(message));
    });
    (async () => {
      while (!done) {
        if (await answers()) break;
        if (Date.now() > deadline) {
          fail(new Error(`${name} did not answer on 127.0.0.1:${port} in time: ${detail(output)}`), false);
          return;
        }
        await sleep(20);
      }
      if (done) return;
      done = true;
      resolve(child);
    })();
  });
}

// Stops a child by its PID: SIGTERM, SIGKILL after killAfterMs; resolves to
// its exit code, or the signal that ended it. One that has ended already
// (also by a signal) resolves at once; one still there timeoutMs after the
// SIGTERM rejects.
export function stopProcess(child, { killAfterMs = 5000, timeoutMs = 10000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const giveUp = setTimeout(() => {
      child.off('exit', exited);
      reject(new Error(`${child.spawnfile} (pid ${child.pid}) did not exit within ${timeoutMs} ms of SIGTERM`));
    }, timeoutMs);
    function exited(code, signal) {
      clearTimeout(kill);
      clearTimeout(giveUp);
      resolve(code ?? signal);
    }
    child.once('exit', exited);
    child.kill('SIGTERM');
  });
}

