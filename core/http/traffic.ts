/**
 * Live traffic statistics for operators: per route and per second, the request count, status classes
 * and latency percentiles, plus a sampled stream of recent requests (never credentials: the same
 * chosen fields as the access log). Recording is a few array pushes on the hot path; everything
 * else happens once a second, for whoever listens.
 */
import type { AccessEntry } from './access-log.js';
import { NO_ROUTE_LABEL, SINK_LABEL } from '../metrics/proxy-metrics.js';

export interface RouteSecond {
  routeId: string;
  requests: number;
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  p50Ms: number;
  p99Ms: number;
}

export interface TrafficTick {
  time: number;
  routes: RouteSecond[];
  recent: Array<
    Pick<AccessEntry, 'method' | 'path' | 'status' | 'durationMs' | 'routeId' | 'consumer'> & { time: number }
  >;
}

const MAX_SAMPLES_PER_ROUTE = 2_000;
const MAX_RECENT_PER_SECOND = 20;

interface Bucket {
  requests: number;
  classes: [number, number, number, number];
  durations: number[];
}

/** What other processes (cluster workers) reported since the last tick, merged into the next one. */
interface Absorbed {
  requests: number;
  classes: [number, number, number, number];
  /** Sum of p50 × requests, for a request-weighted p50 across processes. */
  p50Weighted: number;
  p99Ms: number;
}

export class TrafficStats {
  #buckets = new Map<string, Bucket>();
  #absorbed = new Map<string, Absorbed>();
  #recent: TrafficTick['recent'] = [];
  readonly #listeners = new Set<(tick: TrafficTick) => void>();
  #timer: NodeJS.Timeout | null = null;

  /**
   * Count a finished request. Requests no route served are named as the metrics and the 15-minute
   * history name them (`(sink)` when a global sink answered, else `(none)`), so the dashboard's table
   * and charts show the same rows.
   */
  record(entry: AccessEntry, answeredBySink = false): void {
    if (this.#listeners.size === 0) return; // nobody watches: costs nothing
    const routeId = entry.routeId ?? (answeredBySink ? SINK_LABEL : NO_ROUTE_LABEL);
    let bucket = this.#buckets.get(routeId);
    if (!bucket) this.#buckets.set(routeId, (bucket = { requests: 0, classes: [0, 0, 0, 0], durations: [] }));
    bucket.requests++;
    const cls = Math.floor(entry.status / 100) - 2;
    if (cls >= 0 && cls <= 3) bucket.classes[cls]!++;
    if (bucket.durations.length < MAX_SAMPLES_PER_ROUTE) bucket.durations.push(entry.durationMs);
    // A sample of recent requests: the first ones of each second.
    if (this.#recent.length < MAX_RECENT_PER_SECOND) {
      this.#recent.push({
        time: Date.now(),
        method: entry.method,
        path: entry.path,
        status: entry.status,
        durationMs: entry.durationMs,
        routeId,
        consumer: entry.consumer,
      });
    }
  }

  /** Receive a tick every second; returns the unsubscribe function. */
  subscribe(listener: (tick: TrafficTick) => void): () => void {
    this.#listeners.add(listener);
    this.#timer ??= setInterval(() => this.#tick(), 1000).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  /**
   * Merge a tick of another process (a cluster worker) into the next tick of this one: counts add
   * up; p50 is weighted by requests and p99 is the worst of the processes (percentiles of separate
   * samples cannot be combined exactly).
   */
  absorb(tick: TrafficTick): void {
    if (this.#listeners.size === 0) return;
    for (const route of tick.routes) {
      let merged = this.#absorbed.get(route.routeId);
      if (!merged)
        this.#absorbed.set(route.routeId, (merged = { requests: 0, classes: [0, 0, 0, 0], p50Weighted: 0, p99Ms: 0 }));
      merged.requests += route.requests;
      merged.classes[0] += route.status['2xx'];
      merged.classes[1] += route.status['3xx'];
      merged.classes[2] += route.status['4xx'];
      merged.classes[3] += route.status['5xx'];
      merged.p50Weighted += route.p50Ms * route.requests;
      merged.p99Ms = Math.max(merged.p99Ms, route.p99Ms);
    }
    for (const sample of tick.recent) if (this.#recent.length < MAX_RECENT_PER_SECOND) this.#recent.push(sample);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  #tick(): void {
    const routes = new Map<string, RouteSecond>();
    for (const [routeId, bucket] of this.#buckets) {
      const sorted = bucket.durations.sort((a, b) => a - b);
      const at = (q: number) =>
        sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
      routes.set(routeId, {
        routeId,
        requests: bucket.requests,
        status: {
          '2xx': bucket.classes[0],
          '3xx': bucket.classes[1],
          '4xx': bucket.classes[2],
          '5xx': bucket.classes[3],
        },
        p50Ms: at(0.5),
        p99Ms: at(0.99),
      });
    }
    for (const [routeId, other] of this.#absorbed) {
      const own = routes.get(routeId);
      const requests = (own?.requests ?? 0) + other.requests;
      routes.set(routeId, {
        routeId,
        requests,
        status: {
          '2xx': (own?.status['2xx'] ?? 0) + other.classes[0],
          '3xx': (own?.status['3xx'] ?? 0) + other.classes[1],
          '4xx': (own?.status['4xx'] ?? 0) + other.classes[2],
          '5xx': (own?.status['5xx'] ?? 0) + other.classes[3],
        },
        p50Ms: requests > 0 ? ((own ? own.p50Ms * own.requests : 0) + other.p50Weighted) / requests : 0,
        p99Ms: Math.max(own?.p99Ms ?? 0, other.p99Ms),
      });
    }
    const tick: TrafficTick = { time: Date.now(), routes: [...routes.values()], recent: this.#recent };
    this.#buckets = new Map();
    this.#absorbed = new Map();
    this.#recent = [];
    for (const listener of this.#listeners) listener(tick);
  }
}
