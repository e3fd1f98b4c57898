// redis.mjs — a throw-away redis-server for the Node test scripts
// (tests/client, tests/browser) that run sse-server with --redis.
//
// Starts Debian's /usr/bin/redis-server in the foreground on a free
// 127.0.0.1 port, without persistence, its working folder a fresh temporary
// directory; waits, with a deadline, until it answers PING over a socket;
// stops it by its PID (SIGTERM, SIGKILL after 5 s) and removes the folder.
// `command()` sends one command and returns its reply, enough for a test to
// look at the keys sse-server writes (XLEN sse:log, ...).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

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

// One RESP value parsed from the front of `buf`: { value, rest } or null
// when `buf` does not hold a complete one yet.
function parseReply(buf) {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[0]);
  const line = buf.subarray(1, eol).toString();
  const after = buf.subarray(eol + 2);
  switch (type) {
    case '+': return { value: line, rest: after };
    case '-': return { value: new Error(line), rest: after };
    case ':': return { value: Number(line), rest: after };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, rest: after };
      if (after.length < n + 2) return null;
      return { value: after.subarray(0, n).toString(), rest: after.subarray(n + 2) };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, rest: after };
      const items = [];
      let rest = after;
      for (let i = 0; i < n; i++) {
        const item = parseReply(rest);
        if (!item) return null;
        items.push(item.value);
        rest = item.rest;
      }
      return { value: items, rest };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

// Sends one command on a fresh connection and resolves to its reply (an
// Error reply rejects). Fails after timeoutMs.
export function command(port, args, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const finish = (err, value) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`redis ${args[0]}: no answer within ${timeoutMs} ms`)),
      timeoutMs);
    socket.once('error', (e) => finish(e));
    socket.once('connect', () => {
      const parts = args.map((a) => Buffer.from(String(a)));
      socket.write(`*${parts.length}\r\n`);
      for (const p of parts) {
        socket.write(`$${p.length}\r\n`);
        socket.write(p);
        socket.write('\r\n');
      }
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let reply;
      try {
        reply = parseReply(buf);
      } catch (e) {
        finish(e);
        return;
      }
      if (!reply) return;
      if (reply.value instanceof Error) finish(reply.value);
      else finish(null, reply.value);
    });
  });
}

// Starts redis-server on a free loopback port and resolves, once it answers
// PING, to { child, port, addr: '127.0.0.1:P', url: 'redis://127.0.0.1:P',
// dir, stop(), command(args) }. The port is picked here (redis's --port 0
// turns TCP off); a lost race for it is retried with another one.
export async function startRedis({ timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < deadline) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-redis-'));
    try {
      return await startOn(port, dir, deadline);
    } catch (err) {
      lastError = err;
      fs.rmSync(dir, { recursive: true, force: true });
      if (err.fatal) break;
    }
  }
  throw new Error(`redis-server did not start: ${lastError?.message ?? 'timed out'}`);
}

function startOn(port, dir, deadline) {
  const child = spawn(REDIS_SERVER, ['--bind', '127.0.0.1', '--port', String(port), '--save', '',
    '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => { output = (output + c).slice(-2000); });
  child.stderr.on('data', (c) => { output = (output + c).slice(-2000); });
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err) => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', (e) => {
      const err = new Error(`cannot start ${REDIS_SERVER}: ${e.message}`);
      err.fatal = true;
      fail(err);
    });
    child.once('exit', (code, signal) => {
      fail(new Error(`redis-server exited (${code ?? signal}) before answering PING: ` +
        output.trim().split('\n').slice(-2).join(' | ')));
    });
    (async () => {
      while (!done) {
        try {
          if (await command(port, ['PING'], { timeoutMs: 500 }) === 'PONG') break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          fail(new Error(`no PONG from 127.0.0.1:${port} in time: ${output.trim()}`));
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      if (done) return;
      done = true;
      resolve({
        child,
        port,
        dir,
        addr: `127.0.0.1:${port}`,
        url: `redis://127.0.0.1:${port}`,
        command: (args, opts) => command(port, args, opts),
        stop: () => stopRedis(child, dir),
      });
    })();
  });
}

// SIGTERM, wait for the exit (SIGKILL after 5 s), remove the folder;
// resolves to the exit code or signal.
export function stopRedis(child, dir) {
  const cleanup = (result) => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    return result;
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(cleanup(child.exitCode ?? child.signalCode));
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(cleanup(code ?? signal));
    });
    child.kill('SIGTERM');
  });
}
