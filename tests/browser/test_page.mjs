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
import fs from 'node:fs';
import path from 'node:path';
import { assert, CRITICAL } from '../support/checks.mjs';
import { publish } from '../support/server.mjs';
import {
  assertNoErrors, eventSources, launchChromium, newPage as newBrowserPage, OUR_WWW, REPO_ROOT,
  runBrowserTest, runCaseAndCleanUp, screenshot, startServer as startHeldServer, waitState,
} from '../support/browser.mjs';

const SEED_DIR = path.resolve(REPO_ROOT, '../shared/seed');
const OVERALL_MS = 90_000;
const WAIT_MS = 10_000; // deadline of any single condition
const HELLO = 'Hello from Server!';

// sse-server serving `www`, ticking every 200 ms; on a given port (a
// restart) the old socket may linger briefly, so a failed bind is retried
// within the deadline.
const startServer = (www, extra = [], port = 0) => startHeldServer(
  ['--port', String(port), '--tick-ms', '200', '--www', www, ...extra],
  { timeoutMs: WAIT_MS, retryForMs: port ? WAIT_MS : 0 });

// A fresh page that counts the EventSource objects it constructs and records
// script errors.
const newPage = () => newBrowserPage({ viewport: { width: 1000, height: 780 } }, { timeoutMs: WAIT_MS });

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
  await runCaseAndCleanUp([
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
      const made = await eventSources(page);
      assert(made === 1, `${made} EventSource objects were created`);
      const last = (await entries(page)).at(-1).id;
      await waitForEvents(page, 1, Number(last));
      const text = (await entries(page)).at(-1).text;
      assert(/subscribers\s*1(?!\d)/.test(text), `server does not see one subscriber: ${text}`);
    }],
    ['a: screenshot build/browser/page.png', async () => {
      await waitForEvents(page, 6); // a fuller log for the picture
      const shot = await screenshot(page, 'page.png');
      assert(fs.statSync(shot).size > 0, 'empty screenshot');
    }],
    ['a: inserted text is escaped', async () => {
      const evil = '<img src=x id=injected onerror="window.__pwned=1"><b>bold</b>';
      const res = await publish(server.url, { data: { message: evil, time: 'not <i>a</i> time' } });
      assert(res.status === 202, `POST /publish answered ${res.status}`);
      const { id } = res.json;
      await page.waitForSelector(`#log .event[data-id="${id}"]`);
      const shown = await page.textContent(`#log .event[data-id="${id}"]`);
      assert(shown.includes(evil), `message not shown as text: ${JSON.stringify(shown)}`);
      const injected = await page.$$eval('#log img, #log b, #log i, #injected', (els) => els.length);
      assert(injected === 0, 'markup from the event data became elements');
      assert(await page.evaluate(() => window.__pwned) === undefined, 'script from data ran');
    }],
    ['a: the log keeps at most 200 entries', async () => {
      const batch = Array.from({ length: 250 }, (_, i) => ({ data: { message: `batch ${i}` } }));
      const res = await publish(server.url, batch);
      assert(res.status === 202, `POST /publish answered ${res.status}`);
      const { ids } = res.json;
      await page.waitForSelector(`#log .event[data-id="${ids.at(-1)}"]`);
      const rows = await page.$$eval('#log > *', (els) => els.length);
      assert(rows <= 200, `${rows} entries in the log`);
      const shown = (await entries(page)).map((e) => Number(e.id));
      assert(shown.every((id, i) => i === 0 || id > shown[i - 1]), 'ids out of order');
    }],
    ['a: no script errors on our page', async () => assertNoErrors(page)],
    ['a: disconnect stops the events', async () => {
      await page.click('#disconnect');
      await waitState(page, 'closed', WAIT_MS);
      before = (await entries(page)).length;
      await page.waitForTimeout(1000); // the one bounded wait: 5 ticks' worth
      const after = (await entries(page)).length;
      assert(after === before, `${after - before} events arrived after disconnect`);
      assert(await page.isEnabled('#connect'), '#connect not enabled again');
    }],
  ]);
}

async function caseRestart() {
  let server;
  let page;
  let port;
  let maxBefore;
  await runCaseAndCleanUp([
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
      const code = await server.stop();
      assert(code === 0, `server exited with ${code} on SIGTERM`);
      await waitState(page, 'connecting', WAIT_MS);
      const notes = await page.$$eval('#log .note', (els) => els.map((e) => e.textContent));
      assert(notes.some((t) => t.includes('connection lost, reconnecting')),
        `no "connection lost" line: ${JSON.stringify(notes)}`);
    }],
    ['b: resumes with larger ids after a restart on the same port', async () => {
      server = await startServer(OUR_WWW, ['--retry-ms', '500'], port);
      assert(server.port === port, `restarted on ${server.port}, not ${port}`);
      await waitForEvents(page, 2, maxBefore);
      const list = await entries(page);
      checkOrdered(list);
      const made = await eventSources(page);
      assert(made === 1, `${made} EventSource objects: the page reconnected by hand`);
      const status = await page.$eval('#status', (e) => e.dataset.state);
      assert(status === 'open', `#status state is ${status}`);
      const notes = await page.$$eval('#log .note', (els) => els.map((e) => e.textContent));
      assert(notes.some((t) => /reconnected, resumed after id \d+/.test(t)),
        `no "reconnected, resumed after id N" line: ${JSON.stringify(notes)}`);
    }],
  ]);
}

async function caseSeedPage() {
  if (!fs.existsSync(path.join(SEED_DIR, 'index.html'))) {
    console.log('skip: seed page not found');
    return;
  }
  let server;
  let page;
  await runCaseAndCleanUp([
    ['c: the seed page, unchanged, receives events', async () => {
      server = await startServer(SEED_DIR);
      page = await newPage();
      const response = await page.goto(`${server.url}/`);
      assert(response.ok(), `GET / answered ${response.status()}`);
      await page.locator('button', { hasText: '连接SSE' }).click();
      await page.waitForSelector(`#messages .message:has-text("${HELLO}")`);
      const made = await eventSources(page);
      assert(made === 1, `${made} EventSource objects`);
    }],
  ]);
}

// --- main -------------------------------------------------------------------

await runBrowserTest(OVERALL_MS, async () => {
  if (!await launchChromium()) return;
  await caseOurPage();
  await caseRestart();
  await caseSeedPage();
});
