// app.js — the dashboard (index.html): wires the event stream to the log,
// the charts and the connection panel, and runs the topic picker and the
// publish form.
//
// Loaded as a module, after vendor/dygraph.min.js: both are deferred, so they
// run in document order once the page is parsed. The pieces:
//   stream.js     the EventSource, and reopening it when the browser gives up
//   event-log.js  the compact log of events and connection notes
//   charts.js     the server's ticks as figures and rolling charts
// Everything shown comes from the stream itself; the only other request the
// page makes is POST /publish from its form.

import { LiveStream } from './stream.js';
import { EventLog, isNumber } from './event-log.js';
import { ServerCharts } from './charts.js';

// SPEC "the event stream": a topic name, and how many one stream may carry.
// The picker checks both itself: a stream refused with 400 would only tell
// the page "error", since EventSource never shows a response's body.
const TOPIC_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_TOPICS = 32;
const TICKER_TOPIC = 'main';

const $ = (id) => document.getElementById(id);
const log = new EventLog($('log'), $('summary'));
const charts = new ServerCharts(document.querySelector('.server'), $('chart-notice'), $('server-info'));
const published = new Set(); // ids this page published: their log lines are marked
let reconnects = 0;

// --- the stream -------------------------------------------------------------

const stream = new LiveStream({ event: onEvent, gap: onGap, state: onState });

// The ticker's events are the unnamed ones whose JSON carries sent_mono_ns.
function tickOf(e) {
  if (e.type !== 'message') return null;
  try {
    const data = JSON.parse(e.data);
    return data !== null && isNumber(data.sent_mono_ns) ? data : null;
  } catch {
    return null;
  }
}

function onEvent(e) {
  log.event(e, published.has(Number(e.lastEventId)));
  showPosition();
  const tick = tickOf(e);
  if (tick) charts.add(tick);
}

function onGap({ requested, oldest, position }) {
  log.note('gap', `missed events (gap): the server cannot replay what came after id ${requested}`
    + ` (the oldest it keeps is ${oldest}); going on from id ${position}`);
  showPosition();
}

function showPosition() {
  $('last-id').textContent = stream.lastEventId || 'none yet';
  $('received').textContent = String(log.received);
}

// The status pill: data-state drives its colour (style.css).
function setStatus(state, text) {
  const status = $('status');
  status.dataset.state = state;
  status.textContent = text;
}

function onState(state, info) {
  const resuming = info.resumeFrom ? `, resuming after id ${info.resumeFrom}` : '';
  switch (state) {
    case 'connecting':
      setStatus('connecting', info.again ? 'reopening…' : 'connecting…');
      $('stream-url').textContent = info.url;
      break;
    case 'open':
      setStatus('open', 'connected');
      if (info.again) {
        reconnects++;
        $('reconnects').textContent = String(reconnects);
        log.note('open', info.resumeFrom ? `reconnected, resumed after id ${info.resumeFrom}` : 'reconnected');
      } else {
        log.note('open', `connected to ${info.url}${resuming}`);
      }
      break;
    case 'reconnecting':
      // The browser's own retry: same URL, Last-Event-ID in a header.
      setStatus('connecting', 'reconnecting…');
      log.note('lost', `${info.wasOpen ? 'connection lost' : 'no answer from the server'},`
        + ` reconnecting… (the browser retries by itself${resuming})`);
      break;
    case 'waiting':
      setStatus('waiting', `refused · retry in ${Math.ceil(info.delay / 1000)} s`);
      log.note('lost', 'the server refused the stream (an answer other than 200) and the browser gave up;'
        + ` reopening in ${(info.delay / 1000).toFixed(1)} s (attempt ${info.attempt}${resuming})`);
      break;
    case 'closed':
      setStatus('closed', 'disconnected');
      log.note('closed', 'disconnected');
      break;
    default:
      break;
  }
  $('connect').disabled = stream.active;
  $('disconnect').disabled = !stream.active;
}

$('connect').addEventListener('click', () => {
  if (stream.active) return; // one stream at a time
  stream.open(chosenTopics());
});

$('disconnect').addEventListener('click', () => {
  if (!stream.active) return;
  stream.close();
});

// --- topics -----------------------------------------------------------------

// Every topic the picker knows, in the order added; ticked ones are streamed.
const topicBoxes = new Map(); // name -> its checkbox

