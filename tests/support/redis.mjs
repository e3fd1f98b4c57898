// redis.mjs — a throw-away redis-server for the Node test scripts
// (tests/client, tests/browser) that run sse-server with --redis.
//
// Starts Debian's /usr/bin/redis-server in the foreground on a free
// 127.0.0.1 port, without persistence, its working folder a fresh temporary
// directory; waits, with a deadline, until it answers PING over a socket;
// stops it by its PID (SIGTERM, SIGKILL after 5 s) and removes the folder.
// `command()` sends one command and returns its reply, enough for a test to
// look at the keys sse-server writes (XLEN sse:log, ...).
import fs from 'node:fs';
import net from 'node:net';
import { spawnUntilAnswering, startOnFreePort, stopProcess } from './process.mjs';

export const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

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
export function startRedis({ timeoutMs = 10000 } = {}) {
  return startOnFreePort('redis-server', 'sse-redis', timeoutMs, startOn);
}

async function startOn(port, dir, deadline) {
  const child = await spawnUntilAnswering(REDIS_SERVER, ['--bind', '127.0.0.1', '--port', String(port),
    '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], {
    name: 'redis-server',
    port,
    deadline,
    answers: () => command(port, ['PING'], { timeoutMs: 500 }).then((r) => r === 'PONG', () => false),
    detail: (output) => output.trim().split('\n').slice(-2).join(' | '),
  });
  return {
    child,
    port,
    dir,
    addr: `127.0.0.1:${port}`,
    url: `redis://127.0.0.1:${port}`,
    command: (args, opts) => command(port, args, opts),
    stop: () => stopRedis(child, dir),
  };
}

// SIGTERM, wait for the exit (SIGKILL after 5 s), remove the folder;
// resolves to the exit code or signal.
export function stopRedis(child, dir) {
  return stopProcess(child).finally(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
}
