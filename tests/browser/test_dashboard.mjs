// test_dashboard.mjs — the dashboard (www/index.html) in a real headless
// Chromium (Debian's /usr/bin/chromium through playwright-core, as in
// test_page.mjs), against the real sse-server, started and stopped here on
// free loopback ports:
//   a. it connects by itself; each of the six charts draws points that keep
//      changing, fed by the tick events alone; the figures read as text;
//      the publish form shows the id it got and the event arrives with it,
//      and shows the server's error; choosing a topic shows only that topic
//      and says the charts have nothing; Disconnect drops the subscriber in
//      /stats; every control has a label and Tab reaches them;
//   b. a publish token: the form shows the 401 and its reason, then succeeds
//      with the token;
//   c. a server restart on the same port is survived: the page says it
//      resumed, shows the gap notice, and misses none of the new server's
//      events;
//   d. a refused stream (503 from a stand-in on the same port, as a proxy
//      would answer while the server is away): the browser gives up, the page
//      reopens by itself with a growing delay and ?lastEventId=, and resumes
//      once the server is back;
//   e. without the chart library (its file blocked) the figures still update;
//   f. with --workers 2 (sharing a redis-server) the charts draw one line per
//      process (skipped without /usr/bin/redis-server);
//   g. screenshots after ~20 s of ticks: desktop, phone (390x844), dark, in
//      build/browser/; with UPDATE_DOCS=1 also copied to docs/dashboard-*.png
//      for the README (a plain test run leaves the tracked files alone).
// Console errors fail the run, except the ones a check provokes on purpose
// (the browser logs a refused request or a 4xx/5xx answer as an error).
// Prints "ok - NAME" / "not ok - NAME: REASON", then "N passed, M failed";
// exits 1 if any check failed.
//
// Run from the repository root after `npm install --no-package-lock` and
// `make` (which copies the chart library into www/vendor/):
//   node tests/browser/test_dashboard.mjs   (SSE_SERVER=path overrides ./sse-server)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { assert, CRITICAL, report } from '../support/checks.mjs';
import { publish, stats, waitFor } from '../support/server.mjs';
import { REDIS_SERVER } from '../support/redis.mjs';
import {
  assertNoErrors, eventSources, hold, launchChromium, newPage as newBrowserPage, OUR_WWW, REPO_ROOT,
  runBrowserTest, runCaseAndCleanUp, screenshot, startRedis, startServer as startHeldServer, waitState,
} from '../support/browser.mjs';

const DOCS_DIR = path.join(REPO_ROOT, 'docs');
const UPDATE_DOCS = process.env.UPDATE_DOCS === '1';
const OVERALL_MS = 240_000;
const WAIT_MS = 10_000; // deadline of any single condition
const METRICS = ['cpu', 'memory', 'subscribers', 'events', 'latency', 'load'];
const TOKEN = 'dashboard-token';

// --- servers ------------------------------------------------------------------

// sse-server on 127.0.0.1 serving our page, ticking every 200 ms; on a given
// port (a restart) the old socket may linger briefly, so a failed bind is
// retried within the deadline.
const startServer = (extra = [], port = 0) => startHeldServer(['--port', String(port), '--www', OUR_WWW,
  '--tick-ms', '200', '--retry-ms', '300', ...extra], { retryForMs: port ? WAIT_MS : 0 });

// A stand-in for a proxy whose server is away: every request gets 503 with
// Retry-After and a JSON body. Records each request's URL, Last-Event-ID
// header and time. Held: stopped at the end of the case.
function startRefuser(port) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url, header: req.headers['last-event-id'], at: Date.now() });
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1', Connection: 'close' });
    res.end('{"error":"the server is restarting"}');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const stop = () => new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  const deadline = Date.now() + WAIT_MS;
  return new Promise((resolve, reject) => {
    const listen = () => {
      server.once('error', (err) => {
        if (Date.now() > deadline) reject(err);
        else setTimeout(listen, 50);
      });
      server.listen(port, '127.0.0.1', () => {
        hold(stop);
        resolve({ requests, stop });
      });
    };
    listen();
  });
}

