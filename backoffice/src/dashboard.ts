// The dashboard: the last 15 minutes as charts (uPlot, served by the gateway from its npm package),
// requests per second stacked by status class and p99 latency per route, from GET
// /api/traffic/history (the WebSocket's `route-history`), asked again every two seconds while the
// page is shown; below them the live per-route table (every second, sortable) and recent requests.
import { failure } from './client.js';
import { h, nextId } from './dom.js';

import type { Client } from './client.js';
import type { Child } from './dom.js';
export type UPlot = import('uplot');
export type ChartOptions = import('uplot').Options;
export type ChartData = import('uplot').AlignedData;
export type RouteTraffic = {
  routeId: string;
  requests: number;
  status: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
  p50Ms: number;
  p99Ms: number;
};
export type RecentRequest = {
  time: number;
  routeId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  consumer: string | null;
};
export type TrafficTick = { routes: RouteTraffic[]; recent: RecentRequest[] };
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export type RouteWindow = {
  routeId: string;
  total: number;
  requests: Record<StatusClass, number[]>;
  p99Ms: (number | null)[];
};
export type History = {
  bucketSeconds: number;
  time: number[];
  currentSeconds: number;
  all: RouteWindow;
  routes: RouteWindow[];
};

/** The chart library, loaded by index.html as a classic script (a global, like its IIFE build makes). */
const uPlot = (window as unknown as { uPlot: typeof import('uplot') }).uPlot;

/** What the traffic ticks of the last minute say, per route (filled from the app's start). */
const traffic: { history: Map<string, RouteTraffic[]>; listeners: Set<() => void>; recent: RecentRequest[] } = {
  history: new Map(),
  listeners: new Set(),
  recent: [],
};
/**
 * The rows of traffic no route served, named alike in the table, the charts and the recent requests:
 * the server's labels (`(sink)`: a global sink answered, the token endpoints; `(none)`: no route
 * matched) and the table's remainder of the 15-minute window (`(other)`).
 */
const TRAFFIC_NAMES: Record<string, string> = {
  '(sink)': 'token endpoints (global sinks)',
  '(none)': 'no route matched',
  '(other)': 'other routes',
};
/** The name a route id or traffic label is shown under. */
export function trafficName(routeId: string): string {
  return TRAFFIC_NAMES[routeId] ?? routeId;
}
const OTHER_ROUTES = '(other)';
/** Status classes stacked in the requests chart, bottom first, with their colours (contrast ≥ 3:1 on white). */
const STACK = [
  ['2xx', '#1e7a3c'],
  ['3xx', '#2457c5'],
  ['4xx', '#a35a00'],
  ['5xx', '#b3261e'],
] as const;
/** Colours of the p99 lines, one per route. */
const PALETTE = ['#2457c5', '#b3261e', '#1e7a3c', '#7b3fa0', '#a35a00', '#00708a', '#c2185b', '#4e5b2f'];
/** Routes drawn in the p99 chart (the busiest of the window). */
const P99_ROUTES = 8;
const REFRESH_MS = 2000;

/** Each route's 15-minute count, and under `(other)` what the routes answered leave of the total, so the column adds up. */
function tableWindow(history: History): Map<string, number> {
  const totals = new Map(history.routes.map((r) => [r.routeId, r.total]));
  const rest = history.all.total - history.routes.reduce((sum, r) => sum + r.total, 0);
  if (rest > 0) totals.set(OTHER_ROUTES, rest);
  return totals;
}

/** The recent list is live (since the page opened): it says "No requests yet" only when nothing was counted either. */
function recentEmptyState(windowTotals: ReadonlyMap<string, number>): string {
  const counted =
    [...windowTotals.values()].some((n) => n > 0) ||
    [...traffic.history.values()].some((s) => s.some((t) => t.requests > 0));
  return counted
    ? 'None since this page opened: requests appear here as they arrive (the table and charts count the last 15 minutes).'
    : 'No requests yet.';
}

export function onTraffic(tick: TrafficTick) {
  const totals = new Map();
  for (const r of tick.routes) totals.set(r.routeId, r);
  const ids = new Set([...traffic.history.keys(), ...totals.keys()]);
  for (const id of ids) {
    const series = traffic.history.get(id) ?? [];
    series.push(
      totals.get(id) ?? {
        routeId: id,
        requests: 0,
        status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
        p50Ms: 0,
        p99Ms: 0,
      },
    );
    if (series.length > 60) series.shift();
    traffic.history.set(id, series);
  }
  traffic.recent = [...tick.recent, ...traffic.recent].slice(0, 50);
  for (const l of traffic.listeners) l();
}

