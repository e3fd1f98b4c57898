// test_cross_origin.mjs — the publish boundary, seen from a real page of
// another origin in headless Chromium (SPEC "Publishing", "Who may publish").
//
// Starts the real sse-server several times: targets T, T2 (--cors naming the
// attacker's origin) and T3 (--publish-token), and an "attacker" A that
// serves attacker.html, written here into a temporary folder. The page is
// loaded as http://127.0.0.1:PORT_A (same-site as the targets, another
// origin) and as http://localhost:PORT_A (cross-site), and from there tries
// what any site can do in a browser on this machine:
//   a. fetch no-cors POST with a type-less Blob body;
//   b. fetch no-cors POST as application/x-www-form-urlencoded;
//   c. a real <form enctype=text/plain> posting JSON-shaped text into an iframe;
//   d. a preflighted application/json fetch (the preflight must be refused);
//   e. a cors-mode read of /stats (it carries no CORS headers).
// Then, from this process (a loopback client without Origin, which may):
// T published nothing and counted the refusals; T2 let exactly its named
// origin publish one event; T3 took the token from any page and only it.
// Prints "ok - NAME" / "not ok - NAME: REASON", then "N passed, M failed";
// exits 1 if any check failed.
//
// Run from the repository root after `npm install --no-package-lock`:
//   node tests/browser/test_cross_origin.mjs   (SSE_SERVER=path overrides ./sse-server)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, CRITICAL, runCase } from '../support/checks.mjs';
import { stats as statsOf } from '../support/server.mjs';
import {
  hold, launchChromium, newPage, OUR_WWW, runBrowserTest, startServer as startHeldServer,
} from '../support/browser.mjs';

const OVERALL_MS = 60_000;
const WAIT_MS = 5_000; // deadline of any single condition
const TOKEN = 's3cret';

// The attacker's page: a form and an iframe to post it into. The attempts
// themselves are run in it through page.evaluate.
const ATTACKER_HTML = `<!doctype html>
<meta charset="utf-8"><title>attacker</title>
<form id="f" method="post" enctype="text/plain" target="sink"></form>
<iframe name="sink" id="sink"></iframe>
`;

// --- servers ----------------------------------------------------------------

// sse-server serving `www` on a free loopback port, without ticks.
const startServer = (www, extra = []) => startHeldServer(['--port', '0', '--tick-ms', '0',
  '--www', www, ...extra], { timeoutMs: WAIT_MS });

// The target's counters, asked from this process (no Origin: allowed).
const stats = (server) => statsOf(server.url, { timeoutMs: WAIT_MS });

const seen = (s) => s.publish_requests + s.publish_rejected;

// Polls the counters until a request after `before` shows (publish_requests
// or publish_rejected moved); the deadline is not an error by itself: what
// the caller then asserts decides.
async function waitForArrival(server, before) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const now = await stats(server);
    if (seen(now) > seen(before) || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- the attacker's page -----------------------------------------------------

async function attackerPage(origin) {
  const page = await newPage({}, { timeoutMs: WAIT_MS, countEventSources: false });
  // What the server answered to each POST /publish, as the browser saw it
  // (also for no-cors fetches and the form, whose answers the page cannot read).
  page.publishAnswers = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/publish' && r.request().method() === 'POST') {
      page.publishAnswers.push(r.status());
    }
  });
  const response = await page.goto(`${origin}/attacker.html`);
  assert(response.ok(), `GET ${origin}/attacker.html answered ${response.status()}`);
  return page;
}

// In the page: a fetch whose outcome is returned as data, so a rejection
// (TypeError) and an answer can both be asserted on.
const pageFetch = (page, url, init) => page.evaluate(async ([u, i]) => {
  try {
    if (i.blob) i.body = new Blob([i.blob]);
    delete i.blob;
    const res = await fetch(u, i);
    let text = null;
    try { text = await res.text(); } catch { /* opaque */ }
    return { type: res.type, status: res.status, text };
  } catch (err) {
    return { error: err.name, message: err.message };
  }
}, [url, init]);

const describe = (r) => (r.error ? `${r.error}: ${r.message}` : `${r.type} ${r.status} ${r.text}`);
const EVENT = JSON.stringify({ data: 'x' });

