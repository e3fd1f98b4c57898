// test_redis_resume.mjs — the browser leg of `--redis` (SPEC "Many processes
// and hosts"): a real headless Chromium (Debian's /usr/bin/chromium through
// playwright-core, as in test_page.mjs) on our demo page (www/index.html),
// served through nginx (tests/nginx/two-instances.conf) that balances over
// two sse-server instances sharing one redis-server, all started and stopped
// here on free loopback ports:
//   a. the page loads through nginx and its EventSource lands on one
//      instance; events published through nginx (with the publish token) and
//      directly to both instances appear in id order;
//   b. the instance its stream is on is stopped (SIGTERM) and started again
//      on the same port while events go on being published to the other: the
//      page's own EventSource (no new one) reconnects through nginx with
//      Last-Event-ID and shows every event exactly once, in id order, with
//      no gap notice.
// Prints "ok - NAME" / "not ok - NAME: REASON" per check, then
// "N passed, M failed"; exits 1 if any check failed.
//
// Run from the repository root after `npm install --no-package-lock`:
//   node tests/browser/test_redis_resume.mjs   (SSE_SERVER=path overrides ./sse-server)
import { assert, CRITICAL, firstLine } from '../support/checks.mjs';
import { sleep } from '../support/process.mjs';
import { publish, stats, waitFor } from '../support/server.mjs';
import {
  assertNoErrors, eventSources, launchChromium, newPage as newBrowserPage, OUR_WWW, runBrowserTest,
  runCaseAndCleanUp, startNginx, startRedis, startServer, waitState,
} from '../support/browser.mjs';

const OVERALL_MS = 120_000;
const WAIT_MS = 10_000; // deadline of any single condition
const TOKEN = 'redis-browser-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

let redis = null;
let nginx = null;
const instances = []; // [A, B]: { child, port, url, stop }

// --- servers ------------------------------------------------------------------

// Starts an instance; on a given port the old socket may linger briefly, so
// a failed bind is retried within the deadline.
const startInstance = (port = 0) => startServer(['--port', String(port), '--tick-ms', '0',
  '--retry-ms', '300', '--www', OUR_WWW, '--redis', redis.addr, '--publish-token', TOKEN],
{ retryForMs: port ? WAIT_MS : 0 });

const redisConnected = (url) => waitFor(async () => {
  try {
    return (await stats(url)).redis?.connected === true;
  } catch {
    return false;
  }
}, `${url} connected to Redis`, WAIT_MS);

// The index in `instances` of the one holding the page's stream, once the
// two together have exactly one subscriber.
async function streamInstance() {
  return waitFor(async () => {
    const counts = [];
    for (const s of instances) {
      try {
        counts.push((await stats(s.url)).subscribers);
      } catch {
        counts.push(0); // stopped
      }
    }
    if (counts[0] + counts[1] !== 1) return false;
    return counts[0] === 1 ? 'A' : 'B';
  }, 'the page\'s stream on one instance', WAIT_MS);
}

// Everything published: id -> message, from the 202 answers.
const published = new Map();
let sent = 0;
async function send(url) {
  const message = `event ${++sent}`;
  const reply = await publish(url, { data: { message } }, AUTH);
  assert(reply.status === 202, `publish to ${url}: ${reply.status} ${JSON.stringify(reply.json)}`);
  assert(!published.has(reply.json.id), `id ${reply.json.id} answered twice`);
  published.set(reply.json.id, message);
  return reply.json.id;
}
const expectedIds = () => [...published.keys()].sort((x, y) => x - y).map(String);

// --- the page -------------------------------------------------------------------

// A fresh page that counts the EventSource objects it constructs and records
// script errors.
const newPage = () => newBrowserPage({ viewport: { width: 1000, height: 780 } },
  { timeoutMs: WAIT_MS, consoleErrors: false });

const entries = (page) => page.$$eval('#log .event', (els) =>
  els.map((e) => ({ id: e.dataset.id, text: e.querySelector('.msg')?.textContent })));

