/**
 * What the proxy counts per request, as plain numbers: one `RouteMeters` per route id, made when the
 * configuration compiles and kept across recompiles (counters only grow). A request adds to a few
 * array cells picked by index; nothing on the hot path builds a label object, a string or a map key.
 * The arrays become Prometheus series only when scraped (`proxy-metrics.ts`).
 */

import { RouteSeries } from './route-history.js';

/** Status classes, indexed by `status / 100 - 1`. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * Why an upstream call failed. Counted per attempt (a refused target followed by the next one
 * counts one `refused`).
 */
export const UPSTREAM_ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'unreachable', 'tls', 'other'] as const;
export type UpstreamErrorKind = (typeof UPSTREAM_ERROR_KINDS)[number];

const KIND_OF_CODE = new Map<string, number>([
  ...['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'].map(
    (code) => [code, 0] as const,
  ),
  ['ECONNREFUSED', 1],
  ...['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED'].map((code) => [code, 2] as const),
  ...['ENOTFOUND', 'EAI_AGAIN'].map((code) => [code, 3] as const),
  ...['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN'].map((code) => [code, 4] as const),
  ...[
    'CERT_HAS_EXPIRED',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'EPROTO',
  ].map((code) => [code, 5] as const),
]);

/** The index in `UPSTREAM_ERROR_KINDS` of an upstream failure. */
export function upstreamErrorKind(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' ? KIND_OF_CODE.get(code) : undefined) ?? UPSTREAM_ERROR_KINDS.length - 1;
}

/** Seconds. Overhead is the gateway's own work: sub-millisecond buckets. */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Seconds, for the whole request and the upstream's answer. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A histogram's cells: per bucket (not cumulative; the last one is +Inf), a sum and a count. */
export class HistogramCells {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** How the gateway decided about a request (the `decision` label). */
export const DECISIONS = ['allowed', 'denied', 'answered', 'unrouted'] as const;

/** One row of counts per status class, for one (decision, plugin) pair. */
export interface DecisionRow {
  readonly decision: (typeof DECISIONS)[number];
  /** The plugin that denied or answered; '' when none did. */
  readonly plugin: string;
  readonly counts: Float64Array;
}

export class RouteMeters {
  readonly routeId: string;
  /** Went upstream (whatever the upstream answered, or failed with). */
  readonly allowed: DecisionRow;
  /** Never reached a route's pipeline: no route matched, or the route could not be compiled. */
  readonly unrouted: DecisionRow;
  readonly #byPlugin = new Map<string, { denied: DecisionRow; answered: DecisionRow }>();
  readonly upstreamErrors = new Float64Array(UPSTREAM_ERROR_KINDS.length);
  readonly duration = new HistogramCells(DURATION_BUCKETS);
  readonly overhead = new HistogramCells(OVERHEAD_BUCKETS);
  readonly upstream = new HistogramCells(DURATION_BUCKETS);
  /** The last 15 minutes, for the back office's charts (`route-history.ts`). */
  readonly history = new RouteSeries();

  constructor(routeId: string) {
    this.routeId = routeId;
    this.allowed = row('allowed', '');
    this.unrouted = row('unrouted', '');
  }

  /** Rows of a plugin; made at compile time for the plugins of the route's pipeline. */
  plugin(id: string): { denied: DecisionRow; answered: DecisionRow } {
    let rows = this.#byPlugin.get(id);
    if (!rows) this.#byPlugin.set(id, (rows = { denied: row('denied', id), answered: row('answered', id) }));
    return rows;
  }

  rows(): DecisionRow[] {
    return [this.allowed, this.unrouted, ...[...this.#byPlugin.values()].flatMap((r) => [r.denied, r.answered])];
  }
}

function row(decision: DecisionRow['decision'], plugin: string): DecisionRow {
  return { decision, plugin, counts: new Float64Array(STATUS_CLASSES.length) };
}

/** The status class index of a status (499, a client that left, is a 4xx). */
export function statusClassIndex(status: number): number {
  const cls = ((status / 100) | 0) - 1;
  return cls < 0 ? 4 : cls > 4 ? 4 : cls;
}
