// test_page.mjs — the browser leg of `make test` (target browser-test).
//
// Drives a real headless Chromium (Debian's /usr/bin/chromium, through the
// npm package playwright-core, version pinned in package.json) against the
// real sse-server, which this script starts and stops itself:
//   a. our dashboard (www/index.html): it connects by itself, events arrive
//      in id order, inserted text is escaped, disconnect stops the flow; a
//      screenshot goes to build/browser/page.png;
//   b. a server restart on the same port: the page's EventSource reconnects
//      by itself, says it resumed, and goes on with larger ids;
//   c. the seed article's page (../shared/seed/index.html), unchanged, still
//      works against our server (skipped when that folder is absent).
// Prints "ok - NAME" / "not ok - NAME: REASON" per check, then
// "N passed, M failed"; exits 1 if any check failed.
//
// The dashboard's own features (charts, topics, publish form, reopening
// after a refusal, screenshots for docs/) are checked by test_dashboard.mjs.
//
// Run from the repository root after `npm install --no-package-lock`:
//   node tests/browser/test_page.mjs        (SSE_SERVER=path overrides ./sse-server)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, CRITICAL, firstLine, report, runCase, tally } from '../support/checks.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.resolve(process.env.SSE_SERVER || './sse-server');
const OUR_WWW = path.join(repoRoot, 'www');
const SEED_DIR = path.resolve(repoRoot, '../shared/seed');
const SHOT = path.join(repoRoot, 'build/browser/page.png');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OVERALL_MS = 90_000;
const WAIT_MS = 10_000; // deadline of any single condition
const HELLO = 'Hello from Server!';

const servers = new Set();
let browser = null;

// --- the server -----------------------------------------------------------

// Spawns sse-server and resolves once it prints "... listening on ADDR:PORT".
function startServer(www, extra = [], port = 0) {
  const args = ['--port', String(port), '--host', '127.0.0.1', '--tick-ms', '200', '--quiet',
    '--www', www, ...extra];
  const child = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  child.on('error', () => servers.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let done = false;
    const fail = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why} (stdout: ${JSON.stringify(out.slice(-200))}, ` +
        `stderr: ${JSON.stringify(err.slice(-200))})`));
    };
    const timer = setTimeout(() => fail(`no "listening on" line within ${WAIT_MS} ms`), WAIT_MS);
    child.on('error', (e) => fail(`cannot start ${SERVER}: ${e.message}`));
    child.on('exit', (code, signal) => fail(`server exited (${code ?? signal}) before listening`));
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (done) return;
      const line = out.split('\n').find((l) => l.includes('listening on '));
      if (!line || !out.includes('\n', out.indexOf(line))) return; // wait for the whole line
      const found = Number(line.slice(line.lastIndexOf(':') + 1).trim());
      if (!Number.isInteger(found) || found <= 0 || found > 65535) {
        fail(`cannot parse the port in ${JSON.stringify(line)}`);
        return;
      }
      done = true;
      clearTimeout(timer);
      resolve({ child, port: found, url: `http://127.0.0.1:${found}` });
    });
  });
}

// SIGTERM, wait for the exit (SIGKILL after 5 s); resolves to code or signal.
function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
    child.kill('SIGTERM');
  });
}

// --- the page ---------------------------------------------------------------

// A fresh page that counts the EventSource objects it constructs and records
// script errors.
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 780 } });
  await context.addInitScript(() => {
    const Native = window.EventSource;
    window.__eventSources = 0;
    window.EventSource = class extends Native {
      constructor(...args) {
        super(...args);
        window.__eventSources++;
      }
    };
  });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`page error: ${firstLine(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console error: ${m.text()}`);
  });
  return page;
}

// Snapshot of the log's event entries: [{id, text}].
const entries = (page) => page.$$eval('#log .event', (els) =>
  els.map((e) => ({ id: e.dataset.id, text: e.textContent })));

const waitForEvents = (page, count, aboveId = 0) => page.waitForFunction(
  ([n, above]) => [...document.querySelectorAll('#log .event')]
    .filter((e) => Number(e.dataset.id) > above).length >= n,
  [count, aboveId], { timeout: WAIT_MS, polling: 50 });

function checkOrdered(list) {
  assert(list.length > 0, 'no event entries');
  let prev = -Infinity;
  for (const { id, text } of list) {
    const n = Number(id);
    assert(id && Number.isSafeInteger(n), `data-id ${JSON.stringify(id)} is not an integer`);
    assert(n > prev, `data-id ${n} does not increase (previous ${prev})`);
    assert(text.includes(HELLO), `entry ${n} lacks "${HELLO}": ${JSON.stringify(text)}`);
    prev = n;
  }
}

