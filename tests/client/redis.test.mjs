// redis.test.mjs — two sse-server instances sharing one Redis (--redis),
// behind nginx round-robin on one port (tests/nginx/two-instances.conf),
// seen by the npm `eventsource` client (SPEC "Many processes and hosts").
//
// 1. Several EventSource clients connect through nginx and land on both
//    instances (each instance's /stats, asked directly, shows subscribers);
//    events published through nginx (with the publish token, which a
//    proxied publish needs) and directly to each instance, one after
//    another and concurrently, reach every client exactly once, in id
//    order, with the ids the 202 answers gave; ids published one after
//    another increase across instances.
// 2. One instance is stopped (SIGTERM) and a new one started on its port
//    while events go on being published through the other: the clients that
//    were on it reconnect by themselves through nginx (Last-Event-ID) and
//    end up with every event exactly once, in order, and no `gap`; a client
//    that opens on the new instance with an id from before its start
//    resumes from the Redis log, also without a gap.
// Needs /usr/bin/redis-server and /usr/sbin/nginx (nginx-light). Run by
// `make client-test`: SSE_SERVER=./sse-server node --test tests/client/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, stopServer as stopGently, publish, waitFor } from '../support/server.mjs';
import { startRedis } from '../support/redis.mjs';
import { startNginx } from '../support/nginx.mjs';

const TOKEN = 'redis-test-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const CLIENTS = 6;
const WAIT_MS = 15000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// server.mjs's stopServer, but also for a child already killed by a signal
// (it would wait for an exit that has happened).
const stopServer = (child) => (child.signalCode !== null
  ? Promise.resolve(child.signalCode) : stopGently(child));

function instanceArgs(redis, port = 0) {
  return ['--port', String(port), '--tick-ms', '0', '--retry-ms', '200',
    '--redis', redis.addr, '--publish-token', TOKEN];
}

// Starts an instance on `port`; the port may still be held for a moment by
// the instance that had it, so a failed bind is retried within the deadline.
async function startInstance(redis, port = 0) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await startServer(instanceArgs(redis, port));
    } catch (err) {
      if (port === 0 || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

async function stats(url) {
  const response = await fetch(`${url}/stats`);
  assert.equal(response.status, 200, `GET ${url}/stats`);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`GET ${url}/stats is not JSON (${err.message}): ...${text.slice(-100)}`);
  }
}

const redisConnected = (url) => waitFor(async () => {
  try {
    return (await stats(url)).redis?.connected === true;
  } catch {
    return false;
  }
}, `${url} connected to Redis`, WAIT_MS);

// An EventSource recording its events (unnamed and `gap`), errors and opens.
function client(url) {
  const source = new EventSource(url);
  const record = { source, events: [], errors: 0, opens: 0 };
  const push = (e) => record.events.push({ type: e.type, id: e.lastEventId, data: e.data });
  source.addEventListener('message', push);
  source.addEventListener('gap', push);
  source.addEventListener('open', () => { record.opens++; });
  source.addEventListener('error', () => { record.errors++; });
  return record;
}

// Everything published, id -> data, filled from the 202 answers.
function ledger() {
  const published = new Map();
  let n = 0;
  return {
    published,
    // POST one event (or a batch of `count`) to `url`; returns the ids.
    async send(url, count = 1, headers = AUTH) {
      const items = Array.from({ length: count }, () => ({ data: `event ${++n} via ${url}` }));
      const reply = await publish(url, count === 1 ? items[0] : items, headers);
      assert.equal(reply.status, 202, `publish to ${url}: ${reply.status} ${JSON.stringify(reply.json)}`);
      const ids = count === 1 ? [reply.json.id] : reply.json.ids;
      assert.equal(ids.length, count, `ids in the answer from ${url}`);
      ids.forEach((id, i) => {
        assert.ok(Number.isSafeInteger(id) && id > 0, `id ${id} from ${url}`);
        assert.ok(!published.has(id), `id ${id} answered twice`);
        published.set(id, items[i].data);
      });
      return ids;
    },
    expected() {
      return [...published.keys()].sort((x, y) => x - y)
        .map((id) => ({ type: 'message', id: String(id), data: published.get(id) }));
    },
  };
}

// The client received exactly `expected` (every event once, in id order,
// no gap): compared as a whole, with a readable first difference.
function assertExactly(record, expected, name) {
  const gaps = record.events.filter((e) => e.type === 'gap');
  assert.deepEqual(gaps, [], `${name}: gap events`);
  const ids = record.events.map((e) => Number(e.id));
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] > ids[i - 1], `${name}: id ${ids[i]} after ${ids[i - 1]} (event ${i})`);
  }
  const missing = expected.filter((e) => !record.events.some((r) => r.id === e.id));
  assert.deepEqual(missing.map((e) => e.id), [], `${name}: missing events`);
  assert.deepEqual(record.events, expected, `${name}: events`);
}

const haveAll = (records, count) => records.every((r) => r.events.length >= count);

