// node-server.mjs — the SSE server a Node.js user would write, as a peer for
// bench/compare.sh: plain `node:http`, no dependencies, in the spirit of the
// seed article's demo (shared/seed.md), plus the POST /publish that fans an
// event out to every connected client.
//
//   GET  /sse      text/event-stream; the response joins the set of clients
//   POST /publish  {"data": ...} or a JSON array of them (sse-server's body
//                  format; a string `data` is sent as is, anything else as
//                  JSON); each event gets the next id and is written with one
//                  res.write() per client; answers 202 {"id":n} / {"ids":[...]}
//   GET  /health   200 ok
//
// What a Node user gets by default is kept on purpose: the stream is sent with
// `Transfer-Encoding: chunked` (no Content-Length), one res.write() per client
// per event, and no backpressure handling (a slow client's unsent bytes pile up
// in its socket's buffer in memory). Ids are seeded from the clock in
// microseconds, as sse-server's are, so frames have the same size.
//
// Usage: node bench/node-server.mjs [--port 0] [--host 127.0.0.1]
// Prints "node-server listening on HOST:PORT" once listening (port 0 picks one).
import http from 'node:http';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const host = option('--host', '127.0.0.1');
const port = Number(option('--port', '0'));

const clients = new Set();
let nextId = Date.now() * 1000;

// WHATWG HTML §9.2: one `data:` line per line of the text.
function frame(id, data) {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return `id: ${id}\n${text.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('')}\n`;
}

// A whole response with its Content-Length (after writeHead() without one,
// Node would send the body chunked).
function reply(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function publish(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      reply(res, 400, 'application/json', '{"error":"bad JSON"}');
      return;
    }
    const events = Array.isArray(body) ? body : [body];
    if (events.some((e) => e === null || typeof e !== 'object' || !('data' in e))) {
      reply(res, 400, 'application/json', '{"error":"each event needs data"}');
      return;
    }
    const ids = [];
    for (const event of events) {
      const id = nextId++;
      const text = frame(id, event.data);
      for (const client of clients) client.write(text);
      ids.push(id);
    }
    reply(res, 202, 'application/json', JSON.stringify(Array.isArray(body) ? { ids } : { id: ids[0] }));
  });
}

function subscribe(req, res) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
  });
  res.write('retry: 3000\n\n');
  clients.add(res);
  req.on('close', () => clients.delete(res));
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path === '/sse') {
    subscribe(req, res);
  } else if (req.method === 'POST' && path === '/publish') {
    publish(req, res);
  } else if (req.method === 'GET' && path === '/health') {
    reply(res, 200, 'text/plain', 'ok');
  } else {
    reply(res, 404, 'text/plain', 'not found');
  }
});
// Node's default keep-alive timeout (5 s) would close the publisher's
// connection between slow runs; a benchmark run is bounded anyway.
server.keepAliveTimeout = 600000;
server.listen(port, host, () => {
  const a = server.address();
  console.log(`node-server listening on ${a.address}:${a.port}`);
});
const stop = () => {
  for (const client of clients) client.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
