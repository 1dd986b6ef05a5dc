/**
 * The dashboard's 15 minutes with `workers: N`: the workers proxy, so they hold the route windows;
 * the primary serves `GET /api/traffic/history` by asking each of them over the cluster IPC channel
 * (like `/metrics`) and merging the answers with its own (`mergeSnapshots`). A worker that does not
 * answer within the timeout is left out of that answer.
 */
import type { Worker } from 'node:cluster';
import type { Gateway } from '../core/gateway.js';
import { ProxyMetrics } from '../core/metrics/proxy-metrics.js';
import type { HistorySnapshot } from '../core/metrics/route-history.js';
import { MERGED_RANKING_LIMIT, localHistory, type HistoryQuery } from '../core/admin/route-history-admin.js';

const HISTORY_REQUEST = 'portcullis:history-request';
const HISTORY_RESPONSE = 'portcullis:history-response';
const HISTORY_TIMEOUT_MS = 2_000;

interface HistoryRequest {
  type: typeof HISTORY_REQUEST;
  id: number;
  include: string[];
}
interface HistoryResponse {
  type: typeof HISTORY_RESPONSE;
  id: number;
  snapshot: HistorySnapshot;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** On the primary: every worker's window for a query (the admin API merges them with its own). */
export function workerHistories(workers: ReadonlySet<Worker>): (query: HistoryQuery) => Promise<HistorySnapshot[]> {
  let nextId = 0;
  return async (query) => {
    const answers = await Promise.all(
      [...workers].map((worker) => workerHistory(worker, ++nextId, [...query.include])),
    );
    return answers.filter((a): a is HistorySnapshot => a !== null);
  };
}

/** On a worker: answer the primary's requests. */
export function answerHistoryRequests(gateway: Gateway): void {
  const metrics = gateway.container.resolve(ProxyMetrics);
  process.on('message', (message: unknown) => {
    if (!isMessage<HistoryRequest>(message, HISTORY_REQUEST)) return;
    const snapshot = localHistory(metrics, { limit: MERGED_RANKING_LIMIT, include: new Set(message.include) });
    process.send?.({ type: HISTORY_RESPONSE, id: message.id, snapshot } satisfies HistoryResponse);
  });
}

function workerHistory(worker: Worker, id: number, include: string[]): Promise<HistorySnapshot | null> {
  return new Promise((resolve) => {
    const done = (value: HistorySnapshot | null) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(value);
    };
    const onMessage = (message: unknown) => {
      if (isMessage<HistoryResponse>(message, HISTORY_RESPONSE) && message.id === id) done(message.snapshot);
    };
    const timer = setTimeout(() => done(null), HISTORY_TIMEOUT_MS);
    worker.on('message', onMessage);
    try {
      worker.send({ type: HISTORY_REQUEST, id, include } satisfies HistoryRequest);
    } catch {
      done(null); // the worker is exiting
    }
  });
}
