// publish.test.mjs — POST /publish, topics, history and resume over real
// sockets against the real binary: what a publishing application and its
// subscribers see. Streams are read raw (node:http), so the exact bytes on
// the wire are checked, not a client library's interpretation of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, publish, waitFor } from '../support/server.mjs';

// Opens GET path as a raw event stream; `events` fills as events arrive.
function openStream(url, path, headers = {}) {
  const events = [];
  const stream = { events, status: 0, headers: {}, raw: '', closed: false };
  const request = http.get(`${url}${path}`, { headers }, (response) => {
    stream.status = response.statusCode;
    stream.headers = response.headers;
    response.setEncoding('utf8');
    let buffer = '';
    response.on('data', (chunk) => {
      stream.raw += chunk;
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { id: null, event: 'message', data: [] };
        let any = false;
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) continue;  // a comment
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          if (field === 'event') event.event = value;
          if (field === 'data') { event.data.push(value); any = true; }
        }
        if (any) events.push({ ...event, data: event.data.join('\n') });
      }
    });
    response.on('end', () => { stream.closed = true; });
  });
  request.on('error', () => { stream.closed = true; });
  stream.close = () => request.destroy();
  return stream;
}

async function subscriberCount(url) {
  return (await (await fetch(`${url}/stats`)).json()).subscribers;
}

