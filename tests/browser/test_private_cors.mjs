// test_private_cors.mjs — private topics read by a real page of another
// origin in headless Chromium (SPEC "Private topics"; issue 17, item 5).
//
// A browser's EventSource cannot set headers: a page of app.example reading
// sse.example sends the token as the cookie `sse_token`, which the browser
// attaches only with `new EventSource(url, {withCredentials: true})`, and
// hands the stream to the page only if the answer says
// `Access-Control-Allow-Origin: <that origin>` and
// `Access-Control-Allow-Credentials: true`. That is what `--cors ORIGIN`
// must produce, on the stream and on the 401.
//
// Starts the real sse-server several times: a "page" server P that serves
// page.html (written here into a temporary folder), and targets with
// `--jwt-secret`, `--private user.*` and a `--cors` naming the page's origin.
// The page is loaded from two origins, as in test_cross_origin.mjs:
//   same-site:  http://127.0.0.1:PORT_P -> target http://127.0.0.1:PORT_T
//               (another origin, same site: like app.example.com and
//               sse.example.com; a default SameSite=Lax cookie goes along);
//   cross-site: http://localhost:PORT_P -> target http://127.0.0.1:PORT_T
//               (the cookie must be SameSite=None; Secure to be sent, and
//               is a third-party cookie there: Playwright's newContext() is
//               an incognito-like profile, which blocks those, so this leg
//               runs in a persistent profile whose Preferences allow them,
//               as a regular Chrome profile does by default).
// The cookie is set for the target's host with Playwright's
// context.addCookies, as the application's login would have set it. For
// each origin:
//   a. with the cookie and withCredentials: the stream opens and events of
//      the private topic arrive;
//   b. without the cookie: an error, the EventSource closed, no event, and
//      the target counted a refused stream (it answered 401 itself);
//   c. with the cookie but without withCredentials: the cookie is not sent,
//      so the same as b;
// and against a target with `--cors '*'`: the browser refuses to hand a
// credentialed stream to the page (nothing arrives). Last, publishing: the
// cross-site page POSTs with `Authorization: Bearer <its JWT>` (a
// preflighted request) and gets 202 for the topic its `publish` claim
// covers, 403 for another, both readable by the page; with `--cors` naming
// it, and with the default `--cors '*'` (as with --publish-token, the token
// is the credential, not the origin).
// Tokens are made here with node:crypto's HMAC, never by the server.
// Prints "ok - NAME" / "not ok - NAME: REASON", then "N passed, M failed";
// exits 1 if any check failed.
//
// Run from the repository root after `npm install --no-package-lock`:
//   node tests/browser/test_private_cors.mjs   (SSE_SERVER=path overrides ./sse-server)
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, CRITICAL, runCase } from '../support/checks.mjs';
import { publish, stats as statsOf, waitFor } from '../support/server.mjs';
import {
  hold, launchChromium, launchPersistentContext, runBrowserTest, startServer as startHeldServer,
} from '../support/browser.mjs';

const OVERALL_MS = 60_000;
const WAIT_MS = 5_000; // deadline of any single condition
const SECRET = 'browser-test-secret';
const TOPIC = 'user.42';

const PAGE_HTML = `<!doctype html>
<meta charset="utf-8"><title>private topics</title>
<p>The checks run through page.evaluate.</p>
`;

let browser = null;

// --- tokens -------------------------------------------------------------------

const b64url = (data) => Buffer.from(data).toString('base64url');