function chosenTopics() {
  return [...topicBoxes].filter(([, box]) => box.checked).map(([name]) => name);
}

function addTopicBox(name) {
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.value = name;
  box.checked = true;
  box.addEventListener('change', () => {
    if (chosenTopics().length === 0) {
      box.checked = true;
      topicError('Keep at least one topic: with none, the server would send main.');
      return;
    }
    topicsChanged();
  });
  const label = document.createElement('label');
  label.className = 'topic';
  label.append(box, name);
  $('topic-list').append(label);
  const option = document.createElement('option');
  option.value = name;
  $('topic-options').append(option);
  topicBoxes.set(name, box);
}

function topicError(text) {
  $('topic-error').textContent = text;
}

// The charts follow the ticker's topic; the stream is reopened for the new
// set of topics, resuming after the last event seen (so a topic ticked back
// on gets what it missed, as far as the server still has it).
function topicsChanged() {
  topicError('');
  const topics = chosenTopics();
  if (topics.includes(TICKER_TOPIC)) {
    charts.notice(null);
  } else {
    charts.clear();
    charts.notice(`No server figures: the ticker publishes to "${TICKER_TOPIC}",`
      + ' which is not among the chosen topics.');
  }
  if (stream.active) {
    log.note('closed', `topics now ${topics.join(', ')}: reopening the stream`);
    stream.open(topics);
  }
}

$('topic-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('topic-new');
  const name = input.value.trim();
  if (!TOPIC_NAME.test(name)) {
    topicError('A topic name is 1–64 characters of A–Z a–z 0–9 _ . : -');
    return;
  }
  const known = topicBoxes.get(name);
  if (known?.checked) {
    topicError(`${name} is already on the stream.`);
    return;
  }
  if (chosenTopics().length >= MAX_TOPICS) {
    topicError(`At most ${MAX_TOPICS} topics on one stream: untick one first.`);
    return;
  }
  if (known) known.checked = true;
  else addTopicBox(name);
  input.value = '';
  topicsChanged();
});

// --- publishing -------------------------------------------------------------

function publishResult(kind, text) {
  const out = $('publish-result');
  out.dataset.kind = kind;
  out.textContent = text;
}

// POST /publish, same origin: without --publish-token the server accepts it
// because this browser runs on the same machine (SPEC "Who may publish");
// with one, the token field supplies it. The answer is 202 {"id": N}, or an
// error status with {"error": "..."} naming the problem.
$('publish-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const topic = form.elements.topic.value.trim();
  const name = form.elements.event.value.trim();
  const text = form.elements.data.value;
  const token = form.elements.token.value.trim();

  const body = {};
  if (topic) body.topic = topic; // empty: the server's default, main
  if (name) body.event = name;
  try {
    body.data = JSON.parse(text);
  } catch {
    body.data = text; // not JSON: sent as text
  }
  // A named event reaches only a listener for its name (stream.js).
  if (name) stream.listen(name);

  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  publishResult('pending', 'publishing…');
  let response;
  let reply = null;
  try {
    response = await fetch('/publish', { method: 'POST', headers, body: JSON.stringify(body) });
    reply = await response.json().catch(() => null);
  } catch (err) {
    publishResult('error', `The server could not be reached: ${err.message}`);
    return;
  }
  if (response.status === 202 && reply) {
    const ids = reply.ids ?? [reply.id];
    for (const id of ids) {
      published.add(id);
      log.markMine(id); // the event may have arrived before this answer
    }
    const shown = topic === '' ? TICKER_TOPIC : topic;
    const where = chosenTopics().includes(shown) && stream.active ? ''
      : ` (not shown in the log: topic ${shown} is not on the stream)`;
    publishResult('ok', `202 Accepted · id ${ids.join(', ')}${where}`);
  } else {
    const why = reply?.error ?? 'no explanation in the answer';
    publishResult('error', `${response.status} ${response.statusText}: ${why}`.replace('  ', ' '));
  }
});

// --- start ------------------------------------------------------------------

addTopicBox(TICKER_TOPIC);
stream.open(chosenTopics()); // live at once: no click needed to see the server

// For the browser test, and for a look from the devtools console:
// sseDashboard.charts.graph('cpu').numRows(), sseDashboard.stream.lastEventId.
window.sseDashboard = { stream, charts, log };
