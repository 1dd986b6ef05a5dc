/**
 * The proxy's metrics: per route id (never a raw path or host), decision, deciding plugin and status
 * class; three latency histograms (whole request, the gateway's own work before the upstream call,
 * the upstream until its response head); upstream errors by kind; optionally requests per consumer,
 * capped. The hot path adds to the `RouteMeters` the compiled route carries; this module turns them
 * into Prometheus series when scraped.
 */
import type { RequestContext } from '../plugin-runtime/context.js';
import type { BootConfig } from '../config/boot-config.js';
import { RouteHistory } from './route-history.js';
import {
  RouteMeters,
  STATUS_CLASSES,
  UPSTREAM_ERROR_KINDS,
  statusClassIndex,
  upstreamErrorKind,
  type HistogramCells,
} from './route-meters.js';

/** Route label of requests no route matched, and of those a global sink answered. */
export const NO_ROUTE_LABEL = '(none)';
export const SINK_LABEL = '(sink)';
/** Consumer label of every consumer past the first `metrics.consumers`. */
export const OTHER_CONSUMER = 'other';

/** What prom-client's registry asks of a metric (a `get()` giving its current series). */
export interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum' | 'max' | 'min' | 'first' | 'average' | 'omit';
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

/** What the metrics read of a finished request: the context plus the listener's timings. */
export interface MeteredRequest extends RequestContext {
  readonly startedAt: number;
  readonly upstreamAt: number;
  readonly upstreamRespondedAt: number;
}

export class ProxyMetrics {
  readonly #routes = new Map<string, RouteMeters>();
  readonly #none = new RouteMeters(NO_ROUTE_LABEL);
  readonly #sink = new RouteMeters(SINK_LABEL);
  readonly #consumerLimit: number;
  /** `metrics.enabled`: false leaves every per-request counter alone. */
  readonly #enabled: boolean;
  readonly #consumers = new Map<string, Float64Array>();
  readonly #otherConsumers = new Float64Array(STATUS_CLASSES.length);
  /** The last 15 minutes per route, for the back office's charts. */
  readonly history = new RouteHistory();

  constructor(config: Pick<BootConfig, 'metrics'>) {
    this.#consumerLimit = config.metrics.consumers;
    this.#enabled = config.metrics.enabled;
  }

  /**
   * The meters of a route being compiled, with the rows of its plugins made now (the request never
   * creates one). A route keeps its meters across recompiles.
   */
  forRoute(routeId: string, plugins: readonly string[]): RouteMeters {
    let meters = this.#routes.get(routeId);
    if (!meters) this.#routes.set(routeId, (meters = new RouteMeters(routeId)));
    for (const plugin of plugins) meters.plugin(plugin);
    return meters;
  }

  /** The rows of the global sinks (they answer before routing). */
  forSinks(plugins: readonly string[]): void {
    for (const plugin of plugins) this.#sink.plugin(plugin);
  }

