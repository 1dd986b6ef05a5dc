/**
 * The last 15 minutes of each route's traffic, for the back office's charts: per 10-second bucket,
 * the requests by status class and the p99 latency. Kept in memory by the process that proxies
 * (nothing is persisted, a restart starts empty).
 *
 * The hot path is one `record()` per request from the proxy's metrics recorder: two array cells
 * incremented (the status class of the bucket, the latency cell of the route's current histogram),
 * the same for the all-routes total, and a comparison with the bucket's end. No allocation except a
 * route's arrays on its first request (about 2.4 KB), released after a whole window without traffic.
 *
 * Buckets are rotated lazily, when a request or a reader finds the current one over: each active
 * route's latency histogram is then reduced to its p99 for the bucket that ends and zeroed. So only
 * the current bucket holds a histogram, and a past bucket is five counts and one number.
 */

/** Width of a bucket. */
export const BUCKET_SECONDS = 10;
/** Buckets in the window: 90 × 10 s = 15 minutes. */
export const BUCKET_COUNT = 90;
const BUCKET_MS = BUCKET_SECONDS * 1000;

/** Status classes, indexed like `statusClassIndex()` of route-meters.ts (`status / 100 - 1`). */
export const HISTORY_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const CLASSES = HISTORY_CLASSES.length;

/**
 * Latency cells of the current bucket: log-spaced, four per doubling (each ~19 % wide) from 32 µs;
 * the last cell holds everything from ~2 minutes up. The p99 is interpolated within its cell.
 */
const LATENCY_MIN_US = 32;
const CELLS_PER_DOUBLING = 4;
const LATENCY_CELLS = 88;

/** The upper bound of a latency cell, in microseconds. */
function cellUpperUs(cell: number): number {
  return LATENCY_MIN_US * 2 ** (cell / CELLS_PER_DOUBLING);
}

/** The latency cell of a duration in seconds. */
export function latencyCell(seconds: number): number {
  const micros = seconds * 1e6;
  if (!(micros > LATENCY_MIN_US)) return 0; // NaN and negatives too
  const cell = Math.ceil(Math.log2(micros / LATENCY_MIN_US) * CELLS_PER_DOUBLING);
  return cell < LATENCY_CELLS ? cell : LATENCY_CELLS - 1;
}

/** One route's window. Made empty with the route's meters; its arrays come with its first request. */
export class RouteSeries {
  /** Requests per (bucket, status class): `counts[ring * 5 + class]`. */
  counts: Uint32Array | null = null;
  /** p99 of each finished bucket, in milliseconds (NaN: no request). */
  p99Ms: Float32Array | null = null;
  /** Latency histogram of the current bucket. */
  latency: Uint32Array | null = null;
  /** Requests in the current bucket (the histogram's total). */
  current = 0;
  /** The absolute bucket number of the last request, to release a route idle for a whole window. */
  lastBucket = 0;
}

/** One route's window as the admin API answers it. */
export interface RouteWindow {
  routeId: string;
  /** Requests in the window. */
  total: number;
  /** Requests per bucket (oldest first), by status class. */
  requests: Record<(typeof HISTORY_CLASSES)[number], number[]>;
  /** p99 latency per bucket in milliseconds; null for a bucket without requests. */
  p99Ms: Array<number | null>;
}

export interface HistorySnapshot {
  bucketSeconds: number;
  /** Start of each bucket (Unix time in seconds), oldest first; the last one is the current bucket. */
  time: number[];
  /** Seconds elapsed in the current bucket (a rate of the last bucket divides by this). */
  currentSeconds: number;
  /** Every route added up (the p99 is that of all requests, not a mean of the routes'). */
  all: RouteWindow;
  routes: RouteWindow[];
}

export class RouteHistory {
  /** Absolute number of the current bucket (Unix ms / bucket width); -1 before the first use. */
  #bucket = -1;
  /** `performance.now()` at which the current bucket ends. */
  #bucketEnd = 0;
  /** Series that had a request within the window (they hold arrays). */
  readonly #active = new Set<RouteSeries>();
  /** Every request of every route (always allocated, never released). */
  readonly #all = new RouteSeries();

