/**
 * A cluster primary's workers, as its admin API asks them: `/metrics` and the traffic history add
 * the workers' answers to the primary's own. Given to the gateway when it is built
 * (`GatewayOptions.peers`); the workers themselves start later, so each call asks those alive then.
 */
import type { CollectedMetric } from '../metrics/proxy-metrics.js';
import type { HistorySnapshot } from '../metrics/route-history.js';
import type { HistoryQuery } from './route-history-admin.js';

export interface ClusterPeers {
  /** Every worker's series (a worker that does not answer in time is left out). */
  metrics(): Promise<CollectedMetric[][]>;
  /** Every worker's traffic history for the query (the primary merges them with its own). */
  histories(query: HistoryQuery): Promise<HistorySnapshot[]>;
}
