// nginx.mjs — Debian's nginx (/usr/sbin/nginx, package nginx-light) in front
// of sse-server instances, for the Node test scripts (tests/client,
// tests/browser).
//
// Fills tests/nginx/two-instances.conf, with the README's recipe in it,
// into a fresh temporary folder (logs,
// temporary files, pid file all inside it), runs nginx in the foreground as
// a child of this process (`daemon off`) on a free 127.0.0.1 port, waits,
// with a deadline, until it answers HTTP there, and stops it by its PID
// (SIGTERM: nginx's fast shutdown, which also ends open streams; SIGKILL
// after 5 s) and removes the folder.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnUntilAnswering, startOnFreePort, stopProcess } from './process.mjs';

export const NGINX = process.env.NGINX || '/usr/sbin/nginx';
export const TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '../nginx/two-instances.conf');

// Waits, with a deadline, for the nginx binary: the package may still be
// being installed by apt in the background.
export async function waitForNginx(timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.accessSync(NGINX, fs.constants.X_OK);
      return NGINX;
    } catch {
      if (Date.now() > deadline) throw new Error(`${NGINX} not installed (apt-get install nginx-light)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

// Resolves once a GET / on 127.0.0.1:port gets any HTTP answer.
function answersHttp(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { socket.destroy(); resolve(false); }, 1000);
    let got = '';
    socket.once('error', () => { clearTimeout(timer); resolve(false); });
    socket.once('connect', () => socket.write('HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    socket.on('data', (c) => {
      got += c;
      if (got.startsWith('HTTP/1.')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(true);
      }
    });
    socket.once('end', () => { clearTimeout(timer); resolve(got.startsWith('HTTP/1.')); });
  });
}

// The README's nginx recipe: the ```nginx block that starts with
// "# inside http { }" (README "Two instances behind one port").
export const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');
export function readmeRecipe() {
  const text = fs.readFileSync(README, 'utf8');
  const match = /```nginx\n# inside http \{ \}\n([\s\S]*?)```/.exec(text);
  if (!match) throw new Error('README.md has no ```nginx block starting "# inside http { }"');
  return match[1];
}

// The template, with the README's recipe in it and the test's ports in
// place of the recipe's 3000 (nginx), 3001 and 3002 (the instances).
export function renderConfig({ prefix, listen, upstreams }) {
  const [a, b] = upstreams;
  const recipe = readmeRecipe()
    .replace(/listen 3000;/, `listen 127.0.0.1:${listen};`)
    .replace('127.0.0.1:3001', a)
    .replace('127.0.0.1:3002', b);
  if (!recipe.includes(`127.0.0.1:${listen}`) || !recipe.includes(a) || !recipe.includes(b)) {
    throw new Error('the README recipe no longer has "listen 3000;", 127.0.0.1:3001 and :3002');
  }
  return fs.readFileSync(TEMPLATE, 'utf8')
    .replaceAll('{{PREFIX}}', prefix)
    .replace('{{README_RECIPE}}', recipe);
}

// Starts nginx balancing over `upstreams` (two "HOST:PORT" strings, or
// ports on 127.0.0.1); resolves to { child, port, url, dir, stop() }.
export async function startNginx(upstreams, { timeoutMs = 10000 } = {}) {
  await waitForNginx();
  const targets = upstreams.map((u) => (typeof u === 'number' ? `127.0.0.1:${u}` : u));
  if (targets.length !== 2) throw new Error('two upstreams expected');
  return startOnFreePort('nginx', 'sse-nginx', timeoutMs, (port, dir, deadline) => {
    // Run as root, nginx's workers switch to "nobody": let them into the
    // folder for their temporary files.
    fs.chmodSync(dir, 0o755);
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, renderConfig({ prefix: dir, listen: port, upstreams: targets }));
    return startOn(port, dir, conf, deadline);
  });
}

async function startOn(port, dir, conf, deadline) {
  const errorLog = () => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      return '';
    }
  };
  const child = await spawnUntilAnswering(NGINX, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log'),
    '-g', `daemon off; pid ${dir}/nginx.pid;`], {
    name: 'nginx',
    port,
    deadline,
    answers: () => answersHttp(port),
    // Not SIGKILL: nginx's workers would outlive their master.
    killSignal: 'SIGTERM',
    detail: (output) => `${output.trim()} ${errorLog()}`,
    // Only a port taken meanwhile is worth another try.
    retryOnExit: (message) => /Address already in use/.test(message),
  });
  return {
    child,
    port,
    dir,
    url: `http://127.0.0.1:${port}`,
    errorLog,
    stop: () => stopNginx(child, dir),
  };
}

// Stops nginx by its PID and removes its folder; resolves to the exit code
// or signal. SIGTERM is nginx's fast shutdown (SIGQUIT, the graceful one,
// would wait for open event streams to end); SIGKILL only after 5 s, since
// it would leave the workers running without their master.
export function stopNginx(child, dir) {
  return stopProcess(child).finally(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
}