function jwt(claims, key = SECRET) {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.` +
    b64url(JSON.stringify(claims));
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const TOKEN = jwt({ sub: '42', sse: { subscribe: [TOPIC] }, exp: Math.floor(Date.now() / 1000) + 3600 });

// --- servers --------------------------------------------------------------------

// sse-server on a free loopback port, without ticks.
const startServer = (extra = []) => startHeldServer(['--port', '0', '--tick-ms', '0', ...extra],
  { timeoutMs: WAIT_MS });

// A target's counters, asked from this process (no Origin).
const stats = (server) => statsOf(server.url, { timeoutMs: WAIT_MS });

// Publishes to the private topic from this process (a loopback peer without
// Origin may publish when there is no --publish-token).
async function publishTo(server, data) {
  const res = await publish(server.url, { topic: TOPIC, data }, {}, { timeoutMs: WAIT_MS });
  assert(res.status === 202, `publish answered ${res.status}`);
}

const until = (condition, what) => waitFor(condition, what, WAIT_MS, 50);

// --- the page ---------------------------------------------------------------------

// Where a page's cookie jar lives. `fresh`: a new incognito-like context
// per page; `persistent`: one profile that allows third-party cookies (see
// the top), its jar emptied before each page.
let persistent = null;
const fresh = async () => {
  const context = await browser.newContext();
  return { context, done: () => context.close() };
};
const thirdPartyAllowed = async () => {
  await persistent.clearCookies();
  return { context: persistent, done: null };
};

// A page in a context from `jar` (fresh or thirdPartyAllowed), with the
// cookie sse_token for the target's host when `cookie` says how, loaded
// from `origin`. The page records the statuses of the /sse answers it saw;
// page.done() closes it (and its context if it is its own).
async function openPage(origin, target, cookie, jar = fresh) {
  const { context, done } = await jar();
  if (cookie) {
    // By domain and path, not url: Playwright refuses a Secure cookie for
    // an http:// url, though Chromium sends one to a loopback host.
    await context.addCookies([{
      name: 'sse_token', value: TOKEN, domain: new URL(target.url).hostname, path: '/',
      httpOnly: true, ...cookie,
    }]);
    const jarHas = (await context.cookies(target.url)).some((c) => c.name === 'sse_token');
    assert(jarHas, 'the cookie did not make it into the jar');
  }
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.sseStatuses = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/sse') page.sseStatuses.push(r.status());
  });
  page.done = done ?? (() => page.close());
  const response = await page.goto(`${origin}/page.html`);
  assert(response.ok(), `GET ${origin}/page.html answered ${response.status()}`);
  return page;
}

// Opens `new EventSource(url, {withCredentials})` in the page; what it sees
// is kept in window.seen.
const openSource = (page, url, withCredentials) => page.evaluate(([u, w]) => {
  window.seen = { opened: 0, events: [], errors: [] };
  window.source = new EventSource(u, { withCredentials: w });
  window.source.onopen = () => { window.seen.opened++; };
  window.source.onmessage = (e) => window.seen.events.push(e.data);
  window.source.onerror = () => window.seen.errors.push(window.source.readyState);
}, [url, withCredentials]);

const seenIn = (page) => page.evaluate(() => ({ ...window.seen, state: window.source.readyState }));

// --- the cases ----------------------------------------------------------------------

// a, b, c for the page at `origin` against `target` (whose --cors names it).
function casesFor(label, origin, getTarget, cookie, jar) {
  let target;
  const streamUrl = () => `${target.url}/sse?topic=${TOPIC}`;
  // The page gets an error, its EventSource ends CLOSED (a 401 is final),
  // no event arrives, and the target itself refused one more stream.
  const refused = async (page, withCredentials) => {
    const before = await stats(target);
    await openSource(page, streamUrl(), withCredentials);
    await until(async () => (await seenIn(page)).errors.length > 0, 'the error event');
    const after = await stats(target);
    assert(after.streams_refused === before.streams_refused + 1,
      `streams_refused ${before.streams_refused} -> ${after.streams_refused}`);
    await publishTo(target, `${label}: not for you`);
    await new Promise((r) => setTimeout(r, 300));
    const s = await seenIn(page);
    assert(s.state === 2, `readyState ${s.state}, not CLOSED`);
    assert(s.opened === 0, 'the stream opened');
    assert(s.events.length === 0, `events arrived: ${JSON.stringify(s.events)}`);
    assert(page.sseStatuses.every((status) => status === 401),
      `the page saw ${page.sseStatuses.join(', ')}`);
    await page.done();
  };
  return [
    [`${label}: with the cookie and withCredentials, events of the private topic arrive`, async () => {
      target = getTarget();
      const page = await openPage(origin, target, cookie, jar);
      const before = await stats(target);
      await openSource(page, streamUrl(), true);
      await until(async () => (await seenIn(page)).opened === 1, 'the stream to open');
      await until(async () => (await stats(target)).subscribers === before.subscribers + 1,
        'the subscriber');
      await publishTo(target, `${label}: one`);
      await publishTo(target, `${label}: two`);
      await until(async () => (await seenIn(page)).events.length === 2, 'two events');
      const s = await seenIn(page);
      assert(JSON.stringify(s.events) === JSON.stringify([`${label}: one`, `${label}: two`]),
        `events ${JSON.stringify(s.events)}`);
      assert(s.errors.length === 0, `errors: ${JSON.stringify(s.errors)}`);
      assert(page.sseStatuses.length === 1 && page.sseStatuses[0] === 200,
        `the page saw ${page.sseStatuses.join(', ')}`);
      await page.done();
    }, CRITICAL],
    [`${label}: without the cookie, an error and nothing`, async () => {
      await refused(await openPage(origin, target, null, jar), true);
    }],
    [`${label}: with the cookie but without withCredentials, an error and nothing`, async () => {
      await refused(await openPage(origin, target, cookie, jar), false);
    }],
  ];
}

async function main(pageWww, profileDir) {
  let pages;
  let sameSite;
  let crossSite;
  const targets = {};
  await runCase([
    ['start the page server and the targets', async () => {
      pages = await startServer(['--www', pageWww]);
      sameSite = `http://127.0.0.1:${pages.port}`;
      crossSite = `http://localhost:${pages.port}`;
      const common = ['--jwt-secret', SECRET, '--private', 'user.*'];
      targets.same = await startServer([...common, '--cors', sameSite]);
      targets.cross = await startServer([...common, '--cors', crossSite]);
      targets.star = await startServer([...common, '--cors', '*']);
      targets.jwtOnly = await startServer(['--jwt-secret', SECRET]); // default --cors '*'
    }, CRITICAL],
  ]);
  if (!targets.star) return;

  await runCase(casesFor('same-site', sameSite, () => targets.same, { sameSite: 'Lax' }, fresh));
  await runCase([
    ['open a profile that allows third-party cookies', async () => {
      const dir = profileDir;
      fs.mkdirSync(path.join(dir, 'Default'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'Default', 'Preferences'), JSON.stringify({
        profile: { cookie_controls_mode: 0, block_third_party_cookies: false },
      }));
      persistent = await launchPersistentContext(dir);
    }, CRITICAL],
  ]);
  if (persistent) {
    await runCase(casesFor('cross-site', crossSite, () => targets.cross,
      { sameSite: 'None', secure: true }, thirdPartyAllowed));
  }

  await runCase([
    ["--cors '*': the browser does not hand a credentialed stream to the page", async () => {
      const page = await openPage(sameSite, targets.star, { sameSite: 'Lax' });
      const before = await stats(targets.star);
      await openSource(page, `${targets.star.url}/sse?topic=${TOPIC}`, true);
      await until(async () => (await seenIn(page)).errors.length > 0, 'the error event');
      // The server took the cookie (no refusal): the browser is what said no.
      const after = await stats(targets.star);
      assert(after.streams_refused === before.streams_refused,
        `the server refused the stream (streams_refused ${before.streams_refused} -> ` +
        `${after.streams_refused})`);
      assert(page.sseStatuses.every((status) => status === 200),
        `the page saw ${page.sseStatuses.join(', ')}`);
      await publishTo(targets.star, 'star: not for the page');
      await new Promise((r) => setTimeout(r, 300));
      const s = await seenIn(page);
      assert(s.opened === 0, 'the stream opened');
      assert(s.events.length === 0, `events arrived: ${JSON.stringify(s.events)}`);
      await page.done();
    }],
  ]);

  await runCase(publishCases('--cors naming the page', crossSite, () => targets.cross));
  await runCase(publishCases("default --cors '*'", crossSite, () => targets.jwtOnly));
}