// The attempts a..e against a tokenless target T from the page at `origin`.
function attemptsFrom(label, origin, target) {
  let page;
  // Runs one publishing attempt, then asserts it reached T and was refused;
  // a POST that arrives must get the boundary's 403 (not, say, a 400 for a
  // body that would never have published anyway).
  const refused = async (attempt, postSent = false) => {
    const before = await stats(target);
    const answered = page.publishAnswers.length;
    const result = await attempt();
    const after = await waitForArrival(target, before);
    for (const deadline = Date.now() + WAIT_MS; postSent && Date.now() < deadline;) {
      if (page.publishAnswers.length > answered) break; // the browser has the answer too
      await new Promise((r) => setTimeout(r, 50));
    }
    const answers = page.publishAnswers.slice(answered);
    assert(seen(after) > seen(before), `no request reached T within ${WAIT_MS} ms`);
    const published = after.events_published - before.events_published;
    assert(published === 0, `T published ${published} event(s)` +
      ` (answers seen: ${answers.join(', ') || 'none'})`);
    assert(after.publish_rejected > before.publish_rejected, 'publish_rejected did not grow');
    assert(answers.every((status) => status === 403), `T answered ${answers.join(', ')}`);
    return { result, before, after, answers };
  };
  // The same for an attempt whose POST the browser does send.
  const sent = async (attempt) => {
    const { answers } = await refused(attempt, true);
    assert(answers.length === 1, `${answers.length} answers to POST /publish seen`);
  };
  return [
    [`${label}: attacker page loads`, async () => { page = await attackerPage(origin); }, CRITICAL],
    [`${label}: a. no-cors POST of a Blob gets 403, publishes nothing`, () => sent(() =>
      pageFetch(page, `${target.url}/publish`, { method: 'POST', mode: 'no-cors', blob: EVENT }))],
    [`${label}: b. no-cors form-urlencoded POST gets 403, publishes nothing`, () => sent(() =>
      pageFetch(page, `${target.url}/publish`, {
        method: 'POST', mode: 'no-cors', body: EVENT,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }))],
    [`${label}: c. <form enctype=text/plain> into an iframe gets 403, publishes nothing`, () => sent(
      // The body is `{"data":"x=y"}` + CRLF: JSON, as far as a parser goes.
      () => page.evaluate((action) => {
        const form = document.getElementById('f');
        form.action = action;
        const input = document.createElement('input');
        input.name = '{"data":"x';
        input.value = 'y"}';
        form.append(input);
        form.submit();
        return null;
      }, `${target.url}/publish`))],
    [`${label}: d. preflighted JSON fetch rejects, the POST is never sent`, async () => {
      const { result, before, after } = await refused(() => pageFetch(page,
        `${target.url}/publish`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: EVENT,
        }));
      assert(result.error === 'TypeError', `fetch gave ${describe(result)}, not a TypeError`);
      assert(after.publish_requests === before.publish_requests,
        `publish_requests ${before.publish_requests} -> ${after.publish_requests}: a POST came`);
    }],
    [`${label}: e. the page cannot read /stats`, async () => {
      const result = await pageFetch(page, `${target.url}/stats`, {});
      assert(result.error === 'TypeError', `fetch gave ${describe(result).slice(0, 80)}...`);
    }],
    [`${label}: close the page`, () => page.context().close()],
  ];
}

// --- the cases ----------------------------------------------------------------

async function main(attackerWww) {
  let attacker;
  let target;
  let target2;
  let target3;
  let sameSite; // http://127.0.0.1:PORT_A: same site as the targets, another origin
  let crossSite; // http://localhost:PORT_A
  let start;
  const jsonPost = (extraHeaders = {}) => ({
    method: 'POST', headers: { 'Content-Type': 'application/json', ...extraHeaders }, body: EVENT,
  });

  await runCase([
    ['start the attacker and target T', async () => {
      attacker = await startServer(attackerWww);
      sameSite = `http://127.0.0.1:${attacker.port}`;
      crossSite = `http://localhost:${attacker.port}`;
      target = await startServer(OUR_WWW);
      start = await stats(target);
      assert(start.events_published === 0, `T starts with ${start.events_published} events`);
    }, CRITICAL],
  ]);
  if (!target) return;

  await runCase(attemptsFrom('same-site', sameSite, target));
  await runCase(attemptsFrom('cross-site', crossSite, target));
  await runCase([
    ['T: nothing published, every attempt counted as rejected', async () => {
      const end = await stats(target);
      assert(end.events_published === 0, `events_published is ${end.events_published}`);
      // a, b, c and the preflight of d, from each of the two pages.
      const grew = end.publish_rejected - start.publish_rejected;
      assert(grew >= 8, `publish_rejected grew by ${grew}, not >= 8`);
    }],
  ]);

  let page;
  await runCase([
    ['T2 (--cors naming the same-site page): that page publishes and reads the id', async () => {
      target2 = await startServer(OUR_WWW, ['--cors', sameSite]);
      page = await attackerPage(sameSite);
      const r = await pageFetch(page, `${target2.url}/publish`, jsonPost());
      assert(r.status === 202, `fetch gave ${describe(r)}`);
      const { id } = JSON.parse(r.text);
      assert(Number.isSafeInteger(id) && id > 0, `no id in ${r.text}`);
      await page.context().close();
    }, CRITICAL],
    ['T2: the cross-site page is still refused', async () => {
      page = await attackerPage(crossSite);
      const r = await pageFetch(page, `${target2.url}/publish`, jsonPost());
      assert(r.error === 'TypeError', `fetch gave ${describe(r)}, not a TypeError`);
      await page.context().close();
    }],
    ['T2: exactly one event published', async () => {
      const s = await stats(target2);
      assert(s.events_published === 1, `events_published is ${s.events_published}`);
    }],
  ]);

  await runCase([
    ['T3 (--publish-token): the cross-site page with the token gets 202', async () => {
      target3 = await startServer(OUR_WWW, ['--publish-token', TOKEN]);
      page = await attackerPage(crossSite);
      const r = await pageFetch(page, `${target3.url}/publish`,
        jsonPost({ Authorization: `Bearer ${TOKEN}` }));
      assert(r.status === 202, `fetch gave ${describe(r)}`);
      assert(Number.isSafeInteger(JSON.parse(r.text).id), `no id in ${r.text}`);
    }, CRITICAL],
    ['T3: without the token, 401', async () => {
      const r = await pageFetch(page, `${target3.url}/publish`, jsonPost());
      assert(r.status === 401, `fetch gave ${describe(r)}`);
      const s = await stats(target3);
      assert(s.events_published === 1, `events_published is ${s.events_published}`);
    }],
  ]);
}

// --- main -----------------------------------------------------------------------

await runBrowserTest(OVERALL_MS, async () => {
  const attackerWww = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-attacker-'));
  hold(() => fs.rmSync(attackerWww, { recursive: true, force: true }));
  fs.writeFileSync(path.join(attackerWww, 'attacker.html'), ATTACKER_HTML);
  if (await launchChromium()) await main(attackerWww);
});
