// stream.js — the page's one connection to GET /sse, kept open.
//
// The browser's EventSource does most of the work (WHATWG HTML §9.2): it
// parses the stream, remembers the id of the last event, and when the
// connection drops it reconnects by itself after the server's `retry:` delay,
// sending that id in a `Last-Event-ID` header so that the server replays what
// was missed (or sends `event: gap` when it no longer has it).
//
// It gives up for good in one case: a (re)connection answered with anything
// but `200 text/event-stream` — a 503 from a server or proxy that is full or
// restarting, a 502 from nginx with no upstream left. readyState becomes
// CLOSED and nothing more happens. That case is what this file adds: it opens
// a new EventSource itself after an exponentially growing, jittered delay,
// and resumes with `?lastEventId=N` in the URL, since a new EventSource has
// no id of its own to put in the header (SPEC "the event stream": the server
// reads the query parameter when there is no header).
//
// Used by app.js. It knows nothing of the page: it reports events and
// changes of state through the handlers it was given.

// The delay before the first reopen, doubled per failed attempt up to the
// cap. Each delay is drawn from the upper half of its range ("equal jitter"):
// it keeps growing, yet clients turned away at the same moment come back at
// different moments instead of all at once.
const REOPEN_FIRST_MS = 1000;
const REOPEN_MAX_MS = 30000;

export function reopenDelay(attempt, random = Math.random) {
  const ceiling = Math.min(REOPEN_MAX_MS, REOPEN_FIRST_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// Event names with a meaning of their own here (see listen()).
const RESERVED_NAMES = new Set(['message', 'gap', 'open', 'error']);

// The URL of a stream: one `topic` parameter per topic, and where to resume.
export function streamUrl(topics, lastEventId) {
  const query = new URLSearchParams();
  for (const topic of topics) query.append('topic', topic);
  if (lastEventId) query.set('lastEventId', lastEventId);
  return `/sse?${query}`;
}

export class LiveStream {
  // handlers: {
  //   event(e)  every event but `gap`: a MessageEvent whose type is 'message'
  //             for an unnamed event, else the event's name
  //   gap({requested, oldest, position})  the server no longer had what came
  //             after `requested`; the stream goes on from `position`
  //   state(name, info)  the connection changed:
  //     'connecting'    a new EventSource is opening   {url, resumeFrom, again}
  //     'open'          it is open (again: after a drop) {url, resumeFrom, again}
  //     'reconnecting'  it dropped, the browser retries {resumeFrom, wasOpen}
  //     'waiting'       refused; a reopen is due later  {attempt, delay, resumeFrom}
  //     'closed'        close() was called
  // }
  constructor(handlers) {
    this.handlers = handlers;
    this.source = null; // the EventSource, while there is one
    this.timer = null; // the pending reopen, while waiting for one
    this.attempt = 0; // failed reopens in a row, for the backoff
    this.topics = ['main'];
    this.lastEventId = ''; // the id of the last event seen, '' before the first
    this.resumeFrom = ''; // the id the current connection attempt resumes after
    this.dropped = false; // true from a drop until the stream is open again
    this.opened = false; // whether this stream has been open since open()
    this.names = new Set(); // named events to listen for, besides unnamed ones
  }

  // True while the page wants a stream: open, or on its way back.
  get active() {
    return this.source !== null || this.timer !== null;
  }

  // Opens a stream for these topics, resuming after the last event seen (if
  // any), in place of the current one. Also how a change of topics is made.
  open(topics) {
    this.topics = [...topics];
    this.stop();
    this.attempt = 0;
    this.dropped = false;
    this.opened = false;
    this.connect();
  }

  close() {
    this.stop();
    this.handlers.state('closed', {});
  }

  // EventSource hands a named event only to listeners of that name: there is
  // no "every event" listener. The page adds a listener for each name it
  // learns (for example from its publish form), now and on every reopen.
  // Not for the names that already mean something here: `message` (the
  // unnamed events), `gap`, and the EventSource's own `open` and `error`.
  listen(name) {
    if (RESERVED_NAMES.has(name) || this.names.has(name)) return;
    this.names.add(name);
    this.source?.addEventListener(name, (e) => this.deliver(e));
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.source) {
      this.source.close(); // no more events or errors from it
      this.source = null;
    }
  }

  connect() {
    this.resumeFrom = this.lastEventId;
    const url = streamUrl(this.topics, this.resumeFrom);
    const source = new EventSource(url);
    this.source = source;
    this.handlers.state('connecting', { url, resumeFrom: this.resumeFrom, again: this.dropped });

    source.onopen = () => {
      this.attempt = 0;
      // "Again" only if it was open before: a page loaded while the server
      // was away has dropped nothing.
      const again = this.dropped && this.opened;
      this.opened = true;
      this.dropped = false;
      this.handlers.state('open', { url, resumeFrom: this.resumeFrom, again });
    };
    source.onmessage = (e) => this.deliver(e);
    for (const name of this.names) source.addEventListener(name, (e) => this.deliver(e));
    source.addEventListener('gap', (e) => {
      this.lastEventId = e.lastEventId; // the position the stream goes on from
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch {
        // Still a gap; only its details are unknown.
      }
      this.handlers.gap({ requested: data.lastEventId, oldest: data.oldestId, position: e.lastEventId });
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        this.scheduleReopen();
        return;
      }
      // CONNECTING: the browser retries by itself, with Last-Event-ID set to
      // the last id it saw, which is ours. Say so once per drop, not per try.
      this.resumeFrom = this.lastEventId;
      if (!this.dropped) {
        this.dropped = true;
        this.handlers.state('reconnecting', { resumeFrom: this.resumeFrom, wasOpen: this.opened });
      }
    };
  }

  deliver(e) {
    if (e.lastEventId) this.lastEventId = e.lastEventId;
    this.handlers.event(e);
  }

  scheduleReopen() {
    this.source.close();
    this.source = null;
    const delay = reopenDelay(this.attempt);
    this.attempt++;
    this.dropped = true;
    this.handlers.state('waiting', { attempt: this.attempt, delay, resumeFrom: this.lastEventId });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