function sparkline(values: number[]) {
  const max = Math.max(1, ...values);
  const points = values.map((v, i) => `${(i / 59) * 200},${40 - (v / max) * 38}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 200 40');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `requests per second over the last minute, max ${max}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}

export type Column = {
  key: string;
  label: string;
  numeric: boolean;
  value: (row: TableRow) => number | string;
  cell: (row: TableRow) => HTMLElement;
};
export type TableRow = { id: string; last: RouteTraffic; minute: number[]; window: number };

const sort: { key: string; direction: 'ascending' | 'descending' } = { key: 'route', direction: 'ascending' };

type Chart = ReturnType<typeof chart>;
/** The charts' section and what a refresh updates in it. */
type Charts = {
  section: HTMLElement;
  requestsChart: Chart;
  p99Chart: Chart;
  routeSelect: HTMLSelectElement;
  error: HTMLElement;
};

export async function dashboardView(
  client: Client,
  page: (title: string, actions: Child, ...body: (Node | string)[]) => void,
) {
  const charts = chartsSection(() => {
    refresh().catch(() => {});
  });
  const routesTable = h('div', {});
  const recentTable = h('div', {});
  page(
    'Dashboard',
    [],
    h('p', { class: 'muted' }, 'The last 15 minutes in 10-second buckets; the tables are live, updated every second.'),
    charts.section,
    h('h2', { id: 'routes-title' }, 'Routes'),
    routesTable,
    h('h2', {}, 'Recent requests'),
    recentTable,
  );
  /** Requests in the 15-minute window per row of the table; `(other)` is what the rows shown leave of the total. */
  let windowTotals: Map<string, number> = new Map();
  const table = sortableTable(routesTable);
  const draw = () => {
    table.draw(liveRows(windowTotals));
    recentTable.replaceChildren(recentRequests(windowTotals));
  };
  const refresh = async () => {
    const totals = await refreshCharts(client, charts);
    if (totals) windowTotals = totals;
    if (totals) draw();
  };
  draw();
  traffic.listeners.clear();
  traffic.listeners.add(draw);
  await refresh();
  keepRefreshing(charts, refresh);
}

/** Asked again while the dashboard is on screen; leaving it (its elements detached) ends the loop. */
function keepRefreshing(charts: Charts, refresh: () => Promise<void>) {
  const again = () =>
    setTimeout(() => {
      if (!charts.section.isConnected) return;
      void refresh().finally(again);
    }, REFRESH_MS);
  again();
  const onResize = () => {
    if (!charts.section.isConnected) return window.removeEventListener('resize', onResize);
    charts.requestsChart.resize();
    charts.p99Chart.resize();
  };
  window.addEventListener('resize', onResize);
}

function chartsSection(onRouteChange: () => void): Charts {
  const section = h('section', { class: 'charts', 'aria-labelledby': 'charts-title' });
  const requestsChart = chart('chart-requests', 'Requests per second by status class');
  const p99Chart = chart('chart-p99', 'p99 latency per route (ms)');
  const routeSelect = h(
    'select',
    { id: nextId('chart-route'), onchange: onRouteChange },
    h('option', { value: '' }, 'All routes'),
  );
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  section.replaceChildren(
    h(
      'div',
      { class: 'charts-head' },
      h('h2', { id: 'charts-title' }, 'Last 15 minutes'),
      h('div', { class: 'field inline' }, h('label', { for: routeSelect.id }, 'Requests of'), routeSelect),
    ),
    error,
    h('div', { class: 'chart-grid' }, requestsChart.figure, p99Chart.figure),
  );
  return { section, requestsChart, p99Chart, routeSelect, error };
}

/** The live table's rows: every route of the last minute's ticks and of the 15-minute window. */
function liveRows(windowTotals: ReadonlyMap<string, number>): TableRow[] {
  const ids = new Set([...traffic.history.keys(), ...windowTotals.keys()]);
  if (!windowTotals.has(OTHER_ROUTES)) ids.delete(OTHER_ROUTES);
  const idle = { routeId: '', requests: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, p50Ms: 0, p99Ms: 0 };
  return [...ids].map((id) => {
    const minute = traffic.history.get(id) ?? [];
    return {
      id,
      last: minute.at(-1) ?? { ...idle, routeId: id },
      minute: minute.map((s) => s.requests),
      window: windowTotals.get(id) ?? 0,
    };
  });
}

function recentRequests(windowTotals: ReadonlyMap<string, number>) {
  const recent = traffic.recent
    .slice(0, 20)
    .map((r) =>
      h(
        'tr',
        {},
        h('td', {}, new Date(r.time).toLocaleTimeString()),
        h('td', {}, trafficName(r.routeId)),
        h('td', {}, r.method),
        h('td', { class: 'path' }, r.path),
        h('td', { class: `num status-${String(r.status)[0]}xx` }, r.status),
        h('td', { class: 'num' }, r.durationMs.toFixed(1)),
        h('td', {}, r.consumer ?? '—'),
      ),
    );
  if (recent.length === 0) return h('p', { class: 'muted' }, recentEmptyState(windowTotals));
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Time', 'Route', 'Method', 'Path', 'Status', 'ms', 'Consumer'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h('tbody', {}, recent),
  );
}

