// private.test.mjs — private topics (SPEC "Private topics") seen by the npm
// package `eventsource`, a WHATWG EventSource for Node nobody here wrote.
// It cannot set headers itself, but takes a custom `fetch`: through it the
// token goes as `Authorization: Bearer` or as the cookie `sse_token`, and
// without it as `?access_token=`. A refusal (401, 403) must make the client
// give up for good; a stream whose token expires ends cleanly, after which
// the client's reconnection with the same token is refused. Publishing
// with a token is bounded by its `publish` claim.
//
// Tokens are made here with node:crypto's HMAC, never by the server.
// Run by `make test` with node --test (SSE_SERVER=path overrides ./sse-server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { EventSource } from 'eventsource';
import { startServer, publish, waitFor } from '../support/server.mjs';

const SECRET = 'node-test-secret';

const b64url = (data) => Buffer.from(data).toString('base64url');

// An HS256 JWT (RFC 7519) of `claims`, signed with `key`.
function jwt(claims, { key = SECRET, alg = 'HS256', hash = 'sha256' } = {}) {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const nowS = () => Math.floor(Date.now() / 1000);
const inAnHour = () => nowS() + 3600;

// A custom fetch for EventSource that adds `extra` headers to each request.
const fetchWith = (extra) => (url, init) =>
  fetch(url, { ...init, headers: { ...init.headers, ...extra } });

const privateServer = (more = []) => startServer(['--port', '0', '--tick-ms', '0',
  '--retry-ms', '100', '--jwt-secret', SECRET, '--private', 'user.*', ...more]);

async function stats(url) {
  return (await fetch(`${url}/stats`)).json();
}

// Records what an EventSource sees: messages, and errors with their code.
function watch(source) {
  const seen = { messages: [], errors: [], opened: 0 };
  source.addEventListener('message', (e) => seen.messages.push(e.data));
  source.addEventListener('open', () => { seen.opened++; });
  source.addEventListener('error', (e) => seen.errors.push({ code: e.code, state: source.readyState }));
  return seen;
}

test('private: eventsource with Authorization Bearer through a custom fetch reads its topic', async () => {
  const server = await privateServer();
  const token = jwt({ sub: '42', sse: { subscribe: ['user.42'] }, exp: inAnHour() });
  const source = new EventSource(`${server.url}/sse?topic=user.42`, {
    fetch: fetchWith({ Authorization: `Bearer ${token}` }),
  });
  const seen = watch(source);
  try {
    await waitFor(() => seen.opened === 1, 'the stream to open');
    const reply = await publish(server.url, { topic: 'user.42', data: 'hello 42' });
    assert.equal(reply.status, 202);
    await waitFor(() => seen.messages.length === 1, 'the private event');
    assert.deepEqual(seen.messages, ['hello 42']);
    assert.equal(seen.errors.length, 0);
  } finally {
    source.close();
    await server.stop();
  }
});

test('private: eventsource with the cookie sse_token through a custom fetch reads its topic', async () => {
  const server = await privateServer();
  const token = jwt({ sse: { subscribe: ['user.*'] }, exp: inAnHour() });
  const source = new EventSource(`${server.url}/sse?topic=user.42&topic=user.7`, {
    fetch: fetchWith({ Cookie: `lang=en; sse_token=${token}` }),
  });
  const seen = watch(source);
  try {
    await waitFor(() => seen.opened === 1, 'the stream to open');
    await publish(server.url, [{ topic: 'user.42', data: 'a' }, { topic: 'user.7', data: 'b' }]);
    await waitFor(() => seen.messages.length === 2, 'both private events');
    assert.deepEqual(seen.messages, ['a', 'b']);
  } finally {
    source.close();
    await server.stop();
  }
});

test('private: eventsource with ?access_token= reads its topic', async () => {
  const server = await privateServer();
  const token = jwt({ sse: { subscribe: ['user.42'] } });
  const source = new EventSource(`${server.url}/sse?topic=user.42&access_token=${token}`);
  const seen = watch(source);
  try {
    await waitFor(() => seen.opened === 1, 'the stream to open');
    await publish(server.url, { topic: 'user.42', data: 'by query' });
    await waitFor(() => seen.messages.length === 1, 'the private event');
    assert.deepEqual(seen.messages, ['by query']);
  } finally {
    source.close();
    await server.stop();
  }
});

test('private: without a token or with a bad one eventsource gets 401 and gives up', async () => {
  const server = await privateServer();
  const sources = [];
  try {
    const cases = {
      'no token': {},
      'wrong key': { Authorization: `Bearer ${jwt({ sse: { subscribe: ['user.42'] } }, { key: 'other' })}` },
      'alg HS512': {
        Authorization: `Bearer ${jwt({ sse: { subscribe: ['user.42'] } }, { alg: 'HS512', hash: 'sha512' })}`,
      },
      expired: { Cookie: `sse_token=${jwt({ sse: { subscribe: ['user.42'] }, exp: nowS() - 3600 })}` },
      garbage: { Cookie: 'sse_token=not-a-token' },
    };
    const seen = {};
    for (const [name, headers] of Object.entries(cases)) {
      const source = new EventSource(`${server.url}/sse?topic=user.42`, { fetch: fetchWith(headers) });
      sources.push(source);
      seen[name] = watch(source);
    }
    for (const [name, s] of Object.entries(seen)) {
      await waitFor(() => s.errors.length > 0, `the error of "${name}"`);
    }
    // No reconnection: the refusal count stays at one per client.
    await new Promise((r) => setTimeout(r, 500));
    for (const [name, s] of Object.entries(seen)) {
      assert.deepEqual(s.errors, [{ code: 401, state: EventSource.CLOSED }], name);
      assert.equal(s.opened, 0, name);
      assert.equal(s.messages.length, 0, name);
    }
    const st = await stats(server.url);
    assert.equal(st.streams_refused, Object.keys(cases).length);
    assert.equal(st.subscribers, 0);
  } finally {
    for (const source of sources) source.close();
    await server.stop();
  }
});

test('private: a topic outside the claim gets 403 and eventsource gives up', async () => {
  const server = await privateServer();
  const token = jwt({ sse: { subscribe: ['user.42'] } });
  const source = new EventSource(`${server.url}/sse?topic=user.42&topic=user.7`, {
    fetch: fetchWith({ Authorization: `Bearer ${token}` }),
  });
  const seen = watch(source);
  try {
    await waitFor(() => seen.errors.length > 0, 'the error');
    await publish(server.url, [{ topic: 'user.42', data: 'a' }, { topic: 'user.7', data: 'b' }]);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seen.errors, [{ code: 403, state: EventSource.CLOSED }]);
    assert.equal(seen.messages.length, 0);
    // The refusal's body is the JSON error, with WWW-Authenticate only on 401s.
    const res = await fetch(`${server.url}/sse?topic=user.7`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.match((await res.json()).error, /user\.7/);
    const missing = await fetch(`${server.url}/sse?topic=user.7`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    assert.equal(typeof (await missing.json()).error, 'string');
  } finally {
    source.close();
    await server.stop();
  }
});

test('private: a token expiring mid-stream ends it cleanly and the reconnection gets 401', async () => {
  const server = await privateServer();
  // exp + 30 s of leeway is 2-3 s from now.
  const token = jwt({ sse: { subscribe: ['user.42'] }, exp: nowS() - 30 + 3 });
  const ends = (nowS() - 30 + 3 + 30) * 1000;
  const source = new EventSource(`${server.url}/sse?topic=user.42`, {
    fetch: fetchWith({ Authorization: `Bearer ${token}` }),
  });
  const seen = watch(source);
  // The same stream read raw, for its last bytes and how it ends.
  const raw = await fetch(`${server.url}/sse?topic=user.42`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  try {
    assert.equal(raw.status, 200);
    await waitFor(() => seen.opened === 1, 'the stream to open');
    await publish(server.url, { topic: 'user.42', data: 'before expiry' });
    await waitFor(() => seen.messages.length === 1, 'the event before expiry');

    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of raw.body) text += decoder.decode(chunk, { stream: true });
    // The loop ended without an error: the server closed with a FIN.
    const endedAt = Date.now();
    assert.ok(endedAt >= ends - 1000, `closed ${ends - endedAt} ms before the token ran out`);
    assert.ok(endedAt <= ends + 3000, `closed ${endedAt - ends} ms after the token ran out`);
    assert.match(text, /data: before expiry\n/);
    assert.ok(text.endsWith(':token expired\n\n') || text.endsWith(': token expired\n\n'),
      `the stream ends with ${JSON.stringify(text.slice(-40))}`);

    // The EventSource reconnects by itself, and the expired token is refused.
    await waitFor(() => seen.errors.some((e) => e.code === 401), 'the refused reconnection', 8000);
    assert.equal(source.readyState, EventSource.CLOSED);
    assert.equal(seen.opened, 1);
    assert.deepEqual(seen.messages, ['before expiry']);
  } finally {
    source.close();
    await server.stop();
  }
});

test('private: publishing with a token reaches the topics of its publish claim only', async () => {
  const server = await privateServer();
  const reader = jwt({ sse: { subscribe: ['user.*'] } });
  const publisher = jwt({ sse: { publish: ['user.42'] }, exp: inAnHour() });
  const source = new EventSource(`${server.url}/sse?topic=user.42&topic=user.7`, {
    fetch: fetchWith({ Authorization: `Bearer ${reader}` }),
  });
  const seen = watch(source);
  const auth = { Authorization: `Bearer ${publisher}` };
  try {
    await waitFor(() => seen.opened === 1, 'the stream to open');
    const ok = await publish(server.url, { topic: 'user.42', data: 'allowed' }, auth);
    assert.equal(ok.status, 202);
    assert.ok(Number.isSafeInteger(ok.json.id));
    await waitFor(() => seen.messages.includes('allowed'), 'the allowed event');

    const other = await publish(server.url, { topic: 'user.7', data: 'refused' }, auth);
    assert.equal(other.status, 403);
    assert.match(other.json.error, /user\.7/);
    const batch = await publish(server.url,
      [{ topic: 'user.42', data: 'batch 1' }, { topic: 'user.7', data: 'batch 2' }], auth);
    assert.equal(batch.status, 403);
    const bad = await publish(server.url, { topic: 'user.42', data: 'bad' },
      { Authorization: `Bearer ${jwt({ sse: { publish: ['*'] } }, { key: 'other' })}` });
    assert.equal(bad.status, 401);

    const marker = await publish(server.url, { topic: 'user.42', data: 'marker' }, auth);
    assert.equal(marker.status, 202);
    await waitFor(() => seen.messages.includes('marker'), 'the marker');
    assert.deepEqual(seen.messages, ['allowed', 'marker']);
    assert.equal((await stats(server.url)).events_published, 2);
  } finally {
    source.close();
    await server.stop();
  }
});
