// charts.js — the server's ticks, turned into figures and rolling charts.
//
// The server's ticker publishes to topic `main` every --tick-ms an unnamed
// event whose JSON data carries its own figures (the README lists them):
// process_cpu_percent, process_rss_bytes, subscribers, events_per_second,
// fan-out latency percentiles, load_average, pid... app.js hands each tick
// to `add()`; this file keeps the last WINDOW_MS of them and draws one card
// per metric: the newest value as text, and a chart (dygraphs) of the window.
//
// With --workers N, or several instances sharing one Redis, ticks from
// several processes arrive on the same stream: each chart then has one line
// per process (its pid), since their figures are their own (a worker counts
// its own subscribers and its own CPU).
//
// The figures never depend on the chart library: when vendor/dygraph.min.js
// did not load, the cards show the text and say why there is no chart.

import { clock, formatBytes, isNumber } from './event-log.js';

const WINDOW_MS = 3 * 60 * 1000;
const MAX_SAMPLES = 5000; // a safety bound: 3 minutes at a 50 ms tick, 2 processes
const PALETTE_SIZE = 6; // style.css --series-0 .. --series-5

const fixed = (digits) => (v) => v.toFixed(digits);
// Milliseconds with about three significant digits: 0.123, 4.56, 78.9, 120.
const millis = (v) => v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : 3);
const perSecond = (v) => v.toFixed(v >= 100 ? 0 : 1);
// A figure's text, or null when the tick lacks the number.
const show = (v, format) => (isNumber(v) ? format(v) : null);

// Each card: which numbers of a tick it charts (one series each), how a
// charted value reads, the big figure and the line under it (from the
// newest tick), and the palette entries (style.css --series-N) it is drawn in.
const METRICS = [
  {
    key: 'cpu',
    colors: [0],
    series: [{ name: 'CPU', value: (t) => t.process_cpu_percent }],
    format: (v) => `${v.toFixed(1)} %`,
    figure: (t) => show(t.process_cpu_percent, (v) => `${v.toFixed(1)} %`),
    detail: () => 'this server process, since the previous tick',
  },
  {
    key: 'memory',
    colors: [4],
    includeZero: false, // a few MiB that move by kilobytes: zoom in on them
    series: [{ name: 'RSS', value: (t) => t.process_rss_bytes / 1048576 }],
    format: (v) => `${v.toFixed(2)} MiB`,
    figure: (t) => show(t.process_rss_bytes, formatBytes),
    detail: () => 'resident set size of this process',
  },
  {
    key: 'subscribers',
    colors: [2],
    series: [{ name: 'subscribers', value: (t) => t.subscribers }],
    format: fixed(0),
    figure: (t) => show(t.subscribers, fixed(0)),
    detail: () => 'event streams open on this process',
  },
  {
    key: 'events',
    colors: [3],
    series: [{ name: 'events/s', value: (t) => t.events_per_second }],
    format: (v) => `${perSecond(v)}/s`,
    figure: (t) => show(t.events_per_second, (v) => `${perSecond(v)} /s`),
    detail: (t) => (isNumber(t.deliveries_per_second)
      ? `${perSecond(t.deliveries_per_second)} deliveries/s (events × subscribers)` : ''),
  },
  {
    key: 'latency',
    colors: [5, 1],
    series: [
      { name: 'p50', value: (t) => t.fanout_p50_ms },
      // Dashed: where p99 equals p50 (one event per tick) both stay visible.
      { name: 'p99', value: (t) => t.fanout_p99_ms, dashed: true },
    ],
    format: (v) => `${millis(v)} ms`,
    figure: (t) => (isNumber(t.fanout_p50_ms) && isNumber(t.fanout_p99_ms)
      ? `${millis(t.fanout_p50_ms)} / ${millis(t.fanout_p99_ms)} ms` : null),
    detail: (t) => (isNumber(t.fanout_max_ms)
      ? `publish to last subscriber written · max ${millis(t.fanout_max_ms)} ms` : ''),
  },
  {
    key: 'load',
    colors: [1],
    series: [{ name: 'load', value: (t) => t.load_average?.[0] }],
    format: fixed(2),
    figure: (t) => show(t.load_average?.[0], fixed(2)),
    detail: (t) => (Array.isArray(t.load_average) && t.load_average.every(isNumber)
      ? `5 min ${t.load_average[1].toFixed(2)} · 15 min ${t.load_average[2].toFixed(2)}` : ''),
  },
];