/** The route picker lists the window's routes (and the selected one), redrawn only when they change. */
function updateRouteOptions(routeSelect: HTMLSelectElement, history: History, selected: string) {
  const options = history.routes.map((r) => r.routeId).filter((id) => id !== '(none)' && id !== '(sink)');
  if (selected && !options.includes(selected)) options.push(selected);
  const known = [...routeSelect.options].slice(1).map((o) => o.value);
  if (known.join('\n') === options.join('\n')) return;
  routeSelect.replaceChildren(
    h('option', { value: '' }, 'All routes'),
    ...options.map((id) => h('option', { value: id }, id)),
  );
  routeSelect.value = selected;
}

/** The charts from the window's history; the table's window totals, or undefined when the history failed. */
async function refreshCharts(client: Client, charts: Charts): Promise<Map<string, number> | undefined> {
  const { routeSelect, error, requestsChart, p99Chart } = charts;
  const selected = routeSelect.value;
  try {
    // The busiest routes, the one selected and every one the live table shows: each row's 15-minute count is its own.
    const named = [...new Set([selected, ...traffic.history.keys()])].filter((id) => id && id !== OTHER_ROUTES);
    const history = (await client.request('get', 'route-history', {
      query: { limit: P99_ROUTES, route: named },
    })) as History;
    error.hidden = true;
    const totals = tableWindow(history);
    updateRouteOptions(routeSelect, history, selected);
    const shown = selected
      ? (history.routes.find((r) => r.routeId === selected) ?? emptyWindow(selected, history.time.length))
      : history.all;
    requestsChart.update(
      requestsData(history, shown),
      requestsOptions(history, shown),
      requestsSummary(history, shown),
    );
    const lines = history.routes.filter((r) => r.total > 0).slice(0, P99_ROUTES);
    p99Chart.update(p99Data(history, lines), p99Options(lines), p99Summary(history, lines));
    return totals;
  } catch (err) {
    error.textContent = `The charts could not be updated: ${failure(err).message}`;
    error.hidden = false;
    return undefined;
  }
}

/** The column counting one status class of the last second's requests. */
function statusColumn(status: '2xx' | '4xx' | '5xx'): Column {
  return {
    key: status,
    label: status,
    numeric: true,
    value: (r) => r.last.status[status],
    cell: (r) => h('td', { class: 'num' }, r.last.status[status]),
  };
}

/** The live table's columns: how each sorts and how its cell is drawn. */
const COLUMNS: Column[] = [
  {
    key: 'route',
    label: 'Route',
    numeric: false,
    value: (r) => trafficName(r.id),
    cell: (r) =>
      h(
        'th',
        { scope: 'row' },
        r.id.startsWith('(')
          ? trafficName(r.id)
          : h('a', { href: `#/routes/${encodeURIComponent(r.id)}`, title: `Edit the route ${r.id}` }, r.id),
      ),
  },
  {
    key: 'minute',
    label: 'Last minute',
    numeric: true,
    value: (r) => r.minute.reduce((s, n) => s + n, 0),
    cell: (r) => h('td', {}, sparkline(r.minute)),
  },
  {
    key: 'rps',
    label: 'req/s',
    numeric: true,
    value: (r) => r.last.requests,
    cell: (r) => h('td', { class: 'num' }, r.last.requests),
  },
  statusColumn('2xx'),
  statusColumn('4xx'),
  statusColumn('5xx'),
  {
    key: 'errors',
    label: 'Error rate',
    numeric: true,
    value: (r) => errorRate(r.last),
    cell: (r) => h('td', { class: 'num' }, r.last.requests ? `${Math.round(errorRate(r.last) * 100)} %` : '—'),
  },
  {
    key: 'p50',
    label: 'p50 ms',
    numeric: true,
    value: (r) => r.last.p50Ms,
    cell: (r) => h('td', { class: 'num' }, r.last.p50Ms.toFixed(1)),
  },
  {
    key: 'p99',
    label: 'p99 ms',
    numeric: true,
    value: (r) => r.last.p99Ms,
    cell: (r) => h('td', { class: 'num' }, r.last.p99Ms.toFixed(1)),
  },
  {
    key: 'window',
    label: '15 min',
    numeric: true,
    value: (r) => r.window,
    cell: (r) => h('td', { class: 'num' }, r.window),
  },
];