  constructor() {
    allocate(this.#all);
  }

  /**
   * Count a finished request. `now` is the `performance.now()` of its end (the caller has it);
   * `statusClass` the index in `HISTORY_CLASSES`.
   */
  record(series: RouteSeries, statusClass: number, seconds: number, now: number): void {
    if (now >= this.#bucketEnd) this.#advance(now);
    const cell = latencyCell(seconds);
    const slot = (this.#bucket % BUCKET_COUNT) * CLASSES + statusClass;
    this.#count(series, slot, cell);
    this.#count(this.#all, slot, cell);
  }

  #count(series: RouteSeries, slot: number, cell: number): void {
    if (series.counts === null) {
      allocate(series);
      this.#active.add(series);
    }
    series.counts![slot]!++;
    series.latency![cell]!++;
    series.current++;
    series.lastBucket = this.#bucket;
  }

  /**
   * The window of the given routes (the `limit` busiest, the `include`d ones whatever their rank)
   * and of all routes, as of `now`.
   */
  snapshot(
    routes: Iterable<{ readonly routeId: string; readonly history: RouteSeries }>,
    options: { limit: number; include?: ReadonlySet<string> },
    now = performance.now(),
  ): HistorySnapshot {
    if (now >= this.#bucketEnd) this.#advance(now);
    const first = this.#bucket - BUCKET_COUNT + 1;
    const time = Array.from({ length: BUCKET_COUNT }, (_, i) => ((first + i) * BUCKET_MS) / 1000);
    const currentSeconds = Math.max(0.001, (performance.timeOrigin + now) / 1000 - time[BUCKET_COUNT - 1]!);
    const windows: RouteWindow[] = [];
    for (const { routeId, history } of routes) {
      if (history.counts !== null) windows.push(this.#window(routeId, history, first));
    }
    windows.sort((a, b) => b.total - a.total || (a.routeId < b.routeId ? -1 : 1));
    const shown = windows.filter((w, i) => i < options.limit || options.include?.has(w.routeId));
    return {
      bucketSeconds: BUCKET_SECONDS,
      time,
      currentSeconds,
      all: this.#window('*', this.#all, first),
      routes: shown,
    };
  }

  #window(routeId: string, series: RouteSeries, first: number): RouteWindow {
    const { requests, p99Ms } = emptyWindow(routeId, BUCKET_COUNT);
    let total = 0;
    if (series.counts !== null) {
      for (let i = 0; i < BUCKET_COUNT; i++) {
        const ring = (first + i) % BUCKET_COUNT;
        let inBucket = 0;
        for (let c = 0; c < CLASSES; c++) {
          const n = series.counts[ring * CLASSES + c]!;
          requests[HISTORY_CLASSES[c]!][i] = n;
          inBucket += n;
        }
        total += inBucket;
        if (inBucket === 0) continue;
        const p99 = i === BUCKET_COUNT - 1 ? p99FromCells(series.latency!, series.current) : series.p99Ms![ring]!;
        p99Ms[i] = Number.isNaN(p99) ? null : Math.round(p99 * 1000) / 1000;
      }
    }
    return { routeId, total, requests, p99Ms };
  }

  /**
   * Move to the bucket of `now`: close the current one (its p99, its histogram zeroed), clear the
   * buckets skipped while idle and release the routes without a request in the whole window.
   */
  #advance(now: number): void {
    const bucket = Math.floor((performance.timeOrigin + now) / BUCKET_MS);
    this.#bucketEnd = (bucket + 1) * BUCKET_MS - performance.timeOrigin;
    if (bucket <= this.#bucket) return;
    const previous = this.#bucket;
    this.#bucket = bucket;
    if (previous < 0) return;
    const skipped = Math.min(bucket - previous, BUCKET_COUNT);
    for (const series of [this.#all, ...this.#active]) {
      const ring = previous % BUCKET_COUNT;
      series.p99Ms![ring] = series.current > 0 ? p99FromCells(series.latency!, series.current) : NaN;
      if (series.current > 0) series.latency!.fill(0);
      series.current = 0;
      for (let k = 1; k <= skipped; k++) {
        const cleared = (previous + k) % BUCKET_COUNT;
        series.counts!.fill(0, cleared * CLASSES, cleared * CLASSES + CLASSES);
        series.p99Ms![cleared] = NaN;
      }
      if (series !== this.#all && series.lastBucket <= bucket - BUCKET_COUNT) {
        series.counts = series.p99Ms = series.latency = null;
        this.#active.delete(series);
      }
    }
  }
}

function allocate(series: RouteSeries): void {
  series.counts = new Uint32Array(BUCKET_COUNT * CLASSES);
  series.p99Ms = new Float32Array(BUCKET_COUNT).fill(NaN);
  series.latency = new Uint32Array(LATENCY_CELLS);
  series.current = 0;
}

/** The 99th percentile of a histogram, in milliseconds, interpolated within its cell. */
export function p99FromCells(cells: Uint32Array, count: number): number {
  if (count === 0) return NaN;
  const rank = Math.ceil(count * 0.99);
  let seen = 0;
  for (let cell = 0; cell < cells.length; cell++) {
    const n = cells[cell]!;
    if (n === 0) continue;
    if (seen + n >= rank) {
      const lower = cell === 0 ? 0 : cellUpperUs(cell - 1);
      const upper = cellUpperUs(cell);
      return (lower + ((rank - seen) / n) * (upper - lower)) / 1000;
    }
    seen += n;
  }
  return cellUpperUs(cells.length - 1) / 1000;
}

/**
 * Several processes' windows (cluster workers) as one: counts add up, a route's total too; a
 * bucket's p99 is the worst of the processes' (percentiles of separate histograms cannot be
 * combined exactly, and the worst is the safe reading). Buckets are matched by their start time, so
 * a process that answered just across a bucket boundary still lines up.
 */
export function mergeSnapshots(
  parts: readonly HistorySnapshot[],
  options: { limit: number; include?: ReadonlySet<string> },
): HistorySnapshot {
  const base = parts.reduce((latest, part) =>
    part.time[part.time.length - 1]! > latest.time[latest.time.length - 1]! ? part : latest,
  );
  const length = base.time.length;
  const merged = new Map<string, RouteWindow>();
  const all = emptyWindow('*', length);
  for (const part of parts) {
    const shift = Math.round((base.time[length - 1]! - part.time[part.time.length - 1]!) / base.bucketSeconds);
    for (const window of [part.all, ...part.routes]) {
      let into = window === part.all ? all : merged.get(window.routeId);
      if (!into) merged.set(window.routeId, (into = emptyWindow(window.routeId, length)));
      // The part's bucket `from` started at the base's bucket `from - shift` (the base is the latest).
      for (let from = shift; from < length; from++) {
        const i = from - shift;
        for (const cls of HISTORY_CLASSES) {
          const n = window.requests[cls][from] ?? 0;
          into.requests[cls][i]! += n;
          into.total += n;
        }
        const p99 = window.p99Ms[from] ?? null;
        if (p99 !== null) into.p99Ms[i] = Math.max(into.p99Ms[i] ?? 0, p99);
      }
    }
  }
  const routes = [...merged.values()]
    .filter((w) => w.total > 0)
    .sort((a, b) => b.total - a.total || (a.routeId < b.routeId ? -1 : 1));
  return {
    bucketSeconds: base.bucketSeconds,
    time: base.time,
    currentSeconds: base.currentSeconds,
    all,
    routes: routes.filter((w, i) => i < options.limit || options.include?.has(w.routeId)),
  };
}

function emptyWindow(routeId: string, length: number): RouteWindow {
  const requests = Object.fromEntries(
    HISTORY_CLASSES.map((c) => [c, new Array<number>(length).fill(0)]),
  ) as RouteWindow['requests'];
  return { routeId, total: 0, requests, p99Ms: new Array<number | null>(length).fill(null) };
}