test('two instances behind nginx: every client gets every event once, also across a restart',
  { timeout: 90000 }, async (t) => {
    let redis = null;
    let a = null;
    let b = null;
    let nginx = null;
    const clients = [];
    const book = ledger();
    try {
      redis = await startRedis();
      a = await startInstance(redis);
      b = await startInstance(redis);
      nginx = await startNginx([a.port, b.port]);
      await redisConnected(a.url);
      await redisConnected(b.url);

      await t.test('clients through nginx land on both instances', async () => {
        for (let i = 0; i < CLIENTS; i++) clients.push(client(`${nginx.url}/sse`));
        const [sa, sb] = await waitFor(async () => {
          const both = [await stats(a.url), await stats(b.url)];
          return both[0].subscribers + both[1].subscribers === CLIENTS ? both : false;
        }, `${CLIENTS} subscribers on the two instances`, WAIT_MS);
        assert.ok(sa.subscribers >= 1 && sb.subscribers >= 1,
          `subscribers: ${sa.subscribers} on A, ${sb.subscribers} on B`);
        await waitFor(() => clients.every((c) => c.opens === 1), 'every client open', WAIT_MS);
      });

      await t.test('events published through nginx and to each instance reach every client in id order',
        async () => {
          // A proxied publish without the token is refused (nginx adds
          // X-Forwarded-For; the token is what the recipe relies on).
          const refused = await publish(nginx.url, { data: 'no token' });
          assert.equal(refused.status, 401, `publish through nginx without a token`);

          // One after another: ids increase whichever instance assigns them.
          const sequential = [];
          for (let i = 0; i < 4; i++) sequential.push(...await book.send(nginx.url));
          sequential.push(...await book.send(nginx.url, 3));
          for (let i = 0; i < 3; i++) {
            sequential.push(...await book.send(a.url));
            sequential.push(...await book.send(b.url));
          }
          sequential.push(...await book.send(a.url, 5));
          sequential.push(...await book.send(b.url, 5));
          for (let i = 1; i < sequential.length; i++) {
            assert.ok(sequential[i] > sequential[i - 1],
              `id ${sequential[i]} answered after ${sequential[i - 1]}`);
          }
          // At the same time through all three doors: the order is the ids'.
          for (let round = 0; round < 10; round++) {
            await Promise.all([book.send(a.url), book.send(b.url), book.send(nginx.url),
              book.send(a.url, 2), book.send(b.url, 2)]);
          }

          const expected = book.expected();
          await waitFor(() => haveAll(clients, expected.length), `${expected.length} events on every client`,
            WAIT_MS);
          await sleep(200); // room for a duplicate to show up
          clients.forEach((c, i) => assertExactly(c, expected, `client ${i}`));
        });

      await t.test('an instance restarted under its clients: they resume through nginx, nothing lost or doubled',
        async () => {
          const portA = a.port;
          const onA = (await stats(a.url)).subscribers;
          assert.ok(onA >= 1, 'A has subscribers');
          const firstId = book.expected()[0].id;

          // Publishing goes on through B the whole time.
          let publishing = true;
          let background = 0;
          let publishError = null;
          const publisher = (async () => {
            while (publishing) {
              await book.send(b.url);
              background++;
              await sleep(10);
            }
          })().catch((err) => { publishError = err; });
          // Waits for `n` more background publishes (or their failure).
          const published = (n, what) => {
            const target = background + n;
            return waitFor(() => {
              if (publishError) throw publishError;
              return background >= target;
            }, what, WAIT_MS);
          };
          try {
            await published(5, 'publishing under way');
            const code = await stopServer(a.child);
            assert.equal(code, 0, 'A exit code on SIGTERM');

            // Exactly A's clients noticed, and came back through nginx on B.
            await waitFor(() => clients.filter((c) => c.errors > 0).length >= onA,
              `the ${onA} clients of A to notice`, WAIT_MS);
            await waitFor(async () => (await stats(b.url)).subscribers === CLIENTS,
              `all ${CLIENTS} clients on B`, WAIT_MS);
            assert.equal(clients.filter((c) => c.errors > 0).length, onA, 'clients that lost their stream');
            await published(10, 'events published while A is away');

            a = await startInstance(redis, portA);
            assert.equal(a.port, portA, 'A back on its port');
            await redisConnected(a.url);
            await book.send(a.url);
            await book.send(a.url, 3);
            await published(10, 'events published after A is back');
          } finally {
            publishing = false;
            await publisher;
          }
          if (publishError) throw publishError;
          // The new A serves publishes and resumes too.
          for (let i = 0; i < 4; i++) await book.send(nginx.url);
          await book.send(a.url);

          // A stream opened on the new A with an id from before it started:
          // A's memory does not cover it, the Redis log does.
          const late = client(`${a.url}/sse?lastEventId=${firstId}`);
          clients.push(late);
          await book.send(b.url);

          const expected = book.expected();
          const lateExpected = expected.filter((e) => Number(e.id) > Number(firstId));
          await waitFor(() => haveAll(clients.slice(0, CLIENTS), expected.length)
            && late.events.length >= lateExpected.length,
          `${expected.length} events on every client`, WAIT_MS).catch((err) => {
            const counts = clients.map((c) => {
              const gaps = c.events.filter((e) => e.type === 'gap').length;
              return gaps ? `${c.events.length} (${gaps} gap)` : c.events.length;
            }).join(', ');
            throw new Error(`${err.message} (have ${counts}; expected ${expected.length}, late ` +
              `${lateExpected.length})`);
          });
          await sleep(200); // room for a duplicate to show up
          clients.slice(0, CLIENTS).forEach((c, i) => assertExactly(c, expected, `client ${i}`));
          assertExactly(late, lateExpected, 'client resuming on the new A');
          for (const c of clients) assert.equal(c.source.readyState, EventSource.OPEN, 'stream open');
          assert.equal(b.child.exitCode ?? b.child.signalCode, null, 'B still running');
          for (const [name, url] of [['A', a.url], ['B', b.url]]) {
            const s = await stats(url);
            assert.equal(s.redis?.connected, true, `${name} connected to Redis`);
            assert.equal(s.redis?.gaps, 0, `${name} redis.gaps`);
          }
        });
    } finally {
      for (const c of clients) c.source.close();
      if (nginx) await nginx.stop();
      if (a) await stopServer(a.child);
      if (b) await stopServer(b.child);
      if (redis) await redis.stop();
    }
  });
