// eventsource.test.mjs — sse-server seen by a client nobody here wrote: the
// npm package `eventsource`, a WHATWG-compliant EventSource for Node. It
// checks named events, topic filtering, resume by ?lastEventId=, and that
// after a server restart the client reconnects by itself, sends its
// Last-Event-ID (the server answers a too-old id with a `gap` notice that
// echoes it) and goes on receiving. Run by `make test` with node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, publish, waitFor } from '../support/server.mjs';

// Collects every event of the given names from an EventSource.
function collect(source, names) {
  const seen = [];
  for (const name of names) {
    source.addEventListener(name, (e) =>
      seen.push({ type: e.type, id: e.lastEventId, data: e.data }));
  }
  return seen;
}

test('named events published to a topic reach its subscribers only', async () => {
  const server = await startServer(['--port', '0', '--tick-ms', '0']);
  try {
    const prices = new EventSource(`${server.url}/sse?topic=prices`);
    const other = new EventSource(`${server.url}/sse?topic=news`);
    const seen = collect(prices, ['quote', 'message']);
    const seenOther = collect(other, ['quote', 'message']);
    await waitFor(async () => {
      const stats = await (await fetch(`${server.url}/stats`)).json();
      return stats.subscribers === 2;
    }, 'two subscribers');

    const reply = await publish(server.url, [
      { topic: 'prices', event: 'quote', data: { px: 1 } },
      { topic: 'prices', event: 'quote', data: 'two\nlines' },
    ]);
    assert.equal(reply.status, 202);
    assert.equal(reply.json.ids.length, 2);

    await waitFor(() => seen.length === 2, 'two quotes');
    assert.deepEqual(seen.map((e) => e.type), ['quote', 'quote']);
    assert.deepEqual(JSON.parse(seen[0].data), { px: 1 });
    assert.equal(seen[1].data, 'two\nlines');
    assert.deepEqual(seen.map((e) => e.id), reply.json.ids.map(String));
    assert.equal(seenOther.length, 0);
    prices.close();
    other.close();
  } finally {
    await server.stop();
  }
});

test('?lastEventId= replays exactly the missed events, then live ones', async () => {
  const server = await startServer(['--port', '0', '--tick-ms', '0']);
  try {
    const first = await publish(server.url, { data: 'before' });
    const missed = await publish(server.url, [{ data: 'm1' }, { data: 'm2' }, { data: 'm3' }]);
    const source = new EventSource(`${server.url}/sse?lastEventId=${first.json.id}`);
    const seen = collect(source, ['message', 'gap']);
    await waitFor(() => seen.length === 3, 'three replayed events');
    const live = await publish(server.url, { data: 'live' });
    await waitFor(() => seen.length === 4, 'the live event');
    assert.deepEqual(seen.map((e) => e.data), ['m1', 'm2', 'm3', 'live']);
    assert.deepEqual(seen.map((e) => e.id), [...missed.json.ids, live.json.id].map(String));
    source.close();
  } finally {
    await server.stop();
  }
});

test('after a server restart the client reconnects and resumes by Last-Event-ID', async () => {
  let server = await startServer(['--port', '0', '--tick-ms', '0', '--retry-ms', '100']);
  const port = server.port;
  const source = new EventSource(`${server.url}/sse`);
  const seen = collect(source, ['message', 'gap']);
  try {
    await waitFor(async () => {
      const stats = await (await fetch(`${server.url}/stats`)).json();
      return stats.subscribers === 1;
    }, 'the subscriber');
    const before = await publish(server.url, { data: 'before restart' });
    await waitFor(() => seen.length === 1, 'the first event');

    await server.stop();
    server = await startServer(['--port', String(port), '--tick-ms', '0', '--retry-ms', '100']);
    // The new server has no history: the id the client resumes from is from
    // the previous run, so it is told about the gap, echoing that id.
    await waitFor(() => seen.some((e) => e.type === 'gap'), 'the gap notice');
    const gap = JSON.parse(seen.find((e) => e.type === 'gap').data);
    assert.equal(gap.lastEventId, String(before.json.id));

    const after = await publish(server.url, { data: 'after restart' });
    await waitFor(() => seen.some((e) => e.data === 'after restart'), 'the event after restart');
    assert.ok(BigInt(after.json.id) > BigInt(before.json.id), 'ids keep increasing');
  } finally {
    source.close();
    await server.stop();
  }
});

test('over --max-clients an EventSource is told to retry later, and comes back by itself', async () => {
  const net = await import('node:net');
  // Two slots, both taken by raw connections; later fetch() keeps one of
  // its own open (keep-alive), which leaves one for the EventSource.
  const server = await startServer(['--port', '0', '--tick-ms', '0', '--max-clients', '2']);
  const holders = [];
  let source = null;
  try {
    for (let i = 0; i < 2; i++) {
      const holder = net.connect(server.port, '127.0.0.1');
      holders.push(holder);
      await new Promise((resolve) => holder.once('connect', resolve));
      const answered = new Promise((resolve) => holder.once('data', resolve));
      holder.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      await answered;
    }

    source = new EventSource(`${server.url}/sse`);
    const seen = collect(source, ['message']);
    let errors = 0;
    source.onerror = () => { errors++; };
    await waitFor(() => errors >= 1, 'the full server closing the stream');
    // A 503 would have closed it for good (readyState 2); a 200 that ends
    // leaves it reconnecting.
    assert.equal(source.readyState, EventSource.CONNECTING);

    for (const holder of holders) holder.destroy();
    await waitFor(async () => {
      try {
        const stats = await (await fetch(`${server.url}/stats`)).json();
        return stats.subscribers === 1;
      } catch {
        return false;  // refused while full: ask again
      }
    }, 'the EventSource back after its retry', 20000);
    // Publishing needs a slot too: ask again while the server is full.
    const reply = await waitFor(async () => {
      try {
        const answer = await publish(server.url, { data: 'welcome back' });
        return answer.status === 202 ? answer : false;
      } catch {
        return false;
      }
    }, 'a publish accepted');
    await waitFor(() => seen.length === 1, 'the event');
    assert.equal(seen[0].id, String(reply.json.id));
  } finally {
    source?.close();
    for (const holder of holders) holder.destroy();
    await server.stop();
  }
});
