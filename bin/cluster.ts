/**
 * `workers: N`: the proxy listener served by N processes (Node `cluster`, the listening socket
 * shared). The primary owns the configuration store and serves it to the workers' replicas
 * (core/cluster/store-replication.ts); it alone serves the admin API and the back office and does
 * the first-start bootstrap. A worker that dies is replaced; SIGTERM drains every worker, then
 * the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { BootConfig } from '../core/config/boot-config.js';
import { EntityRegistry } from '../core/config/entities.js';
import { TrafficStats, type TrafficTick } from '../core/http/traffic.js';
import { ReplicaStore, StoreHost, type Channel } from '../core/cluster/store-replication.js';
import { createGateway, listenOrExit, onStopSignals, startupLines } from './startup.js';
import type { DataFileClaim } from './data-file-lock.js';
import type { ClusterPeers } from '../core/admin/cluster-peers.js';
import { GatewayMetrics } from '../core/metrics/gateway-metrics.js';
import type { CollectedMetric } from '../core/metrics/proxy-metrics.js';
import { answerHistoryRequests, workerHistories } from './cluster-history.js';

const WORKER_READY = 'portcullis:worker-ready';
/** A worker's traffic statistics of the last second, for the back office the primary serves. */
const WORKER_TRAFFIC = 'portcullis:worker-traffic';
/** A worker that dies sooner than this after starting is not restarted in a tight loop. */
const RESTART_BACKOFF_MS = 1_000;
/** The primary asks each worker for its metrics on every scrape of `/metrics`. */
const METRICS_REQUEST = 'portcullis:metrics-request';
const METRICS_RESPONSE = 'portcullis:metrics-response';
/** A worker that does not answer in time is left out of that scrape (its series then dip). */
const METRICS_TIMEOUT_MS = 2_000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  metrics: CollectedMetric[];
}

interface ReadyMessage {
  type: typeof WORKER_READY;
  proxyUrl: string | null;
  proxyTlsUrl: string | null;
  authorizerUrl: string | null;
}

interface TrafficMessage {
  type: typeof WORKER_TRAFFIC;
  tick: TrafficTick;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

function isReady(message: unknown): message is ReadyMessage {
  return isMessage<ReadyMessage>(message, WORKER_READY);
}

/** /metrics and the traffic history on the primary: its own and every worker's, added up. */
function workerPeers(workers: ReadonlySet<Worker>): ClusterPeers {
  let nextRequest = 0;
  return {
    async metrics() {
      const fromWorkers = await Promise.all([...workers].map((worker) => workerMetrics(worker, ++nextRequest)));
      return fromWorkers.filter((m): m is CollectedMetric[] => m !== null);
    },
    histories: workerHistories(workers),
  };
}

/** `claim`: the data file, taken by the caller before anything read it (null on Redis). */
export async function runPrimary(
  config: BootConfig,
  log: Logger,
  count: number,
  claim: DataFileClaim | null,
): Promise<void> {
  const workers = new Set<Worker>();
  const gateway = await createGateway(config, log, { role: 'admin', peers: workerPeers(workers) });
  const registry = gateway.container.resolve(EntityRegistry);
  const host = new StoreHost(gateway.store, () => registry.all());
  const traffic = gateway.container.resolve(TrafficStats);
  let stopping = false;

  const fork = (): Promise<ReadyMessage> => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    workers.add(worker);
    const detach = host.attach(worker as unknown as Channel);
    worker.on('message', (message: unknown) => {
      if (isMessage<TrafficMessage>(message, WORKER_TRAFFIC)) traffic.absorb(message.tick);
    });
    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (isReady(message)) {
          worker.off('message', onMessage);
          resolve(message);
        }
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) =>
        reject(new Error(`worker ${worker.process.pid} exited with code ${code} during start-up`)),
      );
    });
    worker.once('exit', (code, signal) => {
      detach();
      workers.delete(worker);
      if (stopping) return;
      log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
      const delay = Date.now() - startedAt < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
      setTimeout(() => {
        if (!stopping)
          fork().catch((error: unknown) => log.error({ err: error }, 'replacement worker failed to start'));
      }, delay).unref();
    });
    return ready;
  };

  let first: ReadyMessage;
  try {
    [first] = (await Promise.all(Array.from({ length: count }, fork))) as [ReadyMessage, ...ReadyMessage[]];
  } catch (error) {
    stopping = true;
    for (const worker of workers) worker.process.kill('SIGTERM');
    await gateway.close(0);
    throw error;
  }
  const admin = await listenOrExit(gateway);
  claim?.setAdminUrl(admin.adminUrl!);
  const urls = {
    ...admin,
    proxyUrl: first.proxyUrl,
    proxyTlsUrl: first.proxyTlsUrl,
    authorizerUrl: first.authorizerUrl,
  };
  process.stdout.write(startupLines(config, gateway, urls, count));
  log.info(
    { proxy: urls.proxyUrl, admin: urls.adminUrl, workers: count, dataFile: gateway.store.location },
    'portcullis started',
  );

  onStopSignals(log, async () => {
    stopping = true;
    // Every worker drains at once (the health path answers 503 for the drain delay, then in-flight
    // requests finish); the primary's store serves their last writes, and it closes after them.
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    host.close();
    await gateway.close().finally(() => claim?.release());
  });
}

/** A worker's metrics, or null when it does not answer within METRICS_TIMEOUT_MS. */
function workerMetrics(worker: Worker, id: number): Promise<CollectedMetric[] | null> {
  return new Promise((resolve) => {
    const done = (value: CollectedMetric[] | null) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(value);
    };
    const onMessage = (message: unknown) => {
      if (isMessage<MetricsResponse>(message, METRICS_RESPONSE) && message.id === id) done(message.metrics);
    };
    const timer = setTimeout(() => done(null), METRICS_TIMEOUT_MS);
    worker.on('message', onMessage);
    try {
      worker.send({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    } catch {
      done(null); // the worker is exiting
    }
  });
}

export async function runWorker(config: BootConfig, log: Logger): Promise<void> {
  const channel = process as unknown as Channel;
  const store = new ReplicaStore(channel, config.store.file);
  const gateway = await createGateway(config, log.child({ worker: cluster.worker?.id }), { role: 'proxy', store });
  const urls = await listenOrExit(gateway);
  process.send?.({
    type: WORKER_READY,
    proxyUrl: urls.proxyUrl,
    proxyTlsUrl: urls.proxyTlsUrl,
    authorizerUrl: urls.authorizerUrl,
  } satisfies ReadyMessage);
  // The back office (on the primary) shows every worker's traffic: one summary a second each.
  gateway.container.resolve(TrafficStats).subscribe((tick) => {
    if (tick.routes.length > 0) process.send?.({ type: WORKER_TRAFFIC, tick } satisfies TrafficMessage);
  });
  answerHistoryRequests(gateway);
  const metrics = gateway.container.resolve(GatewayMetrics);
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
    metrics.collect().then(
      (collected) =>
        process.send?.({ type: METRICS_RESPONSE, id: message.id, metrics: collected } satisfies MetricsResponse),
      (error: unknown) => log.error({ err: error }, 'metrics could not be collected'),
    );
  });
  onStopSignals(log, () => gateway.close());
  // The primary is gone (killed): nothing serves this worker's store any more.
  process.once('disconnect', () => {
    void gateway.close(0, 0).finally(() => process.exit(0));
  });
}
