// browser.mjs — the scaffolding of the Chromium tests (tests/browser/):
// Debian's /usr/bin/chromium launched through playwright-core, pages that
// record their errors, the servers a script starts (sse-server, redis-server,
// nginx) held until the end of their case or of the script and then stopped
// by PID, and the script's run: an overall deadline, one "ok - NAME" /
// "not ok - NAME: REASON" line per check (checks.mjs), then
// "N passed, M failed" and exit code 1 if any check failed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, firstLine, report, runCase, tally } from './checks.mjs';
import { sleep } from './process.mjs';
import { startServer as startSseServer } from './server.mjs';
import { startRedis as startRedisServer } from './redis.mjs';
import { startNginx as startNginxServer } from './nginx.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OUR_WWW = path.join(REPO_ROOT, 'www');
export const SHOT_DIR = path.join(REPO_ROOT, 'build/browser');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// --- what the script holds ------------------------------------------------------

// Everything open, oldest first: { stop, kill }. stop() ends it the
// ordinary way, at the end of the case that opened it (runCaseAndCleanUp)
// or of the script, newest first; kill(), if any, at the overall deadline.
const held = [];

export function hold(stop, kill = null) {
  held.push({ stop, kill });
}

// Holds a started server ({ child, stop() }, as server.mjs, redis.mjs and
// nginx.mjs start them); at the overall deadline it gets `signal`.
function holdProcess(handle, signal = 'SIGKILL') {
  hold(() => handle.stop(), () => handle.child.kill(signal));
  return handle;
}

async function release(mark) {
  while (held.length > mark) {
    const { stop } = held.pop();
    try {
      await stop();
    } catch (err) {
      report('stop the servers', err);
    }
  }
}

// Runs one case's checks (checks.mjs runCase), then stops and closes what
// they started or opened, whatever happened.
export async function runCaseAndCleanUp(steps) {
  const mark = held.length;
  try {
    await runCase(steps);
  } finally {
    await release(mark);
  }
}

// sse-server (server.mjs: on 127.0.0.1, --quiet), held.
export async function startServer(args, options) {
  return holdProcess(await startSseServer(args, options));
}

export async function startRedis(options) {
  return holdProcess(await startRedisServer(options));
}

// Not SIGKILL at the deadline: nginx's workers would outlive their master.
export async function startNginx(upstreams, options) {
  return holdProcess(await startNginxServer(upstreams, options), 'SIGTERM');
}

// --- the browser ----------------------------------------------------------------------

let browser = null;

// Launches Chromium (held: closed at the end) and resolves to it, or, after
// reporting the check "launch chromium" failed, to null.
export async function launchChromium() {
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 30_000, args: CHROMIUM_ARGS });
  } catch (err) {
    report('launch chromium', err);
    return null;
  }
  const close = () => browser.close().catch(() => {});
  hold(close, close);
  return browser;
}

// A persistent context (a profile in `dir`), held.
export async function launchPersistentContext(dir) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, timeout: 30_000, args: CHROMIUM_ARGS,
  });
  const close = () => context.close().catch(() => {});
  hold(close, close);
  return context;
}

// A fresh page in a context of its own (`contextOptions`, closed at the end
// of the case), whose waits fail after timeoutMs. page.errors collects the
// script errors and, unless `consoleErrors` is false, the console's;
// page.allow(regex) excuses those a check provokes on purpose. Unless
// `countEventSources` is false, window.__eventSources counts the
// EventSource objects the page constructs.
export async function newPage(contextOptions = {},
  { timeoutMs = 10_000, consoleErrors = true, countEventSources = true } = {}) {
  const context = await browser.newContext(contextOptions);
  hold(() => context.close().catch(() => {}));
  if (countEventSources) {
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
  }
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.errors = [];
  page.allowed = [];
  page.allow = (regex) => page.allowed.push(regex);
  page.on('pageerror', (e) => page.errors.push(`page error: ${firstLine(e)}`));
  if (consoleErrors) {
    page.on('console', (m) => {
      if (m.type() === 'error') page.errors.push(`console error: ${m.text()}`);
    });
  }
  return page;
}

// The errors of newPage's page that no page.allow() excuses.
export const unexpectedErrors = (page) => page.errors.filter((e) => !page.allowed.some((r) => r.test(e)));

export function assertNoErrors(page, prefix = '') {
  const errors = unexpectedErrors(page);
  assert(errors.length === 0, prefix + errors.join('; '));
}

// How many EventSource objects the page has constructed.
export const eventSources = (page) => page.evaluate(() => window.__eventSources);

// Waits until our page's #status says `state` (connecting, open, closed,
// waiting).
export const waitState = (page, state, timeout = 10_000) => page.waitForFunction(
  (s) => document.getElementById('status').dataset.state === s, state, { timeout, polling: 50 });

// Saves a screenshot as build/browser/NAME and returns its path.
export async function screenshot(page, name, options = {}) {
  const file = path.join(SHOT_DIR, name);
  fs.mkdirSync(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: file, ...options });
  return file;
}

// --- the run ----------------------------------------------------------------------------

function summary() {
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
}

// Runs `main` (which launches Chromium and runs the cases) within overallMs:
// past it, the check "overall deadline" fails, the servers are killed, the
// browser closed (3 s at most) and the process exits with 1. At the end
// stops and closes everything still held, prints the summary and sets the
// exit code.
export async function runBrowserTest(overallMs, main) {
  const overall = setTimeout(() => {
    report('overall deadline', `not finished within ${overallMs / 1000} s`);
    summary();
    const killing = Promise.all(held.map(({ kill }) => (async () => kill?.())().catch(() => {})));
    Promise.race([killing, sleep(3000)]).then(() => process.exit(1));
  }, overallMs);
  try {
    await main();
  } finally {
    await release(0);
    clearTimeout(overall);
  }
  summary();
  process.exitCode = tally.failed > 0 ? 1 : 0;
}
