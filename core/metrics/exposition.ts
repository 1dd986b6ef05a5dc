/**
 * The text a scrape receives: the series of one process, or of a cluster's processes added up
 * (prom-client's `AggregatorRegistry.aggregate`: counters and histograms summed, each process metric
 * by its own rule), followed by `portcullis_metrics_series`, the number of series in the answer.
 */
import { AggregatorRegistry, Registry, type Metric } from 'prom-client';
import type { CollectedMetric } from './proxy-metrics.js';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const SERIES_METRIC = 'portcullis_metrics_series';

/** The exposition of one process's series, or of several processes' (a cluster) merged. */
export async function exposition(processes: readonly CollectedMetric[][]): Promise<string> {
  const registry =
    processes.length === 1
      ? registryOf(processes[0]!)
      : AggregatorRegistry.aggregate(processes as unknown as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  const merged = (await registry.getMetricsAsJSON()) as unknown as CollectedMetric[];
  const series = merged.reduce((n, m) => n + m.values.length, 0) + 1;
  const count: CollectedMetric = {
    name: SERIES_METRIC,
    help: 'Series in this answer (itself included): it moves with the configuration (routes, plugins), never with traffic.',
    type: 'gauge',
    aggregator: 'first',
    values: [{ value: series, labels: {} }],
  };
  return registryOf([...merged, count]).metrics();
}

function registryOf(metrics: readonly CollectedMetric[]): Registry {
  const registry = new Registry();
  for (const metric of metrics)
    registry.registerMetric({ ...metric, get: () => Promise.resolve(metric), reset: () => {} } as unknown as Metric);
  return registry;
}