// Reads the event ids of GET /sse?lastEventId=0 (a gap, then every event
// the server still has) until one reaches `until`; resolves to the ids of
// the events, without the gap's.
async function retainedIds(url, until) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), WAIT_MS);
  const ids = [];
  try {
    const response = await fetch(`${url}/sse?topic=main&lastEventId=0`, { signal: controller.signal });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        if (id && !/^event: gap$/m.test(block)) ids.push(Number(id));
      }
      if (ids.length && ids.at(-1) >= until) return ids;
    }
    throw new Error(`the stream ended before id ${until}`);
  } catch (err) {
    if (controller.signal.aborted) throw new Error(`no id >= ${until} within ${WAIT_MS} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

// --- the page -------------------------------------------------------------------

// A fresh page that counts the EventSource objects it constructs and records
// console errors and script errors. `allow(regex)` excuses the console
// errors a check provokes on purpose.
const newPage = (contextOptions = {}) => newBrowserPage({ viewport: { width: 1280, height: 900 },
  ...contextOptions }, { timeoutMs: WAIT_MS });

// The network errors the browser logs when a request is refused or answered
// with an error status.
const refusedRequest = (status) => new RegExp(`Failed to load resource: the server responded with a status of ${status}`);
const connectionRefused = /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/;
const eventSourceRefused = /EventSource's response has a MIME type|status of 503/;

const events = (page) => page.$$eval('#log .event', (els) => els.map((e) => ({
  id: e.dataset.id,
  name: e.querySelector('.name')?.textContent ?? '',
  msg: e.querySelector('.msg')?.textContent ?? '',
  mine: e.classList.contains('mine'),
})));

const notes = (page) => page.$$eval('#log .note', (els) => els.map((e) => e.textContent));

// The log's lines after the last note containing `text`.
const eventsAfterNote = (page, text) => page.$$eval('#log > li', (els, t) => {
  let start = -1;
  els.forEach((e, i) => { if (e.classList.contains('note') && e.textContent.includes(t)) start = i; });
  return els.slice(start + 1).filter((e) => e.classList.contains('event'))
    .map((e) => ({ id: e.dataset.id, msg: e.querySelector('.msg')?.textContent ?? '' }));
}, text);

const waitForNote = (page, pattern, timeout = WAIT_MS) => page.waitForFunction(
  ([source, flags]) => [...document.querySelectorAll('#log .note')]
    .some((e) => new RegExp(source, flags).test(e.textContent)),
  [pattern.source, pattern.flags], { timeout, polling: 50 });

const waitForEvent = (page, id, timeout = WAIT_MS) =>
  page.waitForSelector(`#log .event[data-id="${id}"]`, { timeout });

// Per chart: its Dygraph's rows, its last point, the time span it draws,
// and whether its canvas is on the page with a size.
const chartState = (page) => page.evaluate((keys) => Object.fromEntries(keys.map((key) => {
  const graph = window.sseDashboard.charts.graph(key);
  if (!graph) return [key, null];
  const rows = graph.numRows();
  const canvas = document.querySelector(`[data-metric="${key}"] canvas`);
  return [key, {
    rows,
    lastX: rows ? graph.getValue(rows - 1, 0) : 0,
    lastY: rows ? graph.getValue(rows - 1, 1) : null,
    drawnTo: graph.xAxisRange()[1],
    canvas: canvas ? canvas.width * canvas.height : 0,
  }];
})), METRICS);

function checkIncreasing(ids) {
  ids.forEach((id, i) => {
    assert(Number.isSafeInteger(Number(id)), `data-id ${JSON.stringify(id)} is not an integer`);
    assert(i === 0 || Number(id) > Number(ids[i - 1]), `id ${id} after ${ids[i - 1]}`);
  });
}

async function publishFromForm(page, { topic = 'main', event = '', data, token = '' }) {
  await page.fill('#pub-topic', topic);
  await page.fill('#pub-event', event);
  await page.fill('#pub-data', data);
  await page.fill('#pub-token', token);
  await page.click('#publish-form button[type="submit"]');
  await page.waitForFunction(() => ['ok', 'error']
    .includes(document.getElementById('publish-result').dataset.kind), null, { timeout: WAIT_MS });
  return page.evaluate(() => {
    const out = document.getElementById('publish-result');
    return { kind: out.dataset.kind, text: out.textContent };
  });
}

// --- a. the dashboard -------------------------------------------------------------

async function caseDashboard() {
  let server;
  let page;
  let before;
  await runCaseAndCleanUp([
    ['a: the dashboard connects by itself', async () => {
      server = await startServer();
      page = await newPage();
      const response = await page.goto(`${server.url}/`);
      assert(response.ok(), `GET / answered ${response.status()}`);
      await waitState(page, 'open');
      const url = await page.textContent('#stream-url');
      assert(url === '/sse?topic=main', `stream URL ${JSON.stringify(url)}`);
    }, CRITICAL],
    ['a: every chart draws points that keep changing', async () => {
      await page.waitForFunction((keys) => keys.every((k) =>
        (window.sseDashboard.charts.graph(k)?.numRows() ?? 0) >= 3), METRICS, { timeout: WAIT_MS });
      before = await chartState(page);
      await page.waitForFunction(([keys, was]) => keys.every((k) => {
        const graph = window.sseDashboard.charts.graph(k);
        return graph.numRows() >= was[k].rows + 3;
      }), [METRICS, before], { timeout: WAIT_MS });
      const after = await chartState(page);
      for (const key of METRICS) {
        const [b, a] = [before[key], after[key]];
        assert(a.lastX > b.lastX, `${key}: the last point did not move on (${b.lastX} -> ${a.lastX})`);
        assert(typeof a.lastY === 'number', `${key}: last value ${a.lastY}`);
        assert(a.drawnTo > b.drawnTo, `${key}: the drawn time span did not move on`);
        assert(a.canvas > 0, `${key}: no canvas with a size`);
      }
    }, CRITICAL],
    ['a: hovering a chart reads out its values; dark mode recolours it', async () => {
      const box = await page.locator('[data-metric="cpu"] [data-chart]').boundingBox();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
      await page.waitForFunction(() => /^\d\d:\d\d:\d\d · CPU \d+\.\d %$/
        .test(document.querySelector('[data-metric="cpu"] [data-readout]').textContent));
      await page.mouse.move(0, 0);
      // The chart's grid colour follows style.css's --chart-grid.
      const followsScheme = () => page.waitForFunction(() =>
        window.sseDashboard.charts.graph('cpu').getOption('gridLineColor') === getComputedStyle(
          document.documentElement).getPropertyValue('--chart-grid').trim());
      const grid = () => page.evaluate(() => window.sseDashboard.charts.graph('cpu').getOption('gridLineColor'));
      const light = await grid();
      await page.emulateMedia({ colorScheme: 'dark' });
      await followsScheme();
      const dark = await grid();
      await page.emulateMedia({ colorScheme: 'light' });
      await followsScheme();
      assert(dark !== light, `the grid colour stayed ${light}`);
    }],
    ['a: the figures show the newest tick as text', async () => {
      const figures = await page.$$eval('[data-metric]', (cards) => Object.fromEntries(cards.map((c) =>
        [c.dataset.metric, c.querySelector('[data-figure]').textContent])));
      const want = {
        cpu: /^\d+\.\d %$/, memory: /^\d+(\.\d)? (KiB|MiB)$/, subscribers: /^1$/,
        events: /^\d+(\.\d)? \/s$/, latency: /^[\d.]+ \/ [\d.]+ ms$/, load: /^\d+\.\d\d$/,
      };
      for (const [key, pattern] of Object.entries(want)) {
        assert(pattern.test(figures[key]), `${key} figure ${JSON.stringify(figures[key])}`);
      }
      const info = await page.textContent('#server-info');
      const { child } = server;
      assert(info.includes(`pid ${child.pid}`), `server line ${JSON.stringify(info)} lacks pid ${child.pid}`);
    }],
    ['a: publishing from the form shows the event with its id', async () => {
      const message = 'from the form <b>not bold</b>';
      const result = await publishFromForm(page, { data: JSON.stringify({ message }) });
      assert(result.kind === 'ok', `result ${JSON.stringify(result)}`);
      const id = /^202 Accepted · id (\d+)$/.exec(result.text)?.[1];
      assert(id, `no id in ${JSON.stringify(result.text)}`);
      await waitForEvent(page, id);
      const row = (await events(page)).find((e) => e.id === id);
      assert(row.msg === message, `the line shows ${JSON.stringify(row.msg)}`);
      assert(row.mine, 'the line is not marked as published here');
      assert(await page.$$eval('#log b', (els) => els.length) === 0, 'markup from the data became elements');

      const named = await publishFromForm(page, { event: 'quote', data: 'plain text, not JSON' });
      const namedId = /id (\d+)/.exec(named.text)?.[1];
      assert(named.kind === 'ok' && namedId, `result ${JSON.stringify(named)}`);
      await waitForEvent(page, namedId);
      const namedRow = (await events(page)).find((e) => e.id === namedId);
      assert(namedRow.name === 'quote' && namedRow.msg === 'plain text, not JSON',
        `the named event shows as ${JSON.stringify(namedRow)}`);
    }],
    ['a: the form shows the server\'s error, clearly', async () => {
      page.allow(refusedRequest(400));
      const direct = await publish(server.url, { topic: 'no spaces allowed', data: 1 });
      assert(direct.status === 400, `the server answered ${direct.status}`);
      const result = await publishFromForm(page, { topic: 'no spaces allowed', data: '1' });
      assert(result.kind === 'error', `result ${JSON.stringify(result)}`);
      assert(result.text.startsWith('400 Bad Request: ') && result.text.includes(direct.json.error),
        `result ${JSON.stringify(result.text)}, the server says ${JSON.stringify(direct.json.error)}`);
      const color = await page.$eval('#publish-result', (e) => getComputedStyle(e).color);
      const normal = await page.$eval('body', (e) => getComputedStyle(e).color);
      assert(color !== normal, 'the error is shown in the ordinary text colour');
    }],
    ['a: choosing a topic shows only that topic, and the charts say they have no data', async () => {
      await page.fill('#topic-new', 'news');
      await page.click('#topic-form button[type="submit"]');
      await page.locator('#topic-list label', { hasText: 'main' }).click(); // untick main
      await page.waitForFunction(() => document.getElementById('stream-url').textContent
        .startsWith('/sse?topic=news&lastEventId='), null, { timeout: WAIT_MS });
      await waitState(page, 'open');
      const notice = await page.$eval('#chart-notice', (e) => (e.hidden ? '' : e.textContent));
      assert(/No server figures/.test(notice) && notice.includes('main'), `notice ${JSON.stringify(notice)}`);
      const rows = await page.$$eval('[data-metric]', (cards) => cards.map((c) => c.dataset.rows));
      assert(rows.every((r) => r === '0'), `chart rows ${rows}`);
      const empty = await page.$$eval('[data-chart]', (els) => els.every((e) => e.childElementCount === 0));
      assert(empty, 'a chart still draws');

      // One stream delivers in id order: once the last of these shows,
      // anything of them the page should not see would already be there.
      const sent = [];
      for (const topic of ['main', 'news', 'sports', 'news']) {
        const reply = await publish(server.url, { topic, data: { message: `for ${topic}` } });
        assert(reply.status === 202, `publish to ${topic}: ${reply.status}`);
        sent.push({ topic, id: String(reply.json.id) });
      }
      await waitForEvent(page, sent.at(-1).id);
      const shown = await eventsAfterNote(page, 'topics now news');
      const want = sent.filter((s) => s.topic === 'news').map((s) => s.id);
      assert(JSON.stringify(shown.map((e) => e.id)) === JSON.stringify(want),
        `after the switch the log shows ${JSON.stringify(shown)}, expected only ${want}`);
    }],
    ['a: ticking main again brings the charts back', async () => {
      await page.locator('#topic-list label', { hasText: 'main' }).click();
      await page.waitForFunction(() => document.getElementById('chart-notice').hidden
        && (window.sseDashboard.charts.graph('cpu')?.numRows() ?? 0) >= 3, null, { timeout: WAIT_MS });
      const url = await page.textContent('#stream-url');
      assert(/^\/sse\?topic=main&topic=news&lastEventId=\d+$/.test(url), `stream URL ${url}`);
    }],
    ['a: Disconnect drops the subscriber in /stats; Connect resumes', async () => {
      assert((await stats(server.url)).subscribers === 1, 'not one subscriber before');
      await page.click('#disconnect');
      await waitState(page, 'closed');
      await waitFor(async () => (await stats(server.url)).subscribers === 0,
        '/stats subscribers to drop to 0', WAIT_MS);
      const last = await page.textContent('#last-id');
      await page.click('#connect');
      await waitState(page, 'open');
      await waitFor(async () => (await stats(server.url)).subscribers === 1,
        '/stats subscribers back to 1', WAIT_MS);
      await waitForNote(page, new RegExp(`connected to .*lastEventId=${last}, resuming after id ${last}`));
    }],
    ['a: every control has a label, and Tab reaches them with a visible focus', async () => {
      const unlabelled = await page.$$eval('input, textarea, select', (els) => els
        .filter((e) => e.checkVisibility() && e.labels.length === 0).map((e) => e.id || e.outerHTML));
      assert(unlabelled.length === 0, `no label: ${unlabelled.join(', ')}`);
      await page.evaluate(() => document.activeElement?.blur());
      const reached = new Set();
      let outline = '';
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Tab');
        const seen = await page.evaluate(() => {
          const e = document.activeElement;
          return { id: e.id || e.value, outline: getComputedStyle(e).outlineStyle };
        });
        reached.add(seen.id);
        if (seen.id === 'disconnect') outline = seen.outline;
      }
      for (const id of ['disconnect', 'main', 'topic-new', 'pub-topic', 'pub-data']) {
        assert(reached.has(id), `Tab never reached ${id}: ${[...reached].join(', ')}`);
      }
      assert(outline && outline !== 'none', `no focus outline on a button (${outline})`);
    }],
    ['a: no console errors', async () => assertNoErrors(page)],
  ]);
}

// --- b. a publish token ----------------------------------------------------------

async function caseToken() {
  let server;
  let page;
  await runCaseAndCleanUp([
    ['b: without the token the form shows the 401 and why', async () => {
      server = await startServer(['--publish-token', TOKEN, '--tick-ms', '0']);
      page = await newPage();
      page.allow(refusedRequest(401));
      await page.goto(`${server.url}/`);
      await waitState(page, 'open');
      const direct = await publish(server.url, { data: 1 });
      assert(direct.status === 401, `the server answered ${direct.status}`);
      for (const token of ['', 'wrong']) {
        const result = await publishFromForm(page, { data: '{"message": "no"}', token });
        assert(result.kind === 'error' && result.text === `401 Unauthorized: ${direct.json.error}`,
          `with token ${JSON.stringify(token)}: ${JSON.stringify(result)}`);
      }
    }, CRITICAL],
    ['b: with the token it publishes, and the event shows', async () => {
      const result = await publishFromForm(page, { data: '{"message": "with a token"}', token: TOKEN });
      const id = /^202 Accepted · id (\d+)$/.exec(result.text)?.[1];
      assert(result.kind === 'ok' && id, `result ${JSON.stringify(result)}`);
      await waitForEvent(page, id);
    }],
    ['b: no ticker: the charts say there is no data', async () => {
      const info = await page.textContent('#server-info');
      assert(info.startsWith('no tick yet'), `server line ${JSON.stringify(info)}`);
      const figures = await page.$$eval('[data-figure]', (els) => els.map((e) => e.textContent));
      assert(figures.every((f) => f === '–'), `figures ${figures}`);
      assertNoErrors(page);
    }],
  ]);
}

// --- c. a restart -----------------------------------------------------------------

async function caseRestart() {
  let server;
  let page;
  let port;
  let lastBefore;
  await runCaseAndCleanUp([
    ['c: the page notices the server going away', async () => {
      server = await startServer();
      port = server.port;
      page = await newPage();
      page.allow(connectionRefused);
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.querySelectorAll('#log .event').length >= 3);
      const code = await server.stop();
      assert(code === 0, `server exited with ${code} on SIGTERM`);
      await waitForNote(page, /connection lost, reconnecting/);
      lastBefore = (await events(page)).at(-1).id;
    }, CRITICAL],
    ['c: after a restart on the same port it resumes, with a gap notice', async () => {
      server = await startServer([], port);
      await waitState(page, 'open');
      await waitForNote(page, new RegExp(`reconnected, resumed after id ${lastBefore}$`));
      await waitForNote(page, new RegExp(`missed events \\(gap\\): .* after id ${lastBefore} `));
      const made = await eventSources(page);
      assert(made === 1, `${made} EventSource objects: the browser should have reconnected itself`);
    }, CRITICAL],
    ['c: no event of the new server is missing, ids keep increasing', async () => {
      await page.waitForFunction((after) => [...document.querySelectorAll('#log .event')]
        .filter((e) => Number(e.dataset.id) > after).length >= 3, Number(lastBefore));
      const shown = (await events(page)).map((e) => e.id);
      checkIncreasing(shown);
      const newest = Number(shown.at(-1));
      const kept = await retainedIds(server.url, newest);
      const missing = kept.filter((id) => id <= newest && !shown.includes(String(id)));
      assert(missing.length === 0, `${missing.length} of the server's events not shown: ${missing.slice(0, 5)}`);
      await screenshot(page, 'dashboard-restart.png', { fullPage: true });
      assertNoErrors(page);
    }],
  ]);
}