// --- the cases --------------------------------------------------------------

async function caseOurPage() {
  let server;
  let page;
  let before;
  try {
    await runCase([
      ['a: server serves our page', async () => {
        server = await startServer(OUR_WWW);
        page = await newPage();
        const response = await page.goto(`${server.url}/`);
        assert(response.ok(), `GET / answered ${response.status()}`);
        assert(await page.locator('#connect').isVisible(), '#connect is not visible');
        for (const id of ['#disconnect', '#log', '#status']) {
          assert(await page.locator(id).count() === 1, `${id} missing`);
        }
        for (const [file, type] of [['favicon.svg', 'image/svg+xml'], ['app.js', 'text/javascript'],
          ['style.css', 'text/css']]) {
          const res = await page.request.get(`${server.url}/${file}`);
          assert(res.ok(), `GET /${file} answered ${res.status()}`);
          assert((res.headers()['content-type'] || '').startsWith(type),
            `${file} served as ${res.headers()['content-type']}`);
        }
      }, CRITICAL],
      ['a: the page connects by itself and shows >= 3 events in increasing id order', async () => {
        await waitForEvents(page, 3);
        const list = await entries(page);
        checkOrdered(list);
        const status = await page.textContent('#status');
        assert(/connected/i.test(status), `#status says ${JSON.stringify(status)}`);
        const text = list.at(-1).text;
        assert(/\d\.\d{4}(?!\d)/.test(text), `no randomValue to 4 places in ${JSON.stringify(text)}`);
        assert(/subscribers/.test(text), `no status fields in ${JSON.stringify(text)}`);
      }, CRITICAL],
      ['a: connect creates one EventSource only', async () => {
        // Bypass the disabled button: the handler itself must refuse.
        await page.evaluate(() => {
          const b = document.getElementById('connect');
          b.disabled = false;
          b.click();
          b.click();
          b.disabled = true;
        });
        const made = await page.evaluate(() => window.__eventSources);
        assert(made === 1, `${made} EventSource objects were created`);
        const last = (await entries(page)).at(-1).id;
        await waitForEvents(page, 1, Number(last));
        const text = (await entries(page)).at(-1).text;
        assert(/subscribers\s*1(?!\d)/.test(text), `server does not see one subscriber: ${text}`);
      }],
      ['a: screenshot build/browser/page.png', async () => {
        await waitForEvents(page, 6); // a fuller log for the picture
        fs.mkdirSync(path.dirname(SHOT), { recursive: true });
        await page.screenshot({ path: SHOT });
        assert(fs.statSync(SHOT).size > 0, 'empty screenshot');
      }],
      ['a: inserted text is escaped', async () => {
        const evil = '<img src=x id=injected onerror="window.__pwned=1"><b>bold</b>';
        const res = await fetch(`${server.url}/publish`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ data: { message: evil, time: 'not <i>a</i> time' } }),
        });
        assert(res.status === 202, `POST /publish answered ${res.status}`);
        const { id } = await res.json();
        await page.waitForSelector(`#log .event[data-id="${id}"]`);
        const shown = await page.textContent(`#log .event[data-id="${id}"]`);
        assert(shown.includes(evil), `message not shown as text: ${JSON.stringify(shown)}`);
        const injected = await page.$$eval('#log img, #log b, #log i, #injected', (els) => els.length);
        assert(injected === 0, 'markup from the event data became elements');
        assert(await page.evaluate(() => window.__pwned) === undefined, 'script from data ran');
      }],
      ['a: the log keeps at most 200 entries', async () => {
        const batch = Array.from({ length: 250 }, (_, i) => ({ data: { message: `batch ${i}` } }));
        const res = await fetch(`${server.url}/publish`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(batch),
        });
        assert(res.status === 202, `POST /publish answered ${res.status}`);
        const { ids } = await res.json();
        await page.waitForSelector(`#log .event[data-id="${ids.at(-1)}"]`);
        const rows = await page.$$eval('#log > *', (els) => els.length);
        assert(rows <= 200, `${rows} entries in the log`);
        const shown = (await entries(page)).map((e) => Number(e.id));
        assert(shown.every((id, i) => i === 0 || id > shown[i - 1]), 'ids out of order');
      }],
      ['a: no script errors on our page', async () => {
        assert(page.errors.length === 0, page.errors.join('; '));
      }],
      ['a: disconnect stops the events', async () => {
        await page.click('#disconnect');
        await page.waitForFunction(() => document.getElementById('status').dataset.state === 'closed',
          null, { timeout: WAIT_MS });
        before = (await entries(page)).length;
        await page.waitForTimeout(1000); // the one bounded wait: 5 ticks' worth
        const after = (await entries(page)).length;
        assert(after === before, `${after - before} events arrived after disconnect`);
        assert(await page.isEnabled('#connect'), '#connect not enabled again');
      }],
    ]);
  } finally {
    await page?.context().close().catch(() => {});
    if (server) await stopServer(server.child);
  }
}

