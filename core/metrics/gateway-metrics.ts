/**
 * The metrics of one gateway: a prom-client registry of its own (several gateways can run in one
 * process), the proxy's series (`ProxyMetrics`), the counters plugins report through `Metrics`
 * (tokens, JWKS fetches…), configuration-store write latency, runtime-state errors, and the process
 * metrics prom-client collects by default. Every label value comes from a route id or a fixed
 * enumeration; `portcullis_metrics_series` tells how many series a scrape holds.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { ProxyMetrics, type CollectedMetric } from './proxy-metrics.js';
import { GRANT_TYPES, OTHER, type CounterDefinition, type FixedCounter, type Metrics } from './metrics.js';
import type { WriteOperation } from '../config/entity-service.js';

/** At most this many series per counter a plugin defines (the product of its enumerations). */
const MAX_COUNTER_SERIES = 1000;

/** Process metrics are process-wide: collected once, into a registry every gateway of the process shows. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Their `type` label follows whatever libuv handles the process holds at that instant, so the
    // series come and go with traffic; the `_total` gauges stay.
    for (const byType of ['nodejs_active_handles', 'nodejs_active_requests', 'nodejs_active_resources'])
      processRegistry.removeSingleMetric(byType);
    // Every GC kind's series from the start, not from the first collection of that kind.
    const gc = processRegistry.getSingleMetric('nodejs_gc_duration_seconds') as Histogram<'kind'> | undefined;
    for (const kind of ['minor', 'major', 'incremental', 'weakcb']) gc?.zero({ kind });
  }
  return processRegistry;
}

interface TokenCounters {
  issued: FixedCounter<'plugin' | 'grant_type'>;
  introspected: FixedCounter<'plugin' | 'active'>;
  revoked: FixedCounter<'plugin'>;
}

export class GatewayMetrics implements Metrics {
  readonly registry = new Registry();
  readonly proxy: ProxyMetrics;
  readonly #counters = new Map<string, { counter: FixedCounter<string>; labels: string }>();
  #tokens: TokenCounters | null = null;
  readonly #pluginIds: () => readonly string[];
  readonly #storeWrites: Histogram<'operation' | 'result'>;
  readonly #stateErrors: Counter<'operation'>;
  readonly #stateReady: () => boolean;

  /**
   * `stateStoreReady`: whether the runtime state store answers (the `portcullis_state_store_ready`
   * gauge). `pluginIds`: the plugin ids of the catalog, the values of every `plugin` label; asked
   * once, when the token counters are first needed (a scrape or a token), since the plugins that
   * report to these metrics are built after them.
   */
  constructor(
    proxy: ProxyMetrics,
    stateStoreReady: () => boolean = () => true,
    pluginIds: () => readonly string[] = () => [],
  ) {
    this.proxy = proxy;
    this.#stateReady = stateStoreReady;
    this.#pluginIds = pluginIds;
    register(this.registry, () => proxy.collect());
    this.#storeWrites = new Histogram({
      name: 'portcullis_config_store_write_seconds',
      help: 'Configuration writes through the admin API (validation, then the durable store write), by operation and result.',
      labelNames: ['operation', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.#stateErrors = new Counter({
      name: 'portcullis_state_store_errors_total',
      help: 'Runtime state store operations that failed (store unreachable), by operation.',
      labelNames: ['operation'],
      registers: [this.registry],
    });
    register(this.registry, () => [
      {
        name: 'portcullis_state_store_ready',
        help: 'Whether the runtime state store answers (1) or not (0).',
        type: 'gauge',
        aggregator: 'min',
        values: [{ value: this.#stateReady() ? 1 : 0, labels: {} }],
      },
    ]);
  }

  /** The token counters, by plugin: every series at zero from the first scrape or token on. */
  #tokenCounters(): TokenCounters {
    if (this.#tokens) return this.#tokens;
    const plugins = [...this.#pluginIds()];
    this.#tokens = {
      issued: this.counter({
        name: 'portcullis_tokens_issued_total',
        help: 'Tokens issued, by plugin and grant type.',
        labels: { plugin: plugins, grant_type: GRANT_TYPES },
      }),
      introspected: this.counter({
        name: 'portcullis_token_introspections_total',
        help: 'Introspection answers, by plugin and whether the token was active.',
        labels: { plugin: plugins, active: ['true', 'false'] },
      }),
      revoked: this.counter({
        name: 'portcullis_token_revocations_total',
        help: 'Revocation requests answered, by plugin.',
        labels: { plugin: plugins },
      }),
    };
    return this.#tokens;
  }

  tokenIssued(plugin: string, grantType: string): void {
    this.#tokenCounters().issued.inc({ plugin, grant_type: grantType });
  }
  tokenIntrospected(plugin: string, active: boolean): void {
    this.#tokenCounters().introspected.inc({ plugin, active: active ? 'true' : 'false' });
  }
  tokenRevoked(plugin: string): void {
    this.#tokenCounters().revoked.inc({ plugin });
  }

  counter<L extends string>(definition: CounterDefinition<L>): FixedCounter<L> {
    const names = Object.keys(definition.labels) as L[];
    const signature = names.join(',');
    const existing = this.#counters.get(definition.name);
    if (existing) {
      if (existing.labels !== signature)
        throw new Error(`Metric ${definition.name} is defined twice with different labels`);
      return existing.counter as FixedCounter<L>;
    }
    const allowed = names.map((name) => new Set([...definition.labels[name], OTHER]));
    const series = allowed.reduce((n, values) => n * values.size, 1);
    if (series > MAX_COUNTER_SERIES)
      throw new Error(`Metric ${definition.name} would have ${series} series (at most ${MAX_COUNTER_SERIES})`);
    const counter = new Counter<L>({
      name: definition.name,
      help: definition.help,
      labelNames: names,
      registers: [this.registry],
    });
    // Every series exists from the start, at zero: the series count never moves with traffic.
    for (const combination of product(allowed.map((values) => [...values]))) {
      counter.inc(Object.fromEntries(names.map((name, i) => [name, combination[i]!])) as Partial<Record<L, string>>, 0);
    }
    const fixed: FixedCounter<L> = {
      inc(labels, value = 1) {
        const bounded = {} as Record<L, string>;
        names.forEach((name, i) => {
          bounded[name] = allowed[i]!.has(labels[name]) ? labels[name] : OTHER;
        });
        counter.inc(bounded, value);
      },
    };
    this.#counters.set(definition.name, { counter: fixed as FixedCounter<string>, labels: signature });
    return fixed;
  }

  /** A configuration write took `seconds`. */
  storeWrite(operation: WriteOperation, seconds: number, ok: boolean): void {
    this.#storeWrites.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  /** A runtime-state operation failed. */
  stateError(operation: string): void {
    this.#stateErrors.inc({ operation });
  }

  /** This process's series, as prom-client's JSON (what cluster workers send their primary). */
  async collect(): Promise<CollectedMetric[]> {
    this.#tokenCounters();
    const [own, processWide] = await Promise.all([
      this.registry.getMetricsAsJSON(),
      processMetrics().getMetricsAsJSON(),
    ]);
    return [...own, ...processWide] as unknown as CollectedMetric[];
  }
}

/** Register a metric whose series are computed when scraped. */
function register(registry: Registry, collect: () => CollectedMetric[]): void {
  // The registry asks each name in turn, synchronously: one collection serves the whole scrape.
  let snapshot: CollectedMetric[] | null = null;
  const current = (): CollectedMetric[] => {
    if (!snapshot) {
      snapshot = collect();
      queueMicrotask(() => {
        snapshot = null;
      });
    }
    return snapshot;
  };
  for (const template of collect()) {
    const metric = {
      name: template.name,
      help: template.help,
      type: template.type,
      aggregator: template.aggregator,
      get: () => Promise.resolve(current().find((m) => m.name === template.name)!),
      reset: () => {},
    };
    registry.registerMetric(metric as unknown as Metric);
  }
}

function product(lists: string[][]): string[][] {
  return lists.reduce<string[][]>((acc, values) => acc.flatMap((prefix) => values.map((v) => [...prefix, v])), [[]]);
}