// --- d. a refused stream ------------------------------------------------------------

async function caseRefused() {
  let server;
  let refuser;
  let page;
  let port;
  let lastBefore;
  let reopens;
  await runCaseAndCleanUp([
    ['d: a 503 makes the browser give up; the page says so and waits', async () => {
      server = await startServer();
      port = server.port;
      page = await newPage();
      page.allow(connectionRefused);
      page.allow(eventSourceRefused);
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.querySelectorAll('#log .event').length >= 3);
      await server.stop();
      refuser = await startRefuser(port);
      await waitState(page, 'waiting');
      await waitForNote(page, /the server refused the stream .* reopening in [\d.]+ s \(attempt 1, resuming after id \d+\)/);
      lastBefore = (await events(page)).at(-1).id;
    }, CRITICAL],
    ['d: the page reopens by itself, with a growing delay and ?lastEventId=', async () => {
      const own = () => refuser.requests.filter((r) => r.url.includes('lastEventId='));
      await waitFor(() => own().length >= 2, 'two reopens by the page', 3 * WAIT_MS);
      reopens = own();
      for (const r of reopens) {
        assert(r.url === `/sse?topic=main&lastEventId=${lastBefore}`, `reopened as ${r.url}`);
      }
      // The first reopen waits 0.5-1 s after the refusal, the second 1-2 s
      // (stream.js: doubling, equal jitter).
      const firstRefusal = refuser.requests[refuser.requests.indexOf(reopens[0]) - 1];
      assert(firstRefusal, 'no refusal before the first reopen');
      const waited = [reopens[0].at - firstRefusal.at, reopens[1].at - reopens[0].at];
      assert(waited[0] >= 450 && waited[0] <= 1500, `first reopen after ${waited[0]} ms`);
      assert(waited[1] >= 950 && waited[1] <= 2500, `second reopen after ${waited[1]} ms`);
      await waitForNote(page, /\(attempt 2, resuming after id \d+\)/);
    }],
    ['d: once the server is back the page resumes where it was', async () => {
      await refuser.stop();
      server = await startServer([], port);
      await waitState(page, 'open', 3 * WAIT_MS);
      await waitForNote(page, new RegExp(`reconnected, resumed after id ${lastBefore}$`));
      await page.waitForFunction((after) => [...document.querySelectorAll('#log .event')]
        .filter((e) => Number(e.dataset.id) > after).length >= 2, Number(lastBefore));
      checkIncreasing((await events(page)).map((e) => e.id));
      const made = await eventSources(page);
      assert(made >= 1 + reopens.length, `${made} EventSource objects for ${reopens.length} reopens`);
      const reconnects = await page.textContent('#reconnects');
      assert(reconnects === '1', `reconnects shows ${reconnects}`);
      await screenshot(page, 'dashboard-refused.png', { fullPage: true });
      assertNoErrors(page);
    }],
  ]);
}