  /** After a recompile: routes that no longer exist stop being reported. */
  retain(routes: readonly { readonly id: string }[]): void {
    const live = new Set(routes.map((r) => r.id));
    for (const id of this.#routes.keys()) if (!live.has(id)) this.#routes.delete(id);
  }

  /** Count a finished request (called once, with the access log). */
  record(ctx: MeteredRequest, seconds: number): void {
    if (!this.#enabled) return;
    const route = ctx.route;
    const meters = route ? route.meters : ctx.decidedBy !== null ? this.#sink : this.#none;
    const cls = statusClassIndex(ctx.status);
    const decidedBy = ctx.decidedBy;
    if (ctx.upstreamAt > 0) meters.allowed.counts[cls]!++;
    else if (decidedBy !== null) {
      const rows = meters.plugin(decidedBy);
      (ctx.handled ? rows.answered : rows.denied).counts[cls]!++;
    } else meters.unrouted.counts[cls]!++;
    meters.duration.observe(seconds);
    if (ctx.upstreamAt > 0) {
      meters.overhead.observe((ctx.upstreamAt - ctx.startedAt) / 1000);
      if (ctx.upstreamRespondedAt > 0) meters.upstream.observe((ctx.upstreamRespondedAt - ctx.upstreamAt) / 1000);
    } else {
      meters.overhead.observe(seconds);
    }
    if (this.#consumerLimit > 0 && ctx.consumer !== null) this.#consumerRow(ctx.consumer)[cls]!++;
    this.history.record(meters.history, cls, seconds, ctx.startedAt + seconds * 1000);
  }

  /** The meters of every live route, and of unrouted and sink-answered requests. */
  meters(): RouteMeters[] {
    return [this.#none, this.#sink, ...this.#routes.values()];
  }

  /** An upstream call of this route failed (each attempt counts). */
  upstreamError(route: { readonly meters: RouteMeters }, error: unknown): void {
    if (!this.#enabled) return;
    route.meters.upstreamErrors[upstreamErrorKind(error)]!++;
  }

  /**
   * The first `metrics.consumers` distinct consumers keep a series of their own; every later one is
   * counted as `other`. Series are counters: a consumer never moves between its series and `other`.
   */
  #consumerRow(consumer: string): Float64Array {
    const row = this.#consumers.get(consumer);
    if (row) return row;
    if (this.#consumers.size >= this.#consumerLimit) return this.#otherConsumers;
    const created = new Float64Array(STATUS_CLASSES.length);
    this.#consumers.set(consumer, created);
    return created;
  }

  /** The current series, for the registry. */
  collect(): CollectedMetric[] {
    const all = this.meters();
    const requests: CollectedMetric = {
      name: 'portcullis_requests_total',
      help: 'Requests by route id, decision (allowed: sent upstream; denied or answered by a plugin; unrouted), deciding plugin and status class.',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    const errors: CollectedMetric = {
      name: 'portcullis_upstream_errors_total',
      help: 'Failed upstream calls by route id and kind (each attempt counts).',
      type: 'counter',
      aggregator: 'sum',
      values: [],
    };
    const duration = histogram(
      'portcullis_request_duration_seconds',
      'Whole request, from its head received to its response finished, by route id.',
    );
    const overhead = histogram(
      'portcullis_gateway_overhead_seconds',
      "The gateway's own time before the upstream call (parsing, routing, plugins), by route id; the whole request when it never went upstream.",
    );
    const upstream = histogram(
      'portcullis_upstream_duration_seconds',
      "From the upstream call to the upstream's response head, by route id.",
    );
    for (const meters of all) {
      const route = meters.routeId;
      for (const row of meters.rows()) {
        row.counts.forEach((value, cls) => {
          if (value > 0)
            requests.values.push({
              value,
              labels: { route, decision: row.decision, plugin: row.plugin, status_class: STATUS_CLASSES[cls]! },
            });
        });
      }
      meters.upstreamErrors.forEach((value, kind) => {
        if (value > 0) errors.values.push({ value, labels: { route, kind: UPSTREAM_ERROR_KINDS[kind]! } });
      });
      addHistogram(duration, meters.duration, route);
      addHistogram(overhead, meters.overhead, route);
      addHistogram(upstream, meters.upstream, route);
    }
    const collected = [requests, errors, duration, overhead, upstream];
    if (this.#consumerLimit > 0) {
      const consumers: CollectedMetric = {
        name: 'portcullis_consumer_requests_total',
        help: `Requests by consumer (the first ${this.#consumerLimit} seen, then \`other\`) and status class.`,
        type: 'counter',
        aggregator: 'sum',
        values: [],
      };
      const rows: Array<[string, Float64Array]> = [...this.#consumers, [OTHER_CONSUMER, this.#otherConsumers]];
      for (const [consumer, counts] of rows) {
        counts.forEach((value, cls) => {
          if (value > 0) consumers.values.push({ value, labels: { consumer, status_class: STATUS_CLASSES[cls]! } });
        });
      }
      collected.push(consumers);
    }
    return collected;
  }
}

function histogram(name: string, help: string): CollectedMetric {
  return { name, help, type: 'histogram', aggregator: 'sum', values: [] };
}

/** A histogram's series in prom-client's shape: cumulative buckets, sum and count. */
function addHistogram(metric: CollectedMetric, cells: HistogramCells, route: string): void {
  if (cells.count === 0) return;
  let cumulative = 0;
  cells.bounds.forEach((bound, i) => {
    cumulative += cells.counts[i]!;
    metric.values.push({ metricName: `${metric.name}_bucket`, value: cumulative, labels: { route, le: bound } });
  });
  metric.values.push({ metricName: `${metric.name}_bucket`, value: cells.count, labels: { route, le: '+Inf' } });
  metric.values.push({ metricName: `${metric.name}_sum`, value: cells.sum, labels: { route } });
  metric.values.push({ metricName: `${metric.name}_count`, value: cells.count, labels: { route } });
}