/** A click on a column's header: the same column flips its order, another starts numbers high and names at A. */
function sortBy(column: Column) {
  if (sort.key === column.key) sort.direction = sort.direction === 'ascending' ? 'descending' : 'ascending';
  else sort.direction = column.numeric ? 'descending' : 'ascending';
  sort.key = column.key;
}

function sortedRows(rows: TableRow[]) {
  const column = COLUMNS.find((c) => c.key === sort.key) ?? (COLUMNS[0] as Column);
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * order || a.id.localeCompare(b.id);
  });
}

/** The table's header: a sort button per column; `onSort` after a click. */
function sortableHead(headers: Map<string, HTMLTableCellElement>, onSort: () => void) {
  const cells = COLUMNS.map((column) => {
    const onclick = () => {
      sortBy(column);
      onSort();
    };
    const th = h(
      'th',
      { scope: 'col', class: column.numeric ? 'num' : '' },
      h(
        'button',
        { type: 'button', class: 'sort', onclick },
        column.label,
        h('span', { class: 'sort-icon', 'aria-hidden': 'true' }),
      ),
    );
    headers.set(column.key, th);
    return th;
  });
  return h('thead', {}, h('tr', {}, cells));
}

/**
 * The per-route table: headers are buttons that sort (aria-sort on the sorted column); the body is
 * drawn again every second while the header, and the focus on its buttons, stays.
 */
function sortableTable(container: HTMLElement) {
  const headers: Map<string, HTMLTableCellElement> = new Map();
  const mark = () => {
    for (const [key, th] of headers) {
      if (key === sort.key) th.setAttribute('aria-sort', sort.direction);
      else th.removeAttribute('aria-sort');
    }
  };
  let rows: TableRow[] = [];
  const body = h('tbody', {});
  const redraw = () => {
    body.replaceChildren(
      ...sortedRows(rows).map((row) =>
        h(
          'tr',
          { dataset: { route: row.id } },
          COLUMNS.map((c) => c.cell(row)),
        ),
      ),
    );
  };
  const head = sortableHead(headers, () => {
    mark();
    redraw();
  });
  const tableEl = h(
    'table',
    { class: 'route-table', 'aria-labelledby': 'routes-title', 'aria-describedby': 'routes-hint' },
    head,
    body,
  );
  const empty = h('p', { class: 'muted' }, 'No traffic yet: requests through the proxy appear here within a second.');
  const hint = h(
    'p',
    { class: 'hint', id: 'routes-hint' },
    'Live: the last second, the last minute and the 15-minute window. Sort by a column with its header; a route opens its editor.',
  );
  mark();
  return {
    draw(next: TableRow[]) {
      rows = next;
      if (rows.length === 0) return container.replaceChildren(empty);
      if (!tableEl.isConnected) container.replaceChildren(hint, tableEl);
      redraw();
    },
  };
}

function errorRate(r: RouteTraffic) {
  return r.requests ? (r.status['4xx'] + r.status['5xx']) / r.requests : 0;
}

/**
 * A figure holding a uPlot chart, made on the first data and rebuilt when its series change. The
 * instance is kept on its container (`uplot`): the browser tests read the data the chart draws.
 */