// --- e. without the chart library ------------------------------------------------------

async function caseNoLibrary() {
  let server;
  let page;
  await runCaseAndCleanUp([
    ['e: without dygraphs the figures still update, and the page says why', async () => {
      server = await startServer();
      page = await newPage();
      page.allow(/ERR_FAILED/);
      await page.route('**/vendor/dygraph.min.js', (route) => route.abort());
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => /%$/.test(document.querySelector('[data-metric="cpu"] [data-figure]')
        .textContent));
      const first = await page.textContent('#server-info');
      await page.waitForFunction((was) => document.getElementById('server-info').textContent !== was, first);
      const notice = await page.$eval('#chart-notice', (e) => (e.hidden ? '' : e.textContent));
      assert(notice.includes('Charts unavailable'), `notice ${JSON.stringify(notice)}`);
      assertNoErrors(page);
    }],
  ]);
}

// --- f. several processes ------------------------------------------------------------

async function caseWorkers() {
  if (!fs.existsSync(REDIS_SERVER)) {
    console.log(`skip: f (no ${REDIS_SERVER})`);
    return;
  }
  let redis;
  let server;
  let page;
  await runCaseAndCleanUp([
    ['f: with --workers 2 each chart draws one line per process', async () => {
      redis = await startRedis();
      server = await startServer(['--workers', '2', '--redis', redis.addr]);
      page = await newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => (window.sseDashboard.charts.graph('cpu')?.getLabels().length ?? 0) === 3,
        null, { timeout: WAIT_MS });
      const labels = await page.evaluate(() => window.sseDashboard.charts.graph('latency').getLabels());
      assert(labels.length === 5 && labels.slice(1).every((l) => /^p(50|99) pid \d+$/.test(l)),
        `latency labels ${JSON.stringify(labels)}`);
      const info = await page.textContent('#server-info');
      assert(info.startsWith('ticks from 2 processes (pid '), `server line ${JSON.stringify(info)}`);
      assertNoErrors(page);
    }],
  ]);
}

