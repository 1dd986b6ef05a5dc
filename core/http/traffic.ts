/**
 * Live traffic statistics for operators: per route and per second, the request count, status classes
 * and latency percentiles, plus a sampled stream of recent requests (never credentials: the same
 * chosen fields as the access log). Recording is a few array pushes on the hot path; everything
 * else happens once a second, for whoever listens.
 */
import type { AccessEntry } from './access-log.js';

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
  recent: Array<Pick<AccessEntry, 'method' | 'path' | 'status' | 'durationMs' | 'routeId' | 'consumer'> & { time: number }>;
}

const MAX_SAMPLES_PER_ROUTE = 2_000;
const MAX_RECENT_PER_SECOND = 20;
const NO_ROUTE = '(no route)';

interface Bucket {
  requests: number;
  classes: [number, number, number, number];
  durations: number[];
}

export class TrafficStats {
  #buckets = new Map<string, Bucket>();
  #recent: TrafficTick['recent'] = [];
  readonly #listeners = new Set<(tick: TrafficTick) => void>();
  #timer: NodeJS.Timeout | null = null;

  record(entry: AccessEntry): void {
    if (this.#listeners.size === 0) return; // nobody watches: costs nothing
    const routeId = entry.routeId ?? NO_ROUTE;
    let bucket = this.#buckets.get(routeId);
    if (!bucket) this.#buckets.set(routeId, (bucket = { requests: 0, classes: [0, 0, 0, 0], durations: [] }));
    bucket.requests++;
    const cls = Math.floor(entry.status / 100) - 2;
    if (cls >= 0 && cls <= 3) bucket.classes[cls]!++;
    if (bucket.durations.length < MAX_SAMPLES_PER_ROUTE) bucket.durations.push(entry.durationMs);
    // A sample of recent requests: the first ones of each second.
    if (this.#recent.length < MAX_RECENT_PER_SECOND) {
      this.#recent.push({ time: Date.now(), method: entry.method, path: entry.path, status: entry.status, durationMs: entry.durationMs, routeId, consumer: entry.consumer });
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

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  #tick(): void {
    const routes: RouteSecond[] = [];
    for (const [routeId, bucket] of this.#buckets) {
      const sorted = bucket.durations.sort((a, b) => a - b);
      const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);
      routes.push({ routeId, requests: bucket.requests, status: { '2xx': bucket.classes[0], '3xx': bucket.classes[1], '4xx': bucket.classes[2], '5xx': bucket.classes[3] }, p50Ms: at(0.5), p99Ms: at(0.99) });
    }
    const tick: TrafficTick = { time: Date.now(), routes, recent: this.#recent };
    this.#buckets = new Map();
    this.#recent = [];
    for (const listener of this.#listeners) listener(tick);
  }
}