async function caseRestart() {
  let server;
  let page;
  let port;
  let maxBefore;
  try {
    await runCase([
      ['b: events before the restart', async () => {
        server = await startServer(OUR_WWW, ['--retry-ms', '500']);
        port = server.port;
        page = await newPage();
        await page.goto(`${server.url}/`);
        await waitForEvents(page, 2);
        const list = await entries(page);
        checkOrdered(list);
        maxBefore = Number(list.at(-1).id);
      }, CRITICAL],
      ['b: page notices the server going away', async () => {
        const code = await stopServer(server.child);
        assert(code === 0, `server exited with ${code} on SIGTERM`);
        await page.waitForFunction(() => document.getElementById('status').dataset.state === 'connecting',
          null, { timeout: WAIT_MS });
        const notes = await page.$$eval('#log .note', (els) => els.map((e) => e.textContent));
        assert(notes.some((t) => t.includes('connection lost, reconnecting')),
          `no "connection lost" line: ${JSON.stringify(notes)}`);
      }],
      ['b: resumes with larger ids after a restart on the same port', async () => {
        // The old socket may linger briefly; retry the bind within the deadline.
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          try {
            server = await startServer(OUR_WWW, ['--retry-ms', '500'], port);
            break;
          } catch (err) {
            if (Date.now() > deadline) throw new Error(`restart on port ${port}: ${firstLine(err)}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        assert(server.port === port, `restarted on ${server.port}, not ${port}`);
        await waitForEvents(page, 2, maxBefore);
        const list = await entries(page);
        checkOrdered(list);
        const made = await page.evaluate(() => window.__eventSources);
        assert(made === 1, `${made} EventSource objects: the page reconnected by hand`);
        const status = await page.$eval('#status', (e) => e.dataset.state);
        assert(status === 'open', `#status state is ${status}`);
        const notes = await page.$$eval('#log .note', (els) => els.map((e) => e.textContent));
        assert(notes.some((t) => /reconnected, resumed after id \d+/.test(t)),
          `no "reconnected, resumed after id N" line: ${JSON.stringify(notes)}`);
      }],
    ]);
  } finally {
    await page?.context().close().catch(() => {});
    if (server) await stopServer(server.child);
  }
}

async function caseSeedPage() {
  if (!fs.existsSync(path.join(SEED_DIR, 'index.html'))) {
    console.log('skip: seed page not found');
    return;
  }
  let server;
  let page;
  try {
    await runCase([
      ['c: the seed page, unchanged, receives events', async () => {
        server = await startServer(SEED_DIR);
        page = await newPage();
        const response = await page.goto(`${server.url}/`);
        assert(response.ok(), `GET / answered ${response.status()}`);
        await page.locator('button', { hasText: '连接SSE' }).click();
        await page.waitForSelector(`#messages .message:has-text("${HELLO}")`);
        const made = await page.evaluate(() => window.__eventSources);
        assert(made === 1, `${made} EventSource objects`);
      }],
    ]);
  } finally {
    await page?.context().close().catch(() => {});
    if (server) await stopServer(server.child);
  }
}

// --- main -------------------------------------------------------------------

function summary() {
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
}

const overall = setTimeout(() => {
  report('overall deadline', `not finished within ${OVERALL_MS / 1000} s`);
  summary();
  for (const child of servers) child.kill('SIGKILL');
  const closing = browser ? browser.close().catch(() => {}) : Promise.resolve();
  Promise.race([closing, new Promise((r) => setTimeout(r, 3000))]).then(() => process.exit(1));
}, OVERALL_MS);

try {
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    report('launch chromium', err);
  }
  if (browser) {
    await caseOurPage();
    await caseRestart();
    await caseSeedPage();
  }
} finally {
  for (const child of servers) await stopServer(child);
  await browser?.close().catch(() => {});
  clearTimeout(overall);
}
summary();
process.exitCode = tally.failed > 0 ? 1 : 0;