// --- g. screenshots ------------------------------------------------------------------

async function caseScreenshots() {
  let server;
  const pages = [];
  const shots = [
    ['desktop', { viewport: { width: 1280, height: 900 } }, true],
    ['phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, false],
    ['dark', { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' }, true],
  ];
  await runCaseAndCleanUp([
    ['g: three views after 20 s of ticks', async () => {
      server = await startServer(['--tick-ms', '250']);
      for (const [name, options] of shots) {
        const page = await newPage(options);
        await page.goto(`${server.url}/`);
        pages.push([name, page]);
      }
      // The charts need a window with some shape: wait until they span 20 s.
      for (const [, page] of pages) {
        await page.waitForFunction(() => {
          const graph = window.sseDashboard.charts.graph('cpu');
          const rows = graph?.numRows() ?? 0;
          return rows > 1 && graph.getValue(rows - 1, 0) - graph.getValue(0, 0) >= 20_000;
        }, null, { timeout: 4 * WAIT_MS, polling: 250 });
      }
      // One event from the form, so that the log shows a line of one's own.
      const [, desktop] = pages[0];
      const result = await publishFromForm(desktop, { data: '{"message": "Hello from the dashboard"}' });
      assert(result.kind === 'ok', `publish: ${JSON.stringify(result)}`);
      if (UPDATE_DOCS) fs.mkdirSync(DOCS_DIR, { recursive: true });
      for (const [[name, page], [, , fullPage]] of pages.map((p, i) => [p, shots[i]])) {
        await page.evaluate(() => document.activeElement?.blur());
        const file = await screenshot(page, `dashboard-${name}.png`, { fullPage });
        assert(fs.statSync(file).size > 10_000, `${file} is nearly empty`);
        if (UPDATE_DOCS) fs.copyFileSync(file, path.join(DOCS_DIR, `dashboard-${name}.png`));
      }
      for (const [name, page] of pages) {
        assertNoErrors(page, `${name}: `);
      }
    }],
  ]);
}

// --- main ----------------------------------------------------------------------------

await runBrowserTest(OVERALL_MS, async () => {
  if (!fs.existsSync(path.join(OUR_WWW, 'vendor/dygraph.min.js'))) {
    report('www/vendor/dygraph.min.js present', 'missing: run make (it copies Debian\'s libjs-dygraphs)');
    return;
  }
  if (!await launchChromium()) return;
  await caseDashboard();
  await caseToken();
  await caseRestart();
  await caseRefused();
  await caseNoLibrary();
  await caseWorkers();
  await caseScreenshots();
});
