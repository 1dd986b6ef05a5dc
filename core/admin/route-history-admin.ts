/**
 * `GET /api/traffic/history`: the last 15 minutes of traffic per route (requests per 10-second bucket
 * by status class, p99 latency), kept by the proxy's metrics recorder (`core/metrics/route-history.ts`).
 * The back office's dashboard draws its charts from it (WebSocket `get` of `route-history`).
 * Admin credentials only: route ids and traffic volumes describe the deployment. With `workers: N`
 * the primary sets a source that asks every worker and merges their windows (`bin/cluster-history.ts`).
 */
import { Type } from '@sinclair/typebox';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { BUCKET_COUNT, HISTORY_CLASSES, mergeSnapshots, type HistorySnapshot } from '../metrics/route-history.js';
import { intParam } from './admin-api.js';
import type { AdminExtension, AdminRoute } from './extensions.js';

const LIMIT = Type.Integer({
  minimum: 1,
  maximum: 1000,
  default: 20,
  description: 'Most routes returned, the busiest of the window first.',
});
const ROUTE = Type.String({
  maxLength: 1024,
  description: 'A route id to include whatever its rank (repeat the parameter for several).',
});

const PER_BUCKET = Type.Array(Type.Integer({ minimum: 0 }), { minItems: BUCKET_COUNT, maxItems: BUCKET_COUNT });
const RouteWindowSchema = Type.Object({
  routeId: Type.String({
    description:
      'The route id; `(none)`: requests no route matched; `(sink)`: answered by a global sink; `*`: every request.',
  }),
  total: Type.Integer({ minimum: 0, description: 'Requests in the window.' }),
  requests: Type.Object(Object.fromEntries(HISTORY_CLASSES.map((c) => [c, PER_BUCKET])), {
    description: 'Requests per bucket (oldest first), by status class.',
  }),
  p99Ms: Type.Array(Type.Union([Type.Number({ minimum: 0 }), Type.Null()]), {
    minItems: BUCKET_COUNT,
    maxItems: BUCKET_COUNT,
    description: 'p99 latency per bucket in milliseconds (whole request); null for a bucket without requests.',
  }),
});
export const RouteHistorySchema = Type.Object(
  {
    bucketSeconds: Type.Integer({ description: 'Width of a bucket.' }),
    time: Type.Array(Type.Number(), {
      minItems: BUCKET_COUNT,
      maxItems: BUCKET_COUNT,
      description: 'Start of each bucket (Unix time in seconds), oldest first; the last is the current bucket.',
    }),
    currentSeconds: Type.Number({
      description: 'Seconds elapsed in the current bucket: its rate is its count divided by this.',
    }),
    all: RouteWindowSchema,
    routes: Type.Array(RouteWindowSchema, { description: 'Routes with requests in the window, busiest first.' }),
  },
  { description: 'The last 15 minutes of traffic.' },
);

/** Which routes an answer holds: the `limit` busiest of the window, and those named whatever their rank. */
export interface HistoryQuery {
  limit: number;
  include: ReadonlySet<string>;
}

/** This process's window. */
export function localHistory(metrics: ProxyMetrics, query: HistoryQuery): HistorySnapshot {
  const meters = metrics.meters().map((m) => ({ routeId: m.routeId, history: m.history }));
  return metrics.history.snapshot(meters, query);
}

/** Each process ranks its busiest routes up to this when the ranking is merged (a cluster primary makes the final one). */
export const MERGED_RANKING_LIMIT = 1000;

/** One per gateway; on a cluster primary, its answer merges the workers' windows with its own. */
export class RouteHistoryAdmin implements AdminExtension {
  readonly #source: (query: HistoryQuery) => HistorySnapshot | Promise<HistorySnapshot>;

  /** `peers`: the other processes' windows for a query (a cluster primary's workers). */
  constructor(metrics: ProxyMetrics, peers?: (query: HistoryQuery) => Promise<HistorySnapshot[]>) {
    this.#source = peers
      ? async (query) => {
          const local = localHistory(metrics, { limit: MERGED_RANKING_LIMIT, include: query.include });
          return mergeSnapshots([local, ...(await peers(query))], query);
        }
      : (query) => localHistory(metrics, query);
  }

  routes(): AdminRoute[] {
    return [
      {
        method: 'GET',
        path: '/api/traffic/history',
        handler: async ({ query }) => {
          const limit = intParam(query, 'limit', LIMIT);
          const include = new Set(query.getAll('route'));
          return { body: await this.#source({ limit, include }), headers: { 'cache-control': 'no-store' } };
        },
        doc: {
          summary: 'Traffic of the last 15 minutes per route',
          description:
            "Requests per 10-second bucket by status class, and the p99 latency of each bucket, for the busiest routes and for all requests together. Kept in memory by the processes that proxy (with workers, merged on each request: counts add up, a bucket's p99 is the worst worker's); a restart starts empty.",
          query: Type.Object({ limit: Type.Optional(LIMIT), route: Type.Optional(ROUTE) }),
          responses: { 200: RouteHistorySchema },
        },
      },
    ];
  }
}