// Value-axis labels with as many decimals as the axis's span needs (5.52 and
// 5.53 must not both read 5.5), and k or M for large numbers.
function axisLabel(v, granularity, options, graph) {
  const [low, high] = graph.yAxisRange();
  const step = (high - low) / 4 || 1;
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  const decimals = Math.min(4, Math.max(0, -Math.floor(Math.log10(step))));
  return String(+v.toFixed(decimals));
}

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class ServerCharts {
  // section: the "Server" section of index.html, with one [data-metric] card
  // per entry of METRICS; notice and info: its two lines of text.
  constructor(section, notice, info) {
    this.section = section;
    this.noticeEl = notice;
    this.info = info;
    this.samples = []; // { time (ms), pid, tick }, oldest first
    this.drawPending = false;
    this.Dygraph = window.Dygraph ?? null;
    this.cards = METRICS.map((metric) => {
      const card = section.querySelector(`[data-metric="${metric.key}"]`);
      return {
        metric,
        card,
        figure: card.querySelector('[data-figure]'),
        detail: card.querySelector('[data-detail]'),
        chart: card.querySelector('[data-chart]'),
        readout: card.querySelector('[data-readout]'),
        graph: null, // the Dygraph, once there is data
        hovering: false,
      };
    });
    if (this.Dygraph) {
      // dygraphs' legend writes inline style attributes, which this page's
      // Content-Security-Policy refuses (style-src 'self'); the cards show
      // the hovered values themselves (the readout line), so do without it.
      const { Legend } = this.Dygraph.Plugins;
      this.Dygraph.PLUGINS = this.Dygraph.PLUGINS.filter((plugin) => plugin !== Legend);
      // Colours come from style.css, so they follow a switch to dark mode.
      matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.restyle());
    } else {
      section.classList.add('no-charts');
    }
    this.notice(null);
  }

  // The Dygraph of a card ('cpu', 'memory', ...), or null: for the browser
  // test, and for poking at from the devtools console.
  graph(key) {
    return this.cards.find((c) => c.metric.key === key)?.graph ?? null;
  }

  // A line above the cards, or none. The missing library is always said.
  notice(text) {
    const missing = this.Dygraph ? '' : 'Charts unavailable: vendor/dygraph.min.js did not load '
      + '(Debian package libjs-dygraphs, copied into www/vendor/ by make). The figures still update.';
    const shown = [missing, text ?? ''].filter(Boolean).join(' ');
    this.noticeEl.textContent = shown;
    this.noticeEl.hidden = shown === '';
  }

  add(tick) {
    const parsed = Date.parse(tick.time);
    const time = Number.isFinite(parsed) ? parsed : Date.now();
    const pid = isNumber(tick.pid) ? tick.pid : 0;
    // Ticks arrive in id order, which across processes is nearly but not
    // exactly time order; the charts need time order.
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1].time > time) i--;
    this.samples.splice(i, 0, { time, pid, tick });
    const newest = this.samples.at(-1).time;
    const first = this.samples.findIndex((s) => s.time >= newest - WINDOW_MS);
    const drop = Math.max(first, this.samples.length - MAX_SAMPLES);
    if (drop > 0) this.samples.splice(0, drop);
    this.schedule();
  }

  clear() {
    this.samples = [];
    for (const c of this.cards) {
      c.graph?.destroy();
      c.graph = null;
      c.chart.textContent = '';
    }
    this.schedule();
  }

  // Ticks can come faster than the screen wants them (and in bursts: a
  // resume replays hundreds at once): draw at most once per frame.
  schedule() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  draw() {
    // One column per process and series, in the order processes were seen.
    const pids = [...new Set(this.samples.map((s) => s.pid))];
    const newest = this.samples.at(-1);
    this.info.textContent = newest ? this.describe(pids, newest)
      : 'no tick yet: the server sends one every --tick-ms (0 turns its ticker off)';
    for (const c of this.cards) {
      const { metric } = c;
      this.drawFigure(c, newest, pids);
      c.card.dataset.rows = String(this.samples.length);
      if (!this.Dygraph || this.samples.length === 0) continue;
      const labels = ['time'];
      for (const pid of pids) {
        for (const s of metric.series) labels.push(pids.length > 1 ? `${s.name} pid ${pid}` : s.name);
      }
      const width = metric.series.length;
      const rows = this.samples.map(({ time, pid, tick }) => {
        const row = new Array(labels.length).fill(null);
        row[0] = new Date(time);
        const at = 1 + pids.indexOf(pid) * width;
        metric.series.forEach((s, k) => {
          const v = s.value(tick);
          row[at + k] = isNumber(v) ? v : null;
        });
        return row;
      });
      if (c.graph) {
        c.graph.updateOptions({
          file: rows, labels, colors: this.colors(metric, labels), series: this.seriesOptions(metric, labels),
        });
      } else {
        c.graph = new this.Dygraph(c.chart, rows, this.options(c, labels));
      }
      if (!c.hovering) this.legend(c, labels);
    }
  }

  describe(pids, newest) {
    const { tick } = newest;
    // Several pids: workers, instances sharing Redis, or a restart within
    // the window (the old pid's lines stop where the new one's begin).
    const who = pids.length > 1
      ? `ticks from ${pids.length} processes (pid ${pids.join(', ')}), one line each`
      : `pid ${pids[0]}`;
    const ms = tick.interval_ms;
    const every = !isNumber(ms) ? ''
      : ` · a tick every ${ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`}`;
    return `${who}${every} · last ${clock(new Date(newest.time))}`;
  }

  drawFigure(c, newest, pids) {
    if (!newest) {
      c.figure.textContent = '–';
      c.detail.textContent = '';
      return;
    }
    c.figure.textContent = c.metric.figure(newest.tick) ?? '–';
    const detail = c.metric.detail(newest.tick);
    c.detail.textContent = pids.length > 1 ? `pid ${newest.pid} · ${detail}` : detail;
  }

  // The palette entry (style.css --series-N) of column i (0: the first after
  // time): the metric's own colours for its first process, shifted along
  // the palette for each further one.
  static paletteIndex(metric, i) {
    const width = metric.series.length;
    return (metric.colors[i % width] + Math.floor(i / width) * 2) % PALETTE_SIZE;
  }

  // Per-series options, by label: the dashed ones.
  seriesOptions(metric, labels) {
    const width = metric.series.length;
    return Object.fromEntries(labels.slice(1).map((label, i) =>
      [label, metric.series[i % width].dashed ? { strokePattern: [5, 3] } : {}]));
  }

  colors(metric, labels) {
    return labels.slice(1).map((_, i) => cssColor(`--series-${ServerCharts.paletteIndex(metric, i)}`));
  }

  options(c, labels) {
    const { metric } = c;
    return {
      labels,
      colors: this.colors(metric, labels),
      series: this.seriesOptions(metric, labels),
      strokeWidth: 1.6,
      fillGraph: true,
      fillAlpha: 0.12,
      connectSeparatedPoints: true, // each process's line runs across the others' rows
      includeZero: metric.includeZero !== false,
      axisLabelFontSize: 11,
      axisLineColor: cssColor('--chart-axis'),
      gridLineColor: cssColor('--chart-grid'),
      rightGap: 6,
      highlightCircleSize: 3,
      // No zooming or panning by drag: on a live chart it would freeze the
      // window, and on a phone it would take the finger that scrolls the page.
      // Hovering still shows values (below).
      interactionModel: {},
      highlightCallback: (event, x, points) => {
        c.hovering = true;
        const values = points.filter((p) => isNumber(p.yval))
          .map((p) => `${p.name} ${metric.format(p.yval)}`);
        c.readout.textContent = [clock(new Date(x)), ...values].join(' · ');
      },
      unhighlightCallback: () => {
        c.hovering = false;
        this.legend(c, c.graph.getLabels());
      },
      axes: {
        x: { drawGrid: false, pixelsPerLabel: 70, axisLabelFormatter: (d) => clock(d) },
        y: { axisLabelWidth: 40, pixelsPerLabel: 22, axisLabelFormatter: axisLabel },
      },
    };
  }

  // The readout line when not hovering: which colour is which series, when
  // there is more than one.
  legend(c, labels) {
    const names = labels.slice(1);
    if (names.length < 2) {
      c.readout.textContent = '';
      return;
    }
    c.readout.replaceChildren(...names.map((name, i) => {
      const key = document.createElement('span');
      key.className = 'key';
      const swatch = document.createElement('span');
      swatch.className = `swatch s${ServerCharts.paletteIndex(c.metric, i)}`;
      key.append(swatch, name);
      return key;
    }));
  }

  restyle() {
    for (const c of this.cards) {
      if (!c.graph) continue;
      c.graph.updateOptions({
        colors: this.colors(c.metric, c.graph.getLabels()),
        axisLineColor: cssColor('--chart-axis'),
        gridLineColor: cssColor('--chart-grid'),
      });
    }
  }
}