function chart(id: string, caption: string) {
  const plot = h('div', { class: 'chart', id });
  const summary = h('p', { class: 'chart-summary', id: `${id}-summary` });
  const figure = h(
    'figure',
    { class: 'card chart-card', 'aria-labelledby': `${id}-caption`, 'aria-describedby': `${id}-summary` },
    h('figcaption', { id: `${id}-caption` }, caption),
    plot,
    summary,
  );
  let instance: UPlot | null = null;
  let signature = '';
  const width = () => Math.max(280, plot.clientWidth || 560);
  return {
    figure,
    update(data: ChartData, options: Omit<ChartOptions, 'width' | 'height'>, text: string) {
      summary.textContent = text;
      const next = JSON.stringify(options.series.map((s) => s.label));
      if (instance && next === signature) instance.setData(data);
      else {
        instance?.destroy();
        signature = next;
        instance = new uPlot({ ...options, width: width(), height: 220 }, data, plot);
        (plot as HTMLElement & { uplot?: UPlot }).uplot = instance;
      }
    },
    resize() {
      instance?.setSize({ width: width(), height: 220 });
    },
  };
}

function emptyWindow(routeId: string, length: number): RouteWindow {
  const zeros = () => new Array(length).fill(0);
  return {
    routeId,
    total: 0,
    requests: { '1xx': zeros(), '2xx': zeros(), '3xx': zeros(), '4xx': zeros(), '5xx': zeros() },
    p99Ms: new Array(length).fill(null),
  };
}

/** Seconds each bucket covers: its width, the elapsed part for the current one. */
function bucketSeconds(history: History) {
  return history.time.map((_, i) =>
    i === history.time.length - 1 ? Math.max(1, history.currentSeconds) : history.bucketSeconds,
  );
}

/**
 * Rates per status class, stacked: the series are cumulative from the top class down, drawn
 * top first so that each lower band is painted over the one above it.
 */
function requestsData(history: History, shown: RouteWindow): ChartData {
  const seconds = bucketSeconds(history);
  const rates = STACK.map(([cls]) => shown.requests[cls].map((n, i) => round(n / (seconds[i] as number))));
  const cumulative: number[][] = [];
  rates.forEach((series, k) =>
    cumulative.push(series.map((v, i) => round(v + (k === 0 ? 0 : ((cumulative[k - 1] as number[])[i] as number))))),
  );
  return [history.time, ...cumulative.reverse()];
}

function requestsOptions(history: History, shown: RouteWindow): Omit<ChartOptions, 'width' | 'height'> {
  const seconds = bucketSeconds(history);
  return {
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: [{}, { label: 'req/s', size: 56 }],
    series: [
      {},
      ...[...STACK].reverse().map(([cls, colour]) => ({
        label: cls,
        stroke: colour,
        fill: `${colour}cc`,
        width: 1,
        points: { show: false },
        value: (_u: UPlot, _v: number | null, _s: number, i: number | null) =>
          i === null ? '—' : `${round((shown.requests[cls][i] as number) / (seconds[i] as number))} /s`,
      })),
    ],
  };
}

function requestsSummary(history: History, shown: RouteWindow) {
  const seconds = bucketSeconds(history);
  const last = history.time.length - 1;
  const now = STACK.map(
    ([cls]) => `${cls} ${round((shown.requests[cls][last] as number) / (seconds[last] as number))}`,
  ).join(', ');
  const total = STACK.reduce((s, [cls]) => s + shown.requests[cls].reduce((a, n) => a + n, 0), 0);
  return `${shown.routeId === '*' ? 'All routes' : shown.routeId}: ${total} requests in 15 minutes; now (req/s): ${now}.`;
}

function p99Data(history: History, lines: RouteWindow[]): ChartData {
  return [history.time, ...lines.map((r) => r.p99Ms)];
}

function p99Options(lines: RouteWindow[]): Omit<ChartOptions, 'width' | 'height'> {
  return {
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
    axes: [{}, { label: 'ms', size: 56 }],
    series: [
      {},
      ...lines.map((r, i) => ({
        label: trafficName(r.routeId),
        stroke: PALETTE[i % PALETTE.length] as string,
        width: 2,
        spanGaps: false,
        value: (_u: UPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ms`),
      })),
    ],
  };
}

function p99Summary(history: History, lines: RouteWindow[]) {
  if (lines.length === 0) return 'No requests in the last 15 minutes.';
  const latest = lines.map((r) => {
    const last = [...r.p99Ms].reverse().find((v) => v !== null);
    return `${trafficName(r.routeId)} ${last === undefined || last === null ? '—' : `${last.toFixed(1)} ms`}`;
  });
  return `Latest p99 per route: ${latest.join(', ')} (${history.bucketSeconds}-second buckets).`;
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