// --- publishing from a page ------------------------------------------------------------

// In the page: a fetch whose outcome is returned as data (an answer, or the
// TypeError of a refused preflight).
const pageFetch = (page, url, init) => page.evaluate(async ([u, i]) => {
  try {
    const res = await fetch(u, i);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { error: `${err.name}: ${err.message}` };
  }
}, [url, init]);

const describe = (r) => (r.error ?? `${r.status} ${r.text}`);

function publishCases(label, origin, getTarget) {
  const publisher = jwt({ sse: { publish: [TOPIC] } });
  const post = (topic) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${publisher}` },
    body: JSON.stringify({ topic, data: 'from the page' }),
  });
  return [[`${label}: a page of another origin publishes with its JWT, only where it may`,
    async () => {
      const target = getTarget();
      const page = await openPage(origin, target, null);
      try {
        const before = await stats(target);
        const ok = await pageFetch(page, `${target.url}/publish`, post(TOPIC));
        assert(ok.status === 202, `its topic: ${describe(ok)}`);
        const other = await pageFetch(page, `${target.url}/publish`, post('user.7'));
        assert(other.status === 403, `another topic: ${describe(other)}`);
        const after = await stats(target);
        assert(after.events_published === before.events_published + 1,
          `events_published ${before.events_published} -> ${after.events_published}`);
      } finally {
        await page.done();
      }
    }]];
}

// --- main -----------------------------------------------------------------------------

await runBrowserTest(OVERALL_MS, async () => {
  const pageWww = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-private-page-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-private-profile-'));
  hold(() => {
    fs.rmSync(pageWww, { recursive: true, force: true });
    fs.rmSync(profileDir, { recursive: true, force: true });
  });
  fs.writeFileSync(path.join(pageWww, 'page.html'), PAGE_HTML);
  browser = await launchChromium();
  if (browser) await main(pageWww, profileDir);
});