async function withServer(args, body) {
  const server = await startServer(['--port', '0', '--tick-ms', '0', ...args]);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

test('a published event reaches a subscriber with the returned id', () =>
  withServer([], async ({ url }) => {
    const stream = openStream(url, '/sse');
    await waitFor(async () => (await subscriberCount(url)) === 1, 'the subscriber');
    const reply = await publish(url, { event: 'note', data: { a: [1, 2] } });
    assert.equal(reply.status, 202);
    await waitFor(() => stream.events.length === 1, 'the event');
    assert.deepEqual(stream.events[0], { id: String(reply.json.id), event: 'note', data: '{"a":[1,2]}' });
    stream.close();
  }));

test('string data is split into one data line per line, CRLF and CR included', () =>
  withServer([], async ({ url }) => {
    const stream = openStream(url, '/sse');
    await waitFor(async () => (await subscriberCount(url)) === 1, 'the subscriber');
    await publish(url, { data: 'a\r\nb\rc\nd' });
    await waitFor(() => stream.events.length === 1, 'the event');
    assert.match(stream.raw, /data: a\ndata: b\ndata: c\ndata: d\n\n/);
    stream.close();
  }));

test('a batch is published in order, and topics filter what each stream gets', () =>
  withServer([], async ({ url }) => {
    const a = openStream(url, '/sse?topic=a');
    const ab = openStream(url, '/sse?topic=a&topic=b');
    const main = openStream(url, '/sse');
    await waitFor(async () => (await subscriberCount(url)) === 3, 'three subscribers');
    const reply = await publish(url, [
      { topic: 'a', data: '1' }, { topic: 'b', data: '2' }, { data: '3' }, { topic: 'a', data: '4' },
    ]);
    assert.equal(reply.status, 202);
    assert.equal(reply.json.ids.length, 4);
    await waitFor(() => a.events.length === 2 && ab.events.length === 3 && main.events.length === 1,
      'every stream to get its events');
    assert.deepEqual(a.events.map((e) => e.data), ['1', '4']);
    assert.deepEqual(ab.events.map((e) => e.data), ['1', '2', '4']);
    assert.deepEqual(main.events.map((e) => e.data), ['3']);
    for (const s of [a, ab, main]) s.close();
  }));

test('Last-Event-ID replays exactly the N missed events of the topic, then live ones', () =>
  withServer([], async ({ url }) => {
    const seen = await publish(url, { topic: 'p', data: 'seen' });
    const missed = [];
    for (let i = 0; i < 5; i++) {
      missed.push((await publish(url, { topic: 'p', data: `missed ${i}` })).json.id);
      await publish(url, { topic: 'other', data: 'not for p' });
    }
    const stream = openStream(url, '/sse?topic=p&lastEventId=1', { 'Last-Event-ID': String(seen.json.id) });
    await waitFor(() => stream.events.length === 5, 'five replayed events');
    const live = await publish(url, { topic: 'p', data: 'live' });
    await waitFor(() => stream.events.length === 6, 'the live event');
    assert.deepEqual(stream.events.map((e) => e.id), [...missed, live.json.id].map(String));
    assert.ok(!stream.raw.includes('event: gap'));
    stream.close();
  }));

test('an id older than the history gets a gap notice, then what is retained', () =>
  withServer(['--history', '3'], async ({ url }) => {
    const first = await publish(url, { data: 'e0' });
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push((await publish(url, { data: `e${i}` })).json.id);
    const stream = openStream(url, `/sse?lastEventId=${first.json.id}`);
    await waitFor(() => stream.events.length === 4, 'gap + three retained');
    assert.equal(stream.events[0].event, 'gap');
    assert.deepEqual(JSON.parse(stream.events[0].data),
      { lastEventId: String(first.json.id), oldestId: String(ids[2]) });
    assert.deepEqual(stream.events.slice(1).map((e) => e.data), ['e3', 'e4', 'e5']);
    stream.close();
  }));

test('a malicious Last-Event-ID cannot inject a line into the stream', () =>
  withServer([], async ({ url }) => {
    const stream = openStream(url, '/sse?lastEventId=' + encodeURIComponent('x\ndata: evil\n\n"'));
    await waitFor(() => stream.events.length === 1, 'the gap notice');
    assert.equal(stream.events[0].event, 'gap');
    assert.equal(JSON.parse(stream.events[0].data).lastEventId, 'x\ndata: evil\n\n"');
    assert.ok(!/^data: evil$/m.test(stream.raw));
    stream.close();
  }));

test('after a restart the next ids are larger', async () => {
  let server = await startServer(['--port', '0', '--tick-ms', '0']);
  const before = (await publish(server.url, { data: 'x' })).json.id;
  await server.stop();
  server = await startServer(['--port', '0', '--tick-ms', '0']);
  try {
    const after = (await publish(server.url, { data: 'y' })).json.id;
    assert.ok(after > before, `${after} > ${before}`);
    assert.ok(after < 2 ** 53, 'ids stay exact in JavaScript');
  } finally {
    await server.stop();
  }
});

test('with a token, publishing needs the right bearer token', () =>
  withServer(['--publish-token', 's3cret'], async ({ url }) => {
    assert.equal((await publish(url, { data: 1 })).status, 401);
    assert.equal((await publish(url, { data: 1 }, { Authorization: 'Bearer nope' })).status, 401);
    assert.equal((await publish(url, { data: 1 }, { Authorization: 'Bearer s3cret' })).status, 202);
  }));

test('every publish error is answered and existing subscribers keep receiving', () =>
  withServer(['--max-body', '1000'], async ({ url }) => {
    const stream = openStream(url, '/sse');
    await waitFor(async () => (await subscriberCount(url)) === 1, 'the subscriber');
    const bad = [
      ['{"data":', 400, /bad JSON/],
      ['{"topic":"a b","data":1}', 400, /topic/],
      ['{"event":"x\\ny","data":1}', 400, /event/],
      ['{"id":1,"data":1}', 400, /id/],
      ['{"topic":"a"}', 400, /data/],
      ['[{"data":1},{"data":2,"bogus":3}]', 400, /event 1: unknown field/],
      [JSON.stringify({ data: 'x'.repeat(2000) }), 413, null],
    ];
    for (const [body, status, message] of bad) {
      const response = await fetch(`${url}/publish`, { method: 'POST', body,
        headers: { 'Content-Type': 'application/json' } });
      assert.equal(response.status, status, body);
      if (message) assert.match((await response.json()).error, message);
    }
    const wrongType = await fetch(`${url}/publish`, { method: 'POST', body: '{"data":1}',
      headers: { 'Content-Type': 'text/plain' } });
    assert.equal(wrongType.status, 415);
    assert.equal(stream.events.length, 0, 'nothing from a rejected publish');
    const ok = await publish(url, { data: 'still here' });
    await waitFor(() => stream.events.length === 1, 'the good event');
    assert.equal(stream.events[0].id, String(ok.json.id));
    stream.close();
  }));

test('CORS preflight for /publish names the methods and headers', () =>
  withServer(['--cors', 'https://app.example'], async ({ url }) => {
    const response = await fetch(`${url}/publish`, { method: 'OPTIONS' });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-methods'), /POST/);
    assert.match(response.headers.get('access-control-allow-headers'), /Authorization/);
  }));