// Waits until the page shows every published id, then checks it shows
// exactly those, once each, in id order, with their messages.
async function checkAll(page) {
  const want = expectedIds();
  await page.waitForFunction((ids) => {
    const shown = new Set([...document.querySelectorAll('#log .event')].map((e) => e.dataset.id));
    return ids.every((id) => shown.has(id));
  }, want, { timeout: WAIT_MS, polling: 50 }).catch(async (err) => {
    const shown = new Set((await entries(page)).map((e) => e.id));
    const missing = want.filter((id) => !shown.has(id));
    throw new Error(`${missing.length} of ${want.length} events not shown (first ${missing[0]}): ` +
      firstLine(err));
  });
  await sleep(200); // room for a duplicate to show up
  const list = await entries(page);
  assert(list.length === want.length,
    `${list.length} entries for ${want.length} events: ${list.map((e) => e.id).join(' ')}`);
  list.forEach((e, i) => {
    assert(e.id === want[i], `entry ${i} has id ${e.id}, expected ${want[i]}`);
    assert(e.text === published.get(Number(e.id)), `entry ${e.id} shows ${JSON.stringify(e.text)}`);
  });
  const gaps = await page.$$eval('#log .note', (els) =>
    els.map((e) => e.textContent).filter((t) => t.includes('(gap)')));
  assert(gaps.length === 0, `gap notice: ${gaps[0]}`);
}

// --- the case -------------------------------------------------------------------

async function caseResume() {
  let page;
  let on; // 'A' or 'B': the instance holding the page's stream
  const index = (name) => (name === 'A' ? 0 : 1);
  await runCaseAndCleanUp([
    ['setup: redis-server, two instances, nginx in front', async () => {
      redis = await startRedis();
      instances.push(await startInstance(), await startInstance());
      nginx = await startNginx(instances.map((s) => s.port));
      for (const s of instances) await redisConnected(s.url);
    }, CRITICAL],
    ['a: the demo page loads through nginx and connects', async () => {
      page = await newPage();
      const response = await page.goto(`${nginx.url}/`);
      assert(response.ok(), `GET / through nginx answered ${response.status()}`);
      // The page connects by itself on load.
      await waitState(page, 'open', WAIT_MS);
      on = await streamInstance();
    }, CRITICAL],
    ['a: events through nginx and to both instances arrive in id order', async () => {
      const [a, b] = instances;
      for (let i = 0; i < 3; i++) {
        await send(nginx.url);
        await send(a.url);
        await send(b.url);
      }
      await Promise.all([send(a.url), send(b.url), send(nginx.url), send(a.url), send(b.url)]);
      await checkAll(page);
    }, CRITICAL],
    ['b: the page notices its instance going away', async () => {
      const victim = instances[index(on)];
      const other = instances[1 - index(on)];
      await send(other.url);
      const code = await victim.stop();
      assert(code === 0, `instance ${on} exited with ${code} on SIGTERM`);
      // Published while the page has no stream: only a resume brings them.
      for (let i = 0; i < 5; i++) await send(other.url);
      await page.waitForFunction(() => [...document.querySelectorAll('#log .note')]
        .some((e) => e.textContent.includes('connection lost')), null, { timeout: WAIT_MS });
    }, CRITICAL],
    ['b: it resumes through nginx on the other instance', async () => {
      const other = instances[1 - index(on)];
      await waitFor(async () => (await stats(other.url)).subscribers === 1,
        'the page\'s stream on the other instance', WAIT_MS);
      await waitState(page, 'open', WAIT_MS);
      await send(other.url);
      await checkAll(page);
    }],
    ['b: the restarted instance takes publishes again, the page sees them', async () => {
      const i = index(on);
      const port = instances[i].port;
      const other = instances[1 - i];
      const publishing = (async () => {
        for (let n = 0; n < 10; n++) {
          await send(other.url);
          await sleep(20);
        }
      })();
      try {
        instances[i] = await startInstance(port);
        assert(instances[i].port === port, `restarted on ${instances[i].port}, not ${port}`);
        await redisConnected(instances[i].url);
      } finally {
        await publishing;
      }
      await send(instances[i].url);
      await send(nginx.url);
      await send(instances[i].url);
      await checkAll(page);
    }],
    ['b: one EventSource, open, every event exactly once, no gap', async () => {
      await checkAll(page);
      const made = await eventSources(page);
      assert(made === 1, `${made} EventSource objects: the page reconnected by hand`);
      const state = await page.$eval('#status', (e) => e.dataset.state);
      assert(state === 'open', `#status state is ${state}`);
      for (const [name, s] of [['A', instances[0]], ['B', instances[1]]]) {
        const st = await stats(s.url);
        assert(st.redis?.gaps === 0, `instance ${name}: redis.gaps ${st.redis?.gaps}`);
      }
    }],
    ['b: no script errors on the page', async () => assertNoErrors(page)],
  ]);
}

// --- main -----------------------------------------------------------------------

await runBrowserTest(OVERALL_MS, async () => {
  if (await launchChromium()) await caseResume();
});
