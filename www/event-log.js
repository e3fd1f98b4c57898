// event-log.js — the compact log: one line per event, one per connection note.
//
// Used by app.js. Text from the stream is only ever set with textContent,
// never parsed as HTML, so an event cannot add markup to the page. The log
// keeps the newest MAX_ROWS lines, oldest first, and follows the newest line
// unless the reader has scrolled up to read an older one.

const MAX_ROWS = 200;

export const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

// 15:20:01: the wall-clock time a line was added, 24-hour, fixed width.
export function clock(date) {
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0')).join(':');
}

export function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// What a line says about an event: its message, and the rest in brief.
// A tick (the server's own event) gets its figures; any other JSON object
// its fields; text and other JSON values are shown as they came.
function describe(raw) {
  let data;
  try {
    data = JSON.parse(raw);
  } catch {
    return { message: raw, rest: '' };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { message: raw, rest: '' };
  }
  if (isNumber(data.sent_mono_ns)) {
    const parts = [];
    if (isNumber(data.randomValue)) parts.push(`random ${data.randomValue.toFixed(4)}`);
    if (isNumber(data.subscribers)) parts.push(`subscribers ${data.subscribers}`);
    if (isNumber(data.process_cpu_percent)) parts.push(`cpu ${data.process_cpu_percent.toFixed(1)} %`);
    if (isNumber(data.process_rss_bytes)) parts.push(`rss ${formatBytes(data.process_rss_bytes)}`);
    if (isNumber(data.pid)) parts.push(`pid ${data.pid}`);
    return { message: data.message ?? 'tick', rest: parts.join(' · ') };
  }
  const { message, ...rest } = data;
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return {
    message: message === undefined ? raw : String(message),
    rest: message === undefined ? '' : fields.join(' · '),
  };
}

export class EventLog {
  constructor(list, summary) {
    this.list = list;
    this.summary = summary;
    this.received = 0;
  }

  // A MessageEvent from the stream. `mine`: published from this page.
  event(e, mine) {
    const { message, rest } = describe(e.data);
    const row = element('li', mine ? 'event mine' : 'event');
    row.dataset.id = e.lastEventId;
    row.append(this.time());
    row.append(element('span', 'id', e.lastEventId ? `#${e.lastEventId}` : 'no id'));
    if (e.type !== 'message') row.append(element('span', 'name', e.type));
    const text = element('span', 'text');
    text.append(element('span', 'msg', message));
    if (rest) text.append(element('span', 'rest', rest));
    row.append(text);
    row.title = e.data; // the whole data, when the line is cut short
    this.append(row);
    this.received++;
    this.summary.textContent = `${this.received} ${this.received === 1 ? 'event' : 'events'}`;
  }

  // A line about the connection: kind is 'open', 'lost', 'closed' or 'gap'.
  note(kind, text) {
    const row = element('li', `note ${kind}`);
    row.append(this.time(), element('span', 'msg', text));
    this.append(row);
  }

  // Marks the line of event `id` as published from this page, if it is shown.
  markMine(id) {
    this.list.querySelector(`.event[data-id="${CSS.escape(String(id))}"]`)?.classList.add('mine');
  }

  time() {
    const now = new Date();
    const t = element('time', '', clock(now));
    t.dateTime = now.toISOString();
    return t;
  }

  append(row) {
    const list = this.list;
    const following = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(row);
    while (list.childElementCount > MAX_ROWS) list.firstElementChild.remove();
    if (following) list.scrollTop = list.scrollHeight;
  }
}
